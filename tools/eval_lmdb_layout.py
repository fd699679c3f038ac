"""How many bytes a photo takes in LMDB under other key layouts (issue "Scale": 2.5 GB at 1M).

    python tools/eval_lmdb_layout.py [--photos N] [--batch B]

Writes N photos' worth of the store's per-photo values (a 1,292-byte uint8 vector, a 108-byte
colour histogram, 64 bytes of pHashes, a ~150-byte record under a ~60-byte path) into fresh
LMDB environments, B photos a transaction as indexing does, under three layouts:

* ``hash keys``: features keyed by the content hash (32 hex characters), as the store does now:
  keys arrive in random order, and LMDB's page splits leave leaf pages part-filled;
* ``rewritten in key order``: the same, then copied in key order with append=True into a new
  environment (what a compaction step would do);
* ``sequential keys``: features keyed by an 8-byte counter in the order they are written
  (LMDB splits a full page at its end for keys that arrive in order, so pages stay full).

Prints, per layout, the bytes a photo takes in each sub-database (pages x page size / N) and the
data file, and the data file projected to 1,000,000 photos.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import lmdb
import numpy as np

VALUES = {"vectors": 1292, "colors": 108, "phash": 64}
RECORD = 150


def _open(path: str) -> lmdb.Environment:
    return lmdb.open(path, map_size=1 << 36, max_dbs=8)


def write(path: str, photos: int, batch: int, sequential: bool, seed: int = 0) -> lmdb.Environment:
    rng = np.random.default_rng(seed)
    env = _open(path)
    dbs = {name: env.open_db(name.encode()) for name in (*VALUES, "files")}
    for start in range(0, photos, batch):
        with env.begin(write=True) as txn:
            for row in range(start, min(photos, start + batch)):
                key = row.to_bytes(8, "big") if sequential else rng.bytes(16).hex().encode()
                for name, size in VALUES.items():
                    txn.put(key, rng.bytes(size), db=dbs[name])
                path_key = f"/photos/{row % 977:04d}/IMG_{row:08d}.jpg".encode()
                txn.put(path_key, rng.bytes(RECORD), db=dbs["files"])
    return env


def rewrite(env: lmdb.Environment, path: str) -> lmdb.Environment:
    target = _open(path)
    for name in (*VALUES, "files"):
        source_db, target_db = env.open_db(name.encode()), target.open_db(name.encode())
        with env.begin() as reading, target.begin(write=True) as writing:
            for key, value in reading.cursor(db=source_db):
                writing.put(key, value, db=target_db, append=True)
    return target


def sizes(env: lmdb.Environment, photos: int) -> dict[str, float]:
    out = {}
    for name in (*VALUES, "files"):
        with env.begin() as txn:
            stat = txn.stat(env.open_db(name.encode(), txn=txn))
        pages = stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"]
        out[name] = pages * stat["psize"] / photos
    out["data file"] = os.path.getsize(os.path.join(env.path(), "data.mdb")) / photos
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=256, help="photos a transaction (indexing's CPU batch is 32)")
    args = parser.parse_args()
    print(f"{args.photos:,} photos, {args.batch} a transaction; bytes a photo")
    with tempfile.TemporaryDirectory() as tmp:
        layouts = {}
        start = time.perf_counter()
        random_keys = write(os.path.join(tmp, "hash"), args.photos, args.batch, sequential=False)
        layouts["hash keys"] = (random_keys, time.perf_counter() - start)
        start = time.perf_counter()
        layouts["rewritten in key order"] = (rewrite(random_keys, os.path.join(tmp, "rewritten")),
                                             time.perf_counter() - start)
        start = time.perf_counter()
        layouts["sequential keys"] = (write(os.path.join(tmp, "seq"), args.photos, args.batch, sequential=True),
                                      time.perf_counter() - start)
        names = (*VALUES, "files", "data file")
        print("| layout | " + " | ".join(names) + " | data file at 1,000,000 | time |")
        print("|---" * (len(names) + 3) + "|")
        for label, (env, seconds) in layouts.items():
            per_photo = sizes(env, args.photos)
            cells = " | ".join(f"{per_photo[n]:,.0f}" for n in names)
            print(f"| {label} | {cells} | {per_photo['data file'] * 1e6 / 1e9:.2f} GB | {seconds:.1f} s |")
            env.close()


if __name__ == "__main__":
    main()
