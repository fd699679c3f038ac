"""`imgsearch clusters`, its alias `imgsearch groups`, and `imgsearch map` end to end: clusters
saved in the index, every output written, pages and map rendered in a real browser."""

import csv
import json

import pytest
from PIL import Image

from browser import assert_screenshot_shows_photos, loaded_images, page
from commands import imgsearch
from fakes import fake_index
from photos import three_families


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("clusters-cli")
    fake_index(root / "idx", [three_families(root)])  # clustering needs vectors, not the network
    return root / "idx"


@pytest.mark.parametrize("command", [["clusters"], ["groups"]])
def test_json_and_csv_from_the_command_and_its_alias(index, tmp_path, command):
    result = imgsearch(*command, "--index", index, "--k", "3", "--json", "--csv", tmp_path / "c.csv")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["k"] == 3 and sum(c["size"] for c in data["clusters"]) == 30
    assert data["notes"][0].startswith("method auto: ")  # the default picks the method and says why
    rows = list(csv.DictReader(open(tmp_path / "c.csv")))
    assert len(rows) == 30 and sum(int(r["representative"]) for r in rows) == 3


def test_auto_k_writes_its_plot_and_says_so(index, tmp_path):
    result = imgsearch("clusters", "--index", index, "--k-plot", tmp_path / "k.png")
    assert result.returncode == 0 and "k=3 chosen by" in result.stdout and "k.png" in result.stdout
    assert "Choosing k: " in result.stderr and "Trying clustering methods: 3 methods" in result.stderr  # progress
    assert Image.open(tmp_path / "k.png").size[0] > 400


def test_contact_sheets_render_every_thumbnail_in_chromium(index, tmp_path):
    result = imgsearch("clusters", "--index", index, "--k", "3", "--html", tmp_path / "html")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "html").iterdir()) == [
        "cluster_0.html", "cluster_1.html", "cluster_2.html", "index.html"]
    with page() as tab:
        tab.goto((tmp_path / "html" / "index.html").as_uri())
        loaded, total = loaded_images(tab)
        assert total == 18 and loaded == total  # 6 per cluster on the overview
        assert_screenshot_shows_photos(tab, tmp_path / "overview.png")
        tab.click("a[href='cluster_0.html']")
        loaded, total = loaded_images(tab)
        assert loaded == total == 10


def test_map_png_and_interactive_html(index, tmp_path):
    assert imgsearch("clusters", "--index", index, "--k", "3").returncode == 0
    result = imgsearch("map", "--index", index, "--out", tmp_path / "map.png", "--html", tmp_path / "map.html",
                       "--method", "tsne")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "map.png").size == (1600, 1600)
    with page() as tab:
        tab.goto((tmp_path / "map.html").as_uri())
        circles = tab.locator("circle")
        assert circles.count() == 30
        assert len({circles.nth(i).get_attribute("fill") for i in range(30)}) == 3  # the saved clusters
        circles.last.hover()  # the topmost circle: points of near-identical photos overlap
        assert tab.locator("#tip").is_visible()
        assert tab.evaluate("document.getElementById('tipimg').naturalWidth") > 0
        assert tab.locator("#tippath").inner_text().endswith(".jpg")


def test_clustering_works_while_an_index_run_holds_the_index(index):
    from imgsearch_cnn.indexer.store import Store

    with Store.open(index, writable=True):  # as `imgsearch index` does while it runs
        result = imgsearch("clusters", "--index", index, "--k", "3", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["k"] == 3
    assert "warning: clusters not saved in the index" in result.stderr


@pytest.mark.parametrize("method", ["gmm", "deep"])
def test_soft_methods_give_each_photo_its_probability(index, tmp_path, method):
    result = imgsearch("clusters", "--index", index, "--method", method, "--k", "3", "--json", "--csv", tmp_path / "g.csv",
                       "--html", tmp_path / "html")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["method"] == method and len(data["confidence"]) == 30
    if method == "deep":  # trained from auto's clusters, and it says which partition it kept
        assert "Training clustering heads" in result.stderr and any("kept the" in note for note in data["notes"])
    assert all(0 < value <= 1 for value in data["confidence"].values())
    assert all(row["confidence"] for row in csv.DictReader(open(tmp_path / "g.csv")))
    with page() as tab:  # each contact sheet shows every photo's probability, the least sure last
        tab.goto((tmp_path / "html" / "cluster_0.html").as_uri())
        shown = [float(text.rstrip("%")) for text in tab.locator(".confidence").all_inner_texts()]
        assert len(shown) == len(next(c for c in data["clusters"] if c["id"] == 0)["paths"])
        assert shown[1:] == sorted(shown[1:], reverse=True)  # after the representative, surest first


def test_the_same_seed_gives_the_same_clusters(index):
    def clusters(seed):
        result = imgsearch("clusters", "--index", index, "--method", "deep", "--k", "4", "--seed", seed, "--json")
        assert result.returncode == 0, result.stderr
        return sorted(sorted(c["paths"]) for c in json.loads(result.stdout)["clusters"])

    assert clusters("7") == clusters("7")
    assert imgsearch("clusters", "--index", index, "--seed", "-1").returncode == 2  # refused, nothing run
