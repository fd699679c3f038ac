"""The `imgsearch clusters` and `imgsearch map` jobs: vectors from the index -> clusters / 2-D map.

Cluster assignments are saved in the index (``extra/clusters``) so that later commands (the
map, reports) can use them. Output files are written by search/render, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imgsearch_cnn.indexer.store import Store, StoreError
from imgsearch_cnn.search.clusters import choose_k, choose_method, maps, methods
from imgsearch_cnn.search.clusters.methods import ClusterOptions, ClusterResult


@dataclass
class ClustersOutcome:
    paths: list[str]
    result: ClusterResult
    representatives: dict[int, str]  # cluster id -> the member closest to the cluster's mean
    k_choice: choose_k.KChoice | None
    features: str

    def members(self) -> dict[int, list[str]]:
        """Cluster id -> member paths, representative first, the rest by path (soft methods: the
        rest surest first, so the photos the method doubts come last)."""
        out: dict[int, list[str]] = {}
        for path, label in zip(self.paths, self.result.labels.tolist()):
            out.setdefault(label, []).append(path)
        sure = self.confidence()
        for label, paths in out.items():
            rep = self.representatives.get(label)
            paths.sort(key=lambda p: (p != rep, -sure.get(p, 1.0), p))
        return out

    def confidence(self) -> dict[str, float]:
        """Path -> probability of its cluster, for soft methods (gmm); empty otherwise."""
        if self.result.confidence is None:
            return {}
        return {p: float(c) for p, c in zip(self.paths, self.result.confidence)}


def load_vectors(store: Store, features: str) -> tuple[list[str], np.ndarray]:
    paths, vectors = store.all_vectors(features)
    if not paths:
        raise StoreError(f"index {store.path} holds no {features} vectors: run `imgsearch index FOLDER` first")
    return paths, vectors


def representatives(vectors: np.ndarray, labels: np.ndarray, paths: list[str]) -> dict[int, str]:
    """Per cluster, the member most similar to the cluster's mean vector."""
    reps = {}
    for label in np.unique(labels):
        if label == methods.NOISE:
            continue
        rows = np.flatnonzero(labels == label)
        centre = vectors[rows].mean(axis=0)
        reps[int(label)] = paths[rows[int(np.argmax(vectors[rows] @ centre))]]
    return reps


def run(store: Store, options: ClusterOptions, features: str = "cnn", progress=None) -> ClustersOutcome:
    """Cluster the index's photos and, if ``store`` is writable, save the assignment in it
    (else :func:`save` does it later). ``progress(stage, done, total)`` hears how choosing k
    ("choose-k"), trying the candidate methods of auto and deep ("methods") and training deep's
    heads ("train") go."""
    paths, vectors = load_vectors(store, features)
    if len(paths) < 2:
        raise ValueError(f"clustering needs at least 2 photos; the index holds {len(paths)}")
    if options.k is not None and options.k > len(paths):
        raise ValueError(f"--k {options.k} asks for more clusters than the {len(paths)} photos in the index")
    choice = None
    if options.k is None and (options.method in methods.WITH_K or options.method == "auto"):
        on_raw = options.method in ("kmeans", "auto", "deep")  # k-means (which deep starts from) reduces them itself
        data = vectors if on_raw else methods.reduce(vectors, options.pca_dims, options.seed)
        choice = choose_k.choose_k(data, options.seed, progress=progress)
        options = ClusterOptions(**{**options.__dict__, "k": choice.best})
    if options.method == "auto":
        result = choose_method.best_method(vectors, options, progress)
    else:
        result = methods.cluster(vectors, options, progress)
    if choice:
        result.notes.insert(0, f"k={choice.best} chosen by {choice.criterion} over k in {choice.ks[0]}..{choice.ks[-1]}")
    outcome = ClustersOutcome(paths, result, representatives(vectors, result.labels, paths), choice, features)
    if store.writable:
        save(store, outcome)
    return outcome


def save(store: Store, outcome: ClustersOutcome) -> None:
    """Keep the cluster of every photo in the index (read by `imgsearch map`)."""
    result = outcome.result
    store.set_extra("clusters", {
        "method": result.method, "metric": result.metric, "k": result.k, "features": outcome.features,
        "labels": dict(zip(outcome.paths, result.labels.tolist())),
    })


def map_points(store: Store, sample: int, method: str, features: str) -> maps.MapPoints:
    """The 2-D map of the collection, coloured by the clusters saved by `imgsearch clusters`."""
    paths, vectors = load_vectors(store, features)
    saved = store.get_extra("clusters") or {"labels": {}}
    labels = np.array([saved["labels"].get(p, -1) for p in paths])
    return maps.layout(paths, vectors, labels, sample, method)
