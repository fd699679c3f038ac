"""``--method auto``: each candidate method clusters the collection, and the partition whose
clusters hold most of each photo's nearest neighbours (modularity on the 10-nearest-neighbour
graph, as for choosing k) is kept.

Measured on the dev sets (docs/BENCHMARKS.md), that score ranked the candidates (and the Gaussian
mixture) in the same order as their accuracy against the true classes on both, seed by seed
(one tie): agglomerative clustering wins where a few classes are much larger than the rest
(Caltech-101), k-means on whitened vectors where the classes are alike in size (CIFAR-10). The
Gaussian mixture never won and is not a candidate.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer.vector_index import reduce, sample_rows
from imgsearch_cnn.search.clusters import choose_k, methods
from imgsearch_cnn.search.clusters.steps import reported

# (name, the options each candidate changes). Whitened k-means: docs/BENCHMARKS.md found it
# better than plain k-means where classes are alike in size (CIFAR-10) and worse on Caltech-101,
# and modularity ranked the two as their accuracy on both.
WHITEN = 0.5
CANDIDATES = (("kmeans", {"method": "kmeans"}),
              ("kmeans on whitened vectors", {"method": "kmeans", "whiten": WHITEN}),
              ("agglomerative", {"method": "agglomerative"}))
SCORE_ROWS = 10_000  # photos whose neighbour graph scores the partitions
SCORE_DIMS = 128


def best_method(vectors: np.ndarray, options: methods.ClusterOptions,
                progress: Callable[[str, int, int], None] | None = None) -> methods.ClusterResult:
    """The candidates' partitions (``options`` with each method), the best by modularity; its
    notes say what each scored. ``progress(stage, done, total)`` hears each candidate finished
    (stage "methods")."""
    started = time.perf_counter()
    rows = sample_rows(len(vectors), SCORE_ROWS, options.seed)
    sample = vectors[rows]
    graph = choose_k.knn_graph(reduce(sample, SCORE_DIMS, options.seed) if sample.shape[1] > SCORE_DIMS else sample)
    results, scores = [], []
    for _, changes in reported(CANDIDATES, "methods", progress):
        result = methods.cluster(vectors, replace(options, **changes))
        results.append(result)
        scores.append(choose_k.modularity(graph, result.labels[rows]))
    best = int(np.argmax(scores))
    chosen = results[best]
    said = ", ".join(f"{name} {score:.3f}" for (name, _), score in zip(CANDIDATES, scores))
    chosen.notes.insert(0, f"method auto: {CANDIDATES[best][0]}, whose clusters hold most of each photo's nearest "
                           f"neighbours (modularity on the 10-nearest-neighbour graph: {said})")
    chosen.seconds = time.perf_counter() - started
    return chosen
