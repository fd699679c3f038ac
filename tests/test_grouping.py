"""`imgsearch groups` and `imgsearch map` end to end: clusters saved in the index, every output
written, pages and map rendered in a real browser."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from indexer import models
from indexer.store import Store
from indexer.update import IndexOptions, update_index
from search import grouping
from search.cluster import ClusterOptions
from browser import loaded_images, page

ROOT = Path(__file__).resolve().parents[1]


def family(folder: Path, colour, shape: str, count: int, seed: int) -> None:
    """Photos of one kind of scene: the same kind of object, placed and sized at random."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        image = Image.new("RGB", (200, 150), tuple(int(c) for c in rng.integers(200, 255, 3)))
        pen = ImageDraw.Draw(image)
        x, y, r = rng.integers(60, 140), rng.integers(55, 95), rng.integers(45, 60)
        if shape == "disc":
            pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        elif shape == "square":
            pen.rectangle((x - r, y - r, x + r, y + r), fill=colour)
        else:
            for top in range(int(rng.integers(0, 12)), 150, 24):
                pen.rectangle((0, top, 200, top + 12), fill=colour)
        image.save(folder / f"{i}.jpg")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("groups")
    family(root / "photos" / "red_discs", (200, 20, 20), "disc", 10, 1)
    family(root / "photos" / "blue_squares", (20, 20, 200), "square", 10, 2)
    family(root / "photos" / "green_stripes", (20, 160, 20), "stripes", 10, 3)
    with Store.open(root / "idx", writable=True, create=True) as store:
        update_index(store, [root / "photos"], models.resolve(), IndexOptions("cpu", 16, 0))
    return root / "idx"


def purity(outcome) -> float:
    """Share of photos in their cluster's majority folder."""
    right = 0
    for paths in outcome.members().values():
        folders = [os.path.basename(os.path.dirname(p)) for p in paths]
        right += max(folders.count(f) for f in set(folders))
    return right / len(outcome.paths)


def test_kmeans_groups_the_three_scenes_and_saves_them(index):
    outcome = grouping.run(index, ClusterOptions(method="kmeans", k=3))
    assert purity(outcome) == 1.0
    assert set(outcome.representatives) == {0, 1, 2}
    with Store.open(index) as store:
        saved = store.get_extra("clusters")
    assert saved["k"] == 3 and len(saved["labels"]) == 30


def test_auto_k_explains_itself_with_a_plot(index, tmp_path):
    outcome = grouping.run(index, ClusterOptions(method="kmeans"), k_plot=str(tmp_path / "k.png"))
    assert outcome.k_choice.best == outcome.result.k == 3
    assert Image.open(tmp_path / "k.png").size[0] > 400


def test_colour_features_group_by_colour(index):
    outcome = grouping.run(index, ClusterOptions(method="kmeans", k=3), features="color")
    assert purity(outcome) == 1.0


def test_json_csv_and_cli(index, tmp_path):
    result = subprocess.run([sys.executable, "-m", "search.cli", "groups", "--index", str(index), "--k", "3",
                             "--json", "--csv", str(tmp_path / "c.csv")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["k"] == 3 and sum(c["size"] for c in data["clusters"]) == 30
    rows = list(csv.DictReader(open(tmp_path / "c.csv")))
    assert len(rows) == 30 and sum(int(r["representative"]) for r in rows) == 3


def test_contact_sheets_render_every_thumbnail_in_chromium(index, tmp_path):
    outcome = grouping.run(index, ClusterOptions(method="kmeans", k=3))
    overview = grouping.write_html(outcome, tmp_path / "html")
    assert sorted(p.name for p in (tmp_path / "html").iterdir()) == [
        "cluster_0.html", "cluster_1.html", "cluster_2.html", "index.html"]
    with page() as tab:
        tab.goto(overview.as_uri())
        loaded, total = loaded_images(tab)
        assert total == 18 and loaded == total  # 6 per cluster on the overview
        tab.screenshot(path=str(tmp_path / "overview.png"))
        tab.click("a[href='cluster_0.html']")
        loaded, total = loaded_images(tab)
        assert loaded == total == len(outcome.members()[0])


def test_map_png_and_interactive_html(index, tmp_path):
    grouping.run(index, ClusterOptions(method="kmeans", k=3))
    written = grouping.draw_map(index, tmp_path / "map.png", tmp_path / "map.html", 1000, "tsne", "cnn")
    assert Image.open(written[0]).size == (1600, 1600)
    with page() as tab:
        tab.goto(written[1].as_uri())
        circles = tab.locator("circle")
        assert circles.count() == 30
        circles.last.hover()  # the topmost circle: points of near-identical photos overlap
        assert tab.locator("#tip").is_visible()
        assert tab.evaluate("document.getElementById('tipimg').naturalWidth") > 0
        assert tab.locator("#tippath").inner_text().endswith(".jpg")
