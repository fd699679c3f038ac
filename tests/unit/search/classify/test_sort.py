"""Sorting photos into one folder per class: a dry run by default, every photo kept, re-checked
at apply time, sidecars along, `imgsearch undo` restores the exact inventory."""

import os

import pytest

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.classify.predict import Prediction
from imgsearch_cnn.search.classify.sort import apply, plan
from imgsearch_cnn.search.dupes import journal
from imgsearch_cnn.search.dupes.actions import ActionError
from inventories import assert_nothing_lost, inventory


def predictions(unsorted, sure=True):
    kinds = {"a": "red_discs", "b": "blue_squares", "c": "green_stripes"}
    return [Prediction(str(unsorted / folder / f"{i}.jpg"), kind, 0.9, sure, "index")
            for folder, kind in kinds.items() for i in range(6)]


def test_a_dry_run_moves_nothing_and_says_where_each_photo_would_go(sorted_and_unsorted, tmp_path):
    _, unsorted, index = sorted_and_unsorted
    before = inventory(unsorted)
    with Store.open(index) as store:
        operations = plan(store, predictions(unsorted), str(tmp_path / "sorted"))
    assert inventory(unsorted) == before and not (tmp_path / "sorted").exists()
    # The six photos of each unsorted folder share names (0.jpg ... 5.jpg) with the same names
    # of the other kinds, but each kind goes to its own class folder: no clash.
    assert all(op.skip is None for op in operations)
    assert operations[0].target == str(tmp_path / "sorted" / "red_discs" / "0.jpg")


def test_sorting_keeps_every_photo_and_undo_puts_each_back(sorted_and_unsorted, tmp_path):
    labelled, unsorted, index = sorted_and_unsorted
    (unsorted / "a" / "0.jpg.xmp").write_text("<x:xmpmeta/>")  # a sidecar travels with its photo
    before = inventory(unsorted, labelled)
    with Store.open(index, writable=True) as store:
        operations = plan(store, predictions(unsorted), str(tmp_path / "sorted"))
        written = apply(store, operations)
        assert written is not None and store.record(str(unsorted / "a" / "0.jpg")) is None  # left the index
    after = inventory(unsorted, labelled, tmp_path / "sorted")
    assert_nothing_lost(before, after)
    assert len(inventory(tmp_path / "sorted" / "red_discs")) == 7  # six photos and the sidecar
    assert inventory(unsorted) == {}  # every unsorted photo moved
    with Store.open(index, writable=True) as store:
        report = journal.undo(store)
        assert report.problems == [] and report.restored == 18
        assert store.record(str(unsorted / "a" / "0.jpg")) is not None
    assert inventory(unsorted, labelled) == before
    assert inventory(tmp_path / "sorted") == {}  # the class folders it made are gone too


def test_unsure_and_changed_photos_stay_and_a_taken_name_gets_a_number(sorted_and_unsorted, tmp_path):
    _, unsorted, index = sorted_and_unsorted
    target = tmp_path / "sorted" / "red_discs"
    target.mkdir(parents=True)
    (target / "1.jpg").write_bytes(b"someone else's photo")
    with open(unsorted / "a" / "2.jpg", "ab") as handle:  # changed since indexed
        handle.write(b"\0")
    guesses = predictions(unsorted)
    guesses[0] = Prediction(guesses[0].path, "red_discs", 0.3, False, "index")
    with Store.open(index, writable=True) as store:
        operations = plan(store, guesses, str(tmp_path / "sorted"))
        stays = {os.path.basename(op.path) + "@" + op.path.split(os.sep)[-2]: op.skip for op in operations if op.skip}
        assert stays == {"0.jpg@a": "unsure", "2.jpg@a": "changed since indexed"}
        assert [op.target for op in operations if op.path == str(unsorted / "a" / "1.jpg")] == [str(target / "1-2.jpg")]
        apply(store, operations)
    assert (target / "1.jpg").read_bytes() == b"someone else's photo" and (target / "1-2.jpg").exists()
    assert (unsorted / "a" / "0.jpg").exists() and (unsorted / "a" / "2.jpg").exists()


def test_a_photo_changed_between_plan_and_apply_is_left_alone(sorted_and_unsorted, tmp_path):
    _, unsorted, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store:
        operations = plan(store, predictions(unsorted), str(tmp_path / "sorted"))
        photo = unsorted / "b" / "3.jpg"
        data = photo.read_bytes()
        photo.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size...
        os.utime(photo, ns=(store.record(str(photo)).mtime_ns,) * 2)  # ...and time: only the bytes tell
        apply(store, operations)
    skipped = {op.path: op.skip for op in operations if op.skip}
    assert skipped == {str(photo): "bytes changed since indexed"} and photo.exists()


def test_a_destination_inside_the_collection_or_the_index_is_refused(sorted_and_unsorted):
    labelled, _, index = sorted_and_unsorted
    with Store.open(index) as store:
        for inside in (labelled / "sorted", index / "sorted"):
            with pytest.raises(ActionError, match="choose"):
                plan(store, [], str(inside))


def test_links_and_aliases_are_never_moved_and_undo_restores_the_exact_folder(sorted_and_unsorted, tmp_path):
    from fakes import fake_index

    labelled, unsorted, index = sorted_and_unsorted
    os.symlink(unsorted / "a" / "0.jpg", unsorted / "a" / "alias.jpg")  # another name of a photo
    os.link(unsorted / "b" / "0.jpg", unsorted / "b" / "hard.jpg")  # the same file under two names
    os.symlink(unsorted / "c", tmp_path / "c_folder")  # a linked folder reaching photos again
    fake_index(index, [labelled, unsorted, tmp_path / "c_folder"])
    before = inventory(unsorted, labelled, tmp_path / "c_folder")
    kinds = {"a": "red_discs", "b": "blue_squares", "c": "green_stripes"}
    with Store.open(index, writable=True) as store:
        guesses = [Prediction(r.path, kinds[os.path.basename(os.path.dirname(r.path))], 0.9, True, "index")
                   for r in store.records() if r.path.startswith(str(unsorted))]
        operations = plan(store, guesses, str(tmp_path / "sorted"))
        apply(store, operations)
    assert os.path.islink(unsorted / "a" / "alias.jpg")  # a link is never moved
    assert_nothing_lost(before, inventory(unsorted, labelled, tmp_path / "sorted"))
    with Store.open(index, writable=True) as store:
        assert journal.undo(store).problems == []
    assert inventory(unsorted, labelled, tmp_path / "c_folder") == before
    assert inventory(tmp_path / "sorted") == {}
