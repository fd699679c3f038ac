"""The imgsearch command end to end, as a user runs it (subprocesses, real files)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imgsearch(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "search.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, timeout=600)


def test_help_is_instant_and_does_not_import_torch():
    code = "import sys, search.cli; print('torch' in sys.modules, 'faiss' in sys.modules)"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False False"
    assert time.perf_counter() - start < 2
    for command in ("index", "similar", "info"):
        assert "Usage" in imgsearch(command, "--help").stdout


def test_index_similar_info_round_trip(tmp_path, photos):
    idx = tmp_path / "idx"
    first = imgsearch("index", photos, "--index", idx, "--device", "cpu", "--workers", "0")
    assert first.returncode == 0, first.stderr
    assert "12" in first.stdout and "images/s" in first.stdout
    second = imgsearch("index", photos, "--index", idx)
    assert "12" in second.stdout and second.returncode == 0
    query = photos / "a" / "photo_0000.jpg"
    result = imgsearch("similar", query, "--index", idx, "-k", "4", "--json")
    matches = json.loads(result.stdout)
    assert len(matches) == 4 and all(set(m) == {"path", "score"} for m in matches)
    info = json.loads(imgsearch("info", "--index", idx, "--json").stdout)
    assert info["photos"] == 12 and info["dims"] == 1280 and info["model"] == "efficientnet-lite0"


def test_default_index_is_shared_by_index_and_similar(tmp_path, photos):
    env = {"IMGSEARCH_INDEX": ""}
    assert imgsearch("index", photos, "--workers", "0", cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "indexes" / "default" / "meta.lmdb").is_dir()
    (tmp_path / "sub").mkdir()
    result = imgsearch("similar", photos / "a" / "photo_0000.jpg", "--json", cwd=tmp_path / "sub", env=env)
    assert len(json.loads(result.stdout)) == 10


def test_failures_are_listed_and_exit_code_is_1(tmp_path, photos):
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    idx = tmp_path / "idx"
    result = imgsearch("index", photos, "--index", idx, "--workers", "0")
    assert result.returncode == 1 and "broken.jpg" in result.stdout
    listing = imgsearch("info", "--index", idx, "--failures")
    assert "broken.jpg" in listing.stdout


def test_clear_errors_for_missing_index_and_model_mismatch(tmp_path, photos):
    missing = imgsearch("similar", photos / "a" / "photo_0000.jpg", "--index", tmp_path / "none")
    assert missing.returncode == 2 and "imgsearch index" in missing.stderr
    idx = tmp_path / "idx"
    imgsearch("index", photos / "a", "--index", idx, "--workers", "0")
    other = imgsearch("index", photos, "--index", idx, "--model", "timm:resnet18")
    assert other.returncode == 2 and "--rebuild" in other.stderr
