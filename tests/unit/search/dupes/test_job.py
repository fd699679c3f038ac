"""job: find, plan and (only when asked) apply; a destination inside the collection is refused."""

import pytest

from fakes import photo_and_copy
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import actions, groups, job
from inventories import inventory


@pytest.fixture
def library(tmp_path):
    photos, idx = photo_and_copy(tmp_path)
    return tmp_path, photos, idx


def test_a_dry_run_plans_and_changes_nothing(library):
    tmp, photos, idx = library
    before = inventory(photos)
    with Store.open(idx) as store:
        outcome = job.run(store, groups.DedupeOptions(preset="exact"), "trash")
    assert not outcome.applied and outcome.journal is None
    assert outcome.planned()[str(photos / "b.jpg")].describe() == "send to trash"
    assert inventory(photos) == before


@pytest.mark.parametrize("inside", ["photos/set aside", "idx/set aside", "photos"])
def test_a_destination_inside_the_collection_or_the_index_is_refused(library, inside):
    tmp, photos, idx = library
    with Store.open(idx, writable=True) as store:
        with pytest.raises(actions.ActionError, match="inside"):
            job.run(store, groups.DedupeOptions(preset="exact"), "move", str(tmp / inside), apply=True)
    assert (photos / "b.jpg").exists()


def test_permanent_delete_needs_a_confirmation(library):
    tmp, photos, idx = library
    with Store.open(idx, writable=True) as store:
        with pytest.raises(actions.ActionError, match="--yes"):
            job.run(store, groups.DedupeOptions(preset="exact"), "delete", apply=True)
    assert (photos / "b.jpg").exists()
