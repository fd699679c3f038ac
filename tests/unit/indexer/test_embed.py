"""embed (without a network): loading photos for the network, batching, devices and workers."""

import numpy as np
import pytest

from fakes import FAKE_SPEC
from imgsearch_cnn.indexer import embed
from photos import draw_photo


def test_load_gives_pixels_and_features_or_the_reason_it_cannot(tmp_path):
    draw_photo(1, (320, 240)).save(tmp_path / "a.jpg")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    good = embed.load(str(tmp_path / "a.jpg"), FAKE_SPEC.preprocessing)
    assert good.pixels.shape == (64, 64, 3) and good.pixels.dtype == np.uint8
    assert (good.width, good.height, good.format) == (320, 240, "JPEG")
    assert good.color is not None and good.phash.shape == (8,)
    bad = embed.load(str(tmp_path / "bad.jpg"), FAKE_SPEC.preprocessing)
    assert bad.pixels is None and bad.error


def test_worker_processes_yield_the_same_items_in_order(tmp_path):
    paths = []
    for i in range(9):
        draw_photo(i, (80, 60)).save(tmp_path / f"{i}.jpg")
        paths.append(str(tmp_path / f"{i}.jpg"))
    serial = list(embed.load_all(paths, FAKE_SPEC.preprocessing, workers=0))
    parallel = list(embed.load_all(paths, FAKE_SPEC.preprocessing, workers=2))
    assert [i.path for i in parallel] == paths
    assert all((a.pixels == b.pixels).all() for a, b in zip(serial, parallel))


def test_the_device_path_gets_headers_from_worker_processes_in_order(tmp_path):
    paths = []
    for i in range(11):
        draw_photo(i, (80 + i, 60)).save(tmp_path / f"{i}.jpg")
        paths.append(str(tmp_path / f"{i}.jpg"))
    items = list(embed.load_all(paths, FAKE_SPEC.preprocessing, workers=2, gpu_jpeg=True))
    assert [i.path for i in items] == paths
    assert all(i.jpeg and i.pixels is None for i in items)
    assert [i.width for i in items] == [80 + i for i in range(11)]


def test_batches_have_the_asked_size_and_keep_the_rest():
    assert [len(b) for b in embed.batches(iter(range(10)), 4)] == [4, 4, 2]


def test_auto_device_is_the_cpu_without_a_gpu_and_cuda_is_refused_clearly():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert embed.resolve_device("auto") == "cpu"
    with pytest.raises(Exception, match="(?i)cuda"):
        embed.resolve_device("cuda")
