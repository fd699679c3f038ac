"""maps: the 2-D layout keeps groups together, samples large collections and keeps labels."""

import numpy as np

from blobs import blobs
from imgsearch_cnn.search.clusters.maps import layout


def test_groups_stay_together_on_the_map():
    data, truth = blobs(n_per=30, centres=3, dims=64)
    points = layout([f"/p/{i}.jpg" for i in range(90)], data, truth, sample=1000, method="tsne")
    assert points.method == "tsne" and points.total == 90 and points.xy.shape == (90, 2)
    assert 0 <= points.xy.min() and points.xy.max() <= 1
    centres = np.array([points.xy[truth == g].mean(axis=0) for g in range(3)])
    spread = max(np.linalg.norm(points.xy[truth == g] - centres[g], axis=1).mean() for g in range(3))
    gaps = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
    assert gaps > 2 * spread


def test_large_collections_are_sampled_with_their_labels():
    data, truth = blobs(n_per=50, centres=2, dims=16)
    points = layout([f"/p/{i}.jpg" for i in range(100)], data, truth, sample=40, method="tsne")
    assert len(points.paths) == 40 and points.total == 100
    rows = [int(p[3:-4]) for p in points.paths]
    assert points.labels.tolist() == truth[rows].tolist()
