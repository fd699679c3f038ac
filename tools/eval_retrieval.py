"""Retrieval quality of an index over a folder-per-class data set: mean precision@k.

    python tools/eval_retrieval.py --index IDX DATA_DIR [-k 10] [--exclude BACKGROUND_Google] [--expand 0,3,5]
                                   [--codec uint8] [--adapt [--adapt-grid 128:0.25,...]]

A neighbour counts as correct when it lies in the query's class folder; the query itself is
left out. Reads the vectors stored in the index (build it first with `imgsearch index DATA_DIR`).
``--expand``: also with query expansion as `imgsearch similar` does it (search/similar/query.py:
the query's N nearest photos, itself left out, added to it at EXPAND_WEIGHT, then the search),
for each N given (0 = none). ``--codec uint8``: also with the vectors passed through that
storage codec (indexer/codec.py), to compare a float32 index with what the compact format keeps.
``--adapt``: also with the re-ranking in the collection-learned space (search/similar/adapt.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


from imgsearch_cnn.indexer.store import Store


def class_of(path: str, root: str) -> str:
    return os.path.relpath(path, root).split(os.sep)[0]


def precision_at_k(vectors: np.ndarray, labels: np.ndarray, k: int, expand: int = 0, adapted: bool = False,
                   dims: int | None = None, power: float | None = None) -> float:
    """Mean fraction of same-label photos among each photo's k nearest (cosine) neighbours; with
    ``adapted``, the adapt.CANDIDATES nearest re-ranked as `imgsearch similar` does."""
    import faiss

    from imgsearch_cnn.search.similar import adapt
    from imgsearch_cnn.search.similar.query import EXPAND_WEIGHT

    index = faiss.IndexFlatIP(vectors.shape[1])
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    index.add(data)
    queries = data
    if expand:
        _, first = index.search(data, expand + 1)
        own = [[j for j in row if j != i][:expand] for i, row in enumerate(first)]
        queries = data + EXPAND_WEIGHT * np.stack([data[r].mean(axis=0) for r in own])
        queries = np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True), dtype=np.float32)
    depth = max(k, adapt.CANDIDATES) if adapted else k
    _, rows = index.search(queries, depth + 1)
    adaptation = None
    if adapted:
        fit = data[np.random.default_rng(0).permutation(len(data))[:adapt.FIT_ROWS]]
        adaptation = adapt.learn(fit, len(data), "", dims or adapt.ADAPT_DIMS,
                                 adapt.WHITEN_POWER if power is None else power)
    hits = []
    for i, row in enumerate(rows):
        neighbours = [j for j in row if j != i][:depth]
        if adaptation is not None:
            neighbours = [neighbours[j] for j in adapt.rerank(data[i], data[neighbours], adaptation, expand)]
        hits.append(np.mean(labels[neighbours[:k]] == labels[i]))
    return float(np.mean(hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--index", required=True)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--exclude", action="append", default=["BACKGROUND_Google"])
    parser.add_argument("--expand", default="0", help="comma-separated query-expansion sizes to measure (0 = none)")
    parser.add_argument("--adapt", action="store_true", help="also with the re-ranking in the collection's adapted space")
    parser.add_argument("--adapt-grid", default=None, metavar="DIMS:POWER,...",
                        help="with --adapt: also these axes and powers (e.g. 128:0.25,256:0,256:1)")
    parser.add_argument("--codec", default=None, help="also measure the vectors as this storage codec keeps them")
    args = parser.parse_args()
    root = os.path.abspath(args.data_dir)
    with Store.open(args.index) as store:
        paths, vectors = store.all_vectors()
        model = store.model
    keep = [i for i, p in enumerate(paths) if p.startswith(root + os.sep) and class_of(p, root) not in args.exclude]
    labels = np.array([class_of(paths[i], root) for i in keep])
    print(f"model={model['model_id']} preprocessing={model['preprocessing']}")
    print(f"vectors stored as {store.codec}")
    variants = {store.codec: vectors[keep]}
    if args.codec:
        from imgsearch_cnn.indexer import codec

        variants[args.codec] = codec.decode_many([codec.encode(v, args.codec) for v in vectors[keep]], args.codec)
    for name, data in variants.items():
        for expand in (int(n) for n in args.expand.split(",")):
            for adapted in (False, True) if args.adapt else (False,):
                score = precision_at_k(data, labels, args.k, expand, adapted)
                print(f"{name}: images={len(keep)} classes={len(set(labels))} query expansion {expand}"
                      f"{', adapted' if adapted else ''}: mean precision@{args.k}={score:.4f}")
            for setting in (args.adapt_grid.split(",") if args.adapt and args.adapt_grid else []):
                dims, power = setting.split(":")
                score = precision_at_k(data, labels, args.k, expand, True, int(dims), float(power))
                print(f"{name}: query expansion {expand}, adapted with {dims} axes at power {power}: "
                      f"mean precision@{args.k}={score:.4f}")


if __name__ == "__main__":
    main()
