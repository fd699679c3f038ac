"""store: LMDB is the truth, writes are atomic, one writer at a time, readers always."""

import subprocess
import sys

import numpy as np
import pytest

from imgsearch_cnn.indexer.store import Record, Store, StoreError


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
    script = f"import sys; from imgsearch_cnn.indexer.store import Store, StoreError\nidx = {str(index)!r}\n{code}"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)


def test_second_writer_is_refused_while_readers_work(tmp_path):
    index = tmp_path / "idx"
    with Store.open(index, writable=True, create=True) as writer:
        with writer.transaction() as w:
            w.put_record(_record("/p/a.jpg"))
        second = _in_another_process("Store.open(idx, writable=True)", index)
        assert "being written by imgsearch (pid" in second.stderr
        reader = _in_another_process("print(Store.open(idx).count())", index)
        assert reader.stdout.strip() == "1", reader.stderr
    assert _in_another_process("Store.open(idx, writable=True).close()", index).returncode == 0


def test_missing_index_has_a_helpful_error_and_only_create_makes_one(tmp_path):
    for writable in (False, True):
        with pytest.raises(StoreError, match="imgsearch index.*--index DIR or \\$IMGSEARCH_INDEX"):
            Store.open(tmp_path / "nothing", writable=writable)
    assert not (tmp_path / "nothing").exists()
    Store.open(tmp_path / "nothing", writable=True, create=True).close()
    Store.open(tmp_path / "nothing").close()


def test_a_file_given_as_index_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file, not an index folder"):
        Store.open(tmp_path / "file", writable=True, create=True)


def test_roots_and_facts(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        store.set_meta("roots", ["/photos"])
        with store.transaction() as w:
            w.put_record(_record("/photos/a.jpg"))
            w.put_failure("/photos/bad.jpg", "not an image", 3, 4)
        assert store.roots() == ["/photos"]
        facts = store.facts()
    assert (facts["photos"], facts["failures"], facts["schema_version"], facts["vector_codec"]) == (1, 1, 2, "uint8")


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


def test_an_index_made_before_the_compact_codec_is_read_and_extended_as_float32(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        store.set_meta("vector_codec", None)  # what a schema 1 index holds: no codec, float32 vectors
        store.set_meta("schema_version", 1)
    vector = np.random.default_rng(0).standard_normal(1280).astype(np.float32)
    with Store.open(tmp_path / "idx", writable=True) as store:
        assert store.codec == "float32"
        with store.transaction() as w:
            w.put_record(_record("/p/a.jpg"))
            w.put_features("h1", cnn=vector)
    with Store.open(tmp_path / "idx") as store:
        assert np.array_equal(store.vector("h1"), vector)
        assert store.all_vectors()[1].tobytes() == vector.tobytes()


def test_new_indexes_keep_vectors_in_one_byte_a_number(tmp_path):
    vector = np.abs(np.random.default_rng(0).standard_normal(1280)).astype(np.float32)
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        with store.transaction() as w:
            w.put_record(_record("/p/a.jpg"))
            w.put_features("h1", cnn=vector, phash=np.arange(8, dtype=np.uint64))
        with store.env.begin(db=store._dbs["vectors"]) as txn:
            assert len(txn.get(b"h1")) == 1280 + 12
        back = store.vector("h1")
        assert back.dtype == np.float32 and float(back @ vector / np.linalg.norm(back) / np.linalg.norm(vector)) > 0.9999
        assert store.vector("h1", "phash").tolist() == list(range(8))
        paths, phashes = store.all_vectors("phash")
        assert phashes.dtype == np.uint64 and phashes.shape == (1, 8)
