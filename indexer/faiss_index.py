"""The FAISS file of an index: built from LMDB, saved atomically, rebuilt whenever stale.

Vectors are L2-normalised, so inner product is cosine similarity. Up to ``exact_limit`` vectors
use an exact flat index; larger collections use IVF (inverted lists) with ``nprobe`` lists
searched per query, which trades a little recall for speed (see docs/BENCHMARKS.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from indexer.store import Store

EXACT_LIMIT = 200_000
IVF_NPROBE = 32


@dataclass
class VectorIndex:
    """A FAISS index and the file path of each of its rows."""

    index: object  # faiss.Index
    paths: list[str]
    generation: int

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row numbers of the ``k`` nearest rows for each query (-1 where none)."""
        k = min(k, len(self.paths))
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def build(paths: list[str], vectors: np.ndarray, generation: int, exact_limit: int = EXACT_LIMIT) -> VectorIndex:
    """Build the FAISS index for these vectors (exact below ``exact_limit`` rows, IVF above)."""
    import faiss

    dims = vectors.shape[1]
    if len(vectors) <= exact_limit:
        index = faiss.IndexFlatIP(dims)
    else:
        nlist = int(4 * np.sqrt(len(vectors)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dims), dims, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * nlist), replace=False)]
        index.train(sample)
        index.nprobe = IVF_NPROBE
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return VectorIndex(index, paths, generation)


def _files(store: Store) -> tuple[str, str]:
    return str(store.path / "vectors.faiss"), str(store.path / "vectors.json")


def is_current(store: Store) -> bool:
    """Whether the FAISS file matches the store, read from a tiny stamp written last by save()."""
    try:
        return int((store.path / "vectors.generation").read_text()) == store.generation
    except (OSError, ValueError):
        return False


def save(store: Store, vindex: VectorIndex) -> None:
    """Write both files through temporary names and rename, so readers never see half a file."""
    import faiss

    index_file, paths_file = _files(store)
    faiss.write_index(vindex.index, index_file + ".tmp")
    with open(paths_file + ".tmp", "w", encoding="utf-8", errors="surrogateescape") as handle:
        json.dump({"generation": vindex.generation, "paths": vindex.paths}, handle)
    os.replace(index_file + ".tmp", index_file)
    os.replace(paths_file + ".tmp", paths_file)
    stamp = store.path / "vectors.generation"
    stamp.with_suffix(".tmp").write_text(str(vindex.generation))
    os.replace(stamp.with_suffix(".tmp"), stamp)


def load(store: Store) -> VectorIndex:
    """The store's FAISS index, rebuilt in memory from LMDB (and saved, if writable) when stale."""
    import faiss

    index_file, paths_file = _files(store)
    generation = store.generation
    try:
        with open(paths_file, encoding="utf-8", errors="surrogateescape") as handle:
            sidecar = json.load(handle)
        if sidecar["generation"] == generation:
            index = faiss.read_index(index_file)
            if index.ntotal == len(sidecar["paths"]):
                return VectorIndex(index, sidecar["paths"], generation)
    except (OSError, ValueError, KeyError, RuntimeError):
        pass  # missing, stale or damaged: rebuilt below
    paths, vectors = store.all_vectors()
    vindex = build(paths, vectors, generation)
    if store.writable:
        save(store, vindex)
    return vindex
