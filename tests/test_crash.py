"""kill -9 at random moments of `imgsearch index` never breaks the index or loses a file."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer import faiss_index
from indexer.store import Store
from conftest import make_photos

ROOT = Path(__file__).resolve().parents[1]


def check_consistent(index: Path, on_disk: set[str]) -> int:
    """The index opens, holds only real files, each with its vector; returns its photo count."""
    with Store.open(index) as store:
        records = list(store.records())
        assert {r.path for r in records} <= on_disk
        assert len({r.path for r in records}) == len(records)
        assert all(store.has_vector(r.hash) for r in records)
        if records:
            assert len(faiss_index.load(store).paths) == len(records)
        return len(records)


@pytest.mark.slow
def test_random_kills_then_resume(tmp_path):
    rng = random.Random(1234)
    photos, index = tmp_path / "photos", tmp_path / "idx"
    make_photos(photos, 80)
    command = [sys.executable, "-m", "search.cli", "index", str(photos), "--index", str(index),
               "--batch-size", "4", "--workers", "0", "--device", "cpu"]
    kills = 0
    for attempt in range(8):
        make_photos(photos, 3, start=100 + 3 * attempt)  # the folder keeps changing between crashes
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(rng.uniform(0.3, 5.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        on_disk = {str(p) for p in photos.glob("*.jpg")}
        if (index / "meta.lmdb" / "data.mdb").exists():
            assert check_consistent(index, on_disk) <= len(on_disk)
    assert kills >= 4  # most attempts really were interrupted
    final = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    on_disk = {str(p) for p in photos.glob("*.jpg")}
    assert check_consistent(index, on_disk) == len(on_disk) == 104
    with Store.open(index) as store:
        assert store.failures() == {}
