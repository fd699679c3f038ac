"""choose_k: the number of clusters from the modularity of the nearest-neighbour graph."""

from blobs import blobs
from imgsearch_cnn.search.clusters.choose_k import choose_k


def test_choose_k_finds_the_number_of_groups():
    data, _ = blobs(centres=8)
    choice = choose_k(data)
    assert choice.best == 8
    assert len(choice.ks) == len(choice.scores) == len(choice.inertias)


def test_a_tiny_collection_still_gets_an_answer():
    data, _ = blobs(n_per=2, centres=2)
    assert 2 <= choose_k(data).best <= 4


def test_choosing_k_reports_each_k_tried():
    data, _ = blobs(centres=3)
    heard = []
    choice = choose_k(data, progress=lambda stage, done, total: heard.append((stage, done, total)))
    assert heard[0] == ("choose-k", 0, len(choice.ks)) and heard[-1] == ("choose-k", len(choice.ks), len(choice.ks))
    assert [done for _, done, _ in heard] == list(range(len(choice.ks) + 1))
