"""Decisions taken in the review act through the clean-up engine, are kept the moment they are
taken, and the Undo button takes the last one back."""

import os
import shutil

import pytest

from fakes import fake_index
from inventories import assert_nothing_lost, inventory
from photos import draw_photo

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import groups, journal
from imgsearch_cnn.search.review import decisions
from imgsearch_cnn.search.review.state import Review, ReviewError, ReviewOptions, group_id, photo_id


@pytest.fixture
def collection(tmp_path):
    """Three pairs: a and its exact copy, b and a smaller copy, c and a copy in a reference folder."""
    photos, reference = tmp_path / "photos", tmp_path / "reference"
    photos.mkdir()
    reference.mkdir()
    draw_photo(1, (400, 300)).save(photos / "a.jpg", quality=90)
    shutil.copy2(photos / "a.jpg", photos / "a_copy.jpg")
    draw_photo(2, (400, 300)).save(photos / "b.jpg", quality=90)
    draw_photo(2, (400, 300)).resize((200, 150)).save(photos / "b_small.jpg", quality=85)
    draw_photo(3, (400, 300)).save(reference / "c.jpg", quality=90)
    shutil.copy2(reference / "c.jpg", photos / "c_copy.jpg")
    fake_index(tmp_path / "idx", [photos, reference])
    return photos, reference, tmp_path


def _review(root, reference) -> Review:
    options = ReviewOptions(groups.DedupeOptions(references=[str(reference.resolve())]), "move", str(root / "moved"))
    return Review(root / "idx", options)


def _group_with(review, name):
    return next(g for g in review.groups if any(os.path.basename(p) == name for p in g.paths))


def _names(review):
    return sorted(sorted(os.path.basename(p) for p in g.paths) for g in review.groups)


def test_keeping_the_suggestion_moves_the_others_out_of_the_collection_and_the_index(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    assert _names(review) == [["a.jpg", "a_copy.jpg"], ["b.jpg", "b_small.jpg"], ["c.jpg", "c_copy.jpg"]]
    before = inventory(photos, reference)
    outcome = decisions.keep(review, group_id(_group_with(review, "b.jpg")))
    assert outcome.done == 1 and not outcome.left_alone
    assert not (photos / "b_small.jpg").exists() and (root / "moved" / "photos" / "b_small.jpg").exists()
    with Store.open(root / "idx") as store:
        assert store.record(str((photos / "b_small.jpg").resolve())) is None
    assert_nothing_lost(before, inventory(photos, reference, root / "moved"))
    assert _names(review) == [["a.jpg", "a_copy.jpg"], ["c.jpg", "c_copy.jpg"]]


def test_another_keeper_can_be_chosen(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    group = _group_with(review, "b.jpg")
    small = photo_id(str((photos / "b_small.jpg").resolve()))
    decisions.keep(review, group_id(group), small)
    assert (photos / "b_small.jpg").exists() and not (photos / "b.jpg").exists()
    assert (root / "moved" / "photos" / "b.jpg").exists()
    with pytest.raises(ReviewError):
        decisions.keep(review, group_id(_group_with(review, "a.jpg")), small)  # not a member of that group


def test_a_decision_is_kept_at_once_and_a_reopened_review_shows_what_remains_without_checking_again(collection):
    photos, reference, root = collection
    first = _review(root, reference)
    decisions.keep(first, group_id(_group_with(first, "a.jpg")))
    decisions.not_duplicates(first, group_id(_group_with(first, "b.jpg")))
    # no close(): as if the server had been killed right after answering
    again = _review(root, reference)
    assert again.result.cached, "the remaining groups are the kept dupes result, not a new search"
    assert _names(again) == [["c.jpg", "c_copy.jpg"]]


def test_not_duplicates_never_come_back_even_from_a_new_search(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    before = inventory(photos, reference)
    decisions.not_duplicates(review, group_id(_group_with(review, "b.jpg")))
    assert inventory(photos, reference) == before
    with Store.open(root / "idx") as store:
        fresh = groups.find_groups(store, groups.DedupeOptions())
    assert not any("b.jpg" in " ".join(g.paths) for g in fresh.groups)


def test_a_reference_folder_is_never_touched(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    group = _group_with(review, "c.jpg")
    assert os.path.dirname(group.keeper.path) == str(reference.resolve())
    before = inventory(reference)
    copy = photo_id(str((photos / "c_copy.jpg").resolve()))
    outcome = decisions.keep(review, group_id(group), copy)  # ask for the copy: the reference photo stays anyway
    assert outcome.done == 0 and "reference folder" in outcome.left_alone[0]
    assert inventory(reference) == before and (photos / "c_copy.jpg").exists()


def test_a_file_changed_since_indexing_is_left_alone(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    draw_photo(7).save(photos / "a_copy.jpg")  # edited after indexing
    outcome = decisions.keep(review, group_id(_group_with(review, "a.jpg")))
    assert outcome.done == 0 and "changed since indexed" in outcome.left_alone[0]
    assert (photos / "a_copy.jpg").exists() and not (root / "moved").exists()


def test_bulk_says_what_it_will_do_then_keeps_every_suggestion(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    before = inventory(photos, reference)
    plan = decisions.bulk_plan(review)
    assert plan["groups"] == 3 and plan["files"] == 3 and plan["left_alone"] == 0
    assert f"move to {root / 'moved'}" in plan["message"] and inventory(photos, reference) == before
    outcome = decisions.bulk_apply(review)
    assert outcome.done == 3 and review.groups == []
    assert sorted(p.name for p in (root / "moved").rglob("*.jpg")) == ["a_copy.jpg", "b_small.jpg", "c_copy.jpg"]
    assert (reference / "c.jpg").exists()
    assert_nothing_lost(before, inventory(photos, reference, root / "moved"))
    with pytest.raises(ReviewError):
        decisions.bulk_apply(review)


def test_undo_takes_back_the_last_decision_and_its_group_returns(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    before = inventory(photos, reference)
    a = _group_with(review, "a.jpg")
    with pytest.raises(ReviewError, match="byte-identical"):
        decisions.not_duplicates(review, group_id(a))
    decisions.not_duplicates(review, group_id(_group_with(review, "b.jpg")))
    decisions.keep(review, group_id(a))
    assert decisions.undo(review).done == 1
    assert inventory(photos, reference) == before
    assert group_id(a) in {group_id(g) for g in review.groups}
    assert decisions.undo(review).done == 1  # the "not duplicates" pairs are forgotten too
    assert len(review.groups) == 3
    with Store.open(root / "idx") as store:
        assert store.get_extra("ignored_pairs") == [] and journal.pending(store) == []
    with pytest.raises(ReviewError):
        decisions.undo(review)


def test_undo_after_a_restart_and_after_imgsearch_undo(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    before = inventory(photos, reference)
    decisions.keep(review, group_id(_group_with(review, "a.jpg")))
    review.close()
    with Store.open(root / "idx", writable=True) as store:
        journal.undo(store)  # what `imgsearch undo` does
    assert inventory(photos, reference) == before
    again = _review(root, reference)
    decisions.undo(again)  # nothing left to revert on disk: the group comes back
    assert _names(again) == [["a.jpg", "a_copy.jpg"], ["b.jpg", "b_small.jpg"], ["c.jpg", "c_copy.jpg"]]
    assert inventory(photos, reference) == before


def test_the_review_never_deletes_and_refuses_a_move_without_destination(collection):
    _, _, root = collection
    with pytest.raises(ReviewError):
        Review(root / "idx", ReviewOptions(action="delete"))
    with pytest.raises(ReviewError):
        Review(root / "idx", ReviewOptions(action="move"))


def test_groups_are_no_longer_kept_as_the_dupes_result_once_another_command_changed_the_index(collection):
    photos, reference, root = collection
    review = _review(root, reference)
    assert not review.changed_elsewhere()
    draw_photo(2, (400, 300)).resize((300, 225)).save(photos / "b_medium.jpg", quality=85)
    review.close()
    fake_index(root / "idx", [photos, reference])  # `imgsearch index` meanwhile: a new copy of b
    assert review.changed_elsewhere()
    decisions.keep(review, group_id(_group_with(review, "a.jpg")))
    again = _review(root, reference)
    assert not again.result.cached, "a new search, which sees the new photo"
    assert ["b.jpg", "b_medium.jpg", "b_small.jpg"] in _names(again)


def test_links_and_aliases_in_the_collection_are_never_lost_and_undo_restores_the_exact_folder(collection):
    photos, reference, root = collection
    os.symlink(photos / "b.jpg", photos / "b_alias.jpg")  # another name of a photo
    os.link(photos / "a.jpg", photos / "a_hard.jpg")  # the same file under two names
    os.symlink(photos, root / "photos_link")  # a linked folder reaching the photos again
    fake_index(root / "idx", [photos, reference, root / "photos_link"])
    review = _review(root, reference)
    before = inventory(photos, reference, root / "photos_link")
    decisions.bulk_apply(review)
    assert os.path.islink(photos / "b_alias.jpg") and os.path.islink(root / "photos_link")
    assert_nothing_lost(before, inventory(photos, reference, root / "moved"))
    while True:  # the Undo button, as often as there is something to take back
        try:
            decisions.undo(review)
        except ReviewError:
            break
    assert inventory(photos, reference, root / "photos_link") == before
