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

Each seed draws ``--classes`` class folders (0: all; fewer classes stand for other kinds of
collection) and ``--draw`` of their photos (0: all), clusters them with `--method auto` (the
library's choose_method.best_method) and with the consensus, k = the number of classes drawn,
and scores both by accuracy against the folders, by the modularity auto ranks partitions by,
and by neighbour agreement: the share of each photo's 10 nearest neighbours (128 plain PCA
dimensions) that its cluster holds, a label-free sign of how diffuse the clusters are (the
single runs: their means, and the consensus's whole time divided by ``--runs``). Prints a
markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from eval_clustering import accuracy, experiment_parser, labelled_vectors, nearest_neighbours, seed_table  # tools/ is the script's folder
from imgsearch_cnn.indexer.vector_index import l2_normalise, reduce
from imgsearch_cnn.search.clusters import choose_k, choose_method, methods

DIMS = 128
NEIGHBOURS = 10


def diffused(vectors: np.ndarray, seed: int, whiten: float, rounds: int) -> np.ndarray:
    """Whitened PCA vectors moved ``rounds`` times half way towards their neighbours' mean."""
    x = reduce(vectors, DIMS, seed, whiten=whiten)
    near = nearest_neighbours(x, NEIGHBOURS)
    y = x
    for _ in range(rounds):
        y = l2_normalise(0.5 * x + 0.5 * y[near].mean(axis=1))
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


def agreement(labels: np.ndarray, near: np.ndarray) -> float:
    """The share of each photo's neighbours ``near`` that are in its cluster."""
    return float((labels[near] == labels[:, None]).mean())


def main() -> None:
    parser = experiment_parser(__doc__)
    parser.add_argument("--classes", type=int, default=0, help="class folders drawn per seed (0: all)")
    parser.add_argument("--draw", type=int, default=5000, help="photos drawn per seed (0: all)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--whiten", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    root = os.path.abspath(args.data_dir)
    vectors, truth = labelled_vectors(args.index, root, args.exclude)
    folders = np.unique(truth)
    k = min(args.classes, len(folders)) if args.classes else len(folders)
    drawn = f"{args.draw:,}" if args.draw else "all"
    print(f"machine: {os.cpu_count()} cores; data: {Path(root).name}, {k} of {len(folders)} classes and "
          f"{drawn} of their photos drawn per seed; whiten {args.whiten}, "
          f"{args.rounds} diffusion rounds, {args.runs} runs")
    names = ("auto", "one k-means run in the diffused space (mean of the runs)", "consensus of the runs")
    rows: dict[str, list[tuple[float, ...]]] = {name: [] for name in names}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        among = np.flatnonzero(np.isin(truth, rng.choice(folders, k, replace=False)))
        pick = np.sort(rng.choice(among, min(args.draw or len(among), len(among)), replace=False))
        v, t = vectors[pick], truth[pick]
        plain = reduce(v, choose_method.SCORE_DIMS, seed)  # the space auto's modularity is scored in
        graph, near = choose_k.knn_graph(plain), nearest_neighbours(plain, NEIGHBOURS)

        def scores(labels: np.ndarray) -> tuple[float, float, float]:
            return accuracy(t, labels), choose_k.modularity(graph, labels), agreement(labels, near)

        started = time.perf_counter()
        auto = choose_method.best_method(v, methods.ClusterOptions(method="auto", k=k, seed=seed)).labels
        rows[names[0]].append((*scores(auto), time.perf_counter() - started))
        started = time.perf_counter()
        labels, partitions = consensus(diffused(v, seed, args.whiten, args.rounds), k, seed, args.runs)
        seconds = time.perf_counter() - started
        rows[names[1]].append((*np.mean([scores(p) for p in partitions], axis=0), seconds / args.runs))
        rows[names[2]].append((*scores(labels), seconds))
        print(f"seed {seed} ({len(t):,} photos): " + ", ".join(f"{name} {r[-1][0]:.3f}" for name, r in rows.items()),
              flush=True)
    print("\n" + seed_table(rows, [("modularity (as auto scores)", ".3f"), ("neighbour agreement", ".3f"),
                                   ("time (s)", ".1f")]))


if __name__ == "__main__":
    main()
