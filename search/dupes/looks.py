"""Signs, read from the pixels, that a photo is a derived copy rather than the original:
added borders (letterbox, caption bars, frames) and lost colour. Used by the `original` keeper
rule (search/dupes/keep.py); computed only for the photos of duplicate groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imgsearch_cnn.indexer.decode import DecodeError, open_image

SIDE = 96  # thumbnail side the signs are read from
_OUTER = 0.35  # share of each side searched for an added band
_FLAT_SPREAD = 8  # grey levels: a row or column this even is part of a flat band
_FLAT_SHARE = 0.8  # ...for this share of its pixels (most of a caption bar, with its text)
_GREY_SATURATION = 0.04  # mean HSV saturation below this: a black-and-white picture...
_COLOURFUL = 0.15  # ...and so is one whose pixels this saturated cover less than
_COLOURFUL_SHARE = 0.1  # this share: a coloured sticker pasted on a black-and-white photo


@dataclass(frozen=True)
class Look:
    flat_rows: float  # share of the rows that are flat bands at the top and bottom edges
    flat_cols: float  # share of the columns that are flat bands at the left and right edges
    grey: bool  # no colour, or only in a small patch

    @property
    def border(self) -> float:
        """Flat edge bands, as shares of the height and the width added up."""
        return self.flat_rows + self.flat_cols

    def content(self, width: int, height: int) -> float:
        """Pixels of the picture inside its flat edge bands: the field of view it shows."""
        return width * (1 - self.flat_cols) * height * (1 - self.flat_rows)


def look(path: str) -> Look | None:
    """The signs of one photo (None if it cannot be read)."""
    try:
        return look_of(open_image(path, draft_size=SIDE * 2).image)
    except DecodeError:
        return None


def look_of(image) -> Look:
    """The signs of a decoded RGB photo (a PIL image, any size)."""
    from PIL import Image

    small = image.resize((SIDE, SIDE), Image.Resampling.BOX, reducing_gap=2.0)  # fast on big photos too
    grey = np.asarray(small.convert("L"), dtype=np.float32)
    saturation = np.asarray(small.convert("HSV"), dtype=np.float32)[..., 1] / 255
    rows, cols = _bands(grey)
    grey = float(saturation.mean()) < _GREY_SATURATION or float((saturation > _COLOURFUL).mean()) < _COLOURFUL_SHARE
    return Look(rows, cols, grey)


def _flat(lines: np.ndarray) -> np.ndarray:
    """For each row of ``lines``: whether nearly all of it sits within a few levels of its median."""
    close = np.abs(lines - np.median(lines, axis=1, keepdims=True)) <= _FLAT_SPREAD
    return close.mean(axis=1) >= _FLAT_SHARE


def _bands(grey: np.ndarray) -> tuple[float, float]:
    """(share of rows, share of columns) that are flat within the outer band of each side."""
    outer = int(SIDE * _OUTER)
    flat_rows, flat_cols = _flat(grey), _flat(grey.T)
    rows = flat_rows[:outer].sum() + flat_rows[::-1][:outer].sum()
    cols = flat_cols[:outer].sum() + flat_cols[::-1][:outer].sum()
    return float(rows) / SIDE, float(cols) / SIDE


class LookCache:
    """Looks per path, computed once per run; ``known`` ones (read while the photo was decoded
    for its check features) are not decoded again."""

    def __init__(self, known: dict[str, Look] | None = None):
        self._cache: dict[str, Look | None] = dict(known or {})

    def prefetch(self, paths: list[str], workers: int) -> None:
        """Work out the looks of many photos at once on ``workers`` threads (decoding releases
        the GIL): keeper choice then finds them ready instead of decoding one photo at a time."""
        from concurrent.futures import ThreadPoolExecutor

        todo = [p for p in dict.fromkeys(paths) if p not in self._cache]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            self._cache.update(zip(todo, pool.map(look, todo)))

    def __call__(self, path: str) -> Look | None:
        if path not in self._cache:
            self._cache[path] = look(path)
        return self._cache[path]
