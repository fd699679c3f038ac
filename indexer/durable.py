"""Making a rename or a new file survive a power cut: the folder that holds it is synced too."""

from __future__ import annotations

import os


def sync_folder(folder: str | os.PathLike) -> None:
    """fsync a folder, so that the names created, renamed or removed in it are on disk."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
