"""Shared fixtures: photos drawn on the fly, so a fresh clone needs no data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def draw_photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A distinct synthetic 'photo': gradient background, random shapes, a little noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = np.linspace(0, 1, w)[None, :, None] * rng.uniform(0, 255, 3) + np.linspace(0, 1, h)[:, None, None] * rng.uniform(0, 255, 3)
    image = Image.fromarray(np.clip(base / 2 + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8))
    pen = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        x1, y1 = x0 + rng.integers(10, w // 2), y0 + rng.integers(10, h // 2)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            pen.ellipse((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            pen.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            pen.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(2, 12)))
    return image


def make_photos(folder: Path, count: int, start: int = 0, fmt: str = "JPEG", ext: str = ".jpg") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + count):
        path = folder / f"photo_{i:04d}{ext}"
        draw_photo(i).save(path, fmt, quality=90) if fmt == "JPEG" else draw_photo(i).save(path, fmt)
        paths.append(path)
    return paths


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """One ONNX export per test session, outside the user's cache."""
    cache = tmp_path_factory.mktemp("model-cache")
    os.environ["IMGSEARCH_CACHE"] = str(cache)
    return cache


@pytest.fixture
def photos(tmp_path) -> Path:
    """A folder of 12 distinct JPEGs in two sub-folders."""
    root = tmp_path / "photos"
    make_photos(root / "a", 6, start=0)
    make_photos(root / "b", 6, start=6)
    return root


def needs_shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real photo data not present at {path}")
    return path
