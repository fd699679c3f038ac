"""Clustering quality on a folder-per-class data set, for every method and metric, in one table.

    python tools/eval_clustering.py DATA_DIR --index IDX [--exclude BACKGROUND_Google] [--auto-k] [--methods M,...]
    python tools/eval_clustering.py DATA_DIR --index IDX --over-seeds kmeans,deep [--seeds 3]
    python tools/eval_clustering.py DATA_DIR --index IDX --smoothing 0,10,20 [--seeds 3] [--adapted] [--methods kmeans,agglomerative]
    python tools/eval_clustering.py --synthetic 100000 [--methods deep] [--fit-limit N]   # time and memory on random unit vectors

ACC (best one-to-one matching of clusters to classes, Hungarian algorithm), NMI, ARI, retrieval
precision@10 (same class among the 10 nearest by that metric, for 2,000 sampled queries), time,
and peak Python memory.
Methods told k (k-means, agglomerative, gmm, deep) get k = number of classes; DBSCAN and HDBSCAN
find their own number.
Build the index first: `imgsearch index DATA_DIR --index IDX`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np


from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.clusters import choose_k, choose_method, methods

RUNS = [
    ("kmeans", "cosine"), ("kmeans", "euclidean"),
    ("agglomerative", "cosine"), ("agglomerative", "euclidean"), ("agglomerative", "manhattan"),
    ("dbscan", "cosine"), ("dbscan", "euclidean"), ("dbscan", "manhattan"), ("dbscan", "minkowski:3"),
    ("hdbscan", "cosine"), ("hdbscan", "euclidean"), ("hdbscan", "manhattan"),
    ("gmm", "cosine"), ("meanshift", "cosine"), ("deep", "cosine"), ("auto", "cosine"),
]


def labelled_vectors(index: str, data_dir: str, exclude: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The stored vectors of the photos under ``data_dir`` and their class (first sub-folder),
    classes in ``exclude`` left out. Shared by the clustering tools."""
    _, vectors, classes = labelled_photos(index, data_dir, exclude)
    return vectors, classes


def labelled_photos(index: str, data_dir: str, exclude: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """:func:`labelled_vectors` with each photo's path first, for tools that read the pixels too."""
    root = os.path.abspath(data_dir)
    with Store.open(index) as store:
        paths, vectors = store.all_vectors()
    classes = [os.path.relpath(p, root).split(os.sep)[0] for p in paths]
    keep = [i for i, c in enumerate(classes) if not c.startswith("..") and c not in exclude]
    return [paths[i] for i in keep], vectors[keep], np.array([classes[i] for i in keep])


def nearest_neighbours(x: np.ndarray, count: int = 10) -> np.ndarray:
    """Each row's ``count`` nearest rows by cosine (itself left out)."""
    return methods.nearest(x, x, "cosine", {}, count + 1)[1][:, 1:]


def accuracy(truth: np.ndarray, labels: np.ndarray) -> float:
    """Share of photos whose cluster maps to their class under the best one-to-one matching."""
    from scipy.optimize import linear_sum_assignment

    classes, t = np.unique(truth, return_inverse=True)
    clusters, c = np.unique(labels, return_inverse=True)
    table = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(table, (c, t), 1)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(truth))


def experiment_parser(doc: str) -> argparse.ArgumentParser:
    """The arguments every clustering experiment of tools/ takes: DATA_DIR, --index, --seeds and
    --exclude (class folders left out; Caltech-101's clutter class always)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--index", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--exclude", action="append", default=["BACKGROUND_Google"])
    return parser


def seed_table(rows: dict[str, list[tuple[float, ...]]], columns: list[tuple[str, str]]) -> str:
    """A markdown table for docs/BENCHMARKS.md: for each method, the mean and range over seeds of
    its first figure (ACC), then the mean of each further figure, ``columns`` naming each with
    its format ("time (s)", ".1f")."""
    head = ["method", "ACC mean", "min - max"] + [name for name, _ in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, results in rows.items():
        acc = [r[0] for r in results]
        means = [format(np.mean([r[i + 1] for r in results]), fmt) for i, (_, fmt) in enumerate(columns)]
        lines.append(f"| {name} | {np.mean(acc):.3f} | {min(acc):.3f} - {max(acc):.3f} | " + " | ".join(means) + " |")
    return "\n".join(lines)


def precision_at_10(data: np.ndarray, truth: np.ndarray, metric: str, queries: int = 2000) -> float:
    """Mean share of same-class photos among the 10 nearest of ``queries`` sampled photos
    (neighbours searched among all photos, exactly)."""
    name, params = methods.parse_metric(metric)
    rows = np.random.default_rng(0).choice(len(data), min(queries, len(data)), replace=False)
    _, found = methods.nearest(data[rows], data, name, params, k=11)
    return float(np.mean([(truth[[j for j in row if j != i][:10]] == truth[i]).mean() for i, row in zip(rows, found)]))


def evaluate(vectors: np.ndarray, truth: np.ndarray | None, runs, k: int, fit_limit: int | None = None) -> list[dict]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    rows = []
    p10 = {}
    for method, metric in runs:
        options = methods.ClusterOptions(method=method, metric=metric, k=k, fit_limit=fit_limit)
        tracemalloc.start()
        started = time.perf_counter()
        result = choose_method.best_method(vectors, options) if method == "auto" else methods.cluster(vectors, options)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        row = {"method": method, "metric": metric, "clusters": result.k, "noise": result.noise,
               "seconds": seconds, "peak_mb": peak / 1e6}
        if truth is not None:
            if metric not in p10:
                p10[metric] = precision_at_10(vectors, truth, metric)
            row.update(acc=accuracy(truth, result.labels), nmi=normalized_mutual_info_score(truth, result.labels),
                       ari=adjusted_rand_score(truth, result.labels), p10=p10[metric])
        rows.append(row)
        print(_format(row), flush=True)
    return rows


def smoothing(vectors: np.ndarray, truth: np.ndarray, k: int, seeds: int, settings: list[int],
              method: str = "kmeans") -> None:
    """ACC of ``method``, mean and spread over ``seeds``, for each neighbour-smoothing setting."""
    print(f"\n| {method}, neighbours averaged in | ACC mean | min - max | NMI mean | time (s) |\n|---|---|---|---|---|")
    from sklearn.metrics import normalized_mutual_info_score

    for neighbours in settings:
        accs, nmis, times = [], [], []
        for seed in range(seeds):
            started = time.perf_counter()
            result = methods.cluster(vectors, methods.ClusterOptions(method=method, k=k, seed=seed,
                                                                     smooth_neighbours=neighbours))
            times.append(time.perf_counter() - started)
            accs.append(accuracy(truth, result.labels))
            nmis.append(normalized_mutual_info_score(truth, result.labels))
        print(f"| {neighbours or 'none'} | {np.mean(accs):.3f} | {min(accs):.3f} - {max(accs):.3f} | "
              f"{np.mean(nmis):.3f} | {np.mean(times):.1f} |", flush=True)


def over_seeds(vectors: np.ndarray, truth: np.ndarray, k: int, seeds: int, names: list[str]) -> None:
    """ACC and NMI, mean and spread over ``seeds``, and time, for each method (its defaults)."""
    from sklearn.metrics import normalized_mutual_info_score

    print("\n| method | ACC mean | min - max | NMI mean | time (s) |\n|---|---|---|---|---|")
    for name in names:
        accs, nmis, times = [], [], []
        for seed in range(seeds):
            started = time.perf_counter()
            options = methods.ClusterOptions(method=name, k=k, seed=seed)
            result = choose_method.best_method(vectors, options) if name == "auto" else methods.cluster(vectors, options)
            if name == "auto":
                print(f"seed {seed}: {result.notes[0]}")
            times.append(time.perf_counter() - started)
            accs.append(accuracy(truth, result.labels))
            nmis.append(normalized_mutual_info_score(truth, result.labels))
        print(f"| {name} | {np.mean(accs):.3f} | {min(accs):.3f} - {max(accs):.3f} | "
              f"{np.mean(nmis):.3f} | {np.mean(times):.1f} |", flush=True)


def _format(row: dict) -> str:
    quality = (f"| {row['acc']:.3f} | {row['nmi']:.3f} | {row['ari']:.3f} | {row['p10']:.3f} "
               if "acc" in row else "| - | - | - | - ")
    return (f"| {row['method']} | {row['metric']} | {row['clusters']} | {row['noise']} {quality}"
            f"| {row['seconds']:.1f} | {row['peak_mb']:.0f} |")


HEADER = ("| method | metric | clusters | noise | ACC | NMI | ARI | P@10 | time (s) | peak MB |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", nargs="?")
    parser.add_argument("--index")
    parser.add_argument("--exclude", action="append", default=["BACKGROUND_Google"])
    parser.add_argument("--auto-k", action="store_true", help="also report the k that --k auto picks")
    parser.add_argument("--synthetic", type=int, default=0, help="time every method on N random unit vectors")
    parser.add_argument("--methods", default=None, help="comma-separated subset of methods")
    parser.add_argument("--fit-limit", type=int, default=None,
                        help="photos density and hierarchical methods are fitted on (default: each method's own)")
    parser.add_argument("--smoothing", default=None, metavar="N,N...",
                        help="only k-means (or --methods), each photo averaged with this many neighbours (0 = none), over --seeds")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--over-seeds", default=None, metavar="METHOD,...",
                        help="only these methods, ACC mean and spread over --seeds")
    parser.add_argument("--adapted", action="store_true",
                        help="cluster the vectors in the space `similar` re-ranks in (search/similar/adapt.py)")
    args = parser.parse_args()
    runs = [r for r in RUNS if args.methods is None or r[0] in args.methods.split(",")]
    print(f"machine: {os.cpu_count()} cores")
    if args.synthetic:
        rng = np.random.default_rng(0)
        centres = rng.normal(size=(100, 1280)).astype(np.float32)
        vectors = centres[rng.integers(0, 100, args.synthetic)] + rng.normal(0, 0.8, (args.synthetic, 1280)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        print(f"data: {args.synthetic:,} synthetic 1280-d unit vectors around 100 centres")
        print(HEADER)
        evaluate(vectors, None, runs, k=100, fit_limit=args.fit_limit)
        import resource

        print(f"process peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GB")
        return
    root = os.path.abspath(args.data_dir)
    vectors, truth = labelled_vectors(args.index, root, args.exclude)
    k = len(set(truth))
    print(f"data: {root}: {len(truth):,} images, {k} classes")
    if args.adapted:
        from imgsearch_cnn.search.similar import adapt

        vectors = adapt.learn(vectors, len(vectors), "").apply(vectors)
        print("vectors: in the collection-adapted space of `similar`")
    if args.smoothing is not None:
        for method in (args.methods or "kmeans").split(","):
            smoothing(vectors, truth, k, args.seeds, [int(n) for n in args.smoothing.split(",")], method)
        return
    if args.over_seeds:
        over_seeds(vectors, truth, k, args.seeds, args.over_seeds.split(","))
        return
    print(HEADER)
    evaluate(vectors, truth, runs, k, args.fit_limit)
    if args.auto_k:
        started = time.perf_counter()
        choice = choose_k.choose_k(vectors)
        print(f"--k auto picks k={choice.best} ({choice.criterion}; true {k}) in {time.perf_counter() - started:.1f} s")
        print("k tried: " + ", ".join(f"{kk}:{s:.3f}" for kk, s in zip(choice.ks, choice.scores)))


if __name__ == "__main__":
    main()
