"""fileops: moves across file systems, replacements and clean-ups never leave a partial photo."""

import errno
import os
from pathlib import Path

import pytest

from imgsearch_cnn.indexer.scan import content_hash
from imgsearch_cnn.search.dupes import fileops


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "a.jpg"
    path.write_bytes(os.urandom(300_000))
    return path


def test_a_move_within_one_file_system_is_a_rename(photo, tmp_path):
    digest = content_hash(str(photo))
    fileops.move(str(photo), str(tmp_path / "out" / "deep" / "a.jpg"), digest)
    assert not photo.exists() and content_hash(str(tmp_path / "out" / "deep" / "a.jpg")) == digest


def test_a_move_across_file_systems_copies_checks_renames_then_removes(photo, tmp_path, monkeypatch):
    real_rename, calls = os.rename, []

    def rename(source, target):
        calls.append((os.path.basename(source), os.path.basename(target)))
        if not str(source).endswith(fileops.PART_SUFFIX):
            raise OSError(errno.EXDEV, "Invalid cross-device link")  # as between two file systems
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", rename)
    digest = content_hash(str(photo))
    target = tmp_path / "other_fs" / "a.jpg"
    fileops.move(str(photo), str(target), digest)
    assert calls == [("a.jpg", "a.jpg"), (".a.jpg" + fileops.PART_SUFFIX, "a.jpg")]
    assert not photo.exists() and content_hash(str(target)) == digest
    assert os.listdir(target.parent) == ["a.jpg"]


def test_a_copy_that_does_not_match_is_thrown_away_and_the_source_kept(photo, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "rename", lambda s, t: (_ for _ in ()).throw(OSError(errno.EXDEV, "cross-device")))
    with pytest.raises(fileops.FileOpError, match="does not match"):
        fileops.move(str(photo), str(tmp_path / "out" / "a.jpg"), "0" * 32)
    assert photo.exists() and os.listdir(tmp_path / "out") == []


def test_nothing_is_ever_moved_over_an_existing_file(photo, tmp_path):
    (tmp_path / "b.jpg").write_bytes(b"another photo")
    with pytest.raises(fileops.FileOpError, match="exists already"):
        fileops.move(str(photo), str(tmp_path / "b.jpg"), content_hash(str(photo)))
    assert (tmp_path / "b.jpg").read_bytes() == b"another photo" and photo.exists()


def test_links_and_copies_replace_a_file_in_one_step(photo, tmp_path):
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(photo.read_bytes())
    fileops.replace_with_link(str(photo), str(copy), "symlink")
    assert os.path.islink(copy) and fileops.same_file(str(copy), str(photo))
    fileops.replace_with_copy(str(photo), str(copy), content_hash(str(photo)))
    assert fileops.is_regular(str(copy)) and not fileops.same_file(str(copy), str(photo))
    fileops.replace_with_link(str(photo), str(copy), "hardlink")
    assert fileops.is_regular(str(copy)) and os.stat(copy).st_nlink == 2
    assert sorted(os.listdir(tmp_path)) == ["a.jpg", "copy.jpg"]


def test_holds_means_a_regular_file_with_those_bytes(photo, tmp_path):
    digest = content_hash(str(photo))
    (tmp_path / "link.jpg").symlink_to(photo)
    assert fileops.holds(str(photo), digest)
    assert not fileops.holds(str(tmp_path / "link.jpg"), digest)
    assert not fileops.holds(str(tmp_path / "missing.jpg"), digest)


def test_only_the_empty_folders_a_move_created_are_removed(tmp_path):
    (tmp_path / "kept" / "made" / "deeper").mkdir(parents=True)
    (tmp_path / "kept" / "note.txt").write_text("x")
    assert fileops.first_missing_folder(str(tmp_path / "kept" / "new" / "deep" / "a.jpg")) == str(tmp_path / "kept" / "new")
    fileops.remove_empty_folders(str(tmp_path / "kept" / "made" / "deeper"), str(tmp_path / "kept" / "made"))
    assert sorted(os.listdir(tmp_path / "kept")) == ["note.txt"]
