"""Clusters of a collection: k-means (FAISS), DBSCAN, HDBSCAN, agglomerative; choosing k.

No N x N matrix: density and hierarchical methods are fitted on a sample (``fit_limit`` rows)
and every other photo joins the cluster of its nearest sampled neighbour (DBSCAN/HDBSCAN: only
if that neighbour is a core member within ``eps``, else noise) or nearest centroid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

METHODS = ("kmeans", "dbscan", "hdbscan", "agglomerative")
NOISE = -1


@dataclass
class ClusterOptions:
    method: str = "kmeans"
    k: int | None = None  # None = choose automatically (kmeans, agglomerative)
    metric: str = "cosine"  # cosine | euclidean | manhattan | minkowski:P
    fit_limit: int = 20_000  # rows a density/hierarchical method is fitted on
    pca_dims: int = 64  # density/hierarchical methods work in this many PCA dimensions
    seed: int = 0
    eps: float | None = None  # DBSCAN radius; None = estimated from k-distances
    min_samples: int = 5


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster id per row, NOISE (-1) for noise
    method: str
    metric: str
    k: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def noise(self) -> int:
        return int((self.labels == NOISE).sum())

    def sizes(self) -> dict[int, int]:
        ids, counts = np.unique(self.labels[self.labels != NOISE], return_counts=True)
        return dict(zip(ids.tolist(), counts.tolist()))


def parse_metric(metric: str) -> tuple[str, dict]:
    """``minkowski:3`` -> ("minkowski", {"p": 3}); checks the name."""
    name, _, param = metric.partition(":")
    if name not in ("cosine", "euclidean", "manhattan", "minkowski"):
        raise ValueError(f"unknown metric {metric!r}: cosine, euclidean, manhattan or minkowski:P")
    if name == "minkowski":
        return name, {"p": float(param or 2)}
    return name, {}


def cluster(vectors: np.ndarray, options: ClusterOptions) -> ClusterResult:
    """Cluster unit vectors (one row per photo)."""
    if options.method not in METHODS:
        raise ValueError(f"unknown method {options.method!r}: {', '.join(METHODS)}")
    metric, params = parse_metric(options.metric)
    if len(vectors) < 2:
        return ClusterResult(np.zeros(len(vectors), int), options.method, options.metric, len(vectors), 0.0)
    started = time.perf_counter()
    notes: list[str] = []
    if options.method == "kmeans":
        if metric not in ("cosine", "euclidean"):
            raise ValueError("k-means minimises Euclidean distance; use cosine or euclidean "
                             "(or --method agglomerative/dbscan for manhattan and minkowski)")
        k = options.k or choose_k(vectors, options.seed).best
        labels = kmeans(vectors, k, options.seed)
    else:
        reduced = reduce(vectors, options.pca_dims, options.seed)
        sample = _sample(len(vectors), options.fit_limit, options.seed)
        if len(sample) < len(vectors):
            notes.append(f"fitted on a sample of {len(sample):,} of {len(vectors):,} photos; the rest joined their nearest sampled neighbour")
        fit = _fit_density_or_tree(reduced[sample], options, metric, params, notes)
        labels = _assign_rest(reduced, sample, fit, metric, params, options)
        k = len(set(labels.tolist()) - {NOISE})
    return ClusterResult(labels, options.method, options.metric, int(k),
                         time.perf_counter() - started, notes)


def kmeans(vectors: np.ndarray, k: int, seed: int = 0, niter: int = 25) -> np.ndarray:
    """FAISS k-means (GPU when FAISS sees one); spherical, as the vectors are unit length."""
    import faiss

    data = np.ascontiguousarray(vectors, dtype=np.float32)
    model = faiss.Kmeans(data.shape[1], int(k), niter=niter, seed=seed, spherical=True, verbose=False,
                         gpu=faiss.get_num_gpus() > 0, max_points_per_centroid=512)
    model.train(data)
    _, assignment = model.index.search(data, 1)
    return assignment[:, 0].astype(int)


def reduce(vectors: np.ndarray, dims: int, seed: int = 0) -> np.ndarray:
    """PCA to ``dims`` dimensions (fitted on at most 20,000 rows), rows re-normalised."""
    from sklearn.decomposition import PCA

    dims = min(dims, vectors.shape[1], len(vectors))
    sample = vectors[_sample(len(vectors), 20_000, seed)]
    pca = PCA(dims, random_state=seed).fit(sample)
    reduced = pca.transform(vectors).astype(np.float32)
    return reduced / np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12)


def _sample(n: int, limit: int, seed: int) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def _sk_metric(metric: str) -> str:
    return "cityblock" if metric == "manhattan" else metric


def _fit_density_or_tree(data, options, metric, params, notes):
    from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering

    if options.method == "dbscan":
        eps = options.eps or estimate_eps(data, options.min_samples, metric, params)
        notes.append(f"eps={eps:.4f} ({'given' if options.eps else 'estimated from k-distances'})")
        model = DBSCAN(eps=eps, min_samples=options.min_samples, metric=_sk_metric(metric),
                       metric_params=params or None, n_jobs=-1).fit(data)
        return {"labels": model.labels_, "core": model.core_sample_indices_, "eps": eps}
    if options.method == "hdbscan":
        model = HDBSCAN(min_cluster_size=max(options.min_samples, 5), min_samples=options.min_samples,
                        metric=_sk_metric(metric), metric_params=params or None, copy=True).fit(data)
        return {"labels": model.labels_, "core": np.flatnonzero(model.labels_ != NOISE), "eps": None}
    k = options.k or choose_k(data, options.seed).best
    linkage = "ward" if metric == "euclidean" else "average"
    model = AgglomerativeClustering(n_clusters=min(k, len(data)), linkage=linkage, metric=_sk_metric(metric)
                                    if metric != "minkowski" else "euclidean").fit(data)
    if metric == "minkowski":
        notes.append("agglomerative uses euclidean distances for minkowski")
    return {"labels": model.labels_, "core": np.arange(len(data)), "eps": None}


def estimate_eps(data: np.ndarray, min_samples: int, metric: str, params: dict) -> float:
    """The knee of the sorted k-distance curve, approximated by its 90th percentile."""
    from sklearn.neighbors import NearestNeighbors

    sample = data[_sample(len(data), 5_000, 1)]
    nn = NearestNeighbors(n_neighbors=min_samples + 1, metric=_sk_metric(metric), metric_params=params or None)
    distances, _ = nn.fit(sample).kneighbors(sample)
    return float(np.percentile(distances[:, -1], 50))


def _assign_rest(data, sample, fit, metric, params, options) -> np.ndarray:
    """Labels for every row: sampled rows keep theirs, others take their nearest core neighbour's."""
    from sklearn.neighbors import NearestNeighbors

    labels = np.full(len(data), NOISE, dtype=int)
    labels[sample] = fit["labels"]
    rest = np.setdiff1d(np.arange(len(data)), sample, assume_unique=True)
    core = fit["core"]
    if len(rest) == 0 or len(core) == 0:
        return labels
    nn = NearestNeighbors(n_neighbors=1, metric=_sk_metric(metric), metric_params=params or None)
    distance, nearest = nn.fit(data[sample][core]).kneighbors(data[rest])
    assigned = fit["labels"][core][nearest[:, 0]]
    if fit["eps"] is not None:
        assigned = np.where(distance[:, 0] <= fit["eps"], assigned, NOISE)
    labels[rest] = assigned
    return labels


@dataclass
class KChoice:
    """How k was chosen: the criterion for every k tried."""

    ks: list[int]
    scores: list[float]
    inertias: list[float]
    best: int
    criterion: str


def choose_k(vectors: np.ndarray, seed: int = 0, ks: list[int] | None = None) -> KChoice:
    """Pick k by the best silhouette (cosine) of k-means over a range of k, on a sample."""
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    data = vectors[_sample(n, 10_000, seed)]
    if ks is None:
        top = max(3, min(int(4 * np.sqrt(len(data))), len(data) // 3, 400))
        ks = sorted(set(np.unique(np.geomspace(2, top, 24).astype(int)).tolist()))
    scores, inertias = [], []
    for k in ks:
        labels = kmeans(data, k, seed)
        scores.append(float(silhouette_score(data, labels, metric="cosine", sample_size=min(len(data), 5000), random_state=seed)))
        centroids = np.vstack([data[labels == c].mean(axis=0) for c in np.unique(labels)])
        inertias.append(float(((data - centroids[np.searchsorted(np.unique(labels), labels)]) ** 2).sum()))
    best = ks[int(np.argmax(scores))]
    return KChoice(ks, scores, inertias, best, "silhouette (cosine)")
