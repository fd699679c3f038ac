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
from imgsearch_cnn.search.dupes.groups import DedupeOptions, find_groups


def folder(member) -> str:
    return os.path.basename(os.path.dirname(member.record.path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index")
    parser.add_argument("--phash-agreement", type=float, default=DedupeOptions().phash_agreement)
    args = parser.parse_args()
    with Store.open(args.index) as store:
        result = find_groups(store, DedupeOptions(phash_agreement=args.phash_agreement))
    mixed = [g for g in result.groups if len({folder(m) for m in g.members}) > 1]
    reasons = collections.Counter(m.reason for g in result.groups for m in g.members[1:])
    print("| pHash agreement | groups | grouped photos | accepted by | groups mixing folders | time (s) |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.phash_agreement} | {len(result.groups)} | {sum(reasons.values())} | "
          f"{', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))} | {len(mixed)} | {result.seconds:.1f} |")
    for group in mixed:
        print("  mixed:", ", ".join(f"{folder(m)} ({m.reason})" for m in group.members))


if __name__ == "__main__":
    main()
