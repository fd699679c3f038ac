"""How well the one-capture check (search/dupes/capture.py) tells copies from other shots.

    python tools/eval_tiers.py --bench BENCH --bench-index BENCH_IDX --shots-index CALTECH_IDX \
        [--shots-folder Faces] [--min-cosine 0.8]

Copies: every (original, edited copy) pair of a tools/make_dupe_bench.py benchmark; the share
judged one capture, per edit kind. Other shots: every pair of photos in ``--shots-folder`` of an
indexed Caltech-101 (the Faces folder holds several photos of each person taken moments apart, in
one place) whose CNN cosine is at least ``--min-cosine``; the share judged one capture should be 0.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
from pathlib import Path

import numpy as np

from imgsearch_cnn.indexer.phash import closest
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes.capture import judge
from imgsearch_cnn.search.dupes.pixels import PixelCache
from imgsearch_cnn.search.dupes.verify import FeatureCache


def _judge_all(store: Store, pairs: list[tuple[str, str]]) -> list:
    features, pixels = FeatureCache(), PixelCache()
    verdicts = []
    for a, b in pairs:
        ra, rb = store.record(a), store.record(b)
        ha, hb = store.vector(ra.hash, "phash"), store.vector(rb.hash, "phash")
        turn = closest(ha, hb)[1] if ha is not None and hb is not None else 0
        verdicts.append(judge(ra, rb, features, pixels, turn))
    return verdicts


def copies(bench: Path, index: str) -> None:
    files = json.loads((bench / "truth.json").read_text())["files"]
    originals = {v["group"]: os.path.realpath(bench / k) for k, v in files.items() if v["edit"] == "original"}
    pairs, kinds = [], []
    for rel, meta in files.items():
        if meta["group"] is not None and meta["edit"] != "original":
            pairs.append((originals[meta["group"]], os.path.realpath(bench / rel)))
            kinds.append(meta["edit"])
    started = time.perf_counter()
    with Store.open(index) as store:
        verdicts = _judge_all(store, pairs)
    one = collections.defaultdict(list)
    for kind, verdict in zip(kinds, verdicts):
        one[kind].append(verdict.one)
    total = sum(v.one for v in verdicts)
    print(f"copies judged one capture: {total} of {len(pairs)} ({total / len(pairs):.3f}), "
          f"{time.perf_counter() - started:.1f} s")
    print("| edit | pairs | one capture |")
    print("|---|---|---|")
    for kind in sorted(one):
        print(f"| {kind} | {len(one[kind])} | {np.mean(one[kind]):.2f} |")
    for (a, b), verdict, kind in zip(pairs, verdicts, kinds):
        if not verdict.one:
            print(f"  judged two shots: {kind}: {verdict.why}")


def other_shots(index: str, folder: str, min_cosine: float) -> None:
    with Store.open(index) as store:
        paths, vectors = store.all_vectors()
        inside = [n for n, p in enumerate(paths) if os.path.basename(os.path.dirname(p)) == folder]
        sub = vectors[inside]
        scores = sub @ sub.T
        pairs = [(paths[inside[i]], paths[inside[j]]) for i, j in zip(*np.nonzero(np.triu(scores >= min_cosine, 1)))]
        started = time.perf_counter()
        verdicts = _judge_all(store, pairs)
    wrong = [(pair, v) for pair, v in zip(pairs, verdicts) if v.one]
    print(f"other shots ({folder}, cosine >= {min_cosine}): {len(pairs)} pairs, judged one capture: {len(wrong)} "
          f"({len(wrong) / max(len(pairs), 1):.3f}), {time.perf_counter() - started:.1f} s")
    reasons = collections.Counter(v.why.split(" (")[0].split(":")[0] for v in verdicts if not v.one)
    print("  told apart by:", ", ".join(f"{k} {n}" for k, n in reasons.most_common()))
    for (a, b), verdict in wrong:
        print(f"  judged one capture: {os.path.basename(a)} {os.path.basename(b)}: {verdict.why}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench")
    parser.add_argument("--bench-index")
    parser.add_argument("--shots-index")
    parser.add_argument("--shots-folder", default="Faces")
    parser.add_argument("--min-cosine", type=float, default=0.8)
    args = parser.parse_args()
    if args.bench:
        copies(Path(args.bench), args.bench_index)
    if args.shots_index:
        other_shots(args.shots_index, args.shots_folder, args.min_cosine)


if __name__ == "__main__":
    main()
