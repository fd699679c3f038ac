"""What the index knows about one photo file, and whether the file on disk is still that file."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass


@dataclass
class Record:
    """What the index knows about one photo."""

    path: str
    size: int
    mtime_ns: int
    hash: str
    width: int
    height: int
    format: str
    taken: str | None = None  # EXIF capture time, ISO 8601 (with sub-seconds when written)
    meta: dict | None = None  # other metadata present: camera, lens, gps, rating, keywords

    def to_bytes(self) -> bytes:
        data = {"size": self.size, "mtime_ns": self.mtime_ns, "hash": self.hash, "width": self.width,
                "height": self.height, "format": self.format, "taken": self.taken}
        if self.meta:  # most photos have none: keep records small
            data["meta"] = self.meta
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, path: str, raw: bytes) -> "Record":
        return cls(path=path, **json.loads(raw))

    def matches(self, size: int, mtime_ns: int) -> bool:
        """Whether a file of this size and mtime is the file that was indexed."""
        return self.size == size and self.mtime_ns == mtime_ns

    def unchanged(self) -> bool:
        """Whether the file at ``path`` is still the file that was indexed: a regular file (not a
        symbolic link put there since) with the same size and mtime."""
        try:
            info = os.lstat(self.path)
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode) and self.matches(info.st_size, info.st_mtime_ns)
