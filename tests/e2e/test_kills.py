"""kill -9 at every file-system step of a clean-up and of its undo never loses a photo and never
leaves a truncated file under a photo's name; running undo again always restores the exact folder.
Moves go to another file system (a tmpfs) where the machine has one."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from photos import draw_photo
from fakes import fake_index
from commands import ROOT, imgsearch
from inventories import assert_nothing_lost, inventory

HARNESS = Path(__file__).with_name("kill_at_step.py")
SHM = Path("/dev/shm")


def killed_at(step: int, *args, env: dict) -> int:
    """Run imgsearch killed at ``step``; returns the exit status (-9: it was killed)."""
    return subprocess.run([sys.executable, str(HARNESS), str(step), *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, timeout=120).returncode


class Scene:
    """Photos with exact copies (and the copies' sidecar files), indexed once; reset() puts folders
    and index back as they were."""

    def __init__(self, base: Path, move_to: Path):
        self.base, self.move_to = base, move_to
        self.photos, self.idx, self.trash = base / "photos", base / "idx", base / "xdg"
        (self.photos / "copies").mkdir(parents=True)
        draw_photo(51, (240, 180)).save(self.photos / "a.jpg", quality=90)
        draw_photo(52, (240, 180)).save(self.photos / "b.jpg", quality=90)
        shutil.copy2(self.photos / "a.jpg", self.photos / "copies" / "a.jpg")
        shutil.copy2(self.photos / "b.jpg", self.photos / "copies" / "b.jpg")
        for name in ("a.jpg.xmp", "b.AAE"):  # sidecars travel with a moved or trashed copy
            (self.photos / "copies" / name).write_text(f"<x:xmpmeta>{name}</x:xmpmeta>")
        fake_index(self.idx, [self.photos])
        self.saved = base / "saved"
        for folder in (self.photos, self.idx):
            shutil.copytree(folder, self.saved / folder.name, copy_function=shutil.copy2)
        self.before = inventory(self.photos)
        self.env = {**os.environ, "XDG_DATA_HOME": str(self.trash)}

    def reset(self) -> None:
        for folder in (self.photos, self.idx, self.trash, self.move_to):
            shutil.rmtree(folder, ignore_errors=True)
        for name in ("photos", "idx"):
            shutil.copytree(self.saved / name, self.base / name, copy_function=shutil.copy2)

    def everywhere(self) -> list[dict]:
        return [inventory(self.photos), inventory(self.move_to), inventory(self.trash)]

    def check_safe(self) -> None:
        """Nothing lost, and every photo's name holds its own bytes or a link (never a part)."""
        assert_nothing_lost(self.before, *self.everywhere())
        now = inventory(self.photos)
        for path, content in self.before.items():
            if path in now:
                assert now[path] == content or now[path].startswith("link -> ") or \
                    now[path] in self.before.values(), path


ACTIONS = {
    "move": ["--move-to", "{move_to}"],
    "trash": ["--trash"],
    "hardlink": ["--hardlink"],
    "symlink": ["--symlink"],
    "delete": ["--delete", "--yes"],
}


@pytest.fixture
def scene(tmp_path, request):
    action = request.param
    move_to = tmp_path / "moved"
    shm = None
    if action == "move" and SHM.is_dir() and os.stat(SHM).st_dev != os.stat(tmp_path).st_dev:
        shm = Path(tempfile.mkdtemp(dir=SHM))  # another file system: the copy-then-remove path
        move_to = shm / "moved"
    yield action, Scene(tmp_path, move_to)
    if shm:
        shutil.rmtree(shm, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("scene", list(ACTIONS), indirect=True)
def test_kill_at_every_step_of_apply_and_undo(scene):
    action, s = scene
    args = ["groups", "--dedupe", "--index", s.idx, "--preset", "exact", "--apply",
            *[a.format(move_to=s.move_to) for a in ACTIONS[action]]]
    step, kills = 0, 0
    while True:  # apply killed at step 1, 2, 3, ... until it runs to the end
        step += 1
        s.reset()
        status = killed_at(step, *args, env=s.env)
        s.check_safe()
        undo = imgsearch("undo", "--index", s.idx, env=s.env)
        s.check_safe()
        if action != "delete":
            assert inventory(s.photos) == s.before, (step, undo.stderr)
        if status != -9:
            assert status == 0
            break
        kills += 1
    assert kills >= 6  # the sweep really went through the clean-up's steps

    # Now undo of the finished clean-up, killed at every step, then run again to the end.
    step = 0
    while True:
        step += 1
        s.reset()
        assert killed_at(10**6, *args, env=s.env) == 0
        if step == 1 and action in ("move", "trash"):  # the copies' sidecars went with them
            assert not list((s.photos / "copies").iterdir())
        status = killed_at(step, "undo", "--index", s.idx, env=s.env)
        s.check_safe()
        final = imgsearch("undo", "--index", s.idx, env=s.env)
        s.check_safe()
        if action != "delete":
            assert inventory(s.photos) == s.before, (step, final.stderr)
            assert not s.move_to.exists() or not any(s.move_to.rglob("*.jpg"))
        if status != -9:
            break


@pytest.mark.slow
def test_kill_at_every_step_of_sorting_into_class_folders_and_of_its_undo(tmp_path):
    from photos import family

    photos, idx = tmp_path / "photos", tmp_path / "idx"
    family(photos / "labelled" / "discs", (200, 20, 20), "disc", 3, 61)
    family(photos / "labelled" / "squares", (20, 20, 200), "square", 3, 62)
    family(photos / "unsorted", (200, 20, 20), "disc", 2, 63)
    (photos / "unsorted" / "0.jpg.xmp").write_text("<x:xmpmeta>0</x:xmpmeta>")  # travels with its photo
    fake_index(idx, [photos])
    assert imgsearch("train", photos / "labelled", "--index", idx).returncode == 0
    saved = tmp_path / "saved"
    for folder in (photos, idx):
        shutil.copytree(folder, saved / folder.name, copy_function=shutil.copy2)
    before, sorted_to = inventory(photos), tmp_path / "sorted"
    args = ["classify", photos / "unsorted" / "0.jpg", photos / "unsorted" / "1.jpg", "--index", idx,
            "--min-confidence", "0", "--move-to", sorted_to, "--apply"]

    def reset() -> None:
        for folder in (photos, idx, sorted_to):
            shutil.rmtree(folder, ignore_errors=True)
        for folder in (photos, idx):
            shutil.copytree(saved / folder.name, folder, copy_function=shutil.copy2)

    def check_safe() -> None:
        assert_nothing_lost(before, inventory(photos), inventory(sorted_to))

    for killed_command in ("classify", "undo"):
        step = 0
        while True:
            step += 1
            reset()
            if killed_command == "classify":
                status = killed_at(step, *args, env=dict(os.environ))
            else:
                assert killed_at(10**6, *args, env=dict(os.environ)) == 0
                assert not list((photos / "unsorted").iterdir())  # both photos and the sidecar moved
                status = killed_at(step, "undo", "--index", idx, env=dict(os.environ))
            check_safe()
            final = imgsearch("undo", "--index", idx)
            check_safe()
            assert inventory(photos) == before, (killed_command, step, final.stderr)
            if status != -9:
                assert status == 0
                break
        assert step > 6  # the sweep really went through the steps


@pytest.mark.slow
def test_kill_at_every_step_of_compacting_the_index(tmp_path):
    """`imgsearch index --compact` killed at each step: the photos are untouched, and the index,
    once opened by the next writer, holds every entry it held before."""
    from imgsearch_cnn.indexer.store import SUB_DATABASES, Store

    photos, idx, saved = tmp_path / "photos", tmp_path / "idx", tmp_path / "saved"
    photos.mkdir()
    for i in range(6):
        draw_photo(70 + i, (160, 120)).save(photos / f"{i}.jpg")
    (photos / "alias.jpg").symlink_to(photos / "0.jpg")
    fake_index(idx, [photos])
    shutil.copytree(idx, saved, copy_function=shutil.copy2)

    def entries() -> dict:
        with Store.open(idx, writable=True) as store, store.env.begin() as txn:  # a writer finishes a cut swap
            found = {name: dict(txn.cursor(db=store.env.open_db(name.encode(), txn=txn))) for name in SUB_DATABASES}
        found["meta"].pop(b"compacted_at_count", None)
        return found

    before_photos, before_index = inventory(photos), entries()
    step, kills = 0, 0
    while True:
        step += 1
        shutil.rmtree(idx)
        shutil.copytree(saved, idx, copy_function=shutil.copy2)
        status = killed_at(step, "index", photos, "--index", idx, "--compact", env=dict(os.environ))
        assert inventory(photos) == before_photos, step
        assert entries() == before_index, step
        if status != -9:
            assert status == 0
            break
        kills += 1
    assert kills >= 4, kills  # the copy's sync, both renames and the removal were each cut
    assert not (idx / "meta.lmdb.new").exists() and not (idx / "meta.lmdb.old").exists()
