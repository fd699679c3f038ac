"""Duplicate finding on a real collection of 20,000+ photos: time, memory, false groups and the
cost per photo of every stage, projected to 100,000 and 1,000,000 photos.

    python tools/make_dupe_bench.py ../shared/data/caltech101-dev BENCH --originals 1000 --distractors 0
    python tools/bench_dupes_collection.py BENCH ../shared/data/caltech101-dev ../shared/data/cifar10-test \
        --index IDX

Indexes the benchmark (originals and their generated copies, with ground truth) together with
whole data sets that hold no duplicates of them, then runs the default preset once. Reports
precision and recall on the benchmark pairs, groups that mix the data sets' folders (classes),
wall time and peak memory of each step, and the per-photo cost of each stage. Projection: the
index and check stages grow with the number of photos (a fixed number of neighbours each); the
candidate search is taken from tools/bench_dedupe_scale.py's synthetic figures above 50,000
photos, where it switches to an approximate index.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import resource
import time
from pathlib import Path

from imgsearch_cnn.indexer import models
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.indexer.update import IndexOptions, update_index
from imgsearch_cnn.search.dupes.groups import DUPLICATES, DedupeOptions, find_groups

# Candidate search alone, measured by tools/bench_dedupe_scale.py (2 cores, docs/BENCHMARKS.md):
# seconds for 100,000 and 1,000,000 photos.
CANDIDATES_AT_SCALE = {100_000: 11.0, 1_000_000: 148.8}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", help="a folder made by tools/make_dupe_bench.py")
    parser.add_argument("collections", nargs="+", help="folders of class sub-folders, without duplicates")
    parser.add_argument("--index", required=True, help="index folder (kept; brought up to date if it exists)")
    args = parser.parse_args()
    bench = Path(args.bench).resolve()
    truth = json.loads((bench / "truth.json").read_text())["files"]
    roots = [bench / "photos"] + [Path(c).resolve() for c in args.collections]

    started = time.perf_counter()
    with Store.open(args.index, writable=True, create=True) as store:
        summary = update_index(store, roots, models.resolve(), IndexOptions(device="cpu"))
        indexed = time.perf_counter() - started
        photos = store.count()
    index_peak = peak_mb()
    print(f"indexed {photos:,} photos ({summary.embedded:,} embedded now) in {indexed:.1f} s, peak {index_peak:,.0f} MB")

    with Store.open(args.index) as store:
        result = find_groups(store)
    print(f"dupes: {result.seconds:.1f} s, peak {peak_mb():,.0f} MB (process so far), {result.pairs_checked:,} pairs "
          f"checked, accepted by {result.stats}")

    copies = [g for g in result.groups if g.tier == DUPLICATES]
    groups_of = collections.defaultdict(list)
    for rel, meta in truth.items():
        if meta["group"] is not None:
            groups_of[meta["group"]].append(os.path.realpath(bench / rel))
    true_pairs = {frozenset(p) for members in groups_of.values() for p in itertools.combinations(members, 2)}
    found = {frozenset(p) for g in copies for p in itertools.combinations(g.paths, 2)}
    in_bench = {p for p in found if all(path.startswith(str(bench)) for path in p)}
    hits = len(in_bench & true_pairs)
    print(f"benchmark pairs: precision {hits / max(len(in_bench), 1):.3f}, recall {hits / max(len(true_pairs), 1):.3f}")

    # The benchmark's photos were made from data-set photos: a group of a benchmark photo and its
    # own source is right; any other data-set photo in a group with benchmark photos is not.
    source = {os.path.realpath(bench / rel): meta.get("source") for rel, meta in truth.items()}
    outside = [g for g in copies if not any(p.startswith(str(bench)) for p in g.paths)]
    mixing = [g for g in outside if len({os.path.basename(os.path.dirname(p)) for p in g.paths}) > 1]
    crossing = [g for g in copies if any(p.startswith(str(bench)) for p in g.paths)
                and any(not p.startswith(str(bench)) for p in g.paths)]
    wrong = [g for g in crossing
             if {p for p in g.paths if not p.startswith(str(bench))} - {source.get(p) for p in g.paths}]
    print(f"duplicate groups among the data sets' own photos: {len(outside)} ({len(mixing)} mixing classes); "
          f"benchmark photos grouped with their source photo: {len(crossing) - len(wrong)}, with another "
          f"data-set photo: {len(wrong)}; similar-shots groups: {len(result.groups) - len(copies)}")

    stages = {"index": indexed, **result.stages}
    print("\n| stage | seconds | ms per photo | projected 100,000 (min) | projected 1,000,000 (min) |")
    print("|---|---|---|---|---|")
    for stage, seconds in stages.items():
        per_photo = seconds / photos
        projected = [(CANDIDATES_AT_SCALE[n] if stage == "candidates" else per_photo * n) / 60
                     for n in (100_000, 1_000_000)]
        print(f"| {stage} | {seconds:.1f} | {per_photo * 1e3:.2f} | {projected[0]:.1f} | {projected[1]:.1f} |")
    dupes_total = [sum((CANDIDATES_AT_SCALE[n] if s == "candidates" else v / photos * n)
                       for s, v in result.stages.items()) / 60 for n in (100_000, 1_000_000)]
    print(f"| dupes total | {result.seconds:.1f} | {result.seconds / photos * 1e3:.2f} | {dupes_total[0]:.1f} | "
          f"{dupes_total[1]:.1f} |")
    print(f"\n{os.cpu_count()} cores; dupes/index time {result.seconds / indexed:.2f} "
          f"(index time measured in this run{'' if summary.embedded == photos else ', partly incremental'})")


if __name__ == "__main__":
    main()
