"""How the pixel check behind a perceptual-hash match separates copies from look-alikes.

    python tools/eval_phash_check.py --copies IDX_OF_A_DUPE_BENCH --others IDX_WITHOUT_DUPLICATES

Takes every pair of photos whose pHashes are within 8 bits in some orientation, in each index
(e.g. the index of a tools/make_dupe_bench.py benchmark, where they are copies, and the index of
caltech101-dev, where almost all are different photos of one class), and prints the share of
pairs whose edge correlation (search/dupes/pixels.PixelCache) reaches each threshold.
"""

from __future__ import annotations

import argparse

import numpy as np

from imgsearch_cnn.indexer.phash import closest
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import candidates
from imgsearch_cnn.search.dupes.groups import DedupeOptions
from imgsearch_cnn.search.dupes.pixels import PixelCache

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def agreements(index: str, bits: int) -> np.ndarray:
    """Edge correlation of every pair within ``bits`` in some orientation."""
    with Store.open(index) as store:
        records = list(store.records())
        codes = [store.vector(r.hash, "phash") for r in records]
    keep = [i for i, c in enumerate(codes) if c is not None]
    table = np.vstack([codes[i] for i in keep])
    pixels, out = PixelCache(), []
    for a, b in candidates.phash_pairs(table, bits).tolist():
        distance, turn = closest(table[a], table[b])
        if distance <= bits:
            out.append(pixels.agreement(records[keep[a]].path, records[keep[b]].path, turn))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", required=True)
    parser.add_argument("--others", required=True)
    args = parser.parse_args()
    bits = DedupeOptions().phash_distance
    found = {name: agreements(index, bits) for name, index in (("copies", args.copies), ("others", args.others))}
    print(f"pHash pairs within {bits} bits: copies {len(found['copies'])}, others {len(found['others'])}\n")
    print("| edge correlation at least | copies kept | others kept |\n|---|---|---|")
    for threshold in THRESHOLDS:
        print(f"| {threshold} | {np.mean(found['copies'] >= threshold):.3f} | {np.mean(found['others'] >= threshold):.3f} |")


if __name__ == "__main__":
    main()
