"""journal: undo looks at the disk, so it finishes the way back from any interrupted state, and
closes a journal only when every file is back."""

import os
import shutil

import pytest

from fakes import fake_index, photo_and_copy
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import actions, fileops, groups, job, journal
from inventories import inventory


@pytest.fixture
def moved(tmp_path):
    """An exact copy moved out by a clean-up; returns (photos, index, where the copy went)."""
    photos, _ = photo_and_copy(tmp_path)
    before = inventory(photos)
    with Store.open(tmp_path / "idx", writable=True) as store:
        outcome = job.run(store, groups.DedupeOptions(preset="exact"), "move", str(tmp_path / "out"), apply=True)
    assert outcome.journal and not (photos / "b.jpg").exists()
    return photos, tmp_path / "idx", tmp_path / "out" / "b.jpg", before


def undo(index):
    with Store.open(index, writable=True) as store:
        return journal.undo(store)


def test_undo_puts_the_file_and_its_record_back_and_closes_the_journal(moved):
    photos, index, away, before = moved
    report = undo(index)
    assert (report.restored, report.problems) == (1, [])
    assert inventory(photos) == before and not away.parent.exists()
    with Store.open(index) as store:
        assert store.record(str(photos / "b.jpg")) is not None and journal.pending(store) == []


def test_undo_after_a_kill_between_copy_and_remove_keeps_one_copy(moved):
    photos, index, away, before = moved
    shutil.copy2(away, photos / "b.jpg")  # both complete copies, as after a kill mid-move
    (photos / fileops.part_name("b.jpg")).write_bytes(b"half a photo")  # and a partial copy
    assert undo(index).problems == []
    assert inventory(photos) == before and not away.exists()


def test_a_file_that_cannot_be_found_keeps_the_journal_open_for_the_next_undo(moved):
    photos, index, away, before = moved
    away.rename(away.with_name("hidden"))
    first = undo(index)
    assert first.restored == 0 and "cannot find it" in first.problems[0]
    away.with_name("hidden").rename(away)
    assert undo(index).restored == 1 and inventory(photos) == before


def test_another_file_in_the_way_is_never_overwritten(moved):
    photos, index, away, before = moved
    (photos / "b.jpg").write_bytes(b"a new photo the user put there")
    report = undo(index)
    assert "another file is there now" in report.problems[0]
    assert (photos / "b.jpg").read_bytes() == b"a new photo the user put there" and away.exists()


def test_a_half_written_journal_line_is_ignored(moved):
    photos, index, away, before = moved
    with Store.open(index) as store:
        path = journal.pending(store)[-1]
    with open(path, "a") as handle:
        handle.write('{"step": "begin", "action": "move", "pa')  # cut short by a kill
    assert undo(index).restored == 1 and inventory(photos) == before


def test_nothing_to_undo_says_so(tmp_path):
    fake_index(tmp_path / "idx", [])
    assert undo(tmp_path / "idx").problems == ["nothing to undo"]
    assert not os.path.exists(tmp_path / "idx" / "journal")


def test_a_clean_up_refused_at_apply_time_leaves_no_journal(tmp_path):
    photos, index = photo_and_copy(tmp_path)
    with Store.open(index, writable=True) as store:
        planned = job.run(store, groups.DedupeOptions(preset="exact"), "trash")
        assert [op.skip for op in planned.operations] == [None]
        os.utime(photos / "b.jpg", ns=(1, 1))  # changed between the plan and the apply
        assert actions.apply(store, planned.operations) is None
        assert planned.operations[0].skip == "changed since indexed" and journal.pending(store) == []
    assert (photos / "b.jpg").exists()
