"""store: LMDB is the truth, writes are atomic, one writer at a time, readers always."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer import faiss_index
from indexer.store import Record, Store, StoreError, default_location

ROOT = Path(__file__).resolve().parents[1]


def _record(path, content="h1"):
    return Record(path, 10, 20, content, 640, 480, "JPEG", "2020-01-01T10:00:00")


def test_records_and_vectors_round_trip(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        with store.transaction() as w:
            w.put_record(_record("/p/a.jpg"))
            w.put_features("h1", cnn=np.arange(4, dtype=np.float32))
    with Store.open(tmp_path / "idx") as store:
        assert store.record("/p/a.jpg") == _record("/p/a.jpg")
        assert store.vector("h1").tolist() == [0, 1, 2, 3]
        assert store.count() == 1 and store.generation == 1


def test_failed_transaction_leaves_nothing(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        with pytest.raises(RuntimeError):
            with store.transaction() as w:
                w.put_record(_record("/p/a.jpg"))
                raise RuntimeError("crash in the middle")
        assert store.count() == 0 and store.generation == 0


def _in_another_process(code: str, index) -> subprocess.CompletedProcess:
    script = f"import sys; from indexer.store import Store, StoreError\nidx = {str(index)!r}\n{code}"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)


def test_second_writer_is_refused_while_readers_work(tmp_path):
    index = tmp_path / "idx"
    with Store.open(index, writable=True, create=True) as writer:
        with writer.transaction() as w:
            w.put_record(_record("/p/a.jpg"))
        second = _in_another_process("Store.open(idx, writable=True, create=True)", index)
        assert "being written by imgsearch (pid" in second.stderr
        reader = _in_another_process("print(Store.open(idx).count())", index)
        assert reader.stdout.strip() == "1", reader.stderr
    assert _in_another_process("Store.open(idx, writable=True, create=True).close()", index).returncode == 0


def test_missing_index_has_a_helpful_error(tmp_path):
    with pytest.raises(StoreError, match="imgsearch index"):
        Store.open(tmp_path / "nothing")


def test_newer_schema_is_refused(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        store.set_meta("schema_version", 99)
    with pytest.raises(StoreError, match="newer"):
        Store.open(tmp_path / "idx")


def test_unreferenced_vectors_are_dropped(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        with store.transaction() as w:
            w.put_record(_record("/p/a.jpg", "keep"))
            w.put_features("keep", cnn=np.ones(4, np.float32))
            w.put_features("orphan", cnn=np.ones(4, np.float32))
        with store.transaction() as w:
            assert w.drop_unreferenced_vectors() == 1
        assert store.has_vector("keep") and not store.has_vector("orphan")


def test_faiss_file_is_rebuilt_when_stale(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        store.set_meta("model", {"model_id": "x", "dims": 4})
        with store.transaction() as w:
            w.put_record(_record("/p/a.jpg", "a"))
            w.put_features("a", cnn=np.array([1, 0, 0, 0], np.float32))
        first = faiss_index.load(store)
        assert first.paths == ["/p/a.jpg"]
        with store.transaction() as w:
            w.put_record(_record("/p/b.jpg", "b"))
            w.put_features("b", cnn=np.array([0, 1, 0, 0], np.float32))
        second = faiss_index.load(store)
        assert second.paths == ["/p/a.jpg", "/p/b.jpg"] and second.index.ntotal == 2
        scores, rows = second.search(np.array([[0, 1, 0, 0]], np.float32), 1)
        assert rows[0][0] == 1 and scores[0][0] == pytest.approx(1.0)
    sidecar = json.loads((tmp_path / "idx" / "vectors.json").read_text())
    assert sidecar["generation"] == 2


def test_default_location_is_found_from_a_subfolder(tmp_path, monkeypatch):
    monkeypatch.delenv("IMGSEARCH_INDEX", raising=False)
    Store.open(tmp_path / "indexes" / "default", writable=True, create=True).close()
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    assert default_location() == tmp_path / "indexes" / "default"
    monkeypatch.setenv("IMGSEARCH_INDEX", str(tmp_path / "elsewhere"))
    assert default_location() == tmp_path / "elsewhere"
