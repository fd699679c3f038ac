"""Consensus of many k-means runs in a whitened, neighbour-diffused space, against `--method auto`.

    python tools/eval_consensus.py --index IDX DATA_DIR [--seeds 3] [--draw 5000] [--runs 30]
                                   [--whiten 1.0] [--rounds 6]

An experiment of issue 14, not a method of `imgsearch clusters`. In development runs, k-means
in PCA spaces whitened to power 1 ended far from the classes from every unsupervised start,
although the partition it reaches from the true classes scored a higher k-means objective than
all 20 starts tried (a random-swap search then found partitions scoring higher still, far
from the classes: the objective alone does not lead there). So the space is made smoother and
the many runs are pooled:

1. the vectors in 128 PCA dimensions, each axis divided by its spread to the power ``--whiten``
   (vector_index.reduce);
2. ``--rounds`` of diffusion along the 10-nearest-neighbour graph found in that space: each
   photo becomes half its own vector and half the mean of its neighbours' current vectors;
3. ``--runs`` k-means runs there (one k-means++ start each, seeds differing);
4. evidence accumulation: the share of runs that put two photos together is their similarity,
   and average-linkage clustering of it gives the k clusters.

Each seed draws ``--draw`` photos (0: all), clusters them with `--method auto` (the library's
choose_method.best_method) and with the consensus, k = the number of class folders, and scores
both by accuracy against the folders and by the modularity auto ranks partitions by (the
single runs: their mean, and the consensus's whole time divided by ``--runs``). Prints a
markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from eval_clustering import accuracy, experiment_parser, labelled_vectors, seed_table  # tools/ is the script's folder
from imgsearch_cnn.indexer.vector_index import l2_normalise, reduce
from imgsearch_cnn.search.clusters import choose_k, choose_method, methods

DIMS = 128
NEIGHBOURS = 10


def diffused(vectors: np.ndarray, seed: int, whiten: float, rounds: int) -> np.ndarray:
    """Whitened PCA vectors moved ``rounds`` times half way towards their neighbours' mean."""
    x = reduce(vectors, DIMS, seed, whiten=whiten)
    _, rows = methods.nearest(x, x, "cosine", {}, NEIGHBOURS + 1)
    y = x
    for _ in range(rounds):
        y = l2_normalise(0.5 * x + 0.5 * y[rows[:, 1:]].mean(axis=1))
    return np.ascontiguousarray(y, dtype=np.float32)


def consensus(data: np.ndarray, k: int, seed: int, runs: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Average-linkage clusters of how often ``runs`` k-means runs put two photos together,
    and the runs themselves."""
    from sklearn.cluster import AgglomerativeClustering

    partitions = [methods.kmeans(data, k, seed * runs + run, restarts=1, dims=data.shape[1]) for run in range(runs)]
    member = np.concatenate([np.eye(k, dtype=np.float32)[p] for p in partitions], axis=1)
    together = member @ member.T / runs
    labels = AgglomerativeClustering(k, metric="precomputed", linkage="average").fit_predict(1.0 - together)
    return labels, partitions


def main() -> None:
    parser = experiment_parser(__doc__)
    parser.add_argument("--draw", type=int, default=5000, help="photos drawn per seed (0: all)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--whiten", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    root = os.path.abspath(args.data_dir)
    vectors, truth = labelled_vectors(args.index, root, args.exclude)
    k = len(set(truth))
    size = min(args.draw, len(truth)) if args.draw else len(truth)
    print(f"machine: {os.cpu_count()} cores; data: {Path(root).name}, {size:,} photos drawn per seed "
          f"from {len(truth):,}, k = {k}; whiten {args.whiten}, {args.rounds} diffusion rounds, {args.runs} runs")
    names = ("auto", "one k-means run in the diffused space (mean of the runs)", "consensus of the runs")
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for seed in range(args.seeds):
        pick = np.sort(np.random.default_rng(seed).choice(len(truth), size, replace=False))
        v, t = vectors[pick], truth[pick]
        graph = choose_k.knn_graph(reduce(v, choose_method.SCORE_DIMS, seed))
        started = time.perf_counter()
        auto = choose_method.best_method(v, methods.ClusterOptions(method="auto", k=k, seed=seed)).labels
        rows[names[0]].append((accuracy(t, auto), choose_k.modularity(graph, auto), time.perf_counter() - started))
        started = time.perf_counter()
        labels, partitions = consensus(diffused(v, seed, args.whiten, args.rounds), k, seed, args.runs)
        seconds = time.perf_counter() - started
        rows[names[1]].append((float(np.mean([accuracy(t, p) for p in partitions])),
                               float(np.mean([choose_k.modularity(graph, p) for p in partitions])), seconds / args.runs))
        rows[names[2]].append((accuracy(t, labels), choose_k.modularity(graph, labels), seconds))
        print(f"seed {seed}: " + ", ".join(f"{name} {r[-1][0]:.3f}" for name, r in rows.items()), flush=True)
    print("\n" + seed_table(rows, [("modularity (as auto scores)", ".3f"), ("time (s)", ".1f")]))


if __name__ == "__main__":
    main()
