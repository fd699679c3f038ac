"""`imgsearch index --engine ray` (a local Ray instance, the real network) builds the index the
plain run builds: the same photos with the same facts, the same failures, and the same top-10
for sampled queries; a second run is incremental as ever."""

import json

import numpy as np
import pytest

from commands import imgsearch
from photos import draw_photo

from imgsearch_cnn.indexer.store import Store

pytest.importorskip("ray", reason="the Ray engine is an optional install: pip install 'imgsearch-cnn[ray]'")

PHOTOS = 40


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray-engine")
    photos = root / "photos"
    photos.mkdir()
    for seed in range(PHOTOS):
        draw_photo(seed % 25, (480, 360)).rotate(7 * (seed // 25)).save(photos / f"p{seed:02d}.jpg", quality=90)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    plain = imgsearch("index", photos, "--index", root / "plain", "--batch-size", "8")
    ray = imgsearch("index", photos, "--index", root / "ray", "--engine", "ray", "--batch-size", "8")
    assert plain.returncode == ray.returncode == 1, (plain.stderr, ray.stderr)  # 1: the broken file
    assert "ray: " in ray.stdout
    return photos, root


def test_the_same_photos_facts_and_failures(both):
    _, root = both
    with Store.open(root / "plain") as plain, Store.open(root / "ray") as ray:
        assert sorted(plain.records(), key=lambda r: r.path) == sorted(ray.records(), key=lambda r: r.path)
        assert plain.failures().keys() == ray.failures().keys()
        paths, plain_vectors = plain.all_vectors()
        ray_paths, ray_vectors = ray.all_vectors()
        assert paths == ray_paths and len(paths) == PHOTOS
        assert np.einsum("ij,ij->i", plain_vectors, ray_vectors).min() > 0.9999
        for feature in ("color", "phash"):
            assert np.allclose(plain.all_vectors(feature)[1], ray.all_vectors(feature)[1])


def test_the_same_top_ten_for_sampled_queries(both):
    photos, root = both
    for name in ("p00.jpg", "p07.jpg", "p26.jpg", "p39.jpg"):
        answers = [json.loads(imgsearch("similar", photos / name, "--index", root / index, "--json").stdout)
                   for index in ("plain", "ray")]
        assert [m["path"] for m in answers[0]] == [m["path"] for m in answers[1]]
        assert len(answers[0]) == 10


def test_a_second_ray_run_only_embeds_what_changed(both):
    photos, root = both
    draw_photo(99, (480, 360)).save(photos / "new.jpg")
    again = imgsearch("index", photos, "--index", root / "ray", "--engine", "ray")
    assert "embedded 1 images on ray" in again.stdout, again.stdout
    with Store.open(root / "ray") as store:
        assert store.count() == PHOTOS + 1


def test_address_without_the_ray_engine_is_refused(tmp_path):
    result = imgsearch("index", tmp_path, "--index", tmp_path / "idx", "--address", "auto")
    assert result.returncode == 2 and "--address needs --engine ray" in result.stderr
