"""How fast `imgsearch --help` and `imgsearch COMMAND --help` answer (nothing heavy is imported).

    python tools/bench_cli.py [--runs 10]

Prints the median wall time of each, on this machine, as a markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time

COMMANDS = ([], ["index"], ["similar"], ["dupes"], ["clusters"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("| command | median (s) |\n|---|---|")
    for command in COMMANDS:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "imgsearch_cnn.search.cli", *command, "--help"],
                           capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        print(f"| imgsearch {' '.join(command + ['--help'])} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()
