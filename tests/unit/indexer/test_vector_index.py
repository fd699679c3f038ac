"""vector_index: the FAISS file follows LMDB, and the shared vector arithmetic is right."""

import json

import numpy as np
import pytest

from imgsearch_cnn.indexer import vector_index
from imgsearch_cnn.indexer.store import Record, Store


def _record(path, content):
    return Record(path, 10, 20, content, 640, 480, "JPEG")


def test_faiss_file_is_rebuilt_when_stale(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        store.set_meta("model", {"model_id": "x", "dims": 4})
        with store.transaction() as w:
            w.put_record(_record("/p/a.jpg", "a"))
            w.put_features("a", cnn=np.array([1, 0, 0, 0], np.float32))
        first = vector_index.load(store)
        assert first.paths == ["/p/a.jpg"]
        with store.transaction() as w:
            w.put_record(_record("/p/b.jpg", "b"))
            w.put_features("b", cnn=np.array([0, 1, 0, 0], np.float32))
        second = vector_index.load(store)
        assert second.paths == ["/p/a.jpg", "/p/b.jpg"] and second.index.ntotal == 2
        scores, rows = second.search(np.array([[0, 1, 0, 0]], np.float32), 1)
        assert rows[0][0] == 1 and scores[0][0] == pytest.approx(1.0)
    sidecar = json.loads((tmp_path / "idx" / "vectors.json").read_text())
    assert sidecar["generation"] == 2


def test_l2_normalise_makes_unit_rows_and_leaves_zero_rows_alone():
    rows = vector_index.l2_normalise(np.array([[3, 4], [0, 0]], np.float64))
    assert rows.dtype == np.float32 and np.allclose(rows, [[0.6, 0.8], [0.0, 0.0]])


def test_reduce_keeps_the_neighbourhoods_in_fewer_dimensions():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 64))
    data = vector_index.l2_normalise(np.repeat(centres, 40, axis=0) + rng.normal(scale=0.1, size=(200, 64)))
    reduced = vector_index.reduce(data, 8)
    assert reduced.shape == (200, 8)
    assert np.allclose(np.linalg.norm(reduced, axis=1), 1, atol=1e-5)
    nearest = np.argsort(-(reduced @ reduced.T), axis=1)[:, 1]
    assert (nearest // 40 == np.arange(200) // 40).mean() == 1.0  # still next to its own group


def test_whitening_evens_out_the_spread_of_the_main_axes():
    # One axis ten times wider than the rest dominates plain PCA; whitened at power 1 every axis
    # has the same spread (before the rows are re-normalised), at power 0.5 the gap is its root.
    rng = np.random.default_rng(1)
    data = rng.normal(size=(2000, 16)) * np.r_[10.0, np.ones(15)]

    def spread(power):
        reduced = vector_index.reduce(data, 4, whiten=power)
        return reduced.std(axis=0)

    plain, half, full = spread(0.0), spread(0.5), spread(1.0)
    assert plain[0] / plain[1:].mean() > 3
    assert 1.5 < half[0] / half[1:].mean() < plain[0] / plain[1:].mean()
    assert full[0] / full[1:].mean() < 1.3


def test_ivf_index_finds_the_exact_neighbours_of_clustered_data():
    rng = np.random.default_rng(1)
    data = vector_index.l2_normalise(rng.normal(size=(4000, 32)))
    index = vector_index.ivf_index(data, nprobe=16)
    _, found = index.search(data[:100], 1)
    assert (found[:, 0] == np.arange(100)).mean() >= 0.99


def test_sample_rows_is_sorted_seeded_and_capped():
    assert vector_index.sample_rows(5, 10, 0).tolist() == [0, 1, 2, 3, 4]
    rows = vector_index.sample_rows(1000, 10, 3)
    assert len(rows) == 10 and rows.tolist() == sorted(rows) == vector_index.sample_rows(1000, 10, 3).tolist()


def test_a_large_collection_gets_a_compressed_file_whose_answers_are_reranked_exactly(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(50, 64))
    data = vector_index.l2_normalise(np.repeat(centres, 60, axis=0) + rng.normal(scale=0.3, size=(3000, 64)))
    monkeypatch.setattr(vector_index, "COMPRESS_ABOVE", 1000)
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        store.set_meta("model", {"model_id": "x", "dims": 64})
        with store.transaction() as w:
            for n, vector in enumerate(data):
                w.put_record(_record(f"/p/{n:04d}.jpg", f"h{n:04d}"))
                w.put_features(f"h{n:04d}", cnn=vector)
        built = vector_index.load(store)
        assert vector_index.is_compressed(built.index) and built.exact is not None
    assert (tmp_path / "idx" / "vectors.faiss").stat().st_size < data.nbytes / 4
    with Store.open(tmp_path / "idx") as store:
        loaded = vector_index.load(store)  # from the file, re-ranked from LMDB
        stored = store.all_vectors()[1]
        scores, rows = loaded.search(stored[:50], 10)
    truth = np.argsort(-(stored[:50] @ stored.T), axis=1)[:, :10]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, rows)]) >= 0.95
    assert np.allclose(scores, np.take_along_axis(stored[:50] @ stored.T, rows, axis=1), atol=1e-5)
