"""Local-feature check of a candidate duplicate pair: do the two photos show the same pixels?

SIFT keypoints (OpenCV), Lowe's ratio test, a RANSAC affine transform (rotation, scale, shift
and a change of aspect ratio: covers crops, straightening, resizing and squashing), then the
normalised cross-correlation of the
blurred grey pixels where the two photos overlap once aligned. A different shot of the same
scene has matching keypoints on the background but its moved subject breaks the correlation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from imgsearch_cnn.indexer.decode import DecodeError, open_image

MAX_SIDE = 512  # detail beyond this does not change the verdict but costs time
# Keypoints per photo: matching costs grow with their square; 1,500 and 300 gave the same recall
# on the development benchmark, 300 in half the time (docs/BENCHMARKS.md).
MAX_FEATURES = 300


@dataclass
class Features:
    grey: np.ndarray  # uint8 grey image, long side <= MAX_SIDE (kept small: one per photo checked)
    keypoints: np.ndarray  # (n, 2) float32 positions
    descriptors: np.ndarray | None  # (n, 128) uint8: OpenCV's SIFT values are whole numbers 0..255


@dataclass
class Verdict:
    same: bool  # b contains a copy of a's pixels (a crop, a resize, a turn...)
    inliers: int
    correlation: float
    residual: float = float("inf")  # median distance (px) of the matched keypoints once aligned
    containment: float = 0.0  # share of a or of b, the larger, that lies inside the other
    agreement: float = 0.0  # share of textured tiles whose pixels correlate once aligned
    # (share of the first photo lying inside the second, share of the second inside the first):
    # a crop lies wholly inside its original, the original only partly inside the crop
    inside: tuple[float, float] = (0.0, 0.0)
    # (share of the first photo's area outside the second that has texture, the same of the
    # second): a real wider view shows more scene there; added bars are flat
    beyond: tuple[float, float] = (0.0, 0.0)
    # (how much the grey level steps where the second photo's edge lies in the first, the same
    # the other way): an added bar meets the picture in a visible step, a wider scene does not
    step: tuple[float, float] = (0.0, 0.0)
    # (on how many sides the first photo reaches beyond the second, the same the other way):
    # a caption bar is one side, a letterbox two opposite ones, a crop usually more
    sides: tuple[int, int] = (0, 0)

    def swapped(self) -> "Verdict":
        """The same verdict told from the other photo's side."""
        return replace(self, inside=self.inside[::-1], beyond=self.beyond[::-1], step=self.step[::-1],
                       sides=self.sides[::-1])

    @property
    def better(self) -> tuple:
        return (self.same, self.inliers)


class BoundedCache:
    """At most ``capacity`` values, the least recently used dropped first (thread-safe)."""

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()  # outside the lock: computing runs on every core
        with self._lock:
            self._values[key] = value
            if self.capacity is not None and len(self._values) > self.capacity:
                self._values.popitem(last=False)
        return value

    def peek(self, key):
        """The value kept for key, or None; nothing is computed."""
        with self._lock:
            return self._values.get(key)

    def drop(self, key) -> None:
        with self._lock:
            self._values.pop(key, None)


class PixelCache:
    """Edge maps of photos at one small square size, for comparing two photos of the same framing
    (what a perceptual-hash match says they have) pixel by pixel."""

    def __init__(self, size: int = 256, blur: float = 2.0, capacity: int | None = None):
        self.size, self.blur = size, blur
        self._cache = BoundedCache(capacity)

    def edges(self, path: str, orientation: int = 0) -> np.ndarray | None:
        """Gradient magnitude of the photo squashed to size x size, turned by
        phash.ORIENTATIONS[orientation]."""
        def make():
            found = _edge_map(path, self.size, self.blur)
            return None if found is None else found.astype(np.float16)  # half the memory

        edges = self._cache.get(path, make)
        return None if edges is None else _turn(edges.astype(np.float32), orientation)

    def release(self, path: str) -> None:
        self._cache.drop(path)

    def agreement(self, path_a: str, path_b: str, orientation: int) -> float:
        """Correlation of the edges of a and of b turned by ``orientation`` (1.0 = same picture;
        different photos of look-alike product shots stay well below a copy's score)."""
        a, b = self.edges(path_a), self.edges(path_b, orientation)
        return 0.0 if a is None or b is None else _correlation(a, b)


def _edge_map(path: str, size: int, blur: float) -> np.ndarray | None:
    import cv2
    from PIL import Image

    try:
        image = open_image(path, draft_size=size).image
    except DecodeError:
        return None
    grey = np.asarray(image.convert("L").resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)
    smooth = cv2.GaussianBlur(grey, (0, 0), blur)
    return np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))


def _turn(square: np.ndarray, orientation: int) -> np.ndarray:
    """The square array turned like phash.ORIENTATIONS[orientation] turns an image."""
    turns = (lambda x: x, lambda x: np.rot90(x, 1), lambda x: np.rot90(x, 2), lambda x: np.rot90(x, 3),
             np.fliplr, np.flipud, lambda x: x.T, lambda x: np.rot90(x, 2).T)
    return np.ascontiguousarray(turns[orientation](square))


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    denominator = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / denominator) if denominator > 0 else 0.0


class FeatureCache:
    """SIFT features per path (and of its mirror image, when asked), computed once while kept
    (the ``capacity`` most recently used photos)."""

    def __init__(self, max_features: int = MAX_FEATURES, capacity: int | None = None):
        self._cache = BoundedCache(capacity)
        self._matches = BoundedCache(None if capacity is None else 64 * capacity)
        self.max_features = max_features

    def get(self, path: str, mirrored: bool = False) -> Features | None:
        """The photo's features, extracted once; mirrored ones are derived from them each time
        they are asked for (cheap, and not kept: memory stays one set per photo)."""
        plain = self._cache.get(path, lambda: _extract(path, self.max_features))
        return mirror(plain) if mirrored and plain is not None else plain

    def release(self, path: str) -> None:
        self._cache.drop(path)

    def match(self, path_a: str, path_b: str, mirrored: bool = True) -> Verdict | None:
        """How either photo contains the other, as is (and mirrored, with ``mirrored``: SIFT is not
        mirror-invariant): the first alignment that passes, else the best failing one; None if
        one cannot be read. Computed once per pair."""
        return self._matches.get((path_a, path_b, mirrored), lambda: self._match(path_a, path_b, mirrored))

    def _match(self, path_a: str, path_b: str, mirrored: bool) -> Verdict | None:
        a, b = self.get(path_a), self.get(path_b)
        if a is None or b is None:
            return None
        best = None
        for x, y in self._orders(a, b, path_b, mirrored):
            verdict = check(x, y)
            if x is not a:  # checked b against a: say it from a's side
                verdict = verdict.swapped()
            if verdict.same:
                return verdict
            best = verdict if best is None or verdict.better > best.better else best
        return best

    def _known(self, path_a: str, path_b: str) -> Verdict | None:
        """The match of a and b as already checked in either order (else checked now)."""
        for mirrored in (False, True):
            for key, flip in (((path_a, path_b, mirrored), False), ((path_b, path_a, mirrored), True)):
                found = self._matches.peek(key)
                if found is not None:
                    return found.swapped() if flip else found
        return self.match(path_a, path_b, mirrored=False)

    def framing(self, outer: str, inner: str) -> str | None:
        """How two copies of one picture are framed, by their alignment: "same" (each lies
        inside the other), "crop" (inner lies wholly inside outer, which shows more scene around
        it), "bars" (outer is inner with flat bands added: letterbox, caption bar), or None
        (not aligned, or neither of these)."""
        verdict = self._known(inner, outer)
        if verdict is None or not verdict.same:
            return None
        inner_in, outer_in = verdict.inside
        if inner_in >= WHOLLY and outer_in >= WHOLLY:
            return "same"
        if inner_in < WHOLLY or outer_in >= PARTLY:
            return None
        if verdict.beyond[1] >= MORE_SCENE:  # more scene around
            return "crop"
        if verdict.step[1] < SEAMLESS and verdict.sides[1] >= 2:
            return "crop"  # a plain background that simply goes on around a crop
        return "bars" if verdict.beyond[1] <= FLAT_SCENE and verdict.step[1] >= BAR_STEP else None

    def _orders(self, a: Features, b: Features, path_b: str, mirrored: bool):
        yield a, b
        yield b, a
        flipped = self.get(path_b, mirrored=True) if mirrored else None  # only when the plain ones failed
        if flipped is not None:
            yield a, flipped
            yield flipped, a

    def same(self, path_a: str, path_b: str, mirrored: bool = True) -> bool:
        """Either photo contains the other, as is or (with ``mirrored``) mirrored."""
        verdict = self.match(path_a, path_b, mirrored)
        return verdict is not None and verdict.same


def _extract(path: str, max_features: int) -> Features | None:
    import cv2

    try:
        image = open_image(path, draft_size=MAX_SIDE).image
    except DecodeError:
        return None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    grey = np.asarray(image.convert("L"))
    sift = cv2.SIFT_create(nfeatures=max_features)
    keypoints, descriptors = sift.detectAndCompute(grey, None)
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    return Features(grey, points, None if descriptors is None else np.clip(descriptors, 0, 255).astype(np.uint8))


def _mirror_order() -> np.ndarray:
    """Where each SIFT descriptor value goes when the picture is mirrored left-right. OpenCV lays
    a descriptor out as 4 x 4 cells (relative to the keypoint's own orientation) x 8 gradient
    directions; in the mirror image the cell rows swap and the directions reverse. Found and
    checked against descriptors of mirrored photos (tests/unit/search/dupes/test_verify.py)."""
    order = np.zeros(128, dtype=np.int64)
    for row in range(4):
        for col in range(4):
            for bin_ in range(8):
                order[((3 - row) * 4 + col) * 8 + (-bin_) % 8] = (row * 4 + col) * 8 + bin_
    return order


_MIRROR_ORDER = _mirror_order()


def mirror(features: Features) -> Features:
    """The features of the mirrored photo, derived without running SIFT again (half the cost of
    checking mirrored copies)."""
    width = features.grey.shape[1]
    points = features.keypoints.copy()
    points[:, 0] = width - 1 - points[:, 0]
    descriptors = None if features.descriptors is None else np.ascontiguousarray(features.descriptors[:, _MIRROR_ORDER])
    return Features(np.ascontiguousarray(features.grey[:, ::-1]), points, descriptors)


WHOLLY, PARTLY = 0.97, 0.9  # shares of a photo inside another: a crop lies wholly in its original
MORE_SCENE = 0.3  # ...which has texture in this share of the tiles around it (bars have none)
FLAT_SCENE = 0.15  # ...and no more than this share when the band around is an added bar,
BAR_STEP = 20.0  # ...which meets the picture in a step of at least this many grey levels
SEAMLESS = 8.0  # a step below this: the picture simply goes on beyond the inner photo's edge
RATIO = 0.75  # Lowe's ratio test: the best match must be clearly closer than the second best


def ratio_matches(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into a, into b) of the descriptors of a whose nearest neighbour in b passes the
    ratio test. One matrix product: many times faster than OpenCV's matcher objects here."""
    if len(b) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = a.astype(np.float32), b.astype(np.float32)
    distances = a @ b.T
    distances *= -2.0
    distances += np.einsum("ij,ij->i", a, a)[:, None]
    distances += np.einsum("ij,ij->i", b, b)[None, :]
    rows = np.arange(len(a))
    best = distances.argmin(axis=1)
    first = distances[rows, best].copy()
    distances[rows, best] = np.inf
    second = distances.min(axis=1)
    keep = np.maximum(first, 0.0) < RATIO * RATIO * np.maximum(second, 0.0)
    return rows[keep], best[keep]


def check(a: Features, b: Features, min_inliers: int = 15, min_correlation: float = 0.85) -> Verdict:
    """Whether photo b contains (a possibly cropped, rotated, rescaled copy of) photo a."""
    import cv2

    if a.descriptors is None or b.descriptors is None or len(a.keypoints) < 2 or len(b.keypoints) < 2:
        return Verdict(False, 0, 0.0)
    query, train = ratio_matches(a.descriptors, b.descriptors)
    if len(query) < min_inliers:
        return Verdict(False, len(query), 0.0)
    src, dst = a.keypoints[query], b.keypoints[train]
    transform, mask = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    inliers = int(mask.sum()) if mask is not None else 0
    if transform is None or inliers < min_inliers:
        return Verdict(False, inliers, 0.0)
    kept = mask.ravel().astype(bool)
    moved = src[kept] @ transform[:, :2].T + transform[:, 2]
    residual = float(np.median(np.linalg.norm(moved - dst[kept], axis=1)))
    grey_a, grey_b = a.grey.astype(np.float32), b.grey.astype(np.float32)
    height, width = grey_b.shape
    warped = cv2.warpAffine(grey_a, transform, (width, height), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(np.ones_like(grey_a), transform, (width, height), flags=cv2.INTER_NEAREST) > 0.5
    inside = cv2.warpAffine(np.ones_like(grey_b), cv2.invertAffineTransform(transform), grey_a.shape[::-1],
                            flags=cv2.INTER_NEAREST) > 0.5
    shares = (float(inside.mean()), float(cover.mean()))
    containment = max(shares)
    if cover.sum() < 0.1 * cover.size and cover.sum() < 0.1 * grey_a.size:
        return Verdict(False, inliers, 0.0, residual, containment, inside=shares)
    correlation = _correlation(cv2.GaussianBlur(warped, (0, 0), 2.0)[cover], cv2.GaussianBlur(grey_b, (0, 0), 2.0)[cover])
    verdict = Verdict(correlation >= min_correlation, inliers, correlation, residual, containment,
                      tile_agreement(warped, grey_b, cover), shares)
    if verdict.same:  # how the two are framed: only copies need it (search/dupes/keep.py)
        verdict.beyond = (textured(grey_a, ~inside), textured(grey_b, ~cover))
        verdict.step = (edge_step(grey_a, inside), edge_step(grey_b, cover))
        verdict.sides = (open_sides(inside), open_sides(cover))
    return verdict


TILE = 32  # px at MAX_SIDE: a face, a sticker, a moved hand spans a few tiles
TILES = 6  # ...and at least this many tiles along the shorter side of a small photo
TILE_MATCH = 0.5  # a tile agrees when its blurred pixels correlate at least this much
_FLAT = 4.0  # grey-level spread below which a tile has no texture to compare


def tile_agreement(a: np.ndarray, b: np.ndarray, cover: np.ndarray | None = None) -> float:
    """Share of the textured tiles, inside ``cover``, where aligned images a and b correlate: a
    copy agrees nearly everywhere; another shot of the scene disagrees where anything moved."""
    import cv2

    a, b = cv2.GaussianBlur(a, (0, 0), 2.5), cv2.GaussianBlur(b, (0, 0), 2.5)
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
        whole = _correlation(a[cover] if cover is not None else a, b[cover] if cover is not None else b)
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
