"""Rewrite an index's LMDB environment with full pages: the index's size on disk.

Content hashes arrive in random order, so LMDB's page splits leave leaf pages part-filled; the
same entries copied in key order fill every page (tools/eval_lmdb_layout.py: 2.85 GB a million
photos with hash keys, 1.84 GB rewritten in key order). `imgsearch index` compacts when the
photo count has grown by GROWTH since the last time (or with --compact).

A kill at any moment leaves a complete environment: the copy is made under layout.LMDB_NEW; then
the environment is renamed to LMDB_OLD, the copy to LMDB, and LMDB_OLD removed. The next writer's
open (:func:`recover`) finishes or undoes a swap that was cut short. No compaction starts while
another process has the index open (a review server, a search), and processes that open it
meanwhile wait for the swap (Store.take_alone), so none is left reading the old files.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import lmdb

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.durable import sync_folder
from imgsearch_cnn.indexer.store import SUB_DATABASES, Store, open_environment

MIN_PHOTOS = 10_000  # below this the waste is a few megabytes: not worth a rewrite
GROWTH = 0.25  # compact again once the photo count has grown by a quarter since the last time
_COMPACTED_AT = "compacted_at_count"  # meta key: the photo count at the last compaction


@dataclass
class Compacted:
    bytes_before: int  # the database file, before and after
    bytes_after: int
    skipped: str | None = None  # why the database was left as it was


def due(store: Store) -> bool:
    """Whether the index has grown enough since its last compaction to be worth one."""
    count = store.count()
    last = store.get_meta(_COMPACTED_AT) or 0
    return count >= MIN_PHOTOS and count >= (1 + GROWTH) * last


def compact(store: Store) -> Compacted:
    """Swap the store's environment (opened writable) for a packed copy. Skipped, with the reason,
    when another process has the index open or the disk has no room for the copy (a later run
    tries again)."""
    before = _data_size(store.path / layout.LMDB)
    if not store.take_alone():
        return Compacted(before, before, "another process has the index open")
    try:
        return _swap(store, before)
    finally:
        store.share()


def _swap(store: Store, before: int) -> Compacted:
    lmdb_dir = store.path / layout.LMDB
    copy, old = store.path / layout.LMDB_NEW, store.path / layout.LMDB_OLD
    if copy.exists():
        shutil.rmtree(copy)
    try:
        _copy_packed(store, copy)
    except (OSError, lmdb.Error) as exc:  # a full disk, most likely: the index stays as it was
        shutil.rmtree(copy, ignore_errors=True)
        return Compacted(before, before, f"no room for the copy ({exc})")
    store.env.close()
    os.rename(lmdb_dir, old)
    os.rename(copy, lmdb_dir)
    sync_folder(store.path)
    shutil.rmtree(old)
    store.reopen()
    store.set_meta(_COMPACTED_AT, store.count())
    return Compacted(before, _data_size(lmdb_dir))


def recover(path: Path) -> None:
    """Finish or undo a compaction cut short (call holding the index's writer lock)."""
    lmdb_dir, copy, old = path / layout.LMDB, path / layout.LMDB_NEW, path / layout.LMDB_OLD
    if not lmdb_dir.exists() and old.exists():
        # The copy is complete whenever the old environment has been moved aside.
        os.rename(copy if copy.exists() else old, lmdb_dir)
        sync_folder(path)
    for leftover in (copy, old):
        if leftover.exists():
            shutil.rmtree(leftover)


def _copy_packed(store: Store, target: Path) -> None:
    env = open_environment(target, writable=True)
    try:
        for name in SUB_DATABASES:
            with store.env.begin(buffers=True) as reading, env.begin(write=True) as writing:
                source, db = store.env.open_db(name.encode(), txn=reading), env.open_db(name.encode(), txn=writing)
                for key, value in reading.cursor(db=source):
                    writing.put(key, value, db=db, append=True)
        env.sync(True)
    finally:
        env.close()


def _data_size(lmdb_dir: Path) -> int:
    return (lmdb_dir / "data.mdb").stat().st_size
