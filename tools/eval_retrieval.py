"""Retrieval quality of an index over a folder-per-class data set: mean precision@k.

    python tools/eval_retrieval.py --index IDX DATA_DIR [-k 10] [--exclude BACKGROUND_Google]

A neighbour counts as correct when it lies in the query's class folder; the query itself is
left out. Reads the vectors stored in the index (build it first with `imgsearch index DATA_DIR`).
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


def precision_at_k(vectors: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean fraction of same-label photos among each photo's k nearest (cosine) neighbours."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    _, rows = index.search(np.ascontiguousarray(vectors, dtype=np.float32), k + 1)
    hits = []
    for i, row in enumerate(rows):
        neighbours = [j for j in row if j != i][:k]
        hits.append(np.mean(labels[neighbours] == labels[i]))
    return float(np.mean(hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--index", required=True)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--exclude", action="append", default=["BACKGROUND_Google"])
    args = parser.parse_args()
    root = os.path.abspath(args.data_dir)
    with Store.open(args.index) as store:
        paths, vectors = store.all_vectors()
        model = store.model
    keep = [i for i, p in enumerate(paths) if p.startswith(root + os.sep) and class_of(p, root) not in args.exclude]
    labels = np.array([class_of(paths[i], root) for i in keep])
    score = precision_at_k(vectors[keep], labels, args.k)
    print(f"model={model['model_id']} preprocessing={model['preprocessing']}")
    print(f"images={len(keep)} classes={len(set(labels))} mean precision@{args.k}={score:.4f}")


if __name__ == "__main__":
    main()
