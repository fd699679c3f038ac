"""gpu_prepare: JPEG batches decoded and prepared on the device match what the CPU path stores.

Run with device="cpu": the code path is the one CUDA takes."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from imgsearch_cnn.indexer import color, gpu_prepare, phash
from photos import draw_photo

pytest.importorskip("torchvision")


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, **options)
    return out.getvalue()


def decoded(blob: bytes) -> Image.Image:
    return Image.open(io.BytesIO(blob)).convert("RGB")


def bits_apart(a: np.ndarray, b: np.ndarray) -> list[int]:
    return [bin(int(x) ^ int(y)).count("1") for x, y in zip(a, b)]


def test_pixels_histograms_and_hashes_match_the_cpu_path():
    blobs = [jpeg(draw_photo(seed, (320 + 9 * seed, 240))) for seed in range(8)]
    prepared = gpu_prepare.prepare_jpegs(blobs, 224, "cpu")
    for blob, pixels, colors, hashes in zip(blobs, prepared.pixels, prepared.colors, prepared.phashes):
        image = decoded(blob)
        reference = np.asarray(image.resize((224, 224), Image.Resampling.BILINEAR), float)
        assert pixels.shape == (3, 224, 224) and pixels.dtype == torch.uint8
        assert np.abs(pixels.permute(1, 2, 0).numpy() - reference).mean() < 2
        assert float(colors @ color.hsv_histogram(reference.astype(np.uint8))) > 0.999
        assert max(bits_apart(hashes, phash.phashes(image))) <= 4  # bicubic thumbnail, not Lanczos


def test_hsv_bins_are_pillows():
    pixels = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    counts = gpu_prepare.hsv_counts(torch.from_numpy(pixels).permute(0, 3, 1, 2)).numpy()
    for one, got in zip(pixels, counts):
        hsv = np.asarray(Image.fromarray(one).convert("HSV"), dtype=np.uint32)
        index = [(hsv[..., c] * color.BINS[c]) >> 8 for c in range(3)]
        expected = np.bincount(((index[0] * color.BINS[1] + index[1]) * color.BINS[2] + index[2]).ravel(),
                               minlength=color.DIMS)
        assert got.sum() == 64 * 64 and np.abs(expected - got).sum() <= 8  # float rounding at bin edges


def test_the_dct_block_is_scipys():
    from scipy.fftpack import dct

    thumbnail = np.random.default_rng(1).uniform(0, 255, (phash.THUMBNAIL, phash.THUMBNAIL))
    expected = dct(dct(thumbnail, axis=0), axis=1)[:8, :8]
    got = gpu_prepare.dct_blocks(torch.from_numpy(thumbnail)[None])[0].numpy()
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_exif_orientation_is_applied_and_a_bad_file_spoils_only_itself():
    upright = draw_photo(4, (300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = jpeg(upright.transpose(Image.Transpose.ROTATE_90), exif=exif)
    prepared = gpu_prepare.prepare_jpegs([turned, b"\xff\xd8\xff not a jpeg", jpeg(draw_photo(5))], 224, "cpu")
    assert prepared.pixels[1] is None and prepared.colors[1] is None and prepared.phashes[1] is None
    assert prepared.pixels[2] is not None
    reference = np.asarray(upright.resize((224, 224), Image.Resampling.BILINEAR), float)
    assert np.abs(prepared.pixels[0].permute(1, 2, 0).numpy() - reference).mean() < 6


def test_rounds_bounded_by_pixels_give_the_same_results_in_order(monkeypatch):
    blobs = [jpeg(draw_photo(seed, (200 + 40 * (seed % 3), 150))) for seed in range(7)]
    sizes = [decoded(blob).size for blob in blobs]
    whole = gpu_prepare.prepare_jpegs(blobs, 64, "cpu", [w * h for w, h in sizes])
    monkeypatch.setattr(gpu_prepare, "MAX_DECODE_PIXELS", 2 * 280 * 150)
    rounds = gpu_prepare.prepare_jpegs(blobs, 64, "cpu", [w * h for w, h in sizes])
    for a, b in zip(whole.pixels, rounds.pixels):
        assert torch.equal(a, b)
    assert [h.tolist() for h in whole.phashes] == [h.tolist() for h in rounds.phashes]
    assert len({h[0] for h in whole.phashes}) == len(blobs)
