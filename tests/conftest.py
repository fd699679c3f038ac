"""Shared fixtures (helpers that tests import live in photos.py, fakes.py, inventories.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from photos import make_photos


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


