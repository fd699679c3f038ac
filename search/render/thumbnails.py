"""Small JPEG thumbnails as data: URIs, so HTML pages are self-contained files."""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from imgsearch_cnn.indexer.decode import DecodeError, open_image

# A grey square stands in for a photo that can no longer be read.
_MISSING = Image.new("RGB", (8, 8), (200, 200, 200))


def thumbnail(path: str, size: int = 160) -> Image.Image:
    """An upright RGB thumbnail no larger than size x size."""
    try:
        image = open_image(path, draft_size=size).image
    except DecodeError:
        return _MISSING.resize((size, size))
    image.thumbnail((size, size), Image.Resampling.BILINEAR)
    return image


def data_uri(image: Image.Image, quality: int = 75) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def data_uris(paths: list[str], size: int = 160) -> list[str]:
    """Thumbnails of many photos, decoded in threads (Pillow releases the GIL while decoding)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda p: data_uri(thumbnail(p, size)), paths))
