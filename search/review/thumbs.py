"""Images for the review app: thumbnails made on demand and cached in the index folder (by
content hash and size, so a moved photo keeps its thumbnail), and a large JPEG for the viewer.
Every image is decoded and encoded again: the browser never gets a file's own bytes, whatever
format the photo is in (HEIC and RAW included)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from PIL import Image

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.decode import DecodeError, open_image
from imgsearch_cnn.indexer.record import Record

QUALITY = 80


def _encode(path: str, size: int) -> bytes:
    try:
        image = open_image(path, draft_size=size).image
    except DecodeError:
        image = Image.new("RGB", (size, size * 3 // 4), (190, 190, 190))  # stands in for an unreadable photo
    image.thumbnail((size, size), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def cache_file(index: Path, record: Record, size: int) -> Path:
    return Path(index) / layout.THUMBNAILS / str(size) / record.hash[:2] / f"{record.hash}.jpg"


def thumbnail(index: Path, record: Record, size: int) -> bytes:
    """The photo's thumbnail (longest side ``size``), from the cache or made and cached now.
    The cache file is written under a temporary name and renamed: never half a thumbnail."""
    target = cache_file(index, record, size)
    try:
        return target.read_bytes()
    except OSError:
        pass
    data = _encode(record.path, size)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, part = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(part, target)
    except OSError:
        pass  # a read-only index or a full disk only costs decoding again next time
    return data


def large(record: Record, size: int) -> bytes:
    """The photo as a JPEG no larger than ``size`` pixels (not cached: one look at a time)."""
    return _encode(record.path, size)
