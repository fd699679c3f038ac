"""One capture or two shots? Splits accepted pairs into duplicates (one capture, edited or
re-encoded) and similar shots (bursts, series, brackets, the same scene a moment apart).

Evidence, strongest first:

1. the same bytes: one capture;
2. EXIF capture times that differ by less than ``SERIES_WINDOW``: two shots of a series (a copy
   keeps its capture time; times further apart are more likely an editor's save date);
   equal times with the camera's sub-seconds: one capture;
3. camera file numbers in one series that differ (IMG_1234 / IMG_1235): two shots;
4. the pixels once aligned (search/dupes/verify.py): a copy lies inside the other photo and agrees
   with it nearly everywhere, with keypoints landing within a pixel or so; another shot has
   parallax (keypoints off by more), and tiles that disagree where the subject moved. A
   geometrically exact match with a patch that disagrees is a pasted sticker or caption.

Thresholds measured on the development benchmark's copies against Caltech-101's photos of one
person a moment apart (docs/BENCHMARKS.md, tools/eval_tiers.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from imgsearch_cnn.indexer.phash import MIRRORS
from imgsearch_cnn.indexer.record import Record
from imgsearch_cnn.search.dupes.pixels import PixelCache, tile_agreement
from imgsearch_cnn.search.dupes.verify import EXACT_AGREEMENT, EXACT_RESIDUAL, FeatureCache, Verdict

SERIES_WINDOW = 600.0  # s: capture times closer than this (and not equal) are shots of one series
SERIES_GAP = 500  # camera file numbers this close (and not equal) are shots of one series; further
#                   apart they may be a messenger's renumbering (IMG-20240101-WA0001) of a copy
CONTAINMENT = 0.7  # a copy: one photo lies (mostly: two crops of one photo) inside the other
AGREEMENT = 0.85  # ...and this share of its textured tiles agree once aligned
RESIDUAL = 1.5  # ...with keypoints landing this close (px, long side <= 512)

# A camera's own file names: a prefix and a running number (IMG_1234, DSC01234, DSCF1234, P1010123).
_CAMERA_NAME = re.compile(r"^(IMG|DSC|DSCN|DSCF|DSC_|_DSC|_MG|MVIMG|PXL|GOPR|DJI|P\d{2,3}|SAM|CIMG|IMGP)[_-]?(\d{3,})",
                          re.IGNORECASE)


@dataclass(frozen=True)
class Capture:
    one: bool  # one capture (a duplicate) rather than two shots
    why: str


def judge(a: Record, b: Record, features: FeatureCache, pixels: PixelCache, turn: int = 0) -> Capture:
    """Whether two photos already found alike are one capture; ``turn`` is how b is turned
    against a by their perceptual hashes (indexer/phash.py), for photos too small to align."""
    told = by_records(a, b)
    if told is not None:
        return told
    verdict = features.match(a.path, b.path, mirrored=turn in MIRRORS)
    return by_pixels(verdict, lambda: _square_agreement(pixels, a.path, b.path, turn))


def by_records(a: Record, b: Record) -> Capture | None:
    """What the index's records alone say (same bytes, capture times, camera file numbers), or
    None when only the pixels can tell."""
    if a.hash == b.hash:
        return Capture(True, "same bytes")
    by_time = _by_time(a.taken, b.taken)
    if by_time is not None:
        return by_time
    numbers = camera_numbers(a.path), camera_numbers(b.path)
    if None not in numbers and numbers[0][0] == numbers[1][0] and 0 < abs(numbers[0][1] - numbers[1][1]) <= SERIES_GAP:
        return Capture(False, f"camera file numbers {numbers[0][1]} and {numbers[1][1]}")
    return None


def _by_time(first: str | None, second: str | None) -> Capture | None:
    if not first or not second:
        return None
    try:
        gap = abs((datetime.fromisoformat(first) - datetime.fromisoformat(second)).total_seconds())
    except ValueError:
        return None
    exact = "." in first and "." in second  # both with sub-seconds
    if gap == 0:
        return Capture(True, "same capture time") if exact else None
    if exact or gap >= 1:
        if gap < SERIES_WINDOW:
            return Capture(False, f"taken {gap:g} s apart")
    return None


def camera_numbers(path: str) -> tuple[str, int] | None:
    """(prefix, number) of a camera-written file name, or None."""
    found = _CAMERA_NAME.match(os.path.basename(path))
    return (found.group(1).upper(), int(found.group(2))) if found else None


def by_pixels(verdict: Verdict | None, square: Callable[[], float]) -> Capture:
    """The pixel evidence: an alignment by keypoints, else (too few keypoints) the two photos
    compared tile by tile at one square size, turned the way their hashes say."""
    if verdict is None or verdict.residual == float("inf"):
        agreement = square()
        if agreement >= AGREEMENT:
            return Capture(True, f"pixels agree ({agreement:.0%} of tiles)")
        return Capture(False, f"pixels differ ({agreement:.0%} of tiles agree)")
    if verdict.containment < CONTAINMENT:
        return Capture(False, f"views overlap only in part ({verdict.containment:.0%})")
    if verdict.agreement >= AGREEMENT and verdict.residual <= RESIDUAL:
        return Capture(True, f"pixels agree ({verdict.agreement:.0%} of tiles)")
    if verdict.residual <= EXACT_RESIDUAL and verdict.agreement >= EXACT_AGREEMENT:
        return Capture(True, f"aligned exactly, a patch differs ({verdict.agreement:.0%} of tiles agree)")
    if verdict.residual > RESIDUAL:
        return Capture(False, f"parallax: keypoints {verdict.residual:.1f} px apart once aligned")
    return Capture(False, f"something moved ({verdict.agreement:.0%} of tiles agree)")


def _square_agreement(pixels: PixelCache, path_a: str, path_b: str, turn: int) -> float:
    a, b = pixels.edges(path_a), pixels.edges(path_b, turn)
    return 0.0 if a is None or b is None else tile_agreement(a, b)
