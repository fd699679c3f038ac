"""What the pixels of two photos say once they are lined up: edge maps of same-framed photos
(after a perceptual-hash match), tile-by-tile agreement (a copy agrees everywhere, another shot
disagrees where something moved), texture and steps around one photo's footprint in another
(more scene around a crop, flat bands around a letterboxed or captioned copy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imgsearch_cnn.indexer.decode import DecodeError, open_image
from imgsearch_cnn.search.dupes.lru import BoundedCache

if TYPE_CHECKING:
    import PIL.Image


# Photos are read for every check at this size (the least a JPEG is decoded to, by DCT scaling)
# whatever the check wants of them, so one reading serves the edge map and the keypoints alike.
READ_SIDE = 512


def read(path: str) -> "PIL.Image.Image | None":
    """The photo as the checks read it (an upright RGB PIL image), or None if it cannot be read."""
    try:
        return open_image(path, draft_size=READ_SIDE).image
    except DecodeError:
        return None


class PixelCache:
    """Edge maps of photos at one small square size, for comparing two photos of the same framing
    (what a perceptual-hash match says they have) pixel by pixel."""

    def __init__(self, size: int = 256, blur: float = 2.0, capacity: int | None = None):
        self.size, self.blur = size, blur
        self._cache = BoundedCache(capacity)

    def edges(self, path: str, orientation: int = 0, image: "PIL.Image.Image | None" = None) -> np.ndarray | None:
        """Gradient magnitude of the photo squashed to size x size, turned by
        phash.ORIENTATIONS[orientation]. ``image``: the photo already :func:`read`, if it is."""
        def make():
            photo = read(path) if image is None else image
            return None if photo is None else edge_map(photo, self.size, self.blur).astype(np.float16)  # half the memory

        edges = self._cache.get(path, make)
        return None if edges is None else _turn(edges.astype(np.float32), orientation)

    def release(self, path: str) -> None:
        self._cache.drop(path)

    def agreement(self, path_a: str, path_b: str, orientation: int) -> float:
        """Correlation of the edges of a and of b turned by ``orientation`` (1.0 = same picture;
        different photos of look-alike product shots stay well below a copy's score)."""
        a, b = self.edges(path_a), self.edges(path_b, orientation)
        return 0.0 if a is None or b is None else correlation(a, b)


def edge_map(image: "PIL.Image.Image", size: int, blur: float) -> np.ndarray:
    """Gradient magnitude of a decoded RGB photo (PIL image) squashed to size x size and blurred."""
    import cv2
    from PIL import Image

    grey = np.asarray(image.convert("L").resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)
    smooth = cv2.GaussianBlur(grey, (0, 0), blur)
    return np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))


def _turn(square: np.ndarray, orientation: int) -> np.ndarray:
    """The square array turned like phash.ORIENTATIONS[orientation] turns an image."""
    turns = (lambda x: x, lambda x: np.rot90(x, 1), lambda x: np.rot90(x, 2), lambda x: np.rot90(x, 3),
             np.fliplr, np.flipud, lambda x: x.T, lambda x: np.rot90(x, 2).T)
    return np.ascontiguousarray(turns[orientation](square))


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    denominator = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / denominator) if denominator > 0 else 0.0


TILE = 32  # px at MAX_SIDE: a face, a sticker, a moved hand spans a few tiles
TILES = 6  # ...and at least this many tiles along the shorter side of a small photo
TILE_MATCH = 0.5  # a tile agrees when its blurred pixels correlate at least this much
_FLAT = 4.0  # grey-level spread below which a tile has no texture to compare
BLUR = 2.5  # px: pixels are compared blurred, so that resampling and noise do not count


def blurred(image: np.ndarray) -> np.ndarray:
    """The image as tile_agreement and the alignment check compare it."""
    import cv2

    return cv2.GaussianBlur(image, (0, 0), BLUR)


def tile_agreement(a: np.ndarray, b: np.ndarray, cover: np.ndarray | None = None, blur: bool = True) -> float:
    """Share of the textured tiles, inside ``cover``, where aligned images a and b correlate: a
    copy agrees nearly everywhere; another shot of the scene disagrees where anything moved.
    ``blur=False``: a and b are already ``blurred``."""
    if blur:
        a, b = blurred(a), blurred(b)
    height, width = b.shape
    tile = min(TILE, max(8, min(height, width) // TILES))
    rows, cols = height // tile, width // tile
    p, q = _tiles(a, tile, rows, cols), _tiles(b, tile, rows, cols)
    p, q = p - p.mean(axis=2, keepdims=True), q - q.mean(axis=2, keepdims=True)
    spread_p, spread_q = (p * p).mean(axis=2), (q * q).mean(axis=2)
    use = (spread_p >= _FLAT ** 2) | (spread_q >= _FLAT ** 2)
    if cover is not None:
        use &= _tiles(cover.astype(np.float32), tile, rows, cols).mean(axis=2) >= 0.9
    if use.sum() < 4:  # too small or too plain to tell by tiles: the whole picture decides
        whole = correlation(a[cover] if cover is not None else a, b[cover] if cover is not None else b)
        return 1.0 if whole >= 0.95 else 0.0
    denominator = np.sqrt(spread_p * spread_q)
    scores = np.where(denominator > 0, (p * q).mean(axis=2) / np.maximum(denominator, 1e-12), 0.0)
    return float(np.mean(scores[use] >= TILE_MATCH))


def textured(image: np.ndarray, where: np.ndarray) -> float:
    """Share of the image's tiles lying (mostly) in ``where`` that have texture (0 if none do)."""
    tile = min(TILE, max(8, min(image.shape) // TILES))
    rows, cols = image.shape[0] // tile, image.shape[1] // tile
    if not rows or not cols:
        return 0.0
    pixels = _tiles(image.astype(np.float32), tile, rows, cols)
    use = _tiles(where.astype(np.float32), tile, rows, cols).mean(axis=2) >= 0.99  # wholly outside
    return float((pixels[use].std(axis=1) >= _FLAT).mean()) if use.any() else 0.0


def open_sides(region: np.ndarray, margin: float = 0.03) -> int:
    """On how many of the image's four sides ``region`` leaves a margin (of this share)."""
    height, width = region.shape
    rows, cols = max(1, int(height * margin)), max(1, int(width * margin))
    strips = (region[:rows], region[-rows:], region[:, :cols], region[:, -cols:])
    return sum(strip.mean() < 0.5 for strip in strips)


def edge_step(image: np.ndarray, region: np.ndarray, width: int = 3) -> float:
    """Difference of the mean grey level just outside ``region`` and just inside it."""
    import cv2

    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    mask = region.astype(np.uint8)
    outside = (cv2.dilate(mask, kernel) > 0) & ~region
    inside = region & ~(cv2.erode(mask, kernel) > 0)
    if not outside.any() or not inside.any():
        return 0.0
    return abs(float(image[outside].mean()) - float(image[inside].mean()))


def _tiles(image: np.ndarray, tile: int, rows: int, cols: int) -> np.ndarray:
    """(rows, cols, tile * tile): the image cut into whole tiles from its top-left corner."""
    cut = image[:rows * tile, :cols * tile].reshape(rows, tile, cols, tile)
    return cut.transpose(0, 2, 1, 3).reshape(rows, cols, tile * tile)
