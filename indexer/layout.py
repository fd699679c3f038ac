"""Every name inside an index folder, where the default index is, and how an index is removed.

An index folder holds::

    meta.lmdb/          LMDB environment: the truth (indexer/store.py)
    meta.lmdb.new/ .old/  only while a compaction swaps the environment (indexer/compact.py)
    vectors.faiss       FAISS index over every file, derived from LMDB (indexer/vector_index.py)
    vectors.json        {"generation": N, "paths": [...]} for vectors.faiss
    vectors.generation  the generation vectors.faiss was built at (written last; cheap to check)
    write.lock          held (flock) by the one process allowed to write
    readers.lock        held shared (flock) by every process that has the index open
    journal/            clean-up journals, for `imgsearch undo` (search/dupes/journal.py)
    k_choice.png        the last `--k auto` criterion plot
    dupes.json          the last duplicate groups, reused while nothing changed (search/dupes/cache.py)
    classifiers/        trained classifiers, one NAME.npz each (search/classify/model.py)
    thumbnails/         thumbnails of `imgsearch review`, SIZE/HH/HASH.jpg (search/review/thumbs.py)
    adaptation.npz      the collection-learned re-ranking space of `similar` (search/similar/adapt.py)

Where the index is when no ``--index`` is given: ``$IMGSEARCH_INDEX``; else the project's index,
``indexes/default`` in the nearest folder (the current one or a parent) that has an ``indexes/``
folder, as git finds its repository; else one index per user in the user data folder
(platformdirs), so the tool works from anywhere.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ENV_VAR = "IMGSEARCH_INDEX"
PROJECT_FOLDER = "indexes"
DEFAULT_NAME = Path(PROJECT_FOLDER) / "default"

LMDB = "meta.lmdb"
FAISS = "vectors.faiss"
FAISS_PATHS = "vectors.json"
FAISS_GENERATION = "vectors.generation"
LOCK = "write.lock"
READERS = "readers.lock"
JOURNALS = "journal"
K_PLOT = "k_choice.png"
DUPES_CACHE = "dupes.json"
CLASSIFIERS = "classifiers"
THUMBNAILS = "thumbnails"
ADAPTATION = "adaptation.npz"
LMDB_NEW, LMDB_OLD = LMDB + ".new", LMDB + ".old"  # a compaction's copy, and what it replaces
_INDEX_ENTRIES = (LMDB, LMDB + ".tmp", LMDB_NEW, LMDB_OLD, FAISS, FAISS_PATHS, FAISS_GENERATION, LOCK, READERS, JOURNALS,
                  K_PLOT, DUPES_CACHE, CLASSIFIERS, THUMBNAILS, ADAPTATION, ADAPTATION + ".tmp")

HOW_TO_CHOOSE = f"choose one with --index DIR or ${ENV_VAR}"


def user_default() -> Path:
    """The per-user default index (e.g. ~/.local/share/imgsearch/indexes/default on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("imgsearch")) / DEFAULT_NAME


def default_location() -> Path:
    """Where commands find the index when no --index is given (see module doc)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_NAME / LMDB).is_dir() or (folder / PROJECT_FOLDER).is_dir():
            return folder / DEFAULT_NAME
    return user_default()


def is_index(path: Path) -> bool:
    return (Path(path) / LMDB / "data.mdb").exists()


def remove(path: Path) -> None:
    """Delete an index (for --rebuild): only the index's own files, never anything else that
    lives in the folder; the folder itself goes only if that leaves it empty."""
    path = Path(path)
    for name in _INDEX_ENTRIES:
        entry = path / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.exists() or entry.is_symlink():
            entry.unlink()
    try:
        path.rmdir()
    except OSError:
        pass
