"""render/maps: the PNG map with thumbnails and the interactive page."""

import json

import numpy as np
from PIL import Image

from imgsearch_cnn.search.clusters.maps import MapPoints
from imgsearch_cnn.search.render import maps
from photos import make_photos


def test_png_and_html_maps(tmp_path):
    paths = [str(p) for p in make_photos(tmp_path / "p", 6)]
    points = MapPoints(paths, np.linspace(0, 1, 12).reshape(6, 2), np.array([0, 0, 1, 1, -1, 2]), 10, "tsne")
    assert Image.open(maps.write_png(points, tmp_path / "map.png")).size == (1600, 1600)
    page = maps.write_html(points, tmp_path / "map.html").read_text()
    data = json.loads(page.split("const points = ")[1].split(";\n")[0])
    assert len(data) == 6 and data[4]["c"] == "#999999" and data[0]["t"].startswith("data:image/jpeg")
    assert "TSNE map of 6 of 10 photos (random sample)" in page


def test_spread_keeps_one_point_per_cell():
    xy = np.array([[0.1, 0.1], [0.11, 0.11], [0.9, 0.9]])
    assert maps.spread(xy, 4) == [0, 2]
