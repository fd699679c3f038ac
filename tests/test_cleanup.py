"""`imgsearch groups --dedupe` end to end: report formats, dry run, apply, undo, HTML in Chromium."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import draw_photo
from browser import loaded_images, page

ROOT = Path(__file__).resolve().parents[1]


def imgsearch(*args, env=None):
    return subprocess.run([sys.executable, "-m", "search.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=600)


def test_dedupe_cli_report_dry_run_apply_and_undo(tmp_path):
    photos, idx = tmp_path / "photos", tmp_path / "idx"
    photos.mkdir()
    for seed in range(3):
        draw_photo(seed, (400, 300)).save(photos / f"p{seed}.jpg", quality=90)
    draw_photo(0, (400, 300)).resize((200, 150)).save(photos / "p0_small.jpg", quality=80)
    shutil.copy(photos / "p1.jpg", photos / "p1_copy.jpg")
    assert imgsearch("index", photos, "--index", idx, "--workers", "0").returncode == 0

    report = json.loads(imgsearch("groups", "--dedupe", "--index", idx, "--json").stdout)
    groups = sorted(sorted(os.path.basename(m["path"]) for m in g["members"]) for g in report["groups"])
    assert groups == [["p0.jpg", "p0_small.jpg"], ["p1.jpg", "p1_copy.jpg"]]
    assert all(g["members"][0]["keeper"] for g in report["groups"])

    dry = imgsearch("groups", "--dedupe", "--index", idx, "--move-to", tmp_path / "dupes",
                    "--csv", tmp_path / "plan.csv", "--html", tmp_path / "plan.html")
    assert dry.returncode == 0 and "dry run" in dry.stdout and not (tmp_path / "dupes").exists()
    rows = list(csv.DictReader(open(tmp_path / "plan.csv")))
    assert sum(r["action"].startswith("move to") for r in rows) == 2

    with page() as tab:
        tab.goto((tmp_path / "plan.html").as_uri())
        loaded, total = loaded_images(tab)
        assert loaded == total == 4
        assert tab.locator("figure.keeper").count() == 2
        tab.screenshot(path=str(tmp_path / "plan.png"))

    refused = imgsearch("groups", "--dedupe", "--index", idx, "--delete", "--apply")
    assert refused.returncode == 2 and "--yes" in refused.stderr

    applied = imgsearch("groups", "--dedupe", "--index", idx, "--move-to", tmp_path / "dupes", "--apply")
    assert applied.returncode == 0 and len(list((tmp_path / "dupes").rglob("*.jpg"))) == 2
    assert len(list(photos.glob("*.jpg"))) == 3
    undone = imgsearch("undo", "--index", idx)
    assert undone.returncode == 0 and "restored 2" in undone.stdout
    assert len(list(photos.glob("*.jpg"))) == 5


def test_ignore_from_the_command_line(tmp_path):
    photos, idx = tmp_path / "photos", tmp_path / "idx"
    photos.mkdir()
    draw_photo(5, (400, 300)).save(photos / "x.jpg", quality=90)
    draw_photo(5, (400, 300)).resize((300, 225)).save(photos / "x_small.jpg", quality=85)
    imgsearch("index", photos, "--index", idx, "--workers", "0")
    assert len(json.loads(imgsearch("groups", "--dedupe", "--index", idx, "--json").stdout)["groups"]) == 1
    marked = imgsearch("groups", "--index", idx, "--ignore", photos / "x.jpg", "--ignore", photos / "x_small.jpg")
    assert "1 pair" in marked.stdout
    assert json.loads(imgsearch("groups", "--dedupe", "--index", idx, "--json").stdout)["groups"] == []
