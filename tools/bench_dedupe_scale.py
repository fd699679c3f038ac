"""Near-duplicate grouping at scale on synthetic 1280-d vectors (the size of lite0's).

    python tools/bench_dedupe_scale.py 100000 1000000 [--threads 2]

Each run makes N unit vectors: 90 % independent photos and 10 % near-copies of them (small
noise, cosine ~0.97), then times candidate search (exact FAISS below 50,000 vectors; IVF on
128-d PCA above) plus the cosine rule and keeper-centred grouping, and reports peak memory
(max RSS), the share of true copy pairs found, and the approximate search's recall@10 against
exact search on 1,000 sampled queries (of the neighbours with cosine >= 0.5, the ones duplicate
detection can accept; in random 1280-d data all other neighbours are noise).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np


from imgsearch_cnn.indexer.store import Record
from imgsearch_cnn.search.dupes import candidates, groups


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Vectors and, per row, the row it copies (-1 for originals)."""
    rng = np.random.default_rng(seed)
    copies = n // 10
    data = rng.standard_normal((n, 1280), dtype=np.float32)
    source = np.full(n, -1)
    source[n - copies:] = rng.choice(n - copies, copies, replace=False)
    rows = np.arange(n - copies, n)
    data[rows] = data[source[rows]] + 0.25 * rng.standard_normal((copies, 1280), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data, source


def knn_recall(data: np.ndarray, k: int = 10, queries: int = 1000, floor: float = 0.5) -> float:
    """Share of the exact k nearest neighbours with cosine >= ``floor`` (the ones duplicate
    detection can accept) that the approximate search also returns, over sampled queries."""
    import faiss

    rows = np.random.default_rng(2).choice(len(data), queries, replace=False)
    exact = faiss.IndexFlatIP(data.shape[1])
    exact.add(data)
    scores, truth = exact.search(data[rows], k + 1)
    _, approx = candidates.approximate_knn(data, k + 1)
    wanted = found = 0
    for row, t, s in zip(rows, truth, scores):
        relevant = {int(j) for j, score in zip(t, s) if score >= floor and j != row}
        wanted += len(relevant)
        found += len(relevant & set(approx[row].tolist()))
    return found / max(wanted, 1)


def run(n: int) -> None:
    data, source = synthetic(n)
    started = time.perf_counter()
    options = groups.DedupeOptions()
    pairs, scores = candidates.candidate_pairs(data, options.neighbours, options.approximate_above, options.verify_floor)
    found = time.perf_counter()
    keep = scores >= groups.PRESETS["near"]
    edges = {(int(a), int(b)): (float(s), "cosine") for (a, b), s in zip(pairs[keep], scores[keep])}
    paths = [f"/synthetic/{i:07d}.jpg" for i in range(n)]
    records = {p: Record(p, 1000, 0, str(i), 100, 100, "JPEG") for i, p in enumerate(paths)}
    made = groups.star_groups(paths, records, edges, options)
    seconds = time.perf_counter() - started
    copies = np.flatnonzero(source >= 0)
    grouped = {frozenset(int(p[11:18]) for p in g.paths) for g in made}
    member_of = {i: g for g in grouped for i in g}
    hit = np.mean([source[c] in member_of.get(int(c), ()) for c in copies])
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    mode = "exact" if n <= options.approximate_above else "IVF on 128-d PCA"
    print(f"| {n:,} | {mode} | {found - started:.1f} | {seconds:.1f} | {len(made):,} | {hit:.3f} | {peak_gb:.1f} |", flush=True)
    if n > options.approximate_above:
        print(f"  approximate search: recall of exact 10-NN with cosine >= 0.5, 1,000 queries: {knn_recall(data):.3f}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.threads)
    print(f"threads: {args.threads}")
    print("| vectors | search | candidates (s) | total (s) | groups | copies grouped with original | peak RSS (GB) |")
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        run(n)


if __name__ == "__main__":
    main()
