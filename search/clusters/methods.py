"""Clusters of a collection: k-means (FAISS), DBSCAN, HDBSCAN, agglomerative, a Gaussian mixture
(soft: each photo's probability of its cluster), mean-shift, a trained clustering head (deep.py,
soft too); choosing k.

No N x N matrix: density and hierarchical methods are fitted on a sample (``fit_limit`` rows)
and every other photo joins the cluster of its nearest sampled neighbour (DBSCAN/HDBSCAN: only
if that neighbour is a core member within ``eps``, else noise) or nearest centroid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from imgsearch_cnn.indexer.vector_index import l2_normalise, reduce, sample_rows

METHODS = ("kmeans", "dbscan", "hdbscan", "agglomerative", "gmm", "meanshift", "deep")
WITH_K = ("kmeans", "agglomerative", "gmm", "deep")  # methods told how many clusters (or choosing k for them)
SMOOTH_LIMIT = 200_000  # above this many photos the exact neighbour search of smoothing costs too much
MEANSHIFT_LIMIT = 5_000  # mean-shift compares every pair of the photos it is fitted on
# Mean-shift collapses to one mode in 64 PCA dimensions; 16 dimensions and a bandwidth at the
# 0.5 % quantile of pairwise distances did best on the dev data (and still lose to k-means:
# docs/BENCHMARKS.md). It is kept for tools/eval_clustering.py, not offered by the command line.
MEANSHIFT_DIMS, MEANSHIFT_QUANTILE = 16, 0.005
# Agglomerative clustering chains through stray photos; averaging each photo with its 5 nearest
# first (as k-means does with more) raised ACC on Caltech-101 from 0.750 to 0.786 (docs/BENCHMARKS.md).
AGGLOMERATIVE_SMOOTH = 5
# ...and then clusters in this many PCA dimensions (its neighbours are still found in pca_dims):
# on Caltech-101, ACC 0.771 in 64 dimensions, 0.826 in 256 (docs/BENCHMARKS.md)
AGGLOMERATIVE_DIMS = 256
# Photos a density or hierarchical method is fitted on when not told: agglomerative clustering
# holds every pairwise distance (process peak 3.44 GB fitted on 20,000, 1.21 GB on 10,000: docs/BENCHMARKS.md)
FIT_LIMIT, AGGLOMERATIVE_FIT_LIMIT = 20_000, 10_000
WHITEN_PHOTOS_PER_AXIS = 10  # whitened k-means keeps at most one PCA axis per this many photos
NOISE = -1


@dataclass
class ClusterOptions:
    method: str = "kmeans"
    k: int | None = None  # None = choose automatically (kmeans, agglomerative)
    metric: str = "cosine"  # cosine | euclidean | manhattan | minkowski:P
    fit_limit: int | None = None  # rows a density/hierarchical method is fitted on (None: fit_limit_for)
    pca_dims: int = 64  # density/hierarchical methods work in this many PCA dimensions
    seed: int = 0
    eps: float | None = None  # DBSCAN radius; None = estimated from k-distances
    min_samples: int = 5
    # k-means first averages each photo with its nearest neighbours (half its own vector, half
    # theirs), at most this many and at most a quarter of an average cluster's size, so that
    # clusters follow the neighbour graph; 0 = off (docs/BENCHMARKS.md). Agglomerative clustering
    # does the same with at most AGGLOMERATIVE_SMOOTH.
    smooth_neighbours: int = 20
    # k-means only: the PCA axes are divided by their spread to this power first, so that a few
    # dominant axes do not decide every cluster (0 = off; --method auto tries 0.5)
    whiten: float = 0.0


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster id per row, NOISE (-1) for noise
    method: str
    metric: str
    k: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    confidence: np.ndarray | None = None  # soft methods (gmm): each row's probability of its cluster

    @property
    def noise(self) -> int:
        return int((self.labels == NOISE).sum())

    def sizes(self) -> dict[int, int]:
        ids, counts = np.unique(self.labels[self.labels != NOISE], return_counts=True)
        return dict(zip(ids.tolist(), counts.tolist()))


def fit_limit_for(options: ClusterOptions) -> int:
    """Photos ``options.method`` is fitted on: as given, else its default."""
    if options.fit_limit is not None:
        return options.fit_limit
    return AGGLOMERATIVE_FIT_LIMIT if options.method == "agglomerative" else FIT_LIMIT


def parse_metric(metric: str) -> tuple[str, dict]:
    """``minkowski:3`` -> ("minkowski", {"p": 3}); checks the name."""
    name, _, param = metric.partition(":")
    if name not in ("cosine", "euclidean", "manhattan", "minkowski"):
        raise ValueError(f"unknown metric {metric!r}: cosine, euclidean, manhattan or minkowski:P")
    if name == "minkowski":
        return name, {"p": float(param or 2)}
    return name, {}


def cluster(vectors: np.ndarray, options: ClusterOptions, progress=None) -> ClusterResult:
    """Cluster unit vectors (one row per photo). ``progress(stage, done, total)``: how deep's start
    ("methods") and training ("train") go."""
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
        neighbours = min(options.smooth_neighbours, len(vectors) // (4 * k)) if len(vectors) <= SMOOTH_LIMIT else 0
        labels = kmeans(vectors, k, options.seed, smooth_neighbours=neighbours, whiten=options.whiten)
        if options.whiten:
            notes.append(f"PCA axes divided by their spread to the power {options.whiten:g} first")
        if neighbours >= 1:
            notes.append(f"each photo averaged with its {neighbours} nearest neighbours first")
    elif options.method == "deep":
        from imgsearch_cnn.search.clusters import deep

        return deep.from_auto(vectors, replace(options, k=options.k or choose_k(vectors, options.seed).best),
                              progress)
    elif options.method in ("gmm", "meanshift"):
        dims = MEANSHIFT_DIMS if options.method == "meanshift" else options.pca_dims
        reduced = reduce(vectors, dims, options.seed)
        limit = min(fit_limit_for(options), MEANSHIFT_LIMIT) if options.method == "meanshift" else fit_limit_for(options)
        sample = sample_rows(len(vectors), limit, options.seed)
        if len(sample) < len(vectors):
            notes.append(f"fitted on a sample of {len(sample):,} of {len(vectors):,} photos; the others are assigned by the fitted model")
        if options.method == "gmm":
            k = options.k or choose_k(reduced, options.seed).best
            labels, confidence = gaussian_mixture(reduced, sample, k, options.seed)
            return ClusterResult(labels, options.method, options.metric, int(k), time.perf_counter() - started,
                                 notes, confidence)
        labels = mean_shift(reduced, sample, options.seed, notes)
        k = len(set(labels.tolist()))
    else:
        reduced = reduce(vectors, options.pca_dims, options.seed)
        neighbours = min(options.smooth_neighbours, AGGLOMERATIVE_SMOOTH, len(vectors) - 1)
        smoothed = options.method == "agglomerative" and metric in ("cosine", "euclidean")
        if smoothed and neighbours >= 1 and len(vectors) <= SMOOTH_LIMIT:
            reduced = smooth(reduce(vectors, AGGLOMERATIVE_DIMS, options.seed), neighbours, search=reduced)
            notes.append(f"each photo averaged with its {neighbours} nearest neighbours first, "
                         f"in {reduced.shape[1]} PCA dimensions")
        # scipy's Minkowski distance (p != 1, 2) is ~20x slower than the others: fit on fewer
        limit = min(fit_limit_for(options), 5_000) if metric == "minkowski" else fit_limit_for(options)
        sample = sample_rows(len(vectors), limit, options.seed)
        if len(sample) < len(vectors):
            notes.append(f"fitted on a sample of {len(sample):,} of {len(vectors):,} photos; the rest joined their nearest sampled neighbour")
        fit = _fit_density_or_tree(reduced[sample], options, metric, params, notes)
        labels = _assign_rest(reduced, sample, fit, metric, params, options)
        k = len(set(labels.tolist()) - {NOISE})
    return ClusterResult(labels, options.method, options.metric, int(k),
                         time.perf_counter() - started, notes)


def kmeans(vectors: np.ndarray, k: int, seed: int = 0, restarts: int = 5, dims: int = 128,
           niter: int = 30, smooth_neighbours: int = 0, whiten: float = 0.0) -> np.ndarray:
    """Spherical k-means through FAISS (on the GPU when FAISS sees one).

    Measured on Caltech-101 (docs/BENCHMARKS.md): projecting to ``dims`` PCA dimensions and
    seeding with k-means++ (best of ``restarts`` by objective) raises ACC from 0.58 to 0.67 over
    FAISS's default random seeding on the raw 1280-d vectors. ``whiten``: the PCA axes divided
    by their spread to this power first (vector_index.reduce).
    """
    import faiss
    from sklearn.cluster import kmeans_plusplus

    if whiten:  # axes estimated from a few photos each are noise, which whitening would blow up
        dims = max(2, min(dims, len(vectors) // WHITEN_PHOTOS_PER_AXIS))
    data = reduce(vectors, dims, seed, whiten=whiten) if vectors.shape[1] > dims or whiten else vectors
    data = np.ascontiguousarray(data, dtype=np.float32)
    if smooth_neighbours >= 1 and len(data) > smooth_neighbours:
        data = smooth(data, smooth_neighbours)
    k = int(min(k, len(data)))
    seeding = data[sample_rows(len(data), 50 * k, seed)]
    best = None
    for attempt in range(restarts):
        init, _ = kmeans_plusplus(seeding, k, random_state=seed + attempt)
        model = faiss.Kmeans(data.shape[1], k, niter=niter, seed=seed + attempt, spherical=True, verbose=False,
                             gpu=faiss.get_num_gpus() > 0, max_points_per_centroid=1 << 20,
                             min_points_per_centroid=1)  # small collections are normal: no warning
        model.train(data, init_centroids=np.ascontiguousarray(init, dtype=np.float32))
        if best is None or model.obj[-1] > best.obj[-1]:  # spherical: objective is total similarity
            best = model
    _, assignment = best.index.search(data, 1)
    return assignment[:, 0].astype(int)


def gaussian_mixture(data: np.ndarray, sample: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and each row's probability of its cluster under a Gaussian mixture (diagonal
    covariances, started from k-means) fitted on ``sample``."""
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(min(k, len(sample)), covariance_type="diag", random_state=seed, reg_covar=1e-4)
    model.fit(data[sample])
    probabilities = model.predict_proba(data)
    return probabilities.argmax(axis=1), probabilities.max(axis=1)


def mean_shift(data: np.ndarray, sample: np.ndarray, seed: int, notes: list[str]) -> np.ndarray:
    """Mean-shift on ``sample`` (bandwidth estimated from it); every row joins the nearest mode."""
    from sklearn.cluster import MeanShift, estimate_bandwidth

    fitted = data[sample]
    bandwidth = estimate_bandwidth(fitted, quantile=MEANSHIFT_QUANTILE, n_samples=min(len(fitted), 2_000),
                                   random_state=seed)
    model = MeanShift(bandwidth=bandwidth if bandwidth > 0 else None, bin_seeding=True, n_jobs=-1).fit(fitted)
    notes.append(f"bandwidth={bandwidth:.4f} (estimated); k follows from it: --k is not used")
    _, rows = nearest(data, model.cluster_centers_, "euclidean", {})
    return rows[:, 0].astype(int)


def smooth(data: np.ndarray, neighbours: int, search: np.ndarray | None = None) -> np.ndarray:
    """Each unit row averaged half and half with the mean of its ``neighbours`` nearest rows
    (cosine, exact, FAISS; found among the rows of ``search`` when given: the same photos in
    another, smaller space), re-normalised: a photo moves towards the crowd it belongs to."""
    space = data if search is None else search
    _, rows = nearest(space, space, "cosine", {}, neighbours + 1)
    return np.ascontiguousarray(l2_normalise(0.5 * data + 0.5 * data[rows[:, 1:]].mean(axis=1)))


def _sk_metric(metric: str) -> str:
    return "cityblock" if metric == "manhattan" else metric


def neighbour_args(metric: str, params: dict) -> dict:
    """Keyword arguments naming the metric for scikit-learn's DBSCAN and NearestNeighbors.

    Brute force (blocked pairwise distances, vectorised): in 64 PCA dimensions trees do not
    prune, and for Minkowski p != 2 they were slower than brute force by orders of magnitude."""
    return {"metric": _sk_metric(metric), "algorithm": "brute", **params}


def _fit_density_or_tree(data, options, metric, params, notes):
    from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering

    if options.method == "dbscan":
        eps = options.eps or estimate_eps(data, options.min_samples, metric, params)
        notes.append(f"eps={eps:.4f} ({'given' if options.eps else 'estimated from k-distances'})")
        model = DBSCAN(eps=eps, min_samples=options.min_samples, n_jobs=-1, **neighbour_args(metric, params)).fit(data)
        return {"labels": model.labels_, "core": model.core_sample_indices_, "eps": eps}
    if options.method == "hdbscan":
        # On unit vectors Euclidean distance is a monotone function of cosine distance, and it
        # lets scikit-learn use a tree instead of a full distance matrix (8 GB at 20,000 photos).
        hmetric = "euclidean" if metric == "cosine" else _sk_metric(metric)
        model = HDBSCAN(min_cluster_size=max(options.min_samples, 5), min_samples=options.min_samples,
                        metric=hmetric, metric_params=params or None, copy=True).fit(data)
        return {"labels": model.labels_, "core": np.flatnonzero(model.labels_ != NOISE), "eps": None}
    k = options.k or choose_k(data, options.seed).best
    linkage = "ward" if metric == "euclidean" else "average"
    model = AgglomerativeClustering(n_clusters=min(k, len(data)), linkage=linkage, metric=_sk_metric(metric)
                                    if metric != "minkowski" else "euclidean").fit(data)
    if metric == "minkowski":
        notes.append("agglomerative uses euclidean distances for minkowski")
    return {"labels": model.labels_, "core": np.arange(len(data)), "eps": None}


def nearest(queries: np.ndarray, base: np.ndarray, metric: str, params: dict, k: int = 1):
    """Distances and rows of the k nearest ``base`` rows for each query, exact, through FAISS
    (multi-threaded brute force for every metric, Minkowski included)."""
    import faiss

    queries = np.ascontiguousarray(queries, dtype=np.float32)
    base = np.ascontiguousarray(base, dtype=np.float32)
    dims = base.shape[1]
    if metric == "cosine":
        index = faiss.IndexFlatIP(dims)
    elif metric == "euclidean":
        index = faiss.IndexFlatL2(dims)
    elif metric == "manhattan":
        index = faiss.IndexFlat(dims, faiss.METRIC_L1)
    else:
        index = faiss.IndexFlat(dims, faiss.METRIC_Lp)
        index.metric_arg = float(params.get("p", 2))
    index.add(base)
    distances, rows = index.search(queries, k)
    if metric == "cosine":
        distances = 1.0 - distances
    elif metric == "euclidean":
        distances = np.sqrt(np.maximum(distances, 0))
    elif metric == "minkowski":
        distances = np.maximum(distances, 0) ** (1.0 / float(params.get("p", 2)))
    return distances, rows


def estimate_eps(data: np.ndarray, min_samples: int, metric: str, params: dict) -> float:
    """DBSCAN radius at the knee of the sorted k-distance curve (the usual elbow heuristic, found
    as the point farthest below the chord joining the curve's ends)."""
    sample = data[sample_rows(len(data), 5_000, 1)]
    distances, _ = nearest(sample, sample, metric, params, min(min_samples + 1, len(sample)))
    curve = np.sort(distances[:, -1])
    x = np.linspace(0, 1, len(curve))
    y = (curve - curve[0]) / max(curve[-1] - curve[0], 1e-12)
    return float(curve[int(np.argmax(x - y))])


def _assign_rest(data, sample, fit, metric, params, options) -> np.ndarray:
    """Labels for every row: sampled rows keep theirs, others take their nearest core neighbour's."""
    labels = np.full(len(data), NOISE, dtype=int)
    labels[sample] = fit["labels"]
    rest = np.setdiff1d(np.arange(len(data)), sample, assume_unique=True)
    core = fit["core"]
    if len(rest) == 0 or len(core) == 0:
        return labels
    distance, nearest_row = nearest(data[rest], data[sample][core], metric, params)
    assigned = fit["labels"][core][nearest_row[:, 0]]
    if fit["eps"] is not None:
        assigned = np.where(distance[:, 0] <= fit["eps"], assigned, NOISE)
    labels[rest] = assigned
    return labels
