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
    assert raw.jpeg is not None and raw.pixels is None and (raw.width, raw.height) == (320, 240)
    decoded = embed.load(str(tmp_path / "a.jpg"), embedder.spec.preprocessing)
    _, v1 = embedder.embed_loaded([raw])
    _, v2 = embedder.embed_loaded([decoded])
    assert float(v1[0] @ v2[0]) > 0.9999


def test_device_jpeg_decoder_matches_pil_and_applies_orientation(tmp_path):
    upright = draw_photo(4, (300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "r.jpg", quality=95, exif=exif)
    blobs = [(tmp_path / "r.jpg").read_bytes(), b"\xff\xd8\xff not a jpeg"]
    decoded = embed.gpu_decode_jpegs(blobs, 224, device="cpu")  # same code path as on CUDA
    assert decoded[1] is None
    reference = np.asarray(upright.resize((224, 224), Image.Resampling.BILINEAR), float)
    got = decoded[0].permute(1, 2, 0).numpy().astype(float)
    assert np.abs(got - reference).mean() < 6


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
