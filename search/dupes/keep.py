"""Which photo of a duplicate group to keep: ordered rules, reference folders first.

Rules (``--keep`` takes them comma-separated, first rule decides, later ones break ties):

* ``resolution``  most pixels
* ``size``        largest file
* ``oldest``      earliest EXIF capture time (photos without one come last)
* ``newest``      latest EXIF capture time
* ``format:A>B>C`` preferred formats in that order (e.g. ``format:heic>jpg``; ``raw`` names every
  camera RAW format, so ``format:raw>jpg`` keeps the RAW of a RAW + JPEG pair)
* ``path:PREFIX`` files under PREFIX first
* ``shortest``    shortest path (always the final tie-break, then the path itself)

Files under a ``--reference`` folder always win and are never modified.
"""

from __future__ import annotations

import os
from typing import Callable

from imgsearch_cnn.indexer.raw import RAW_EXTENSIONS
from imgsearch_cnn.indexer.scan import is_under
from imgsearch_cnn.indexer.store import Record

DEFAULT_RULES = ("resolution", "size", "oldest", "shortest")

_FORMAT_ALIASES = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff", "heic": "heif"}


def _norm_format(name: str) -> str:
    """One name per format: jpg/jpe -> jpeg, tif -> tiff, heic -> heif, every camera RAW -> raw."""
    name = name.strip().lower()
    if "." + name in RAW_EXTENSIONS:
        return "raw"
    return _FORMAT_ALIASES.get(name, name)


def is_reference(path: str, references: list[str]) -> bool:
    return is_under(path, [os.path.abspath(r) for r in references])


def _rule_key(rule: str) -> Callable[[Record], object]:
    if rule == "resolution":
        return lambda r: -(r.width * r.height)
    if rule == "size":
        return lambda r: -r.size
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
    raise ValueError(f"unknown keep rule {rule!r}: resolution, size, oldest, newest, format:A>B, path:PREFIX, shortest")


def _invert(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def parse_rules(text: str) -> list[str]:
    rules = [r.strip() for r in text.split(",") if r.strip()]
    for rule in rules:
        _rule_key(rule)  # raises on an unknown rule
    return rules


def ranker(rules: list[str], references: list[str] = ()) -> Callable[[Record], tuple]:
    """A sort key: the photo to keep sorts first."""
    keys = [_rule_key(rule) for rule in rules]
    references = [os.path.abspath(r) for r in references]
    return lambda r: (not is_reference(r.path, references), *(key(r) for key in keys), len(r.path), r.path)
