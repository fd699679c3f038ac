"""The LMDB environment of an index: the truth about every photo; one writer, many readers.

Sub-databases::

    meta          schema version, vector codec, model (id, weights, preprocessing, dims), generation, roots
    files         real path -> record (size, mtime_ns, hash, width, height, format, taken)
    vectors       content hash -> CNN vector (files with equal content share one), in the
                  index's codec: one byte a number since schema 2 (indexer/codec.py)
    colors        content hash -> HSV colour histogram (indexer/color.py), same codec
    phash         content hash -> 8 uint64 perceptual hashes (indexer/phash.py)
    failures      path -> why it could not be read, with its size and mtime then
    extra         free-form per-feature data (clusters, ignore lists...)

Every write is one transaction, so a crash leaves the last committed state. The generation
counter increases with every change to ``files``; the FAISS file (indexer/vector_index.py) built
at another generation is stale and rebuilt. File names in the folder: indexer/layout.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import lmdb
import numpy as np

from imgsearch_cnn.indexer import codec, layout
from imgsearch_cnn.indexer.errors import explain
from imgsearch_cnn.indexer.record import Record

SCHEMA_VERSION = 2  # 2: vectors in the uint8 codec; schema 1 indexes (float32) are read as they are
_MAP_SIZE = 1 << 40  # address space only: LMDB's file grows as data is written
SUB_DATABASES = ("meta", "files", "vectors", "colors", "phash", "failures", "extra")


# Per-content features: name -> sub-database. Vectors go through the index's codec; the
# perceptual hashes are kept as they are (8 uint64).
FEATURES = {"cnn": "vectors", "color": "colors", "phash": "phash"}
CODED = ("cnn", "color")


class StoreError(RuntimeError):
    """The index cannot be opened or written; the message says what to do. ``environment``: the
    cause is the machine (disk, permissions, another writer), not the command line."""

    def __init__(self, message: str, environment: bool = False):
        super().__init__(message)
        self.environment = environment


def _k(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _s(key: bytes) -> str:
    return bytes(key).decode("utf-8", "surrogateescape")


def open_environment(lmdb_dir: Path, writable: bool) -> lmdb.Environment:
    return lmdb.open(str(lmdb_dir), map_size=_MAP_SIZE, max_dbs=len(SUB_DATABASES) + 1, readonly=not writable,
                     subdir=True, create=writable, max_readers=256)


def _create(lmdb_dir: Path) -> None:
    """Create a complete empty environment under a temporary name, then rename it into place,
    so that a crash during creation never leaves a half-made index behind."""
    tmp = lmdb_dir.with_name(lmdb_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    env = open_environment(tmp, writable=True)
    with env.begin(write=True) as txn:
        for name in SUB_DATABASES:
            env.open_db(name.encode(), txn=txn, create=True)
        meta = env.open_db(b"meta", txn=txn)
        txn.put(b"schema_version", json.dumps(SCHEMA_VERSION).encode(), db=meta)
        txn.put(b"vector_codec", json.dumps(codec.UINT8).encode(), db=meta)
    env.close()
    os.replace(tmp, lmdb_dir)


def _hold_shared(path: Path, writable: bool):
    """The shared hold every open store keeps on layout.READERS, so that a compaction can tell
    whether anyone else has the index open; waits while one runs. None where the file cannot be
    had (a reader of an index on read-only media, where no compaction can run either)."""
    try:
        handle = open(path / layout.READERS, "a+" if writable else "r")
    except OSError:
        return None
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def _close(*handles) -> None:
    for handle in handles:
        if handle is not None:
            handle.close()


class Store:
    """An index folder. Open with :meth:`open`; use as a context manager to close it."""

    def __init__(self, path: Path, env: lmdb.Environment, writable: bool, lock_handle=None, readers_handle=None):
        self.path = path
        self.env = env
        self.writable = writable
        self._lock_handle = lock_handle
        self._readers_handle = readers_handle
        self._dbs = {name: env.open_db(name.encode(), create=writable) for name in SUB_DATABASES}
        self.codec = self.get_meta("vector_codec") or codec.FLOAT32  # indexes before schema 2: float32

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, writable: bool = False, create: bool = False) -> "Store":
        """Open an index. Writers take the folder's lock; a second writer gets StoreError.
        Only ``create`` (the `index` command) makes a new index; every other command refuses a
        folder that holds none.

        Other processes may read while one writes. Within one process, open an index once
        (LMDB allows one environment per file per process).
        """
        path = Path(path)
        lmdb_dir = path / layout.LMDB
        if path.exists() and not path.is_dir():
            raise StoreError(f"{path} is a file, not an index folder: give --index a folder")
        interrupted = (path / layout.LMDB_OLD).exists()  # a compaction cut short (indexer/compact.py)
        if interrupted and not writable and not (lmdb_dir / "data.mdb").exists():
            raise StoreError(f"the index at {path} was being compacted when it stopped: run `imgsearch index` "
                             "once to finish that")
        if not (create and writable) and not (lmdb_dir / "data.mdb").exists() and not interrupted:
            raise StoreError(f"no index at {path}: build one with `imgsearch index FOLDER`, or "
                             f"{layout.HOW_TO_CHOOSE}")
        lock_handle = None
        if writable:
            try:
                path.mkdir(parents=True, exist_ok=True)
                lock_handle = open(path / layout.LOCK, "a+")
            except OSError as exc:
                raise StoreError(explain(exc, path), environment=True) from exc
            try:
                fcntl.flock(lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock_handle.seek(0)
                owner = lock_handle.read().strip() or "another process"
                lock_handle.close()
                raise StoreError(
                    f"{path} is being written by {owner}; wait for it to finish "
                    "(searching the index works meanwhile)", environment=True
                ) from None
            lock_handle.seek(0)
            lock_handle.truncate()
            lock_handle.write(f"imgsearch (pid {os.getpid()})")
            lock_handle.flush()
        readers_handle = _hold_shared(path, writable)
        try:
            if writable:
                from imgsearch_cnn.indexer import compact

                compact.recover(path)  # a compaction killed half-way is finished or undone first
            if writable and not lmdb_dir.exists():
                _create(lmdb_dir)
            env = open_environment(lmdb_dir, writable)
        except (lmdb.Error, OSError) as exc:
            _close(lock_handle, readers_handle)
            raise StoreError(explain(exc, path), environment=True) from exc
        try:
            store = cls(path, env, writable, lock_handle, readers_handle)
        except lmdb.Error as exc:  # a sub-database added by a newer imgsearch is missing
            env.close()
            _close(lock_handle, readers_handle)
            raise StoreError(f"index {path} was made by an older imgsearch; run `imgsearch index` "
                             "once to upgrade it") from exc
        store._check_schema()
        return store

    def _check_schema(self) -> None:
        version = self.get_meta("schema_version")
        if version is None:
            if self.writable:
                self.set_meta("schema_version", SCHEMA_VERSION)
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"index {self.path} has schema {version}, newer than this imgsearch "
                f"({SCHEMA_VERSION}); upgrade imgsearch"
            )

    def reopen(self) -> None:
        """Open this index's environment again (indexer/compact.py swaps it for a packed copy)."""
        self.env.close()
        self.env = open_environment(self.path / layout.LMDB, self.writable)
        self._dbs = {name: self.env.open_db(name.encode(), create=self.writable) for name in SUB_DATABASES}

    def take_alone(self) -> bool:
        """Whether no other process has this index open; if so, others wait to open it until
        :meth:`share` (indexer/compact.py swaps the environment meanwhile)."""
        if self._readers_handle is None:
            return False
        try:
            fcntl.flock(self._readers_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            self.share()
            return False

    def share(self) -> None:
        """Back to an ordinary shared hold on the index (after :meth:`take_alone`)."""
        if self._readers_handle is not None:
            fcntl.flock(self._readers_handle, fcntl.LOCK_SH)

    def close(self) -> None:
        self.env.close()
        _close(self._lock_handle, self._readers_handle)
        self._lock_handle = self._readers_handle = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- metadata ------------------------------------------------------------------------------
    def _get_json(self, db: str, key: str):
        with self.env.begin(db=self._dbs[db]) as txn:
            raw = txn.get(_k(key))
        return None if raw is None else json.loads(raw)

    def _put_json(self, db: str, key: str, value) -> None:
        with self.env.begin(db=self._dbs[db], write=True) as txn:
            txn.put(_k(key), json.dumps(value).encode())

    def get_meta(self, key: str):
        return self._get_json("meta", key)

    def set_meta(self, key: str, value) -> None:
        self._put_json("meta", key, value)

    @property
    def model(self) -> dict | None:
        """{"model_id", "weights", "preprocessing", "dims"} or None for an empty index."""
        return self.get_meta("model")

    def roots(self) -> list[str]:
        """Every folder (real path) ever indexed into this store."""
        return list(self.get_meta("roots") or [])

    @property
    def generation(self) -> int:
        return self.get_meta("generation") or 0

    # -- reading -------------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        with self.env.begin(db=self._dbs["files"], buffers=True) as txn:
            for key, raw in txn.cursor():
                yield Record.from_bytes(_s(key), bytes(raw))

    def record(self, path: str) -> Record | None:
        with self.env.begin(db=self._dbs["files"]) as txn:
            raw = txn.get(_k(path))
        return None if raw is None else Record.from_bytes(path, raw)

    def count(self) -> int:
        with self.env.begin(db=self._dbs["files"]) as txn:
            return txn.stat(self._dbs["files"])["entries"]

    def vector_count(self) -> int:
        with self.env.begin() as txn:
            return txn.stat(self._dbs["vectors"])["entries"]

    def vector(self, content_hash: str, features: str = "cnn") -> np.ndarray | None:
        """The stored features of some content (float32; uint64 for "phash"): ``features`` is a
        key of FEATURES."""
        with self.env.begin(db=self._dbs[FEATURES[features]]) as txn:
            raw = txn.get(_k(content_hash))
        return None if raw is None else self._decode([raw], features)[0]

    def _decode(self, raws: list, features: str) -> np.ndarray:
        if features in CODED:
            return codec.decode_many(raws, self.codec)
        return np.frombuffer(b"".join(raws), np.uint64).reshape(len(raws), -1)

    def has_vector(self, content_hash: str) -> bool:
        with self.env.begin(db=self._dbs["vectors"]) as txn:
            return txn.get(_k(content_hash)) is not None

    def failures(self) -> dict[str, dict]:
        with self.env.begin(db=self._dbs["failures"]) as txn:
            return {_s(k): json.loads(v) for k, v in txn.cursor()}

    def all_vectors(self, features: str = "cnn") -> tuple[list[str], np.ndarray]:
        """Every file's path and vector, in path order (what the FAISS index is built from)."""
        paths, matrix = [], None
        for block_paths, block in self.vector_blocks(features):
            if matrix is None:  # room for every file's vector, filled a block at a time
                matrix = np.empty((self.count(), block.shape[1]), block.dtype)
            matrix[len(paths):len(paths) + len(block)] = block
            paths += block_paths
        if matrix is None:
            dims = (self.model or {}).get("dims", 0) if features == "cnn" else 0
            return paths, np.zeros((0, dims), dtype=np.uint64 if features == "phash" else np.float32)
        return paths, matrix[:len(paths)]

    def vector_blocks(self, features: str = "cnn", size: int = 1 << 16) -> Iterator[tuple[list[str], np.ndarray]]:
        """Every file's path and vector, in path order, ``size`` files at a time (a million
        vectors need not be in memory at once)."""
        paths, rows = [], []
        with self.env.begin() as txn:
            vectors = txn.cursor(db=self._dbs[FEATURES[features]])
            for key, raw in txn.cursor(db=self._dbs["files"]):
                content = json.loads(raw)["hash"]
                vec = vectors.value() if vectors.set_key(_k(content)) else None
                if vec is not None:
                    paths.append(_s(key))
                    rows.append(vec)
                if len(rows) == size:
                    yield paths, self._decode(rows, features)
                    paths, rows = [], []
        if rows:
            yield paths, self._decode(rows, features)

    def get_extra(self, key: str):
        """Free-form JSON saved by a feature (clusters, ignore list...)."""
        return self._get_json("extra", key)

    def set_extra(self, key: str, value) -> None:
        self._put_json("extra", key, value)

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator["Writer"]:
        """One atomic change: everything done through the writer commits together or not at all."""
        if not self.writable:
            raise StoreError("index opened read-only")
        with self.env.begin(write=True) as txn:
            writer = Writer(self, txn)
            yield writer
            if writer.changed:
                gen = json.loads(txn.get(b"generation", db=self._dbs["meta"]) or b"0")
                txn.put(b"generation", json.dumps(gen + 1).encode(), db=self._dbs["meta"])

    def size_on_disk(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    def facts(self) -> dict:
        """What `imgsearch info` reports."""
        model = self.model or {}
        return {
            "index": str(self.path), "photos": self.count(), "model": model.get("model_id"),
            "dims": model.get("dims"), "preprocessing": model.get("preprocessing"),
            "size_on_disk_bytes": self.size_on_disk(), "schema_version": self.get_meta("schema_version"),
            "vector_codec": self.codec, "failures": len(self.failures()),
        }


class Writer:
    """Mutations inside one :meth:`Store.transaction`."""

    def __init__(self, store: Store, txn: lmdb.Transaction):
        self._store, self._txn, self.changed = store, txn, False

    def _db(self, name: str):
        return self._store._dbs[name]

    def put_record(self, record: Record) -> None:
        self._txn.put(_k(record.path), record.to_bytes(), db=self._db("files"))
        self._txn.delete(_k(record.path), db=self._db("failures"))
        self.changed = True

    def delete_record(self, path: str) -> None:
        self.changed |= self._txn.delete(_k(path), db=self._db("files"))

    def put_features(self, content_hash: str, **features: np.ndarray | None) -> None:
        """Store features of some content, by FEATURES name: put_features(h, cnn=v, color=c)."""
        self.put_features_many([content_hash], **{name: [value] for name, value in features.items()})

    def put_features_many(self, content_hashes: list[str], **features) -> None:
        """put_features for many contents at once: each feature a sequence with one row (or None)
        per content, the rows encoded together (cheaper than one call per photo)."""
        for name, values in features.items():
            present = [(content_hash, row) for content_hash, row in zip(content_hashes, values) if row is not None]
            if not present:
                continue
            matrix = np.stack([row for _, row in present])
            raws = codec.encode_many(matrix, self._store.codec) if name in CODED else \
                [row.tobytes() for row in np.ascontiguousarray(matrix, np.uint64)]
            db = self._db(FEATURES[name])
            for (content_hash, _), raw in zip(present, raws):
                self._txn.put(_k(content_hash), raw, db=db)

    def put_failure(self, path: str, reason: str, size: int, mtime_ns: int) -> None:
        value = {"reason": reason, "size": size, "mtime_ns": mtime_ns, "at": time.time()}
        self._txn.put(_k(path), json.dumps(value).encode(), db=self._db("failures"))
        self.changed |= self._txn.delete(_k(path), db=self._db("files"))

    def delete_failure(self, path: str) -> None:
        self._txn.delete(_k(path), db=self._db("failures"))

    def drop_unreferenced_vectors(self) -> int:
        """Delete vectors no file refers to any more; returns how many."""
        used = {json.loads(bytes(raw))["hash"] for _, raw in self._txn.cursor(db=self._db("files"))}
        stale = [bytes(k) for k, _ in self._txn.cursor(db=self._db("vectors")) if _s(k) not in used]
        for key in stale:
            for db in FEATURES.values():
                self._txn.delete(key, db=self._db(db))
        return len(stale)

    def set_meta(self, key: str, value) -> None:
        self._txn.put(_k(key), json.dumps(value).encode(), db=self._db("meta"))
