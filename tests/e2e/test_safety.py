"""No photo is ever lost: links, aliases, hard links, keepers that are links, conflicting flags,
failures after acting, bad arguments. Each test compares inventories (path -> content) of the
folders before and after; every content that existed before must exist after in a regular file.
"""

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from photos import draw_photo
from fakes import fake_index
from imgsearch_cnn.indexer.store import Store
from commands import imgsearch
from inventories import assert_nothing_lost, contents, inventory


def two_photos(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    draw_photo(31, (320, 240)).save(folder / "a.jpg", quality=90)
    draw_photo(32, (320, 240)).save(folder / "b.jpg", quality=90)


def indexed(tmp_path: Path, arrange=lambda photos: None) -> tuple[Path, Path]:
    """Two photos in tmp_path/photos, ``arrange(photos)`` adds links or copies, then an index."""
    photos = tmp_path / "photos"
    two_photos(photos)
    arrange(photos)
    fake_index(tmp_path / "I", [photos])
    return photos, tmp_path / "I"


def paths_in(index: Path) -> list[str]:
    with Store.open(index) as store:
        return sorted(r.path for r in store.records())


# -- one photo, one identity ------------------------------------------------------------------

def test_a_folder_indexed_through_an_alias_is_one_set_of_photos_and_nothing_is_deleted(tmp_path):
    root = tmp_path / "r1"
    two_photos(root / "photos")
    (root / "alias").symlink_to("photos")
    idx = tmp_path / "I"
    fake_index(idx, [root / "photos"])
    fake_index(idx, [root / "alias"])
    assert paths_in(idx) == [str(root / "photos" / "a.jpg"), str(root / "photos" / "b.jpg")]
    before = inventory(root)
    run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--delete", "--yes", "--apply")
    assert run.returncode == 0, run.stderr
    assert inventory(root) == before


def test_a_symlink_to_a_photo_is_never_its_own_keeper_or_duplicate(tmp_path):
    photos = tmp_path / "photos"
    (photos / "2019").mkdir(parents=True)
    draw_photo(40).save(photos / "2019" / "beach.jpg", quality=90)
    (photos / "fav.jpg").symlink_to(photos / "2019" / "beach.jpg")
    idx = tmp_path / "I"
    fake_index(idx, [photos])
    assert paths_in(idx) == [str(photos / "2019" / "beach.jpg")]
    before = inventory(photos)
    for action in ("--delete", "--symlink", "--hardlink"):
        run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--keep", "shortest",
                        action, "--yes", "--apply")
        assert run.returncode == 0, run.stderr
        assert inventory(photos) == before


def test_hard_links_of_one_file_are_one_photo(tmp_path):
    photos, idx = indexed(tmp_path, lambda photos: os.link(photos / "a.jpg", photos / "a_again.jpg"))
    assert paths_in(idx) == [str(photos / "a.jpg"), str(photos / "b.jpg")]
    before = inventory(photos)
    run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--delete", "--yes", "--apply")
    assert run.returncode == 0 and inventory(photos) == before


def test_after_a_symlink_clean_up_a_later_run_never_deletes_the_target(tmp_path):
    photos = tmp_path / "photos"
    two_photos(photos)
    (photos / "copies").mkdir()
    shutil.copy(photos / "a.jpg", photos / "copies" / "a.jpg")
    idx = tmp_path / "I"
    fake_index(idx, [photos])
    run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--keep", "path:" + str(photos),
                    "--symlink", "--apply")
    assert run.returncode == 0, run.stderr
    assert os.path.islink(photos / "copies" / "a.jpg")
    fake_index(idx, [photos])
    before = inventory(photos)
    run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--keep", f"path:{photos / 'copies'}",
                    "--delete", "--yes", "--apply")
    assert run.returncode == 0, run.stderr
    assert inventory(photos) == before and Image.open(photos / "copies" / "a.jpg").size == (320, 240)


@pytest.fixture
def dupes(tmp_path):
    """Two photos and a byte-identical copy of one, indexed."""
    photos, idx = indexed(tmp_path, lambda photos: shutil.copy(photos / "a.jpg", photos / "a_copy.jpg"))
    return tmp_path, photos, idx


def test_a_keeper_replaced_by_a_link_after_indexing_leaves_its_group_alone(dupes):
    tmp, photos, idx = dupes
    # The keeper (shortest path: a.jpg) becomes a link to its own duplicate behind our back.
    os.remove(photos / "a.jpg")
    (photos / "a.jpg").symlink_to(photos / "a_copy.jpg")
    before = inventory(photos)
    run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--delete", "--yes", "--apply",
                    "--json")
    assert run.returncode == 0, run.stderr
    assert inventory(photos) == before
    member = json.loads(run.stdout)["groups"][0]["members"][1]
    assert member["action"].startswith("keep (keeper")


def test_delete_only_removes_byte_identical_copies(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    draw_photo(7, (400, 300)).save(photos / "p.jpg", quality=92)
    draw_photo(7, (400, 300)).save(photos / "p_recompressed.jpg", quality=60)
    idx = tmp_path / "I"
    fake_index(idx, [photos])
    run = imgsearch("groups", "--dedupe", "--index", idx, "--threshold", "0.9", "--delete", "--yes", "--apply", "--json")
    report = json.loads(run.stdout)
    assert len(report["groups"]) == 1
    assert report["groups"][0]["members"][1]["action"] == "keep (not byte-identical to the keeper)"
    assert len(list(photos.iterdir())) == 2


# -- arguments are checked before anything is touched ------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--trash", "--delete", "--yes", "--apply"], "choose one action"),
    (["--move-to", "{tmp}/m", "--apply", "--html", "{tmp}/no/such/r.html"], "does not exist"),
    (["--move-to", "{tmp}/m", "--apply", "--csv", "{tmp}/no/such/r.csv"], "does not exist"),
    (["--apply"], "--apply needs an action"),
    (["--move-to", "{tmp}/photos/dupes", "--apply"], "inside the indexed folder"),
    (["--threshold", "nan"], "not a number between"),
    (["--threshold", "1.5"], "not a number between"),
    (["--method", "dbscan"], "clustering option"),
])
def test_bad_dedupe_arguments_exit_2_with_one_line_and_touch_nothing(dupes, args, message):
    tmp, photos, idx = dupes
    before, folders = inventory(photos), sorted(os.listdir(tmp))
    run = imgsearch("groups", "--dedupe", "--index", idx, *[a.format(tmp=tmp) for a in args])
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert inventory(photos) == before and sorted(os.listdir(tmp)) == folders


def test_dedupe_options_without_dedupe_are_refused(dupes):
    tmp, photos, idx = dupes
    run = imgsearch("groups", "--index", idx, "--move-to", tmp / "m", "--apply")
    assert run.returncode == 2 and "add --dedupe" in run.stderr
    assert not (tmp / "m").exists()


@pytest.mark.parametrize("args, message", [
    (["--k", "0"], "1 or more"),
    (["--k", "5"], "more clusters than the 3 photos"),
    (["--csv", "{tmp}/no/such/c.csv"], "does not exist"),
    (["--html", "{tmp}/no/such/pages"], "does not exist"),
])
def test_bad_cluster_arguments_exit_2(dupes, args, message):
    tmp, photos, idx = dupes
    run = imgsearch("groups", "--index", idx, *[a.format(tmp=tmp) for a in args])
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_clustering_a_single_photo_says_why_it_cannot(tmp_path):
    photos = tmp_path / "one"
    photos.mkdir()
    draw_photo(3).save(photos / "x.jpg")
    fake_index(tmp_path / "I", [photos])
    run = imgsearch("groups", "--index", tmp_path / "I", "--k", "1")
    assert run.returncode == 2 and "at least 2 photos" in run.stderr


def test_small_collections_print_no_faiss_warnings(dupes):
    tmp, photos, idx = dupes
    run = imgsearch("groups", "--index", idx, "--k", "2")
    assert run.returncode == 0, run.stderr
    assert "WARNING" not in run.stderr and "training points" not in run.stderr


def test_commands_other_than_index_never_create_an_index(tmp_path):
    for args in (["undo"], ["info"], ["similar", __file__], ["groups"], ["groups", "--dedupe"], ["map"]):
        run = imgsearch(*args, "--index", tmp_path / "nothing")
        assert run.returncode == 2 and "no index at" in run.stderr, (args, run.stderr)
        assert not (tmp_path / "nothing").exists()


def test_an_index_option_naming_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    for args in (["info"], ["index", tmp_path]):
        run = imgsearch(*args, "--index", tmp_path / "file")
        assert run.returncode == 2 and "is a file, not an index folder" in run.stderr


def test_similar_on_a_folder_and_nan_scores_are_refused(dupes):
    tmp, photos, idx = dupes
    run = imgsearch("similar", photos, "--index", idx)
    assert run.returncode == 2 and "is a folder" in run.stderr
    run = imgsearch("similar", photos / "a.jpg", "--index", idx, "--min-score", "nan")
    assert run.returncode == 2 and "not a number between" in run.stderr


def test_map_into_a_missing_folder_is_refused(dupes):
    tmp, photos, idx = dupes
    run = imgsearch("map", "--index", idx, "--out", tmp / "no" / "map.png")
    assert run.returncode == 2 and "does not exist" in run.stderr


# -- what a clean-up moved out is out ------------------------------------------------------------

def test_moved_files_leave_the_index_and_undo_brings_them_and_their_folders_back(dupes):
    tmp, photos, idx = dupes
    before = inventory(photos)
    run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--move-to", tmp / "out" / "dupes",
                    "--apply")
    assert run.returncode == 0, run.stderr
    assert str(photos / "a_copy.jpg") not in paths_in(idx) and not any("out" in p for p in paths_in(idx))
    again = json.loads(imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--json").stdout)
    assert again["groups"] == []
    assert imgsearch("undo", "--index", idx).returncode == 0
    assert inventory(photos) == before and not (tmp / "out").exists()
    assert str(photos / "a_copy.jpg") in paths_in(idx)


def test_undo_twice_is_harmless_and_journal_is_only_closed_when_everything_is_back(dupes):
    tmp, photos, idx = dupes
    before = inventory(photos)
    imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--move-to", tmp / "out", "--apply")
    moved = tmp / "out" / "a_copy.jpg"
    moved.rename(tmp / "elsewhere.jpg")  # the user moved the file away: undo cannot find it
    first = imgsearch("undo", "--index", idx)
    assert first.returncode == 1 and "cannot find it" in first.stderr
    (tmp / "elsewhere.jpg").rename(moved)
    second = imgsearch("undo", "--index", idx)
    assert second.returncode == 0 and "restored 1" in second.stdout
    assert inventory(photos) == before
    assert "nothing to undo" in imgsearch("undo", "--index", idx).stderr


# -- the environment -------------------------------------------------------------------------------

@contextmanager
def small_tmpfs(mount: Path, options: str):
    """A tmpfs mounted at ``mount`` (needs root: skips elsewhere), unmounted afterwards."""
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)])


def test_a_full_disk_gives_one_line_and_leaves_the_index_usable(tmp_path):
    photos = tmp_path / "photos"
    two_photos(photos)
    with small_tmpfs(tmp_path / "small", "size=600k") as mount:
        idx = mount / "I"
        assert imgsearch("index", photos, "--index", idx, "--workers", "0").returncode == 0
        for seed in range(60):  # more photos than the disk can index
            draw_photo(100 + seed, (64, 48)).save(photos / f"n{seed}.jpg")
        ballast = mount / "ballast"
        ballast.write_bytes(b"\0" * max(0, shutil.disk_usage(mount).free - 8192))
        run = imgsearch("index", photos, "--index", idx, "--workers", "0")
        assert run.returncode == 3, run.stdout + run.stderr
        assert "disk holding" in run.stderr and "is full" in run.stderr and "Traceback" not in run.stderr
        ballast.unlink()
        assert imgsearch("info", "--index", idx).returncode == 0


def test_an_index_on_a_read_only_file_system_is_named_with_its_cause(tmp_path):
    photos = tmp_path / "photos"
    two_photos(photos)
    with small_tmpfs(tmp_path / "ro", "size=1m,ro") as mount:
        run = imgsearch("index", photos, "--index", mount / "I", "--workers", "0")
        assert run.returncode == 3 and "read-only file system" in run.stderr and "Traceback" not in run.stderr


def test_a_read_only_index_folder_is_named_with_its_cause(dupes):
    tmp, photos, idx = dupes
    if os.getuid() == 0:
        pytest.skip("root ignores folder permissions")
    os.chmod(idx, 0o500)
    try:
        run = imgsearch("groups", "--dedupe", "--index", idx, "--preset", "exact", "--trash", "--apply")
        assert run.returncode == 3 and "permission denied" in run.stderr
    finally:
        os.chmod(idx, 0o700)


def test_a_locked_index_is_an_environment_error(dupes):
    tmp, photos, idx = dupes
    with Store.open(idx, writable=True):
        run = imgsearch("undo", "--index", idx)
    assert run.returncode == 3 and "is being written by" in run.stderr
    assert contents(inventory(photos))
