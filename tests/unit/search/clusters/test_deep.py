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


def test_refine_keeps_whichever_partition_holds_more_neighbours():
    from sklearn.metrics import adjusted_rand_score

    data, truth = blobs()
    random_start = np.random.default_rng(0).integers(0, 6, len(data))
    refined = deep.refine(data, random_start, seed=0)  # the k-means-started heads do far better
    assert refined.kept == "head" and refined.scores[0] > refined.scores[1]
    assert adjusted_rand_score(truth, refined.labels) > 0.95
    split = truth * 2 + np.arange(len(data)) % 2  # every group cut in two at random: worse than a head's
    assert deep.refine(data, split, seed=0).kept == "head"
    assert np.all((refined.confidence > 0) & (refined.confidence <= 1))


def test_deep_starts_from_auto_and_says_which_partition_it_kept():
    data, truth = blobs()
    result = methods.cluster(data, methods.ClusterOptions(method="deep", k=6))
    assert result.method == "deep" and result.k == 6 and result.confidence is not None
    assert result.notes[0].startswith("trained heads started from auto: ")
    assert result.notes[1].startswith("kept the ") and "modularity" in result.notes[1]
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, result.labels) > 0.95


def test_a_kept_start_gets_the_heads_probability_of_its_own_clusters(monkeypatch):
    import torch

    real = deep._best_head

    def head_with_other_ids(*args, **kwargs):  # as a head started from k-means numbers its clusters
        head, x = real(*args, **kwargs)
        order = torch.tensor([3, 5, 0, 1, 4, 2])
        with torch.no_grad():
            head.weight.copy_(head.weight[order])
            head.bias.copy_(head.bias[order])
        return head, x

    monkeypatch.setattr(deep, "_best_head", head_with_other_ids)
    data, truth = blobs()
    refined = deep.refine(data, truth, seed=0)
    assert refined.kept == "start" and np.array_equal(refined.labels, truth)  # a head only ties with it
    assert np.median(refined.confidence) > 0.9
