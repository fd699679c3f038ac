"""errors: a failure of the machine becomes one line that names its cause."""

import errno

import lmdb

from imgsearch_cnn.indexer.errors import explain


def test_each_cause_is_named(tmp_path):
    assert "is full" in explain(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert "read-only file system" in explain(OSError(errno.EROFS, "Read-only file system"), tmp_path)
    assert "permission denied" in explain(PermissionError(errno.EACCES, "Permission denied"), tmp_path)
    assert explain(lmdb.Error("something odd"), tmp_path) == f"cannot use index {tmp_path}: something odd"


def test_an_io_error_on_a_nearly_full_disk_is_called_a_full_disk(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(100, 100, 1000))
    assert "is full" in explain(lmdb.Error("Input/output error"), tmp_path / "not" / "yet")
