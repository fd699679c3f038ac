"""Bring an index up to date with folders of photos: the `imgsearch index` job.

Order of work, chosen so that a crash at any moment leaves a usable index that the next run
completes without losing or double-counting a file:

1. scan the folders (a stat per file) and compare with the stored records;
2. hash only new or changed files; reuse stored vectors for moved, renamed, touched or copied
   files (same content hash), and drop records of files that are gone, in one transaction;
3. decode and embed the rest in batches, each batch committed in its own transaction;
4. drop vectors no file refers to and rebuild the FAISS file if anything changed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from imgsearch_cnn.indexer import compact, embed, models, scan, vector_index
from imgsearch_cnn.indexer.ahead import run_ahead
from imgsearch_cnn.indexer.models import ModelSpec
from imgsearch_cnn.indexer.store import Record, Store, StoreError

# Hashing new files: threads on small machines (hashing and reading release the GIL); processes
# where there are many cores and files, since the threads' Python work per file holds the GIL:
# on 16 cores, 16 threads hashed 4,658 photos/s and 16 processes 21,025-22,596.
HASH_THREADS = 4
HASH_PROCESSES_MIN_CORES = 8
HASH_PROCESSES_MIN_FILES = 2000

# Batches embedded ahead of the one being written (on the GPU path the main process's writes were
# a quarter of its time, in series with the network).
EMBED_AHEAD = 2

# progress(stage, done, total): stage is "scan", "hash" or "embed"
Progress = Callable[[str, int, int], None]


@dataclass
class IndexOptions:
    """Knobs of an indexing run; None means the device's default."""

    device: str = "auto"
    batch_size: int | None = None
    workers: int | None = None
    engine: str = "local"  # or "ray": embed on a Ray cluster (indexer/ray_engine.py)
    address: str | None = None  # the Ray cluster to join (None: start a local one)
    compact: bool | None = None  # rewrite LMDB with full pages: None when due (indexer/compact.py)


@dataclass
class Summary:
    """What one run did."""

    new: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    still_failing: int = 0  # failed before, unchanged since: not read again
    unchanged: int = 0
    embedded: int = 0
    seconds: float = 0.0
    device: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)
    compacted: "compact.Compacted | None" = None  # when the database was due for (or asked) a compaction

    @property
    def images_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0


def check_model(store: Store, spec: ModelSpec) -> None:
    """Refuse to mix vectors of two models in one index."""
    stored = store.model
    if stored is None:
        return
    if stored["model_id"] != spec.model_id or stored.get("weights") != spec.weights or (
        stored["preprocessing"] != json.loads(json.dumps(spec.preprocessing.to_dict()))
    ):
        raise StoreError(
            f"index {store.path} was built with model {stored['model_id']!r}, not {spec.model_id!r}. "
            f"Use that model, or build a separate index: imgsearch index FOLDER --model {spec.model_id} "
            f"--index OTHER_DIR (or add --rebuild to replace this one)"
        )


def update_index(
    store: Store,
    roots: Iterable[str],
    spec: ModelSpec,
    options: IndexOptions | None = None,
    progress: Progress | None = None,
    embedder: "embed.Embedder | None" = None,
) -> Summary:
    """Index every photo under ``roots`` into ``store`` (opened writable); see module doc.

    ``embedder`` turns decoded photos into vectors (default: ``spec``'s network on
    ``options.device``, built only if some photo needs embedding); anything with the same
    ``embed_loaded``/``device``/``runtime``/``decodes_jpeg`` members will do, e.g. a test fake."""
    options = options or IndexOptions()
    progress = progress or (lambda stage, done, total: None)
    check_model(store, spec)
    started = time.perf_counter()
    summary = Summary()
    roots = [os.path.realpath(os.fspath(r)) for r in roots]
    indexed = sorted(set(store.roots()) | {r for r in roots if os.path.isdir(r)})
    if indexed != store.roots():
        store.set_meta("roots", indexed)

    found = scan.walk(roots, exclude=[store.path])
    summary.failures.extend(found.errors)
    progress("scan", len(found.files), len(found.files))
    everything = {r.path: r for r in store.records()}
    on_disk = {f.path for f in found.files}
    # Files reached through a link from outside the roots count as known too.
    known = {path: rec for path, rec in everything.items() if scan.is_under(path, roots) or path in on_disk}
    by_hash = {rec.hash: rec for rec in everything.values()}
    gone = {path: rec for path, rec in known.items() if path not in on_disk}

    failed_before = store.failures()
    todo = [f for f in found.files if _changed(known.get(f.path), f)]
    still_failing = [f for f in todo if _failed_unchanged(failed_before.get(f.path), f)]
    summary.still_failing = len(still_failing)
    todo = [f for f in todo if not _failed_unchanged(failed_before.get(f.path), f)]
    summary.unchanged = len(found.files) - len(todo) - len(still_failing)
    hashes, problems = _hash_all(todo, progress)

    to_embed: list[tuple[scan.FileInfo, str]] = []
    gone_by_hash = {rec.hash: rec for rec in gone.values()}
    with store.transaction() as writer:
        for info in todo:
            content = hashes.get(info.path)
            if content is None:
                writer.put_failure(info.path, problems[info.path], info.size, info.mtime_ns)
                summary.failures.append((info.path, problems[info.path]))
                continue
            old = known.get(info.path)
            source = old if old and old.hash == content else gone_by_hash.get(content) or by_hash.get(content)
            if source is not None:
                writer.put_record(_copy_record(source, info, content))
                if old is not None:
                    summary.updated += 1
                elif source.path in gone:
                    summary.moved += 1
                    gone.pop(source.path)
                    writer.delete_record(source.path)
                else:
                    summary.new += 1
            else:
                to_embed.append((info, content))
        for path in gone:
            writer.delete_record(path)
        summary.removed = len(gone)
        for path in failed_before:
            if scan.is_under(path, roots) and path not in on_disk:
                writer.delete_failure(path)

    if to_embed:
        _embed_and_store(store, spec, options, to_embed, known, summary, progress, embedder)
    if summary.updated or summary.moved or summary.removed or store.vector_count() > len(by_hash) + summary.embedded:
        with store.transaction() as writer:
            writer.drop_unreferenced_vectors()
    if not vector_index.is_current(store):
        vector_index.load(store)  # rebuilds and saves the FAISS file
    if options.compact or (options.compact is None and compact.due(store)):
        summary.compacted = compact.compact(store)
    summary.failed = len(summary.failures)
    summary.seconds = time.perf_counter() - started
    return summary


def _changed(record: Record | None, info: scan.FileInfo) -> bool:
    return record is None or not record.matches(info.size, info.mtime_ns)


def _failed_unchanged(failure: dict | None, info: scan.FileInfo) -> bool:
    """A file that failed before and has not changed since: not worth reading again."""
    return failure is not None and failure.get("size") == info.size and failure.get("mtime_ns") == info.mtime_ns


def _hash_all(files: list[scan.FileInfo], progress: Progress) -> tuple[dict[str, str], dict[str, str]]:
    """(path -> content hash, path -> why it could not be hashed) for these files. A file whose
    first bytes are no image is not read further."""
    hashes: dict[str, str] = {}
    problems: dict[str, str] = {}
    paths = [info.path for info in files]
    if (os.cpu_count() or 1) >= HASH_PROCESSES_MIN_CORES and len(paths) >= HASH_PROCESSES_MIN_FILES:
        context = multiprocessing.get_context("spawn")
        with context.Pool(os.cpu_count()) as pool:
            results = list(_report(pool.imap(scan.hash_image_file, paths, chunksize=64), len(paths), progress))
    else:
        with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
            results = list(_report(pool.map(scan.hash_image_file, paths), len(paths), progress))
    for path, content, problem in results:
        if content is not None:
            hashes[path] = content
        else:
            problems[path] = problem
    return hashes, problems


def _report(results: Iterable, total: int, progress: Progress) -> Iterable:
    for done, result in enumerate(results, 1):
        if done % 256 == 0 or done == total:
            progress("hash", done, total)
        yield result


def _copy_record(source: Record, info: scan.FileInfo, content: str) -> Record:
    return Record(info.path, info.size, info.mtime_ns, content, source.width, source.height, source.format, source.taken,
                  source.meta)


def _local_batches(embedder, paths: list[str], spec: ModelSpec, batch_size: int, workers: int):
    """(photos of a batch, those embedded, their vectors), decoded in ``workers`` processes."""
    def embedded():
        loaded = embed.load_all(paths, spec.preprocessing, workers, gpu_jpeg=embedder.decodes_jpeg)
        for batch in embed.batches(loaded, batch_size):
            good, vectors = embedder.embed_loaded(batch)
            yield batch, good, vectors

    yield from run_ahead(embedded(), EMBED_AHEAD)


def _embed_and_store(store, spec, options, to_embed, known, summary, progress, embedder=None) -> None:
    infos = {info.path: (info, content) for info, content in to_embed}
    paths = [info.path for info, _ in to_embed]
    if options.engine == "ray":
        from imgsearch_cnn.indexer.ray_engine import RayEmbedding

        engine = RayEmbedding(spec, options.device, options.address, options.workers)
        summary.device = engine.describe
        results = engine.batches(paths, options.batch_size or embed.DEFAULT_BATCH_SIZE[engine.device])
    else:
        embedder = embedder or embed.Embedder(spec, options.device)
        summary.device = f"{embedder.device} ({embedder.runtime})"
        workers = options.workers if options.workers is not None else embed.default_workers(embedder.decodes_jpeg)
        results = _local_batches(embedder, paths, spec, options.batch_size or embed.DEFAULT_BATCH_SIZE[embedder.device],
                                 workers)
    done = 0
    progress("embed", 0, len(paths))
    for batch, good, vectors in results:
        with store.transaction() as writer:
            if store.model is None and good:
                model = {"model_id": spec.model_id, "weights": spec.weights,
                         "preprocessing": spec.preprocessing.to_dict(), "dims": int(vectors.shape[1])}
                writer.set_meta("model", model)
            for item in batch:
                info, content = infos[item.path]
                if item.error is not None:
                    writer.put_failure(item.path, item.error or "unknown error", info.size, info.mtime_ns)
                    summary.failures.append((item.path, item.error or "unknown error"))
            writer.put_features_many([infos[item.path][1] for item in good], cnn=vectors,
                                     color=[item.color for item in good], phash=[item.phash for item in good])
            for item in good:
                info, content = infos[item.path]
                writer.put_record(Record(item.path, info.size, info.mtime_ns, content, item.width,
                                         item.height, item.format, item.taken, item.meta or None))
                if item.path in known:
                    summary.updated += 1
                else:
                    summary.new += 1
        summary.embedded += len(good)
        done += len(batch)
        progress("embed", done, len(paths))


def open_for_model(path, model_id: str | None, weights: str | None, writable: bool,
                   create: bool = False) -> tuple[Store, ModelSpec]:
    """Open an index and resolve the model to use: the index's own unless one is named."""
    store = Store.open(path, writable=writable, create=create)
    stored = store.model
    if model_id is None and stored is not None:
        spec = ModelSpec(stored["model_id"], models.Preprocessing.from_dict(stored["preprocessing"]), stored.get("weights"))
    else:
        spec = models.resolve(model_id or models.DEFAULT_MODEL, weights)
    try:
        check_model(store, spec)
    except StoreError:
        store.close()
        raise
    return store, spec
