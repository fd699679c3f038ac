"""kill -9 during `imgsearch index` never breaks the index or loses a file.

The kills land at counted steps (index transactions and file operations; tests/kill_at_step.py),
not after a sleep, so every run kills at the same places however busy the machine is."""

import subprocess
import sys
from pathlib import Path

import pytest

from imgsearch_cnn.indexer import vector_index
from imgsearch_cnn.indexer.store import Store
from commands import ROOT
from photos import make_photos

def check_consistent(index: Path, on_disk: set[str]) -> int:
    """The index opens, holds only real files, each with its vector; returns its photo count."""
    with Store.open(index) as store:
        records = list(store.records())
        assert {r.path for r in records} <= on_disk
        assert len({r.path for r in records}) == len(records)
        assert all(store.has_vector(r.hash) for r in records)
        if records:
            assert len(vector_index.load(store).paths) == len(records)
        return len(records)


KILL_STEPS = (3, 4, 5, 6, 7, 8, 9, 10)  # small: every run has work left when its kill lands


@pytest.mark.slow
def test_kills_at_counted_steps_then_resume(tmp_path):
    photos, index = tmp_path / "photos", tmp_path / "idx"
    make_photos(photos, 80)
    args = ["index", str(photos), "--index", str(index), "--batch-size", "4", "--workers", "0", "--device", "cpu"]
    harness = [sys.executable, str(Path(__file__).with_name("kill_at_step.py"))]
    for attempt, step in enumerate(KILL_STEPS):
        make_photos(photos, 3, start=100 + 3 * attempt)  # the folder keeps changing between crashes
        status = subprocess.run([*harness, str(step), "--commits", *args], cwd=ROOT, capture_output=True).returncode
        assert status == -9, f"kill at step {step} did not land (exit {status})"
        on_disk = {str(p) for p in photos.glob("*.jpg")}
        if (index / "meta.lmdb" / "data.mdb").exists():
            assert check_consistent(index, on_disk) <= len(on_disk)
    final = subprocess.run([*harness, str(10**6), *args], cwd=ROOT, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    on_disk = {str(p) for p in photos.glob("*.jpg")}
    assert check_consistent(index, on_disk) == len(on_disk) == 104
    with Store.open(index) as store:
        assert store.failures() == {}
