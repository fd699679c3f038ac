"""The imgsearch command end to end, as a user runs it (subprocesses, real files)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from commands import ROOT, imgsearch


def test_help_imports_nothing_heavy_and_every_command_answers():
    # What made help slow was importing torch, faiss or numpy; that is what is checked here (the
    # time itself depends on the machine's load: tools/bench_cli.py measures it).
    code = ("import sys, imgsearch_cnn.search.cli; "
            "print(sorted(m for m in ('torch', 'faiss', 'numpy', 'lmdb', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    for command in ("index", "similar", "info", "dupes", "dedupe", "clusters", "groups", "undo", "map"):
        assert "Usage" in imgsearch(command, "--help").stdout, command


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
    """In a project folder (one with indexes/) the project's index; anywhere else the user's."""
    env = {"IMGSEARCH_INDEX": "", "XDG_DATA_HOME": str(tmp_path / "data")}
    (tmp_path / "project" / "indexes").mkdir(parents=True)
    (tmp_path / "project" / "sub").mkdir()
    assert imgsearch("index", photos, "--workers", "0", cwd=tmp_path / "project", env=env).returncode == 0
    assert (tmp_path / "project" / "indexes" / "default" / "meta.lmdb").is_dir()
    result = imgsearch("similar", photos / "a" / "photo_0000.jpg", "--json", cwd=tmp_path / "project" / "sub", env=env)
    assert len(json.loads(result.stdout)) == 10
    elsewhere = imgsearch("info", cwd=tmp_path, env=env)
    assert elsewhere.returncode == 2
    assert f"no index at {tmp_path / 'data' / 'imgsearch' / 'indexes' / 'default'}" in elsewhere.stderr
    assert "--index DIR or $IMGSEARCH_INDEX" in elsewhere.stderr


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
