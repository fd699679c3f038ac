"""Training from the last clusters run: each cluster's most central members are its labels."""

import os

import pytest

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.classify.train import TrainError, TrainOptions, from_clusters, train_on
from imgsearch_cnn.search.clusters.job import run as cluster
from imgsearch_cnn.search.clusters.methods import ClusterOptions


def test_half_of_each_cluster_nearest_its_centre_becomes_its_labels(sorted_and_unsorted):
    _, _, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store:
        outcome = cluster(store, ClusterOptions(k=3))
        sizes = {c: int((outcome.result.labels == c).sum()) for c in range(3)}
        labels = from_clusters(store, {0: "first"})
    per_class = {name: list(labels.values()).count(name) for name in set(labels.values())}
    assert per_class == {"first": round(sizes[0] / 2), "cluster 1": round(sizes[1] / 2), "cluster 2": round(sizes[2] / 2)}
    # The three kinds of scene are three clusters: each pseudo-class holds one kind only.
    kinds = {}
    for path, name in labels.items():
        kind = os.path.basename(os.path.dirname(path))
        kinds.setdefault(name, set()).add({"a": "red_discs", "b": "blue_squares", "c": "green_stripes"}.get(kind, kind))
    assert all(len(found) == 1 for found in kinds.values())


def test_a_classifier_trained_on_clusters_labels_the_rest(sorted_and_unsorted):
    _, _, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store:
        cluster(store, ClusterOptions(k=3))
        labels = from_clusters(store)
        outcome = train_on(store, labels, TrainOptions("from-clusters"))
    assert outcome.unlabelled == 48 - len(labels) and len(outcome.classifier.classes) == 3


def test_no_saved_clusters_or_unknown_names_are_refused(sorted_and_unsorted):
    _, _, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store:
        with pytest.raises(TrainError, match="run `imgsearch clusters` first"):
            from_clusters(store)
        cluster(store, ClusterOptions(k=3))
        with pytest.raises(TrainError, match="names cluster"):
            from_clusters(store, {7: "cats"})
