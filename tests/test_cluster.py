"""cluster: methods, metrics, sampling for large collections, and choosing k."""

import numpy as np
import pytest

from search import cluster


def blobs(n_per=60, centres=6, dims=32, spread=0.15, seed=0):
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, dims))
    truth = np.repeat(np.arange(centres), n_per)
    data = middle[truth] + rng.normal(0, spread, (len(truth), dims))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32), truth


def agreement(truth, labels):
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(truth, labels)


@pytest.mark.parametrize("method,metric", [
    ("kmeans", "cosine"), ("kmeans", "euclidean"), ("agglomerative", "cosine"), ("agglomerative", "manhattan"),
    ("agglomerative", "euclidean"), ("dbscan", "cosine"), ("dbscan", "manhattan"), ("dbscan", "minkowski:3"),
    ("hdbscan", "cosine"), ("hdbscan", "euclidean"),
])
def test_every_method_recovers_well_separated_groups(method, metric):
    data, truth = blobs()
    result = cluster.cluster(data, cluster.ClusterOptions(method=method, metric=metric, k=6))
    assert len(result.labels) == len(data)
    kept = result.labels != cluster.NOISE  # density methods may leave border photos as noise
    assert kept.mean() > 0.85, (method, metric, result.noise)
    assert agreement(truth[kept], result.labels[kept]) > 0.95, (method, metric, result.k)


def test_density_methods_report_noise():
    data, truth = blobs()
    rng = np.random.default_rng(5)
    outliers = rng.normal(size=(10, data.shape[1])).astype(np.float32)
    outliers /= np.linalg.norm(outliers, axis=1, keepdims=True)
    result = cluster.cluster(np.vstack([data, outliers]), cluster.ClusterOptions(method="dbscan"))
    assert result.noise >= 8 and (result.labels[-10:] == cluster.NOISE).sum() >= 8


def test_large_collections_fit_on_a_sample_and_assign_the_rest():
    data, truth = blobs(n_per=400)
    options = cluster.ClusterOptions(method="agglomerative", k=6, fit_limit=300)
    result = cluster.cluster(data, options)
    assert any("sample of 300" in note for note in result.notes)
    assert agreement(truth, result.labels) > 0.9


def test_kmeans_refuses_manhattan_with_advice():
    data, _ = blobs()
    with pytest.raises(ValueError, match="agglomerative"):
        cluster.cluster(data, cluster.ClusterOptions(method="kmeans", metric="manhattan", k=3))


def test_choose_k_finds_the_number_of_groups():
    data, _ = blobs(centres=8)
    choice = cluster.choose_k(data)
    assert choice.best == 8
    assert len(choice.ks) == len(choice.scores) == len(choice.inertias)
