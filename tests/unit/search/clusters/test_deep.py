"""deep: the trained clustering head (neighbour consistency, entropy, self-labelling)."""

import numpy as np

from blobs import blobs
from imgsearch_cnn.search.clusters import deep, methods


def test_the_head_recovers_separate_groups_and_is_sure_of_them():
    data, truth = blobs()
    labels, confidence = deep.cluster(data, 6, seed=0)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, labels) > 0.95
    assert confidence.shape == (len(data),) and np.all((confidence > 0) & (confidence <= 1))
    assert np.median(confidence) > 0.9


def test_the_same_seed_gives_the_same_clusters():
    data, _ = blobs(centres=4, spread=0.6)
    first, sure = deep.cluster(data, 4, seed=3)
    again, sure_again = deep.cluster(data, 4, seed=3)
    assert np.array_equal(first, again) and np.allclose(sure, sure_again)


def test_large_collections_train_fewer_epochs_within_the_step_budget():
    assert deep._epochs(1_000) == deep.EPOCHS
    big = deep._epochs(1_000_000)
    assert big >= 1 and big * (1_000_000 // deep.BATCH) <= deep.MAX_STEPS + 1_000_000 // deep.BATCH


def test_deep_is_a_soft_method_of_the_library():
    data, _ = blobs()
    result = methods.cluster(data, methods.ClusterOptions(method="deep", k=6))
    assert result.method == "deep" and result.k == 6 and result.confidence is not None
