"""embed: batches of photos become unit vectors; the GPU JPEG path agrees with the CPU path."""

import numpy as np
import pytest
from PIL import Image

from imgsearch_cnn.indexer import embed, models
from photos import draw_photo


@pytest.fixture(scope="module")
def embedder():
    return embed.Embedder(models.resolve(), device="cpu")


def test_vectors_are_unit_length_and_deterministic(embedder, tmp_path):
    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"{i}.jpg"))
        draw_photo(i).save(paths[-1])
    items = list(embed.load_all(paths, embedder.spec.preprocessing, workers=0))
    good, vectors = embedder.embed_loaded(items)
    assert len(good) == 3 and vectors.shape == (3, 1280)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    _, again = embedder.embed_loaded(list(embed.load_all(paths, embedder.spec.preprocessing, workers=0)))
    assert np.abs(vectors - again).max() < 1e-6


def test_bad_file_in_a_batch_is_reported_not_fatal(embedder, tmp_path):
    draw_photo(1).save(tmp_path / "ok.jpg")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff broken")
    items = [embed.load(str(tmp_path / n), embedder.spec.preprocessing) for n in ("ok.jpg", "bad.jpg")]
    good, vectors = embedder.embed_loaded(items)
    assert [g.path for g in good] == [str(tmp_path / "ok.jpg")] and len(vectors) == 1
    assert items[1].error


def test_undecoded_jpegs_fall_back_to_the_cpu_decoder(embedder, tmp_path):
    draw_photo(3).save(tmp_path / "a.jpg")
    raw = embed.load(str(tmp_path / "a.jpg"), embedder.spec.preprocessing, gpu_jpeg=True)
    assert raw.jpeg and raw.pixels is None and (raw.width, raw.height) == (320, 240)
    decoded = embed.load(str(tmp_path / "a.jpg"), embedder.spec.preprocessing)
    _, v1 = embedder.embed_loaded([raw])
    _, v2 = embedder.embed_loaded([decoded])
    assert float(v1[0] @ v2[0]) > 0.9999


def test_device_choice():
    assert embed.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError):
        embed.resolve_device("tpu")


def test_colour_histogram_is_a_unit_vector_that_separates_colours():
    from imgsearch_cnn.indexer.color import DIMS, hsv_histogram

    red = hsv_histogram(np.full((32, 32, 3), (220, 20, 20), np.uint8))
    red2 = hsv_histogram(np.full((32, 32, 3), (200, 30, 25), np.uint8))
    blue = hsv_histogram(np.full((32, 32, 3), (20, 20, 220), np.uint8))
    assert red.shape == (DIMS,) and abs(np.linalg.norm(red) - 1) < 1e-6
    assert float(red @ red2) > 0.9 and float(red @ blue) < 0.1


def test_the_device_pipeline_agrees_with_the_cpu_pipeline(embedder, tmp_path):
    """The CUDA code path (JPEGs decoded and prepared in a batch by the device), followed on the
    CPU: same photos embedded, same vectors, histograms and hashes, bad files reported."""
    draw_photo(1).save(tmp_path / "a.jpg", quality=92)
    draw_photo(2, (400, 300)).save(tmp_path / "b.jpg", quality=92)
    draw_photo(3).save(tmp_path / "c.png")
    (tmp_path / "d.jpg").write_bytes(b"\xff\xd8\xff broken")
    paths = [str(tmp_path / name) for name in ("a.jpg", "b.jpg", "c.png", "d.jpg")]
    on_device = embed.Embedder(models.resolve(), device="cpu", device_decode=True)
    assert on_device.decodes_jpeg and on_device.runtime == "torch"
    raw = list(embed.load_all(paths, embedder.spec.preprocessing, workers=0, gpu_jpeg=True))
    assert raw[0].jpeg and raw[0].pixels is None and raw[2].pixels is not None
    good, vectors = on_device.embed_loaded(raw)
    reference = list(embed.load_all(paths, embedder.spec.preprocessing, workers=0))
    expected_good, expected = embedder.embed_loaded(reference)
    assert [g.path for g in good] == [g.path for g in expected_good] == paths[:3]
    assert raw[3].error and not raw[3].jpeg
    assert (vectors * expected).sum(axis=1).min() > 0.995
    for got, want in zip(good, expected_good):
        assert float(got.color @ want.color) > 0.999
        assert max(bin(int(x) ^ int(y)).count("1") for x, y in zip(got.phash, want.phash)) <= 4


def test_an_index_built_through_the_device_pipeline_matches_the_cpu_one(tmp_path):
    from imgsearch_cnn.indexer.store import Store
    from imgsearch_cnn.indexer.update import IndexOptions, update_index

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(10):
        draw_photo(i, (300 + 10 * i, 200)).save(photos / f"{i}.jpg", quality=90)
    draw_photo(11).save(photos / "p.png")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    spec = models.resolve()
    vectors = {}
    for name, device_decode in (("cpu", False), ("device", True)):
        with Store.open(tmp_path / name, writable=True, create=True) as store:
            embedder = embed.Embedder(spec, "cpu", device_decode=device_decode)
            summary = update_index(store, [photos], spec, IndexOptions("cpu", workers=3), embedder=embedder)
            assert (summary.embedded, summary.failed) == (11, 1)
            vectors[name] = {r.path: store.vector(r.hash) for r in store.records()}
    assert vectors["cpu"].keys() == vectors["device"].keys()
    assert min(float(vectors["cpu"][p] @ vectors["device"][p]) for p in vectors["cpu"]) > 0.995
