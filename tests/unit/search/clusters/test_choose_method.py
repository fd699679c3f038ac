"""choose_method: --method auto keeps the candidate whose clusters hold most of each photo's
nearest neighbours, and says what each candidate scored."""

import numpy as np

from blobs import blobs
from imgsearch_cnn.search.clusters import choose_k, choose_method, methods


def test_auto_keeps_the_partition_with_the_higher_modularity(monkeypatch):
    data, truth = blobs()
    real = methods.cluster

    def one_candidate_cuts_the_groups_up(vectors, options):
        result = real(vectors, options)
        if options.method == "agglomerative":  # a worse partition: every group split in two
            result.labels = result.labels * 2 + (np.arange(len(vectors)) % 2)
        return result

    monkeypatch.setattr(methods, "cluster", one_candidate_cuts_the_groups_up)
    result = choose_method.best_method(data, methods.ClusterOptions(k=6))
    assert result.method == "kmeans"
    note = result.notes[0]
    assert note.startswith("method auto: kmeans") and "kmeans 0." in note and "agglomerative 0." in note
    graph = choose_k.knn_graph(data)
    assert choose_k.modularity(graph, result.labels) > choose_k.modularity(graph, truth * 2 + np.arange(len(data)) % 2)


def test_auto_recovers_separate_groups():
    data, truth = blobs()
    result = choose_method.best_method(data, methods.ClusterOptions(k=6))
    from sklearn.metrics import adjusted_rand_score

    assert result.method in {changes["method"] for _, changes in choose_method.CANDIDATES} and adjusted_rand_score(truth, result.labels) > 0.95


def test_auto_reports_each_candidate_tried():
    data, _ = blobs()
    heard = []
    choose_method.best_method(data, methods.ClusterOptions(k=6), lambda *step: heard.append(step))
    total = len(choose_method.CANDIDATES)
    assert heard == [("methods", done, total) for done in range(total + 1)]
