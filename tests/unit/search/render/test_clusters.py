"""render/clusters: JSON, CSV, contact-sheet pages and the k plot of a clusters run."""

import csv

import pytest
from PIL import Image

from fakes import fake_index
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.clusters import job
from imgsearch_cnn.search.clusters.methods import ClusterOptions
from imgsearch_cnn.search.render import clusters as render
from photos import three_families


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    root = tmp_path_factory.mktemp("render-clusters")
    fake_index(root / "idx", [three_families(root)])
    with Store.open(root / "idx") as store:
        return job.run(store, ClusterOptions(method="kmeans"))


def test_json_and_csv_list_every_photo_once(outcome, tmp_path):
    data = render.to_json(outcome, k_plot=tmp_path / "k.png")
    assert data["k"] == 3 and sum(c["size"] for c in data["clusters"]) == 30 and data["k_plot"].endswith("k.png")
    rows = list(csv.DictReader(open(render.write_csv(outcome, tmp_path / "c.csv"))))
    assert len(rows) == 30 and sum(int(r["representative"]) for r in rows) == 3


def test_contact_sheets_one_page_per_cluster(outcome, tmp_path):
    overview = render.write_html(outcome, tmp_path / "pages", per_overview=4)
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == [
        "cluster_0.html", "cluster_1.html", "cluster_2.html", "index.html"]
    assert overview.read_text().count("<figure") == 12


def test_k_plot_is_a_picture(outcome, tmp_path):
    plot = render.plot_k_choice(outcome.k_choice, tmp_path / "deep" / "k.png")
    assert Image.open(plot).size == (800, 450)
