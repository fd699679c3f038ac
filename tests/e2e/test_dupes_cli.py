"""`imgsearch dupes` (and its spellings `dedupe`, `groups --dedupe`) end to end with the real
network: report formats, dry run, apply, undo, the HTML page in Chromium."""

import csv
import json
import os
import shutil

import pytest

from browser import assert_screenshot_shows_photos, loaded_images, page
from commands import imgsearch
from photos import draw_photo


def test_dedupe_cli_report_dry_run_apply_and_undo(tmp_path):
    photos, idx = tmp_path / "photos", tmp_path / "idx"
    photos.mkdir()
    for seed in range(3):
        draw_photo(seed, (400, 300)).save(photos / f"p{seed}.jpg", quality=90)
    draw_photo(0, (400, 300)).resize((200, 150)).save(photos / "p0_small.jpg", quality=80)
    shutil.copy(photos / "p1.jpg", photos / "p1_copy.jpg")
    assert imgsearch("index", photos, "--index", idx, "--workers", "0").returncode == 0

    for spelling in (["dupes"], ["dedupe"], ["groups", "--dedupe"]):
        report = json.loads(imgsearch(*spelling, "--index", idx, "--json").stdout)
        found = sorted(sorted(os.path.basename(m["path"]) for m in g["members"]) for g in report["groups"])
        assert found == [["p0.jpg", "p0_small.jpg"], ["p1.jpg", "p1_copy.jpg"]], spelling
        assert all(g["members"][0]["keeper"] for g in report["groups"])

    dry = imgsearch("dupes", "--index", idx, "--move-to", tmp_path / "dupes",
                    "--csv", tmp_path / "plan.csv", "--html", tmp_path / "plan.html")
    assert dry.returncode == 0 and "dry run" in dry.stdout and not (tmp_path / "dupes").exists()
    rows = list(csv.DictReader(open(tmp_path / "plan.csv")))
    assert sum(r["action"].startswith("move to") for r in rows) == 2

    with page() as tab:
        tab.goto((tmp_path / "plan.html").as_uri())
        loaded, total = loaded_images(tab)
        assert loaded == total == 4
        assert tab.locator("figure.keeper").count() == 2
        assert_screenshot_shows_photos(tab, tmp_path / "plan.png")

    refused = imgsearch("dupes", "--index", idx, "--delete", "--apply")
    assert refused.returncode == 2 and "--yes" in refused.stderr

    applied = imgsearch("dupes", "--index", idx, "--move-to", tmp_path / "dupes", "--apply")
    assert applied.returncode == 0 and len(list((tmp_path / "dupes").rglob("*.jpg"))) == 2
    assert len(list(photos.glob("*.jpg"))) == 3
    undone = imgsearch("undo", "--index", idx)
    assert undone.returncode == 0 and "restored 2" in undone.stdout
    assert len(list(photos.glob("*.jpg"))) == 5


@pytest.mark.parametrize("marking", [["dupes"], ["groups"]])
def test_ignore_from_the_command_line(tmp_path, marking):
    photos, idx = tmp_path / "photos", tmp_path / "idx"
    photos.mkdir()
    draw_photo(5, (400, 300)).save(photos / "x.jpg", quality=90)
    draw_photo(5, (400, 300)).resize((300, 225)).save(photos / "x_small.jpg", quality=85)
    imgsearch("index", photos, "--index", idx, "--workers", "0")
    assert len(json.loads(imgsearch("dupes", "--index", idx, "--json").stdout)["groups"]) == 1
    marked = imgsearch(*marking, "--index", idx, "--ignore", photos / "x.jpg", "--ignore", photos / "x_small.jpg")
    assert "1 pair" in marked.stdout
    assert json.loads(imgsearch("dupes", "--index", idx, "--json").stdout)["groups"] == []


def test_similar_shots_are_reported_apart_and_moved_only_when_asked(tmp_path):
    from photos import save_with_metadata

    photos, idx = tmp_path / "photos", tmp_path / "idx"
    photos.mkdir()
    first = draw_photo(41, (480, 360))
    second = first.copy()
    second.paste(draw_photo(42, (60, 60)), (300, 200))
    camera = ("Canon", "Canon EOS R5")
    save_with_metadata(first, photos / "frame_a.jpg", "2024:05:01 10:00:00", "100", camera)
    save_with_metadata(second, photos / "frame_b.jpg", "2024:05:01 10:00:00", "400", camera)
    save_with_metadata(first.resize((240, 180)), photos / "frame_a_small.jpg", "2024:05:01 10:00:00", "100", camera,
                       gps=True)
    (photos / "frame_a_small.jpg.xmp").write_text("<x:xmpmeta/>")
    assert imgsearch("index", photos, "--index", idx, "--workers", "0").returncode == 0

    report = json.loads(imgsearch("dupes", "--index", idx, "--json").stdout)
    tiers = {g["tier"]: sorted(os.path.basename(m["path"]) for m in g["members"]) for g in report["groups"]}
    assert tiers == {"duplicates": ["frame_a.jpg", "frame_a_small.jpg"], "similar shots": ["frame_a.jpg", "frame_b.jpg"]}
    small = next(m for g in report["groups"] for m in g["members"] if m["path"].endswith("frame_a_small.jpg"))
    assert small["metadata_keeper_lacks"] == ["gps"]
    table = imgsearch("dupes", "--index", idx).stdout
    assert "similar shots" in table and "taken 0.3 s apart" in table and "gps that the keeper lacks" in table

    refused = imgsearch("dupes", "--index", idx, "--include-similar-shots")
    assert refused.returncode == 2 and "needs an action" in refused.stderr

    moved = imgsearch("dupes", "--index", idx, "--move-to", tmp_path / "out", "--apply")
    assert moved.returncode == 0
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["frame_a_small.jpg", "frame_a_small.jpg.xmp"]
    assert imgsearch("undo", "--index", idx).returncode == 0
    assert sorted(p.name for p in photos.iterdir()) == ["frame_a.jpg", "frame_a_small.jpg", "frame_a_small.jpg.xmp",
                                                         "frame_b.jpg"]

    both = imgsearch("dupes", "--index", idx, "--move-to", tmp_path / "out2", "--include-similar-shots", "--apply")
    assert both.returncode == 0
    assert {p.name for p in (tmp_path / "out2").rglob("*.jpg")} == {"frame_a_small.jpg", "frame_b.jpg"}
