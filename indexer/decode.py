"""Open any photo safely and turn it into an upright RGB image or a recorded failure.

Handles EXIF orientation, HEIC/HEIF (pillow-heif), the first frame of animated images, CMYK,
palette, 16-bit and alpha images, decompression bombs, and truncated or mislabelled files. The
format is read from the content, never from the file name.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from imgsearch_cnn.indexer import metadata, raw
from imgsearch_cnn.indexer.models import Preprocessing

# Refuse images above this many pixels (PIL's own default guard is 89 Mpx, too low for
# modern panoramas; 50,000 x 5,000 still fits while a crafted 64k x 64k bomb does not).
MAX_PIXELS = 250_000_000

_heif_registered = False


class DecodeError(Exception):
    """A file that cannot be decoded as a photo; the message says why."""


@dataclass
class Decoded:
    """An upright RGB image with what the index records about it."""

    image: Image.Image | None  # None from read_header
    width: int
    height: int
    format: str
    taken: str | None  # EXIF capture time, ISO 8601, if the photo has one
    meta: dict = field(default_factory=dict)  # camera, lens, gps, rating, keywords (indexer/metadata.py)


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
        except ImportError:  # HEIC then fails with a clear "cannot identify" message
            pass
        _heif_registered = True


def _quiet_exif_warnings() -> None:
    """Pillow warns ("Corrupt EXIF data", "Possibly corrupt EXIF") on camera quirks it then
    handles; the photo decodes fine, so those warnings would only be noise on the terminal."""
    warnings.filterwarnings("ignore", category=UserWarning, module="PIL")


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:
        return 1


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB; transparency is composited onto white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        grey = np.clip(array / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "F":
        return Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info or image.mode in ("PA", "LA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")  # CMYK, YCbCr, L, 1, P, LAB
    return image


def open_image(path: str | Path, draft_size: int | None = None) -> Decoded:
    """Decode ``path`` into an upright RGB image.

    ``draft_size`` lets JPEG decoding skip detail the network never sees (DCT scaling), which
    makes large photos several times faster to read; the result is at least that size.
    Raises DecodeError with a human-readable reason. Camera RAW files go through indexer/raw.py.
    """
    if raw.is_raw(path):
        return _open_raw(path, draft_size)
    _register_heif()
    try:
        with warnings.catch_warnings():
            _quiet_exif_warnings()
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            previous = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            try:
                image = Image.open(path)
                fmt = image.format or "unknown"
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise DecodeError(f"decompression bomb refused ({width}x{height} pixels)")
                taken, meta = metadata.capture_time(image), metadata.read(image)
                turned = _orientation(image) in (5, 6, 7, 8)
                if getattr(image, "n_frames", 1) > 1:
                    image.seek(0)
                if draft_size and fmt == "JPEG":
                    image.draft("RGB", (draft_size, draft_size))
                image.load()
            finally:
                Image.MAX_IMAGE_PIXELS = previous
            image = ImageOps.exif_transpose(image)
    except DecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecodeError(f"decompression bomb refused: {exc}") from exc
    except FileNotFoundError as exc:
        raise DecodeError("file disappeared") from exc
    except PermissionError as exc:
        raise DecodeError("permission denied") from exc
    except Image.UnidentifiedImageError as exc:
        raise DecodeError("not a recognised image format") from exc
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError) as exc:
        raise DecodeError(f"cannot decode: {exc}") from exc
    if turned:
        width, height = height, width  # report the upright dimensions
    return Decoded(to_rgb(image), width, height, fmt, taken, meta)


def _open_raw(path: str | Path, draft_size: int | None) -> Decoded:
    try:
        image, width, height = raw.open_raw(path, min_side=draft_size)
    except raw.RawError as exc:
        raise DecodeError(str(exc)) from exc
    return Decoded(image, width, height, raw.format_name(path), None)


def read_header(path: str | Path | BinaryIO) -> Decoded:
    """Size (upright), format and capture time from the header alone (a path, or a file already
    in memory); ``image`` is None."""
    try:
        with warnings.catch_warnings():
            _quiet_exif_warnings()  # before opening: Pillow reads a JPEG's EXIF block on open
            with Image.open(path) as image:
                width, height = image.size
                if _orientation(image) in (5, 6, 7, 8):
                    width, height = height, width
                return Decoded(None, width, height, image.format or "unknown", metadata.capture_time(image),
                               metadata.read(image))
    except (OSError, SyntaxError, ValueError) as exc:
        raise DecodeError(f"cannot read header: {exc}") from exc


def prepare(image: Image.Image, prep: Preprocessing) -> np.ndarray:
    """Resize an RGB image for the network: uint8 array of shape (size, size, 3)."""
    size = prep.size
    resample = Image.Resampling.BICUBIC if prep.interpolation == "bicubic" else Image.Resampling.BILINEAR
    if prep.resize == "squash":
        resized = image.resize((size, size), resample, reducing_gap=2.0)
    else:  # "crop": shorter side to size, then centre crop
        scale = size / min(image.size)
        w, h = max(size, round(image.size[0] * scale)), max(size, round(image.size[1] * scale))
        resized = image.resize((w, h), resample, reducing_gap=2.0)
        left, top = (w - size) // 2, (h - size) // 2
        resized = resized.crop((left, top, left + size, top + size))
    return np.asarray(resized, dtype=np.uint8)
