"""How compressed FAISS layouts and re-ranking depths trade recall for size and time.

    python tools/eval_vector_index.py --layouts IDX [IDX ...]     # layouts, on the indexes' vectors
    python tools/eval_vector_index.py --rerank IDX                # re-ranking depth of IDX's own file

``--layouts``: pools the CNN vectors of the given indexes, builds each candidate layout (PCA to
256 dimensions, about sqrt(n) inverted lists, then 4-bit or 8-bit scalar codes or product
quantisation with 4-bit or 8-bit codes) and reports training time and recall@10 against exact search for 1,000 queries,
with 10 and 20 candidates re-ranked exactly per result.

``--rerank``: loads the index's FAISS file as `imgsearch similar` does and reports recall@10
against exact search (over the stored vectors, a block at a time) and time per query, for
several re-ranking depths and numbers of lists probed (a compressed file: more than
200,000 photos; `tools/bench_scale.py --keep DIR` leaves one).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench_scale import exact_top10, sampled_queries

from imgsearch_cnn.indexer import vector_index
from imgsearch_cnn.indexer.store import Store

LAYOUTS = ["SQ4", "SQ8", "PQ32x4fs", "PQ64x4fs", "PQ64"]


def recall(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(truth, found)]))


def layouts(indexes: list[str], queries: int = 1000) -> None:
    import faiss

    vectors = []
    for path in indexes:
        with Store.open(path) as store:
            vectors.append(store.all_vectors()[1])
    data = np.ascontiguousarray(np.vstack(vectors), dtype=np.float32)
    rows = np.random.default_rng(5).choice(len(data), min(queries, len(data)), replace=False)
    exact = faiss.IndexFlatIP(data.shape[1])
    exact.add(data)
    _, truth = exact.search(data[rows], 10)
    lists = int(np.sqrt(len(data)))
    print(f"{len(data):,} vectors, {lists} lists, 16 probed")
    print("| layout | train + add | recall@10, 10 re-ranked | recall@10, 20 re-ranked |")
    print("|---|---|---|---|")
    for code in LAYOUTS:
        index = faiss.index_factory(data.shape[1], f"PCAR256,IVF{lists},{code}", faiss.METRIC_INNER_PRODUCT)
        started = time.perf_counter()
        index.train(data)
        index.add(data)
        seconds = time.perf_counter() - started
        faiss.extract_index_ivf(index).nprobe = 16
        found = []
        for depth in (10, 20):
            _, candidates = index.search(data[rows], 10 * depth)
            found.append(recall(truth, [c[np.argsort(-(data[c[c >= 0]] @ data[q]))[:10]] for c, q in zip(candidates, rows)]))
        print(f"| PCA256, IVF, {code} | {seconds:.1f} s | {found[0]:.3f} | {found[1]:.3f} |")


def rerank(index_path: str, queries: int = 200) -> None:
    import faiss

    with Store.open(index_path) as store:
        vindex = vector_index.load(store)
        if vindex.exact is None:
            raise SystemExit(f"{index_path} has an exact FAISS file: nothing to re-rank")
        wanted = sampled_queries(store, vindex, queries)
        truth = exact_top10(store, wanted)
        ivf = faiss.extract_index_ivf(vindex.index)
        print(f"{len(vindex.paths):,} photos, {ivf.nlist} lists, {queries} queries")
        print("| lists probed | candidates re-ranked per result | recall@10 | time a query |")
        print("|---|---|---|---|")
        for nprobe in (48, 96, 192):
            ivf.nprobe = nprobe
            for depth in (10, 30, 100):
                vector_index.RERANK = depth
                started = time.perf_counter()
                _, found = vindex.search(wanted, 10)
                seconds = (time.perf_counter() - started) / queries
                print(f"| {nprobe} | {depth} | {recall(truth, found):.3f} | {1000 * seconds:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", nargs="+", metavar="INDEX")
    parser.add_argument("--rerank", metavar="INDEX")
    args = parser.parse_args()
    if args.layouts:
        layouts(args.layouts)
    if args.rerank:
        rerank(args.rerank)


if __name__ == "__main__":
    main()
