"""An index of a million photos: size on disk, build time, `similar` latency and memory, recall.

    python tools/bench_scale.py 100000 1000000 [--queries 200] [--like INDEX]

For each size N, writes N photos through the real store API (a record, a 1280-d CNN vector, a
colour histogram and perceptual hashes each, in transactions of 10,000, as `imgsearch index`
does), builds the FAISS file, learns the adaptation of `similar` (search/similar/adapt.py) and
compacts LMDB when due (indexer/compact.py) the way `imgsearch index` does after a run, and reports:

* index time: LMDB writes, then the FAISS file, the adaptation and the compaction (and the peak
  memory of that step, which counts the LMDB pages mapped from the file);
* size on disk of the index folder (LMDB + FAISS files);
* `imgsearch similar PHOTO --index IDX` on an indexed photo, end to end in a new process
  (start-up, FAISS load, search, re-ranking, adapted re-ranking): median wall time of 3 runs and peak memory;
* recall@10 of the index's search against exact search over the stored vectors, for
  ``--queries`` sampled photos;
* below the table, what each LMDB sub-database takes a photo, and how many entries a leaf page holds.

The photos themselves need not exist (only the query photo is written, so `similar` finds it
unchanged). Vectors are synthetic: sparse non-negative mixtures around 5,000 centres, like pooled
ReLU features; with ``--like INDEX`` they are noisy copies of a real index's vectors instead
(cosine ~0.9 to their source), which makes neighbours harder to tell apart.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from PIL import Image

from imgsearch_cnn.indexer import codec, color, models, vector_index
from imgsearch_cnn.indexer.store import Record, Store

DIMS = 1280
BATCH = 10_000


class Vectors:
    """Synthetic CNN vectors, a block at a time (see module doc)."""

    def __init__(self, like: str | None, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        if like:
            with Store.open(like) as store:
                self.sources = store.all_vectors()[1]
            self.noise = 0.45 * float(np.median(self.sources[self.sources > 0]))
        else:
            self.sources = np.maximum(self.rng.standard_normal((5000, DIMS), dtype=np.float32), 0) ** 2
            self.noise = None

    def block(self, n: int) -> np.ndarray:
        pick = self.sources[self.rng.integers(0, len(self.sources), n)]
        if self.noise is None:
            vectors = pick + 0.6 * np.maximum(self.rng.standard_normal((n, DIMS), dtype=np.float32), 0) ** 2
        else:
            vectors = np.maximum(pick + self.noise * self.rng.standard_normal((n, DIMS), dtype=np.float32), 0)
        return vector_index.l2_normalise(vectors)


def build(folder: Path, n: int, vectors: Vectors, vector_codec: str = codec.UINT8) -> tuple[Path, str, float, float, float]:
    """The index; returns (index folder, query photo path, LMDB seconds, FAISS seconds, peak
    memory of the FAISS build in GB)."""
    spec = models.resolve()
    query = folder / "photos" / "query.jpg"
    query.parent.mkdir(parents=True)
    Image.new("RGB", (64, 48), (120, 80, 40)).save(query)
    info = query.stat()
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    with Store.open(folder / "idx", writable=True, create=True) as store:
        store.set_meta("vector_codec", vector_codec)
        store.codec = vector_codec
        for start in range(0, n, BATCH):
            block = vectors.block(min(BATCH, n - start))
            colours = vector_index.l2_normalise(rng.random((len(block), color.DIMS), dtype=np.float32) ** 4)
            hashes = rng.integers(0, 2**63, (len(block), 8), dtype=np.int64).astype(np.uint64)
            with store.transaction() as writer:
                if start == 0:
                    writer.set_meta("model", {"model_id": spec.model_id, "weights": spec.weights,
                                              "preprocessing": spec.preprocessing.to_dict(), "dims": DIMS})
                    writer.set_meta("roots", [str(query.parent)])
                for row, vector in enumerate(block):
                    number = start + row
                    if number == 0:
                        path, size, mtime = str(query), info.st_size, info.st_mtime_ns
                    else:
                        path = f"{query.parent}/{number // 1000:04d}/IMG_{number:07d}.JPG"
                        size, mtime = 3_000_000 + number, 1_700_000_000_000_000_000 + number
                    content = hashlib.blake2b(str(number).encode(), digest_size=16).hexdigest()  # random order, as real hashes
                    writer.put_features(content, cnn=vector, color=colours[row], phash=hashes[row])
                    writer.put_record(Record(path, size, mtime, content, 4000, 3000, "JPEG", "2024-05-01T10:00:00"))
        written = time.perf_counter() - started
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-c", _FAISS_BUILD, str(folder / "idx")],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return folder / "idx", str(query), written, time.perf_counter() - started, int(done.stdout.split()[1]) / 1024**2


# What `imgsearch index` does at the end of a run, in a process of its own (for its memory).
_FAISS_BUILD = """
import sys
from imgsearch_cnn.indexer import compact, vector_index
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.similar import adapt
with Store.open(sys.argv[1], writable=True) as store:
    vector_index.load(store)
    adapt.current(store)
    if compact.due(store):
        compact.compact(store)
"""


# Runs the command from a small helper process: a child forked from this (large) process would
# count this process's pages in its peak memory.
_MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode:
    sys.exit(done.stderr)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def similar_end_to_end(index: Path, query: str, runs: int = 3) -> tuple[float, float]:
    """Median seconds of `imgsearch similar` and its peak memory (GB)."""
    seconds, peaks = [], []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "imgsearch_cnn.search.cli",
                               "similar", query, "--index", str(index), "--json"], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        wall, peak_kb = done.stdout.split()
        seconds.append(float(wall))
        peaks.append(int(peak_kb))
    return statistics.median(seconds), max(peaks) / 1024 / 1024


def sampled_queries(store: Store, vindex: vector_index.VectorIndex, queries: int) -> np.ndarray:
    """The stored vectors of ``queries`` photos drawn (seeded) from the index's rows."""
    rows = np.sort(np.random.default_rng(3).choice(len(vindex.paths), queries, replace=False))
    return np.vstack([store.vector(store.record(vindex.paths[r]).hash) for r in rows])


def exact_top10(store: Store, wanted: np.ndarray) -> np.ndarray:
    """Rows (in path order) of each query's 10 most similar stored vectors, by exact search a
    block of vectors at a time: the million need not be in memory at once."""
    best_scores = np.full((len(wanted), 10), -np.inf, np.float32)
    best_rows = np.zeros((len(wanted), 10), np.int64)
    seen = 0
    for _, block in store.vector_blocks():
        scores = np.concatenate([best_scores, wanted @ block.T], axis=1)
        rows = np.broadcast_to(np.arange(seen, seen + len(block)), (len(wanted), len(block)))
        candidates = np.concatenate([best_rows, rows], axis=1)
        top = np.argsort(-scores, axis=1)[:, :10]
        best_scores, best_rows = np.take_along_axis(scores, top, 1), np.take_along_axis(candidates, top, 1)
        seen += len(block)
    return best_rows


def recall(index: Path, queries: int) -> float:
    """recall@10 of the index's search against exact search over the stored vectors."""
    with Store.open(index) as store:
        vindex = vector_index.load(store)
        wanted = sampled_queries(store, vindex, queries)
        truth = exact_top10(store, wanted)
        _, found = vindex.search(wanted, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)]))


def size_on_disk(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def lmdb_bytes_a_photo(index: Path, photos: int) -> str:
    """What each LMDB sub-database takes a photo, pages counted (keys, values, page slack)."""
    with Store.open(index) as store, store.env.begin() as txn:
        parts = []
        for name in ("files", "vectors", "colors", "phash"):
            stat = txn.stat(store._dbs[name])
            pages = stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"]
            parts.append(f"{name} {pages * store.env.stat()['psize'] / photos:,.0f} B "
                         f"({stat['entries'] / max(stat['leaf_pages'], 1):.1f} a leaf page)")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--like", default=None, help="an index whose vectors the synthetic ones copy")
    parser.add_argument("--codec", choices=codec.CODECS, default=codec.UINT8,
                        help="how LMDB keeps the vectors (float32: the format of schema 1 indexes)")
    parser.add_argument("--keep", default=None, help="build under this folder and leave the indexes there")
    args = parser.parse_args()
    vectors = Vectors(args.like)
    notes = []
    print("| photos | vectors in LMDB | FAISS file | LMDB writes | FAISS, adaptation, compaction (peak memory) | index on disk | `similar` end to end | "
          "`similar` peak memory | recall@10 vs exact |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        with (nullcontext(tempfile.mkdtemp(dir=args.keep)) if args.keep else tempfile.TemporaryDirectory()) as tmp:
            index, query, written, faiss_seconds, faiss_memory = build(Path(tmp), n, vectors, args.codec)
            seconds, peak = similar_end_to_end(index, query)
            kind = "compressed" if n > vector_index.COMPRESS_ABOVE else "exact"
            print(f"| {n:,} | {args.codec} | {kind} | {written:.0f} s | {faiss_seconds:.0f} s ({faiss_memory:.1f} GB) | "
                  f"{size_on_disk(index) / 1e9:.2f} GB | "
                  f"{seconds:.2f} s | {peak:.2f} GB | {recall(index, args.queries):.3f} |", flush=True)
            notes.append(f"{n:,} photos, {args.codec}: LMDB a photo: {lmdb_bytes_a_photo(index, n)}")
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
