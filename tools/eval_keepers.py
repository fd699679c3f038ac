"""How often each keeper rule chain keeps the original photo of a duplicate benchmark.

    python tools/eval_keepers.py BENCH_DIR --index IDX [--rules original,earliest,resolution ...]

BENCH_DIR is made by tools/make_dupe_bench.py and indexed into IDX (`imgsearch index
BENCH_DIR/photos --index IDX`). The groups are found once (default options); each chain then
chooses the keeper of every group that holds an original. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import keep
from imgsearch_cnn.search.dupes.groups import DUPLICATES, DedupeOptions, find_groups
from imgsearch_cnn.search.dupes.looks import LookCache
from imgsearch_cnn.search.dupes.verify import FeatureCache

CHAINS = ("resolution,size,oldest,shortest", "original,resolution,size,oldest,shortest",
          "original,resolution,earliest,size,oldest,shortest", ",".join(keep.DEFAULT_RULES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench")
    parser.add_argument("--index", required=True)
    parser.add_argument("--rules", nargs="*", default=list(CHAINS))
    args = parser.parse_args()
    bench = Path(args.bench).resolve()
    files = json.loads((bench / "truth.json").read_text())["files"]
    edit_of = {str(bench / rel): info["edit"] for rel, info in files.items()}
    with Store.open(args.index) as store:
        groups = [[m.record for m in g.members] for g in find_groups(store, DedupeOptions()).groups
                  if g.tier == DUPLICATES]
    groups = [members for members in groups if "original" in {edit_of.get(r.path) for r in members}]
    looks, features = LookCache(), FeatureCache()
    print(f"{len(groups)} groups holding an original\n\n| keep rules | keeper is the original | most frequent wrong keepers |")
    print("|---|---|---|")
    for chain in args.rules:
        wins = collections.Counter(edit_of[keep.choose(members, chain.split(","), [], looks, features.framing)[0].path]
                                   for members in groups)
        wrong = ", ".join(f"{edit} {count}" for edit, count in wins.most_common() if edit != "original")
        print(f"| {chain} | {wins['original']} of {len(groups)} ({wins['original'] / len(groups):.2f}) | {wrong[:60]} |")


if __name__ == "__main__":
    main()
