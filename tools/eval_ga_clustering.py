"""Genetic-algorithm clustering, as one of the seed articles describes it, against k-means.

    python tools/eval_ga_clustering.py --index IDX DATA_DIR [--seeds 3] [--population 20] [--generations 30]

A population of centroid sets (each started by k-means++ on a sample) evolves against the
k-means loss: fitness is the total cosine of the photos to their nearest centroid; parents are
picked by tournament; a child takes each centroid from one parent or the other (the parents'
centroids paired by a one-to-one matching first); mutation moves a few centroids onto random
photos; the best set is kept from one generation to the next (elitism). The best set found is
then refined by k-means, and scored by clustering accuracy against the class folders, beside
plain k-means (k-means++ starts, the library's default without neighbour averaging) on the same
128-d PCA vectors. Prints a markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from eval_clustering import accuracy, experiment_parser, labelled_vectors, seed_table  # tools/ is the script's folder
from imgsearch_cnn.indexer.vector_index import l2_normalise, reduce


def fitness(data: np.ndarray, centres: np.ndarray) -> float:
    return float((data @ l2_normalise(centres).T).max(axis=1).sum())


def refine(data: np.ndarray, centres: np.ndarray, niter: int = 30) -> np.ndarray:
    import faiss

    model = faiss.Kmeans(data.shape[1], len(centres), niter=niter, spherical=True, verbose=False,
                         min_points_per_centroid=1, max_points_per_centroid=1 << 20)
    model.train(data, init_centroids=np.ascontiguousarray(l2_normalise(centres), dtype=np.float32))
    return model.index.search(data, 1)[1][:, 0]


def crossover(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    _, match = linear_sum_assignment(-(l2_normalise(a) @ l2_normalise(b).T))  # pair like with like
    take = rng.random(len(a)) < 0.5
    return np.where(take[:, None], a, b[match])


def genetic(data: np.ndarray, k: int, seed: int, population: int, generations: int) -> np.ndarray:
    from sklearn.cluster import kmeans_plusplus

    rng = np.random.default_rng(seed)
    sample = data[rng.choice(len(data), min(len(data), 50 * k), replace=False)]
    pool = [kmeans_plusplus(sample, k, random_state=seed * 1000 + i)[0] for i in range(population)]
    scores = [fitness(data, c) for c in pool]
    for _ in range(generations):
        best = int(np.argmax(scores))
        children, child_scores = [pool[best]], [scores[best]]
        while len(children) < population:
            parents = []
            for _ in range(2):
                entrants = rng.choice(population, 3, replace=False)
                parents.append(pool[entrants[np.argmax([scores[e] for e in entrants])]])
            child = crossover(parents[0], parents[1], rng)
            mutate = rng.random(k) < 1.0 / k
            child[mutate] = data[rng.choice(len(data), int(mutate.sum()))]
            children.append(child)
            child_scores.append(fitness(data, child))
        pool, scores = children, child_scores
    return refine(data, pool[int(np.argmax(scores))])


def main() -> None:
    parser = experiment_parser(__doc__)
    parser.add_argument("--population", type=int, default=20)
    parser.add_argument("--generations", type=int, default=30)
    args = parser.parse_args()
    from sklearn.cluster import kmeans_plusplus

    root = os.path.abspath(args.data_dir)
    vectors, truth = labelled_vectors(args.index, root, args.exclude)
    data = np.ascontiguousarray(reduce(vectors, 128), dtype=np.float32)
    k = len(set(truth))
    print(f"machine: {os.cpu_count()} cores; data: {Path(root).name}, {len(truth):,} photos, k = {k}")
    rows = {"k-means (k-means++ start)": [], f"GA ({args.population} x {args.generations} generations) + k-means": []}
    for seed in range(args.seeds):
        started = time.perf_counter()
        init = kmeans_plusplus(data[np.random.default_rng(seed).choice(len(data), min(len(data), 50 * k), replace=False)],
                               k, random_state=seed)[0]
        labels = refine(data, init)
        rows["k-means (k-means++ start)"].append((accuracy(truth, labels), time.perf_counter() - started))
        started = time.perf_counter()
        labels = genetic(data, k, seed, args.population, args.generations)
        rows[f"GA ({args.population} x {args.generations} generations) + k-means"].append(
            (accuracy(truth, labels), time.perf_counter() - started))
    print("\n" + seed_table(rows, [("time (s)", ".1f")]))


if __name__ == "__main__":
    main()
