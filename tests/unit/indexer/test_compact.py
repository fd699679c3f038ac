"""compact: the index's database rewritten with full pages keeps every entry, takes less room,
waits while another process has the index open, and survives being cut short at any step."""

import os
import subprocess
import sys

import numpy as np

from imgsearch_cnn.indexer import compact, layout
from imgsearch_cnn.indexer.record import Record
from imgsearch_cnn.indexer.store import SUB_DATABASES, Store


def fill(index, photos: int = 3000) -> None:
    rng = np.random.default_rng(0)
    with Store.open(index, writable=True, create=True) as store:
        for start in range(0, photos, 100):
            with store.transaction() as writer:
                hashes = [rng.bytes(16).hex() for _ in range(100)]
                writer.put_features_many(hashes, cnn=rng.standard_normal((100, 64)).astype(np.float32),
                                         phash=rng.integers(0, 2**63, (100, 8), dtype=np.uint64))
                for n, content in enumerate(hashes):
                    writer.put_record(Record(f"/photos/{content[:2]}/{start + n}.jpg", 1, 1, content, 4, 3, "JPEG"))


def dump(index) -> dict:
    """Every entry of every sub-database, leaving out compaction's own bookkeeping."""
    with Store.open(index) as store, store.env.begin() as txn:
        out = {}
        for name in SUB_DATABASES:
            rows = dict(txn.cursor(db=store.env.open_db(name.encode(), txn=txn)))
            rows.pop(compact._COMPACTED_AT.encode(), None)
            out[name] = rows
        return out


def data_size(index) -> int:
    return (index / layout.LMDB / "data.mdb").stat().st_size


def test_every_entry_is_kept_in_less_room(tmp_path):
    index = tmp_path / "idx"
    fill(index)
    before, size = dump(index), data_size(index)
    with Store.open(index, writable=True) as store:
        result = compact.compact(store)
        assert store.count() == 3000  # the store works on after the swap
    assert result.bytes_before == size and result.bytes_after == data_size(index) < 0.8 * size
    assert dump(index) == before
    assert not (index / layout.LMDB_NEW).exists() and not (index / layout.LMDB_OLD).exists()


def test_due_once_the_index_has_grown_by_a_quarter(tmp_path, monkeypatch):
    monkeypatch.setattr(compact, "MIN_PHOTOS", 1000)
    index = tmp_path / "idx"
    fill(index, 900)
    with Store.open(index, writable=True) as store:
        assert not compact.due(store)
    fill(index, 1200)  # adds 1,200 more: 2,100
    with Store.open(index, writable=True) as store:
        assert compact.due(store)
        compact.compact(store)
        assert not compact.due(store)
    fill(index, 500)  # 2,600: less than a quarter more
    with Store.open(index, writable=True) as store:
        assert not compact.due(store)


def test_no_compaction_while_another_process_reads(tmp_path):
    index = tmp_path / "idx"
    fill(index, 300)
    before, size = dump(index), data_size(index)
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom imgsearch_cnn.indexer.store import Store\n"
         f"s = Store.open({str(index)!r}); s.count(); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        with Store.open(index, writable=True) as store:
            assert compact.compact(store).skipped == "another process has the index open"
    finally:
        reader.communicate("")
    assert data_size(index) == size and dump(index) == before
    with Store.open(index, writable=True) as store:  # the reader has gone: now it runs
        assert compact.compact(store).skipped is None


def test_a_swap_cut_short_is_finished_or_undone_by_the_next_writer(tmp_path):
    index = tmp_path / "idx"
    fill(index, 500)
    before = dump(index)
    lmdb_dir, copy, old = index / layout.LMDB, index / layout.LMDB_NEW, index / layout.LMDB_OLD
    with Store.open(index, writable=True) as store:
        compact._copy_packed(store, copy)
    packed = (copy / "data.mdb").stat().st_size

    # killed while copying: the copy is thrown away
    (copy / "data.mdb").write_bytes((copy / "data.mdb").read_bytes()[:4096])
    with Store.open(index, writable=True):
        pass
    assert not copy.exists() and dump(index) == before

    # killed between the two renames: the complete copy goes in place
    with Store.open(index, writable=True) as store:
        compact._copy_packed(store, copy)
    os.rename(lmdb_dir, old)
    with Store.open(index, writable=True):
        pass
    assert data_size(index) == packed and not old.exists() and not copy.exists()
    assert dump(index) == before

    # killed while removing the old environment: what is left of it goes
    old.mkdir()
    (old / "data.mdb").write_bytes(b"part")
    with Store.open(index, writable=True):
        pass
    assert not old.exists() and dump(index) == before


def test_a_full_disk_leaves_the_index_as_it_was(tmp_path, monkeypatch):
    import errno

    index = tmp_path / "idx"
    fill(index, 300)
    before, size = dump(index), data_size(index)

    def copy_until_full(store, target):
        target.mkdir()
        (target / "data.mdb").write_bytes(b"\0" * 8192)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(compact, "_copy_packed", copy_until_full)
    with Store.open(index, writable=True) as store:
        result = compact.compact(store)
        assert store.count() == 300
    assert result.skipped.startswith("no room for the copy") and result.bytes_after == size
    assert not (index / layout.LMDB_NEW).exists() and data_size(index) == size and dump(index) == before
