"""Inventories of folders and a command-line runner, for the no-photo-is-ever-lost tests."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def inventory(*folders: Path) -> dict[str, str]:
    """Path -> what is there: the SHA-1 of a regular file, or "link -> target" for a symbolic link.
    Hidden temporary files count too: a partial copy must never pass for a photo."""
    found = {}
    for folder in folders:
        if not os.path.lexists(folder):
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    found[path] = f"link -> {os.readlink(path)}"
                else:
                    found[path] = hashlib.sha1(Path(path).read_bytes()).hexdigest()
    return found


def contents(inv: dict[str, str]) -> set[str]:
    """The contents held by regular files (links hold nothing of their own)."""
    return {value for value in inv.values() if not value.startswith("link -> ")}


def assert_nothing_lost(before: dict[str, str], *after: dict[str, str]) -> None:
    """Every content that existed before still exists after, in a regular file somewhere."""
    held = set().union(*(contents(inv) for inv in after))
    missing = contents(before) - held
    assert not missing, f"{len(missing)} content(s) lost; before={before} after={after}"


def imgsearch(*args, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={**os.environ, **(env or {})}, timeout=600)
