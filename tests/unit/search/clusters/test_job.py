"""job: clusters of an index, saved in it for the map; the map's points."""

import pytest

from fakes import fake_index
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.clusters import job
from imgsearch_cnn.search.clusters.methods import ClusterOptions
from photos import purity, three_families


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("clusters")
    fake_index(root / "idx", [three_families(root)])
    return root / "idx"


def run(index, writable=False, **options):
    with Store.open(index, writable=writable) as store:
        return job.run(store, ClusterOptions(**options))


def test_kmeans_groups_the_three_scenes_and_saves_them(index):
    outcome = run(index, writable=True, method="kmeans", k=3)
    assert purity(outcome.members(), 30) == 1.0
    assert set(outcome.representatives) == {0, 1, 2}
    assert all(outcome.members()[c][0] == outcome.representatives[c] for c in range(3))
    with Store.open(index) as store:
        saved = store.get_extra("clusters")
    assert saved["k"] == 3 and len(saved["labels"]) == 30


def test_auto_k_finds_three_and_says_how(index):
    outcome = run(index, method="kmeans")
    assert outcome.k_choice.best == outcome.result.k == 3
    assert "chosen by" in outcome.result.notes[0]


def test_auto_method_chooses_k_then_the_method_and_saves_the_chosen_one(index):
    outcome = run(index, writable=True, method="auto")
    assert outcome.result.method in ("kmeans", "agglomerative") and outcome.result.k == 3
    assert purity(outcome.members(), 30) == 1.0
    assert outcome.result.notes[0].startswith("k=3 chosen by")
    assert any(note.startswith(f"method auto: {outcome.result.method}") for note in outcome.result.notes)
    with Store.open(index) as store:
        assert store.get_extra("clusters")["method"] == outcome.result.method


def test_colour_features_group_by_colour(index):
    with Store.open(index) as store:
        outcome = job.run(store, ClusterOptions(method="kmeans", k=3), features="color")
    assert purity(outcome.members(), 30) == 1.0


def test_impossible_k_is_refused(index, tmp_path):
    with pytest.raises(ValueError, match="more clusters than the 30 photos"):
        run(index, k=31)
    fake_index(tmp_path / "empty", [])
    with Store.open(tmp_path / "empty") as store:
        with pytest.raises(Exception, match="holds no cnn vectors"):
            job.run(store, ClusterOptions(k=2))


def test_map_points_carry_the_saved_clusters(index):
    run(index, writable=True, method="kmeans", k=3)
    with Store.open(index) as store:
        points = job.map_points(store, sample=20, method="tsne", features="cnn")
    assert len(points.paths) == 20 and points.total == 30 and set(points.labels.tolist()) <= {0, 1, 2}
    assert points.xy.min() >= 0 and points.xy.max() <= 1
