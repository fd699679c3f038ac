"""Inventories of folders (path -> content), for the no-photo-is-ever-lost tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def inventory(*places: Path) -> dict[str, str]:
    """Path -> what is there, for files and everything under folders: the SHA-1 of a regular
    file, or "link -> target" for a symbolic link. Hidden temporary files count too: a partial
    copy must never pass for a photo."""
    found = {}
    for place in places:
        if not os.path.lexists(place):
            continue
        if os.path.islink(place) or not os.path.isdir(place):
            found[str(place)] = _what(str(place))
            continue
        for dirpath, dirnames, filenames in os.walk(place):
            for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                found[os.path.join(dirpath, name)] = _what(os.path.join(dirpath, name))
    return found


def _what(path: str) -> str:
    if os.path.islink(path):
        return f"link -> {os.readlink(path)}"
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def contents(inv: dict[str, str]) -> set[str]:
    """The contents held by regular files (links hold nothing of their own)."""
    return {value for value in inv.values() if not value.startswith("link -> ")}


def assert_nothing_lost(before: dict[str, str], *after: dict[str, str]) -> None:
    """Every content that existed before still exists after, in a regular file somewhere."""
    held = set().union(*(contents(inv) for inv in after))
    missing = contents(before) - held
    assert not missing, f"{len(missing)} content(s) lost; before={before} after={after}"
