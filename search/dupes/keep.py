"""Which photo of a duplicate group to keep: ordered rules, reference folders first.

Rules (``--keep`` takes them comma-separated, first rule decides, later ones break ties):

* ``original``    the photo the others were made from, by its signs, each deciding only where the
                  photos differ clearly. First the aligned pixels (search/dupes/verify.py): no
                  crop of another photo, no other photo with bars added around it; then, unless
                  the pixels showed them framed alike: the widest field of view (pixels inside any flat edge
                  bands, within 20 %: a crop or a downscale shows less, a letterboxed or captioned
                  copy no more), no added border (flat edge bands as shares of the height and the
                  width, added up, within 0.08), in colour, a name without "copy"/"(1)", a camera
                  capture time (the pixel signs: search/dupes/looks.py)
* ``earliest``    the file written first (modification time)
* ``resolution``  most pixels
* ``size``        largest file
* ``metadata``    the photo carrying the most metadata fields (capture time, camera, lens, GPS,
                  rating, keywords)
* ``oldest``      earliest EXIF capture time (photos without one come last)
* ``newest``      latest EXIF capture time
* ``format:A>B>C`` preferred formats in that order (e.g. ``format:heic>jpg``; ``raw`` names every
  camera RAW format, so ``format:raw>jpg`` keeps the RAW of a RAW + JPEG pair)
* ``path:PREFIX`` files under PREFIX first
* ``shortest``    shortest path (always the final tie-break, then the path itself)

Files under a ``--reference`` folder always win and are never modified. The default,
``original,earliest,resolution,size,oldest,shortest``, keeps the original in 92-93 % of the groups of
the development benchmark, where the old default (resolution first) kept it in 33 %
(docs/BENCHMARKS.md).
"""

from __future__ import annotations

import math
import os
import re
from typing import Callable

from imgsearch_cnn.indexer import metadata
from imgsearch_cnn.indexer.raw import RAW_EXTENSIONS
from imgsearch_cnn.indexer.scan import is_under
from imgsearch_cnn.indexer.store import Record

DEFAULT_RULES = ("original", "earliest", "resolution", "size", "oldest", "shortest")

_FORMAT_ALIASES = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff", "heic": "heif"}


def _norm_format(name: str) -> str:
    """One name per format: jpg/jpe -> jpeg, tif -> tiff, heic -> heif, every camera RAW -> raw."""
    name = name.strip().lower()
    if "." + name in RAW_EXTENSIONS:
        return "raw"
    return _FORMAT_ALIASES.get(name, name)


def is_reference(path: str, references: list[str]) -> bool:
    return is_under(path, [os.path.abspath(r) for r in references])


# Names that say "I am a copy": "IMG_1 (1).jpg", "IMG_1 - Copy.jpg", "IMG_1_copy2.jpg", "Kopie von..."
_COPY_NAME = re.compile(r"(\(\d+\)|[ _-](copy|kopie|copie|copia)\d*\b|^(copy|kopie) of |\bedited\b)", re.IGNORECASE)
FIELD_TOLERANCE = 0.8  # fields of view at least this share of the widest count as equally wide
BORDER_TOLERANCE = 0.08  # border shares this close count as equal (noise, a sky, a plain wall)


def _original_signs(looks: Callable[[str], object] | None,
                    same_framing: bool = False) -> list[tuple[str, Callable[[Record], float], float]]:
    """The `original` rule as a cascade of (reason, key where smaller is better, tolerance
    relative to the best): each step keeps the photos within tolerance of the best one. With
    ``same_framing`` (known from the pixels) field of view and borders are left out."""
    def field(record: Record) -> float:
        seen = looks(record.path) if looks else None
        return -(seen.content(record.width, record.height) if seen else record.width * record.height)

    def border(record: Record) -> float:
        seen = looks(record.path) if looks else None
        return seen.border if seen else 0.0

    def grey(record: Record) -> float:
        seen = looks(record.path) if looks else None
        return float(bool(seen and seen.grey))

    framed = [] if same_framing else [("widest view", field, 1 - FIELD_TOLERANCE),
                                      ("no added border", border, BORDER_TOLERANCE)]
    return framed + [("in colour", grey, 0.0),
            ("not named as a copy", lambda r: float(bool(_COPY_NAME.search(os.path.basename(r.path)))), 0.0),
            ("camera capture time", lambda r: float(r.taken is None), 0.0)]


def _by_framing(records: list[Record], framing: Callable[[str, str], str | None]) -> tuple[list[Record], str, bool]:
    """Drop crops of another photo and photos with bars added around another; also say whether
    those left are all framed alike (then flat edge bands say nothing: a plain background)."""
    relations = {(o.path, r.path): framing(o.path, r.path) for o in records for r in records if o is not r}
    crops = {inner for (outer, inner), how in relations.items() if how == "crop"}
    barred = {outer for (outer, inner), how in relations.items() if how == "bars"}
    kept = [r for r in records if r.path not in crops | barred] or records
    why = ""
    if len(kept) < len(records):
        why = "widest view: the others are crops of it" if crops else "no added border"
    alike = all(relations.get((o.path, r.path)) == "same" for o in kept for r in kept if o is not r)
    return kept, why, alike and len(kept) > 1


def _within(records: list[Record], key: Callable[[Record], float], tolerance: float, relative: bool) -> list[Record]:
    values = {id(r): key(r) for r in records}
    best = min(values.values())
    if not tolerance:
        return [r for r in records if values[id(r)] == best]  # exact: no float rounding of big ints
    limit = best + (abs(best) * tolerance if relative else tolerance)
    return [r for r in records if values[id(r)] <= limit]


def choose(records: list[Record], rules: list[str], references: list[str] = (),
           looks: Callable[[str], object] | None = None,
           framing: Callable[[str, str], str | None] | None = None) -> tuple[Record, str]:
    """The photo to keep, and the rule that decided it. Reference files first; then each rule
    keeps the best photos (``original`` with the tolerances above, others exact ties) until one
    is left; then the shortest path. ``framing(outer, inner)`` tells from the aligned pixels
    whether inner is a crop of outer or outer has bars added (search/dupes/verify.py): the
    first and surest signs of ``original``."""
    left = [r for r in records if is_reference(r.path, references)] or list(records)
    if len(left) < len(records):
        reason = "in a reference folder"
    else:
        reason = "alike in every rule: shortest path"
    for rule in rules:
        if len(left) == 1:
            break
        same_framing = False
        if rule == "original" and framing is not None:
            left, why, same_framing = _by_framing(left, framing)
            reason = why or reason
            if len(left) == 1:
                break
        steps = _original_signs(looks, same_framing) if rule == "original" else [(rule, _rule_key(rule), 0.0)]
        for name, key, tolerance in steps:
            narrowed = _within(left, key, tolerance, relative=name == "widest view")
            if len(narrowed) < len(left):
                reason = name
            left = narrowed
            if len(left) == 1:
                break
    return min(left, key=lambda r: (len(r.path), r.path)), reason


def _rule_key(rule: str) -> Callable[[Record], object]:
    if rule == "earliest":
        return lambda r: r.mtime_ns
    if rule == "resolution":
        return lambda r: -(r.width * r.height)
    if rule == "size":
        return lambda r: -r.size
    if rule == "metadata":
        return lambda r: -len(metadata_fields(r))
    if rule == "oldest":
        return lambda r: (r.taken is None, r.taken or "")
    if rule == "newest":
        return lambda r: (r.taken is None, _invert(r.taken or ""))
    if rule == "shortest":
        return lambda r: len(r.path)
    if rule.startswith("format:"):
        order = [_norm_format(f) for f in rule[7:].split(">") if f.strip()]
        return lambda r: order.index(_norm_format(r.format)) if _norm_format(r.format) in order else len(order)
    if rule.startswith("path:"):
        folder = os.path.realpath(os.path.expanduser(rule[5:]))
        return lambda r: not is_under(r.path, [folder])
    raise ValueError(f"unknown keep rule {rule!r}: original, earliest, resolution, size, metadata, oldest, newest, "
                     "format:A>B, path:PREFIX, shortest")


def metadata_fields(record: Record) -> set[str]:
    return metadata.fields(record.taken, record.meta or {})


def metadata_lost(keeper: Record, record: Record) -> list[str]:
    """The metadata fields ``record`` carries that the keeper lacks (lost if it is removed)."""
    return [name for name in metadata.FIELDS if name in metadata_fields(record) - metadata_fields(keeper)]


def _invert(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def parse_rules(text: str) -> list[str]:
    rules = [r.strip() for r in text.split(",") if r.strip()]
    for rule in rules:
        if rule != "original":  # a cascade of its own in choose()
            _rule_key(rule)  # raises on an unknown rule
    return rules
