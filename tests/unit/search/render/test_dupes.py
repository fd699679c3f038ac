"""render/dupes: the report of a dupes run in every format, readable at 80 columns."""

import csv
import json
import shutil

import pytest
from rich.console import Console

from fakes import fake_index
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import groups, job
from imgsearch_cnn.search.render import dupes as render
from photos import draw_photo


@pytest.fixture
def outcome(tmp_path):
    photos = tmp_path / "a fairly long folder name" / "holiday photos from the summer"
    photos.mkdir(parents=True)
    draw_photo(1, (400, 300)).save(photos / "beach.jpg", quality=90)
    shutil.copy(photos / "beach.jpg", photos / "beach copy.jpg")
    draw_photo(1, (400, 300)).resize((200, 150)).save(photos / "beach small.jpg", quality=80)
    fake_index(tmp_path / "idx", [photos])
    with Store.open(tmp_path / "idx") as store:
        return job.run(store, groups.DedupeOptions(), "move", str(tmp_path / "set aside"))


def test_json_counts_add_up_and_say_bytes_not_pixels(outcome):
    data = render.to_json(outcome)
    assert data["duplicates"] == 2 == sum(data["accepted_by"].values())
    member = data["groups"][0]["members"][1]
    assert {"bytes", "width", "height"} <= set(member) and "size" not in member
    assert member["action"].startswith("move to ")


def test_csv_has_one_row_per_photo(outcome, tmp_path):
    rows = list(csv.DictReader(open(render.write_csv(outcome, tmp_path / "plan.csv"))))
    assert len(rows) == 3 and sum(r["keeper"] == "1" for r in rows) == 1


def test_html_page_marks_the_keeper(outcome, tmp_path):
    page = render.write_html(outcome, tmp_path / "plan.html").read_text()
    assert page.count("<figure") == 3 and page.count("class='wide keeper'") == 1
    assert "KEEP: " in page
    assert "dry run: nothing has been changed" in page and "data:image/jpeg;base64," in page


def test_the_table_fits_80_columns_and_prints_each_path_once(outcome, monkeypatch):
    console = Console(width=80, record=True, color_system=None)
    monkeypatch.setattr(render, "console", console)
    render.print_table(outcome)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("beach small.jpg") == 1 and "set aside" not in text.split("moves go to")[0]
    assert "1 group, 2 duplicates (accepted by" in text and "dry run: 2 files would change" in text


def test_each_group_says_why_its_keeper_won(outcome, monkeypatch):
    assert render.to_json(outcome)["groups"][0]["keeper_reason"] == outcome.result.groups[0].keeper_reason != ""
    console = Console(width=80, record=True, color_system=None)
    monkeypatch.setattr(render, "console", console)
    render.print_table(outcome)
    assert f"(keeper: {outcome.result.groups[0].keeper_reason})" in console.export_text()
