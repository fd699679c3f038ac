"""False groups on a collection without duplicates: how many groups the default preset makes and
how many of them mix folders (classes), e.g. on caltech101-dev or cifar10-test.

    python tools/eval_false_groups.py IDX [--phash-agreement 0.7]

IDX is an index of a folder of class sub-folders (`imgsearch index DATA --index IDX`).
`--phash-agreement 0` stands in for the rule before pHash matches needed the pixels to agree.
"""

from __future__ import annotations

import argparse
import collections
import os

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes.groups import DUPLICATES, SHOTS, DedupeOptions, find_groups


def folder(member) -> str:
    return os.path.basename(os.path.dirname(member.record.path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index")
    parser.add_argument("--phash-agreement", type=float, default=DedupeOptions().phash_agreement)
    args = parser.parse_args()
    with Store.open(args.index) as store:
        result = find_groups(store, DedupeOptions(phash_agreement=args.phash_agreement))
    print("| pHash agreement | tier | groups | grouped photos | accepted by | groups mixing folders | time (s) |")
    print("|---|---|---|---|---|---|---|")
    mixed = []
    for tier in (DUPLICATES, SHOTS):
        found = [g for g in result.groups if g.tier == tier]
        mixing = [g for g in found if len({folder(m) for m in g.members}) > 1]
        mixed += mixing
        reasons = collections.Counter(m.reason for g in found for m in g.members[1:])
        print(f"| {args.phash_agreement} | {tier} | {len(found)} | {sum(reasons.values())} | "
              f"{', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))} | {len(mixing)} | {result.seconds:.1f} |")
    for group in mixed:
        print(f"  mixed ({group.tier}):", ", ".join(f"{folder(m)} ({m.shot or m.reason})" for m in group.members))


if __name__ == "__main__":
    main()
