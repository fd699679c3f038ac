"""How long `imgsearch dupes` takes against indexing the same photos, as a user runs them.

    python tools/bench_dupes_vs_index.py PHOTOS [--runs 3] [--index DIR]

Indexes PHOTOS into a fresh index (``--index``, else a temporary folder), then runs
`imgsearch dupes --json` ``--runs`` times, each from scratch (the kept result of the run before
is removed), and prints wall time and peak memory of each command, the median dupes run and its
ratio to the indexing time, as a markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imgsearch_cnn.indexer import layout


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident memory in GB) of one command, which must succeed."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024 ** 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--index", help="index folder to build (default: a temporary one, removed after)")
    args = parser.parse_args()
    index = Path(args.index) if args.index else Path(tempfile.mkdtemp(prefix="bench-index-"))
    if index.exists():
        shutil.rmtree(index)
    cli = [sys.executable, "-m", "imgsearch_cnn.search.cli"]
    photos = sum(1 for p in Path(args.photos).rglob("*") if p.is_file())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; {photos:,} files")
    print("| command | wall time (s) | peak memory (GB) |\n|---|---|---|")
    index_seconds, memory = timed(cli + ["index", args.photos, "--index", str(index)])
    print(f"| imgsearch index PHOTOS | {index_seconds:.2f} | {memory:.2f} |")
    runs = []
    for _ in range(args.runs):
        (index / layout.DUPES_CACHE).unlink(missing_ok=True)
        seconds, memory = timed(cli + ["dupes", "--index", str(index), "--json"])
        runs.append(seconds)
        print(f"| imgsearch dupes --json | {seconds:.2f} ({seconds / index_seconds:.2f}x indexing) | {memory:.2f} |")
    median = statistics.median(runs)
    print(f"\nmedian dupes run {median:.2f} s = {median / index_seconds:.2f}x the indexing time (target 0.75x)")
    if not args.index:
        shutil.rmtree(index)


if __name__ == "__main__":
    main()
