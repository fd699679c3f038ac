"""methods: every clustering method and metric, noise, and sampling for large collections."""

import numpy as np
import pytest

from blobs import blobs
from imgsearch_cnn.search.clusters import methods


def agreement(truth, labels):
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(truth, labels)


@pytest.mark.parametrize("method,metric", [
    ("kmeans", "cosine"), ("kmeans", "euclidean"), ("agglomerative", "cosine"), ("agglomerative", "manhattan"),
    ("agglomerative", "euclidean"), ("dbscan", "cosine"), ("dbscan", "manhattan"), ("dbscan", "minkowski:3"),
    ("hdbscan", "cosine"), ("hdbscan", "euclidean"), ("gmm", "cosine"), ("deep", "cosine"),
])
def test_every_method_recovers_well_separated_groups(method, metric):
    data, truth = blobs()
    result = methods.cluster(data, methods.ClusterOptions(method=method, metric=metric, k=6))
    assert len(result.labels) == len(data)
    kept = result.labels != methods.NOISE  # density methods may leave border photos as noise
    assert kept.mean() > 0.85, (method, metric, result.noise)
    assert agreement(truth[kept], result.labels[kept]) > 0.95, (method, metric, result.k)


def test_density_methods_report_noise():
    data, truth = blobs()
    rng = np.random.default_rng(5)
    outliers = rng.normal(size=(10, data.shape[1])).astype(np.float32)
    outliers /= np.linalg.norm(outliers, axis=1, keepdims=True)
    result = methods.cluster(np.vstack([data, outliers]), methods.ClusterOptions(method="dbscan"))
    assert result.noise >= 8 and (result.labels[-10:] == methods.NOISE).sum() >= 8


def test_large_collections_fit_on_a_sample_and_assign_the_rest():
    data, truth = blobs(n_per=400)
    options = methods.ClusterOptions(method="agglomerative", k=6, fit_limit=300)
    result = methods.cluster(data, options)
    assert any("sample of 300" in note for note in result.notes)
    assert agreement(truth, result.labels) > 0.9


def test_agglomerative_is_fitted_on_fewer_photos_than_other_methods_unless_told(monkeypatch):
    # it holds every pairwise distance of the photos it is fitted on: memory grows with their square
    monkeypatch.setattr(methods, "FIT_LIMIT", 500)
    monkeypatch.setattr(methods, "AGGLOMERATIVE_FIT_LIMIT", 200)
    data, truth = blobs(n_per=100)
    agglomerative = methods.cluster(data, methods.ClusterOptions(method="agglomerative", k=6))
    assert any("sample of 200 of 600" in note for note in agglomerative.notes)
    assert agreement(truth, agglomerative.labels) > 0.9
    dbscan = methods.cluster(data, methods.ClusterOptions(method="dbscan"))
    assert any("sample of 500 of 600" in note for note in dbscan.notes)
    told = methods.cluster(data, methods.ClusterOptions(method="agglomerative", k=6, fit_limit=400))
    assert any("sample of 400 of 600" in note for note in told.notes)


def test_agglomerative_averages_each_photo_with_its_neighbours_unless_told_not_to():
    data, truth = blobs()
    smoothed = methods.cluster(data, methods.ClusterOptions(method="agglomerative", k=6))
    assert any(f"{methods.AGGLOMERATIVE_SMOOTH} nearest neighbours" in note for note in smoothed.notes)
    plain = methods.cluster(data, methods.ClusterOptions(method="agglomerative", k=6, smooth_neighbours=0))
    assert not any("nearest neighbours" in note for note in plain.notes)
    manhattan = methods.cluster(data, methods.ClusterOptions(method="agglomerative", metric="manhattan", k=6))
    assert not any("nearest neighbours" in note for note in manhattan.notes)  # neighbours are found by cosine
    assert agreement(truth, smoothed.labels) > 0.95


def test_kmeans_refuses_manhattan_with_advice():
    data, _ = blobs()
    with pytest.raises(ValueError, match="agglomerative"):
        methods.cluster(data, methods.ClusterOptions(method="kmeans", metric="manhattan", k=3))


def test_a_gaussian_mixture_says_how_sure_it_is_of_each_photo():
    data, _ = blobs()
    result = methods.cluster(data, methods.ClusterOptions(method="gmm", k=6))
    assert result.confidence is not None and result.confidence.shape == (360,)
    assert np.median(result.confidence) > 0.99  # well-separated groups: sure
    overlapping, _ = blobs(centres=2, dims=4, spread=1.0)
    unsure = methods.cluster(overlapping, methods.ClusterOptions(method="gmm", k=2)).confidence
    assert np.all((unsure >= 0.5) & (unsure <= 1)) and unsure.min() < 0.8  # photos in the overlap: less sure
    assert methods.cluster(data, methods.ClusterOptions(method="kmeans", k=6)).confidence is None


def test_mean_shift_finds_its_own_modes_and_never_mixes_separate_groups():
    from sklearn.metrics import homogeneity_score

    data, truth = blobs()
    result = methods.cluster(data, methods.ClusterOptions(method="meanshift", k=2))  # k is not used
    assert result.k >= 6 and any("--k is not used" in note for note in result.notes)
    assert homogeneity_score(truth, result.labels) > 0.95


def test_whitened_kmeans_recovers_groups_in_a_small_collection_of_wide_vectors():
    # 72 photos of 256-d vectors: whitening every PCA axis would blow up axes estimated from a
    # handful of photos each, so whitened k-means keeps one axis per WHITEN_PHOTOS_PER_AXIS photos.
    data, truth = blobs(n_per=12, dims=256, spread=0.5)
    options = methods.ClusterOptions(method="kmeans", k=6, whiten=0.5)
    result = methods.cluster(data, options)
    assert agreement(truth, result.labels) > 0.95
    assert any("spread to the power 0.5" in note for note in result.notes)


def test_smoothing_averages_each_photo_with_the_neighbours_found_in_the_search_space():
    # four photos on a circle: in "data" 0 is nearest 1, but the search space pairs 0 with 2
    angles = np.array([0.0, 0.3, 1.2, 3.0])
    data = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    search = np.array([[1, 0], [0, 1], [1, 0.01], [0, -1]], dtype=np.float32)
    search /= np.linalg.norm(search, axis=1, keepdims=True)
    own, searched = methods.smooth(data, 1), methods.smooth(data, 1, search=search)
    toward = lambda row, other: float(row @ data[other])  # noqa: E731
    assert toward(own[0], 1) > toward(own[0], 2)  # its own nearest: photo 1
    assert toward(searched[0], 2) > toward(own[0], 2)  # moved towards photo 2, its nearest in search
    assert np.allclose(np.linalg.norm(searched, axis=1), 1)


def test_agglomerative_clusters_in_more_dimensions_than_it_finds_neighbours_in():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(300, 400)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    result = methods.cluster(data, methods.ClusterOptions(method="agglomerative", k=4))
    assert any(f"in {methods.AGGLOMERATIVE_DIMS} PCA dimensions" in note for note in result.notes)
