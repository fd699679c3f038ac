"""adapt: the collection-learned space `similar` re-ranks in: centred, main axes, flattened
spectrum; learned once, saved, reused while the collection stays about the same size."""

import numpy as np
import pytest

from fakes import FAKE_SPEC, FakeEmbedder, fake_index
from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.indexer.vector_index import l2_normalise
from imgsearch_cnn.search.similar import adapt
from imgsearch_cnn.search.similar.query import search, similar


def collection(rows=2_000, dims=16, seed=0):
    """Unit vectors sharing one strong direction, with very different spreads on the others."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(rows, dims)) * np.geomspace(4, 0.1, dims)
    vectors[:, 0] += 20
    return l2_normalise(vectors)


def test_what_every_photo_shares_is_discounted():
    vectors = collection()
    adaptation = adapt.learn(vectors, len(vectors), "m", dims=8)
    assert adaptation.axes.shape == (8, 16)
    plain = vectors[:200] @ vectors[:200].T
    adapted = adaptation.apply(vectors[:200]) @ adaptation.apply(vectors[:200]).T
    assert np.median(plain) > 0.9  # every photo alike: the shared direction dominates
    assert adapted.min() < -0.5 and abs(adapted[~np.eye(200, dtype=bool)].mean()) < 0.1
    assert np.allclose(np.linalg.norm(adaptation.apply(vectors), axis=1), 1, atol=1e-5)


def test_the_spectrum_is_flattened_by_the_power():
    vectors = collection()

    def spread_ratio(power):
        adaptation = adapt.learn(vectors, len(vectors), "m", dims=4, power=power)
        spreads = ((vectors - adaptation.mean) @ adaptation.axes.T).std(axis=0)
        return spreads[0] / spreads[-1]

    natural = spread_ratio(0.0)
    assert natural > 1.5
    assert spread_ratio(0.5) == pytest.approx(natural ** 0.5, rel=0.01)
    assert spread_ratio(1.0) == pytest.approx(1.0, rel=0.01)  # full whitening


def test_rerank_orders_by_adapted_cosine_and_expansion_moves_the_query():
    vectors = collection()
    adaptation = adapt.learn(vectors, len(vectors), "m")
    query, candidates = vectors[0], vectors[1:200]
    order = adapt.rerank(query, candidates, adaptation, expand=0)
    scores = adaptation.apply(candidates) @ adaptation.apply(query)[0]
    assert np.all(np.diff(scores[order]) <= 1e-6)
    assert sorted(order.tolist()) == list(range(len(candidates)))
    assert adapt.rerank(query, candidates[:0], adaptation, expand=3).size == 0


def test_an_adaptation_fits_while_the_collection_stays_within_the_refit_change():
    adaptation = adapt.Adaptation(np.zeros(2, np.float32), np.eye(2, dtype=np.float32), 1_000, "m")
    assert adaptation.fits(1_000 + int(adapt.REFIT_CHANGE * 1_000), "m")
    assert not adaptation.fits(1_000 + int(adapt.REFIT_CHANGE * 1_000) + 1, "m")
    assert not adaptation.fits(1_000, "another model")


@pytest.fixture
def index(tmp_path, photos):
    fake_index(tmp_path / "idx", [photos])
    return tmp_path / "idx"


def test_small_collections_are_not_adapted(index):
    with Store.open(index, writable=True) as store:
        assert store.count() < adapt.MIN_PHOTOS
        assert adapt.current(store) is None
    assert not (index / layout.ADAPTATION).exists()


def test_learned_once_saved_and_reused_by_readers(index, monkeypatch):
    monkeypatch.setattr(adapt, "MIN_PHOTOS", 5)
    with Store.open(index, writable=True) as store:
        learned = adapt.current(store)
    assert (index / layout.ADAPTATION).exists() and learned.photos == 12
    assert learned.model_id == FAKE_SPEC.model_id

    def no_learning(*args, **kwargs):
        raise AssertionError("learned again although the saved one fits")

    monkeypatch.setattr(adapt, "learn", no_learning)
    with Store.open(index) as store:
        again = adapt.current(store)
    assert np.array_equal(again.axes, learned.axes) and np.array_equal(again.mean, learned.mean)


def test_a_stale_adaptation_is_learned_again(index, photos, monkeypatch):
    monkeypatch.setattr(adapt, "MIN_PHOTOS", 5)
    with Store.open(index, writable=True) as store:
        adapt.save(store, adapt.Adaptation(np.zeros(1, np.float32), np.ones((1, 1), np.float32), 100, FAKE_SPEC.model_id))
        assert adapt.current(store).photos == 12
    assert adapt.load(Store.open(index)).photos == 12


def test_adapted_search_keeps_cosine_scores_and_leaves_the_query_out(index, photos, monkeypatch):
    monkeypatch.setattr(adapt, "MIN_PHOTOS", 5)
    query = str(photos / "a" / "photo_0000.jpg")
    with Store.open(index, writable=True) as store:
        matches = similar(store, [query], FakeEmbedder, FAKE_SPEC.preprocessing, k=5)
        vector = store.vector(store.record(query).hash)
        assert len(matches) == 5 and query not in [m.path for m in matches]
        for match in matches:
            assert match.score == pytest.approx(float(store.vector(match.record.hash) @ vector), abs=1e-5)
        floor = sorted(m.score for m in matches)[-2]
        strict = search(store, vector, k=11, min_score=floor, exclude={query}, expand=3,
                        adaptation=adapt.current(store))
        assert 2 <= len(strict) < 11 and all(m.score >= floor for m in strict)
