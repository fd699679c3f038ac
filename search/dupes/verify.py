"""Local-feature check of a candidate duplicate pair: do the two photos show the same pixels?

SIFT keypoints (OpenCV), Lowe's ratio test, a RANSAC affine transform (rotation, scale, shift
and a change of aspect ratio: covers crops, straightening, resizing and squashing), then the
normalised cross-correlation of the
blurred grey pixels where the two photos overlap once aligned. A different shot of the same
scene has matching keypoints on the background but its moved subject breaks the correlation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from imgsearch_cnn.search.dupes.lru import BoundedCache
from imgsearch_cnn.search.dupes import pixels
from imgsearch_cnn.search.dupes.looks import Look, look_of

if TYPE_CHECKING:
    import PIL.Image

MAX_SIDE = pixels.READ_SIDE  # the check image's long side: more detail does not change the verdict but costs time
# Keypoints per photo: matching costs grow with their square; 1,500, 300 and 200 gave about the
# same recall on the development benchmark, each step down faster (docs/BENCHMARKS.md).
MAX_FEATURES = 200
SIFT_SCALE = 0.7  # SIFT runs on the grey image shrunk this much (docs/BENCHMARKS.md: time against recall and tiers)
# ...and at most this long: the development benchmark's photos (300 px) are checked by SIFT at
# about 210 px, and capping larger photos at 300 px cut a tenth of the run on 900-1,800 px copies of
# them with the same precision, recall, keepers and tiers (docs/BENCHMARKS.md)
SIFT_MAX_SIDE = 300
SIFT_LAYERS = 2  # OpenCV's nOctaveLayers: scales per octave
SIFT_CONTRAST = 0.04  # OpenCV's contrastThreshold: weaker keypoints are dropped


@dataclass
class Features:
    grey: np.ndarray  # uint8 grey image, long side <= MAX_SIDE (kept small: one per photo checked)
    keypoints: np.ndarray  # (n, 2) float32 positions
    descriptors: np.ndarray | None  # (n, 128) uint8: OpenCV's SIFT values are whole numbers 0..255
    look: Look | None = None  # its signs of being a derived copy, read from the same decoding


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


class FeatureCache:
    """SIFT features per path (and of its mirror image, when asked), computed once while kept
    (the ``capacity`` most recently used photos)."""

    def __init__(self, max_features: int = MAX_FEATURES, capacity: int | None = None):
        self._cache = BoundedCache(capacity)
        self._matches = BoundedCache(None if capacity is None else 64 * capacity)
        self.max_features = max_features
        # The looks of every photo extracted (a few bytes each, kept after its features go):
        # keeper choice reads them instead of decoding the photo once more.
        self.looks: dict[str, Look] = {}

    def get(self, path: str, mirrored: bool = False, image: "PIL.Image.Image | None" = None) -> Features | None:
        """The photo's features, extracted once (from ``image``, the photo already read by
        pixels.read, if given); mirrored ones are derived from them each time they are asked for
        (cheap, and not kept: memory stays one set per photo)."""
        plain = self._cache.get(path, lambda: self._extract(path, image))
        return mirror(plain) if mirrored and plain is not None else plain

    def _extract(self, path: str, image: "PIL.Image.Image | None" = None) -> Features | None:
        features = _extract(path, self.max_features, image)
        if features is not None:
            self.looks[path] = features.look
        return features

    def release(self, path: str) -> None:
        self._cache.drop(path)

    def match(self, path_a: str, path_b: str, mirrored: bool = True) -> Verdict | None:
        """How either photo contains the other, as is (and mirrored, with ``mirrored``: SIFT is not
        mirror-invariant): the first alignment that passes, else the best failing one; None if
        one cannot be read. Computed once per pair."""
        return self._matches.get((path_a, path_b, mirrored), lambda: self._match(path_a, path_b, mirrored))

    def take_matches(self) -> list:
        """The pair alignments found so far, as (key, verdict) items, forgetting them: a forked
        checking process hands its own to the parent (search/dupes/parallel.py)."""
        return self._matches.take()

    def add_matches(self, items: list) -> None:
        """Remember alignments found elsewhere (items of :meth:`take_matches`)."""
        for key, verdict in items:
            self._matches.put(key, verdict)

    def _match(self, path_a: str, path_b: str, mirrored: bool) -> Verdict | None:
        a, b = self.get(path_a), self.get(path_b)
        if a is None or b is None:
            return None
        best = None
        for verdict in self._verdicts(a, b, path_b, mirrored):
            if verdict.same:
                return verdict
            best = verdict if best is None or verdict.better > best.better else best
        return best

    def _verdicts(self, a: Features, b: Features, path_b: str, mirrored: bool):
        """a in b, then b in a (said from a's side), then the same with b mirrored: each only
        if the ones before failed; both orders share one descriptor distance matrix."""
        for y in self._partners(b, path_b, mirrored):
            there, back = (ratio_matches_both(a.descriptors, y.descriptors)
                           if a.descriptors is not None and y.descriptors is not None else (None, None))
            yield check(a, y, matches=there)
            yield check(y, a, matches=back).swapped()

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
        it), "bars" (outer is inner with bands added: flat ones, a letterbox, or one on a single
        side that meets the picture in a step, a caption bar even with text), or None (not
        aligned, or neither of these)."""
        verdict = self._known(inner, outer)
        if verdict is None or not verdict.same:
            return None
        inner_in, outer_in = verdict.inside
        if inner_in >= WHOLLY and outer_in >= WHOLLY:
            return "same"
        if inner_in < WHOLLY or outer_in >= PARTLY:
            return None
        if verdict.sides[1] == 1 and verdict.step[1] >= BAR_STEP:
            return "bars"  # a band on one side that meets the picture in a step: a caption, text and all
        if verdict.beyond[1] >= MORE_SCENE:  # more scene around
            return "crop"
        if verdict.step[1] < SEAMLESS and verdict.sides[1] >= 2:
            return "crop"  # a plain background that simply goes on around a crop
        return "bars" if verdict.beyond[1] <= FLAT_SCENE and verdict.step[1] >= BAR_STEP else None

    def _partners(self, b: Features, path_b: str, mirrored: bool):
        yield b
        flipped = self.get(path_b, mirrored=True) if mirrored else None  # only when the plain one failed
        if flipped is not None:
            yield flipped

    def same(self, path_a: str, path_b: str, mirrored: bool = True) -> bool:
        """Either photo contains the other, as is or (with ``mirrored``) mirrored."""
        verdict = self.match(path_a, path_b, mirrored)
        return verdict is not None and verdict.same


def _extract(path: str, max_features: int, image: "PIL.Image.Image | None" = None) -> Features | None:
    import cv2

    image = pixels.read(path) if image is None else image
    if image is None:
        return None
    seen = look_of(image)
    grey = image.convert("L")  # shrunk after going grey: a third of the work of shrinking colour
    grey.thumbnail((MAX_SIDE, MAX_SIDE))
    grey = np.asarray(grey)
    sift = cv2.SIFT_create(nfeatures=max_features, nOctaveLayers=SIFT_LAYERS, contrastThreshold=SIFT_CONTRAST)
    scale = min(SIFT_SCALE, SIFT_MAX_SIDE / max(grey.shape))
    small = cv2.resize(grey, (round(grey.shape[1] * scale), round(grey.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    keypoints, descriptors = sift.detectAndCompute(small, None)
    points = (np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2) + 0.5) / scale - 0.5
    return Features(grey, points, None if descriptors is None else np.clip(descriptors, 0, 255).astype(np.uint8), seen)


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
    return Features(np.ascontiguousarray(features.grey[:, ::-1]), points, descriptors, features.look)


WHOLLY, PARTLY = 0.97, 0.9  # shares of a photo inside another: a crop lies wholly in its original
MORE_SCENE = 0.3  # ...which has texture in this share of the tiles around it (bars have none)
FLAT_SCENE = 0.15  # ...and no more than this share when the band around is an added bar,
BAR_STEP = 20.0  # ...which meets the picture in a step of at least this many grey levels
SEAMLESS = 8.0  # a step below this: the picture simply goes on beyond the inner photo's edge
EXACT_RESIDUAL = 0.3  # px: keypoints landing this exactly mean a software edit of one picture...
EXACT_AGREEMENT = 0.6  # ...even with a pasted patch, as long as this share of its tiles agree
RATIO = 0.75  # Lowe's ratio test: the best match must be clearly closer than the second best


def ratio_matches(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into a, into b) of the descriptors of a whose nearest neighbour in b passes the
    ratio test. One matrix product: many times faster than OpenCV's matcher objects here."""
    return ratio_matches_both(a, b)[0]


def ratio_matches_both(a: np.ndarray, b: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The ratio-test matches of a in b and of b in a (each as (query indices, train indices)),
    from one distance matrix: checking a pair both ways costs one matrix product, not two."""
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    if len(a) < 2 or len(b) < 2:
        return none, none
    a, b = a.astype(np.float32), b.astype(np.float32)
    distances = a @ b.T
    distances *= -2.0
    distances += np.einsum("ij,ij->i", a, a)[:, None]
    distances += np.einsum("ij,ij->i", b, b)[None, :]
    backwards = np.ascontiguousarray(distances.T)  # before _ratio_rows marks the best of each row
    return _ratio_rows(distances), _ratio_rows(backwards)


def _ratio_rows(distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose nearest column is clearly closer than the second nearest (Lowe's ratio test).
    Overwrites each row's nearest distance."""
    rows = np.arange(len(distances))
    best = distances.argmin(axis=1)
    first = distances[rows, best].copy()
    distances[rows, best] = np.inf
    second = distances.min(axis=1)
    keep = np.maximum(first, 0.0) < RATIO * RATIO * np.maximum(second, 0.0)
    return rows[keep], best[keep]


def check(a: Features, b: Features, min_inliers: int = 15, min_correlation: float = 0.85,
          matches: tuple[np.ndarray, np.ndarray] | None = None) -> Verdict:
    """Whether photo b contains (a possibly cropped, rotated, rescaled copy of) photo a.
    ``matches``: the ratio-test matches of a in b when already known (ratio_matches_both)."""
    import cv2

    if a.descriptors is None or b.descriptors is None or len(a.keypoints) < 2 or len(b.keypoints) < 2:
        return Verdict(False, 0, 0.0)
    query, train = ratio_matches(a.descriptors, b.descriptors) if matches is None else matches
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
    soft_a, soft_b = pixels.blurred(warped), pixels.blurred(grey_b)  # one blur for both measures
    correlation = pixels.correlation(soft_a[cover], soft_b[cover])
    agreement = pixels.tile_agreement(soft_a, soft_b, cover, blur=False)
    # A pasted sticker or logo spoils the overall correlation, but only a copy aligns this exactly.
    exact = residual <= EXACT_RESIDUAL and inliers >= 2 * min_inliers and agreement >= EXACT_AGREEMENT
    verdict = Verdict(correlation >= min_correlation or exact, inliers, correlation, residual, containment,
                      agreement, shares)
    if verdict.same:  # how the two are framed: only copies need it (search/dupes/keep.py)
        verdict.beyond = (pixels.textured(grey_a, ~inside), pixels.textured(grey_b, ~cover))
        verdict.step = (pixels.edge_step(grey_a, inside), pixels.edge_step(grey_b, cover))
        verdict.sides = (pixels.open_sides(inside), pixels.open_sides(cover))
    return verdict
