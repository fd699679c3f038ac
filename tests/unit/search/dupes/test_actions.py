"""actions: no clean-up loses a photo. Inventories of the folder before and after every action,
after undo, with a file changed since indexing and with a reference folder."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from PIL import ImageEnhance

from fakes import fake_index
from inventories import contents, inventory
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import actions, fileops, groups, job, journal
from photos import draw_photo


@pytest.fixture
def library(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # the trash lives in the test folder
    from send2trash import plat_other  # reads the variable once, at import: point it here too

    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(tmp_path / "xdg"))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(tmp_path / "xdg" / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(tmp_path / "xdg" / "Trash"))
    photos, reference = tmp_path / "photos", tmp_path / "reference"
    (photos / "trip").mkdir(parents=True)
    reference.mkdir()
    a, b, c = draw_photo(21, (400, 300)), draw_photo(22, (400, 300)), draw_photo(23, (400, 300))
    a.save(photos / "a.jpg", quality=92)
    shutil.copy(photos / "a.jpg", photos / "trip" / "a_copy.jpg")  # identical
    a.resize((200, 150)).save(photos / "trip" / "a_small.jpg", quality=80)  # near-duplicate
    b.save(photos / "b.jpg", quality=92)
    ImageEnhance.Brightness(b).enhance(1.3).save(photos / "trip" / "b_bright.jpg", quality=92)
    c.save(reference / "c.jpg", quality=92)
    c.resize((300, 225)).save(photos / "c_small.jpg", quality=85)
    shutil.copy(reference / "c.jpg", photos / "trip" / "c_copy.jpg")
    index = tmp_path / "idx"
    fake_index(index, [photos, reference])
    return tmp_path, photos, reference, index


def run(index, reference, action, apply=False, **kwargs):
    options = groups.DedupeOptions(references=[str(reference)], verify_floor=0.0)
    with Store.open(index, writable=apply) as store:
        return job.run(store, options, action, apply=apply, **kwargs)


@pytest.mark.parametrize("action", ["move", "trash", "hardlink", "symlink"])
def test_every_action_keeps_every_photo_and_undo_restores_the_folder(library, action):
    tmp, photos, reference, index = library
    before = inventory(photos, reference)
    dry = run(index, reference, action, move_to=str(tmp / "dupes"))
    assert inventory(photos, reference) == before  # a dry run changes nothing
    assert dry.operations and not dry.applied
    applied = run(index, reference, action, move_to=str(tmp / "dupes"), apply=True)
    after = inventory(photos, reference)
    elsewhere = inventory(tmp / "dupes", tmp / "xdg")
    assert contents(before) <= contents(after) | contents(elsewhere)  # no content lost anywhere
    assert inventory(reference) == {k: v for k, v in before.items() if k.startswith(str(reference))}
    for group in applied.result.groups:
        assert os.path.exists(group.keeper.path)  # the last copy is never removed
    done = [op for op in applied.operations if not op.skip]
    assert done, applied.operations
    if action in actions.LINKS:  # only byte-identical copies are replaced
        assert {os.path.basename(op.path) for op in done} <= {"a_copy.jpg", "a.jpg", "c_copy.jpg"}
    with Store.open(index, writable=True) as store:
        report = journal.undo(store)
    assert report.problems == [] and report.restored == len(done)
    assert inventory(photos, reference) == before
    if action == "hardlink":
        assert os.stat(photos / "trip" / "a_copy.jpg").st_nlink == 1


def test_changed_file_and_missing_keeper_are_refused(library):
    tmp, photos, reference, index = library
    (photos / "trip" / "a_small.jpg").write_bytes((photos / "trip" / "a_small.jpg").read_bytes() + b"\0")
    outcome = run(index, reference, "move", move_to=str(tmp / "dupes"))
    by_name = {os.path.basename(op.path): op for op in outcome.operations}
    assert by_name["a_small.jpg"].skip == "changed since indexed"
    group = next(g for g in outcome.result.groups if g.keeper.path.endswith("b.jpg") or g.keeper.path.endswith("b_bright.jpg"))
    os.rename(group.keeper.path, group.keeper.path + ".away")
    outcome = run(index, reference, "trash", apply=True)
    assert all(op.skip for op in outcome.operations if op.keeper == group.keeper.path)
    assert os.path.exists(group.members[1].record.path)


def test_reference_files_win_and_are_never_touched(library):
    tmp, photos, reference, index = library
    outcome = run(index, reference, "trash", apply=True)
    c_group = next(g for g in outcome.result.groups if "c" in os.path.basename(g.keeper.path)[:1])
    assert c_group.keeper.path == str(reference / "c.jpg")
    assert (reference / "c.jpg").exists()
    assert not any(op.path.startswith(str(reference)) and not op.skip for op in outcome.operations)


def test_delete_needs_confirmation_and_keeps_the_keeper(library):
    tmp, photos, reference, index = library
    with pytest.raises(actions.ActionError, match="--yes"):
        run(index, reference, "delete", apply=True)
    outcome = run(index, reference, "delete", apply=True, confirm_delete=True)
    for group in outcome.result.groups:
        assert os.path.exists(group.keeper.path)
    with Store.open(index) as store:
        assert all(os.path.exists(r.path) for r in store.records())  # the index follows the disk
    with Store.open(index, writable=True) as store:
        report = journal.undo(store)
    assert report.lost and report.problems == []


def test_each_action_leaves_a_group_alone_when_a_duplicate_is_the_keeper_under_another_name(library):
    tmp, photos, reference, idx = library
    os.remove(photos / "trip" / "a_copy.jpg")
    os.link(photos / "a.jpg", photos / "trip" / "a_copy.jpg")  # now the same inode as the keeper
    group_files = [photos / "a.jpg", photos / "trip" / "a_copy.jpg"]
    before = inventory(*group_files)
    for action in ("move", "trash", "hardlink", "symlink", "delete"):
        with Store.open(idx, writable=True) as store:
            outcome = job.run(store, groups.DedupeOptions(preset="exact"), action, str(tmp / "out"), apply=True,
                              confirm_delete=True)
        skipped = {op.path: op.skip for op in outcome.operations if op.keeper == str(photos / "a.jpg")}
        assert skipped == {str(photos / "trip" / "a_copy.jpg"):
                           f"{photos / 'trip' / 'a_copy.jpg'} is a link to, or another name of, the keeper"}
        assert inventory(*group_files) == before


def test_a_hard_link_across_file_systems_is_refused_before_anything_happens(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system here")
    other = Path(tempfile.mkdtemp(dir=shm))
    try:
        (tmp_path / "photos").mkdir()
        draw_photo(3).save(tmp_path / "photos" / "a.jpg", quality=90)
        shutil.copy2(tmp_path / "photos" / "a.jpg", other / "a_copy_elsewhere.jpg")
        fake_index(tmp_path / "idx", [tmp_path / "photos", other])
        with Store.open(tmp_path / "idx", writable=True) as store:
            options = groups.DedupeOptions(preset="exact", keep_rules=["path:" + str(tmp_path)])
            outcome = job.run(store, options, "hardlink", apply=True)
        assert [op.skip for op in outcome.operations] == ["on another file system than the keeper: cannot hard-link"]
        assert outcome.journal is None and fileops.is_regular(str(other / "a_copy_elsewhere.jpg"))
    finally:
        shutil.rmtree(other)


@pytest.mark.parametrize("action", ["move", "trash"])
def test_sidecars_travel_with_their_photo_and_come_back_with_undo(library, action):
    tmp, photos, reference, index = library
    for name in ("a_small.jpg.xmp", "b_bright.xmp", "b_bright.AAE", "c_small.xmp", "b.xmp"):
        folder = photos / "trip" if name.startswith(("a_small", "b_bright")) else photos
        (folder / name).write_text(f"<x:xmpmeta>{name}</x:xmpmeta>")
    before = inventory(photos, reference)
    applied = run(index, reference, action, move_to=str(tmp / "dupes"), apply=True)
    moved = [op for op in applied.operations if not op.skip and not op.sidecar_of]
    carried = [op for op in applied.operations if not op.skip and op.sidecar_of]
    assert moved and carried
    for op in moved:
        stem = os.path.splitext(os.path.basename(op.path))[0]
        left = [n for n in os.listdir(os.path.dirname(op.path)) if n.startswith(stem + ".")]
        assert left == [], f"{left} stayed behind"
    assert {os.path.basename(op.sidecar_of) for op in carried} <= {os.path.basename(op.path) for op in moved}
    if action == "move":
        assert all(os.path.exists(op.target) for op in carried)
    with Store.open(index, writable=True) as store:
        report = journal.undo(store)
        assert report.problems == [] and report.restored == len(moved)
        assert not any(r.format == "sidecar" for r in store.records())  # sidecars are no photos
    assert inventory(photos, reference) == before


@pytest.mark.parametrize("action", ["move", "trash"])
def test_a_sidecar_that_is_a_link_stays_where_it_is(library, action):
    tmp, photos, reference, index = library
    (tmp / "shared.xmp").write_text("<x:xmpmeta>shared</x:xmpmeta>")
    for name in ("a_small.jpg.xmp", "b_bright.jpg.xmp"):
        os.symlink(tmp / "shared.xmp", photos / "trip" / name)
    before = inventory(photos, reference, tmp / "shared.xmp")
    applied = run(index, reference, action, move_to=str(tmp / "dupes"), apply=True)
    linked = [op for op in applied.operations if op.sidecar_of]
    assert linked and all(op.skip == "sidecar gone or not a regular file" for op in linked)
    assert all(os.path.islink(op.path) for op in linked)  # left alone, link intact
    with Store.open(index, writable=True) as store:
        assert journal.undo(store).problems == []
    assert inventory(photos, reference, tmp / "shared.xmp") == before
