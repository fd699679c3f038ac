"""Agglomerative merging of many small density estimates ("agglomerative density networks" in the
seed articles), against k-means and agglomerative clustering, on the index's CNN vectors.

    python tools/eval_density_merge.py DATA_DIR --index IDX [--seeds 3] [--per-cluster 3]

Many small Gaussians (a diagonal Gaussian mixture with ``--per-cluster`` x k components, in 64
PCA dimensions, started from k-means) estimate the density; they are then merged bottom-up,
always the two whose photos are most often each other's nearest neighbours (edges of the
10-nearest-neighbour graph between them, over the product of their sizes to the power 0.5 or 1:
"graph average"), until k remain. Scored by clustering accuracy against the class folders,
k = number of classes; prints a markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from eval_clustering import accuracy, experiment_parser, labelled_vectors  # tools/ is the script's folder
from imgsearch_cnn.indexer.vector_index import reduce
from imgsearch_cnn.search.clusters import choose_k, methods


def small_densities(data: np.ndarray, components: int, seed: int) -> np.ndarray:
    """Each row's component of a diagonal Gaussian mixture with ``components`` components."""
    from sklearn.mixture import GaussianMixture

    mixture = GaussianMixture(components, covariance_type="diag", reg_covar=1e-4, max_iter=50,
                              random_state=seed).fit(data)
    return mixture.predict(data)


def merge(pieces: np.ndarray, graph, k: int, power: float) -> np.ndarray:
    """Merge the pieces bottom-up along the neighbour graph until ``k`` remain."""
    import scipy.sparse as sp

    ids, pieces = np.unique(pieces, return_inverse=True)
    count = len(ids)
    member = sp.csr_matrix((np.ones(len(pieces)), (np.arange(len(pieces)), pieces)), shape=(len(pieces), count))
    links = (member.T @ graph @ member).toarray()
    np.fill_diagonal(links, 0)
    sizes = np.bincount(pieces, minlength=count).astype(float)
    alive = np.ones(count, bool)
    owner = np.arange(count)
    for _ in range(count - k):
        score = links / np.outer(sizes, sizes) ** power
        score[~alive] = -1
        score[:, ~alive] = -1
        np.fill_diagonal(score, -1)
        a, b = np.unravel_index(np.argmax(score), score.shape)
        links[a] += links[b]
        links[:, a] += links[:, b]
        links[a, a] = 0
        links[b] = 0
        links[:, b] = 0
        sizes[a] += sizes[b]
        alive[b] = False
        owner[owner == b] = a
    return owner[pieces]


def main() -> None:
    parser = experiment_parser(__doc__)
    parser.add_argument("--per-cluster", type=int, default=3, help="small densities per final cluster")
    args = parser.parse_args()
    root = os.path.abspath(args.data_dir)
    vectors, truth = labelled_vectors(args.index, root, args.exclude)
    k = len(set(truth))
    print(f"machine: {os.cpu_count()} cores; data: {Path(root).name}, {len(truth):,} photos, k = {k}, "
          f"{args.per_cluster * k} small densities")
    data = reduce(vectors, 64)
    graph = choose_k.knn_graph(data)
    scores: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        started = time.perf_counter()
        pieces = small_densities(data, min(args.per_cluster * k, len(data) // 5), seed)
        fitted = time.perf_counter() - started
        for power in (0.5, 1.0):
            started = time.perf_counter()
            labels = merge(pieces, graph, k, power)
            name = f"densities merged, graph average (power {power})"
            scores.setdefault(name, []).append(accuracy(truth, labels))
            seconds.setdefault(name, []).append(fitted + time.perf_counter() - started)
        for method in ("kmeans", "agglomerative"):
            started = time.perf_counter()
            labels = methods.cluster(vectors, methods.ClusterOptions(method=method, k=k, seed=seed)).labels
            scores.setdefault(method, []).append(accuracy(truth, labels))
            seconds.setdefault(method, []).append(time.perf_counter() - started)
    print("\n| method | ACC mean | min - max | time (s) |\n|---|---|---|---|")
    for name, values in scores.items():
        print(f"| {name} | {np.mean(values):.3f} | {min(values):.3f} - {max(values):.3f} | {np.mean(seconds[name]):.1f} |")


if __name__ == "__main__":
    main()
