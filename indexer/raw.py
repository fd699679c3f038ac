"""Camera RAW files (CR2, CR3, NEF, ARW, RAF, ORF, RW2, DNG, PEF, SRW) through rawpy (LibRaw).

The camera's embedded JPEG preview is used when it is large enough for what is asked of it
(it is what the camera made of the shot, and reading it is ten to a hundred times faster than
developing the sensor data); otherwise the sensor data is developed at half size with the
camera's white balance. Either way the picture is upright. A RAW and the camera JPEG of the same
shot then look alike to every duplicate check, and are grouped as one capture.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

RAW_EXTENSIONS = frozenset(".cr2 .cr3 .nef .nrw .arw .srf .sr2 .raf .orf .rw2 .dng .pef .srw .x3f .3fr .iiq".split())

# LibRaw's flip codes -> the PIL transpose that makes the picture upright.
_FLIPS = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90, 6: Image.Transpose.ROTATE_270}


class RawError(Exception):
    """A RAW file LibRaw cannot read; the message says why."""


def is_raw(path: str | Path) -> bool:
    return Path(path).suffix.lower() in RAW_EXTENSIONS


def format_name(path: str | Path) -> str:
    """What the index records as the format of a RAW file: its extension, e.g. "NEF"."""
    return Path(path).suffix.lstrip(".").upper()


def open_raw(path: str | Path, min_side: int | None = None) -> tuple[Image.Image, int, int]:
    """(upright RGB picture, sensor width, sensor height, both upright). The embedded preview is
    used when its short side is at least ``min_side`` (None: always develop the sensor data)."""
    import rawpy

    try:
        with rawpy.imread(str(path)) as raw:
            flip = raw.sizes.flip
            width, height = raw.sizes.width, raw.sizes.height
            if flip in (5, 6):
                width, height = height, width
            preview = _preview(raw, flip) if min_side else None
            if preview is not None and min(preview.size) >= min_side:
                return preview, width, height
            pixels = raw.postprocess(use_camera_wb=True, half_size=True, output_bps=8)
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise RawError(f"cannot read RAW file: {exc}") from exc
    return Image.fromarray(pixels), width, height


def _preview(raw, flip: int) -> Image.Image | None:
    """The embedded preview, upright (by its own EXIF orientation if it has one, else LibRaw's)."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        image = Image.open(io.BytesIO(thumb.data))
        if image.getexif().get(0x0112, 1) != 1:
            return ImageOps.exif_transpose(image).convert("RGB")
        image = image.convert("RGB")
    else:
        image = Image.fromarray(thumb.data).convert("RGB")
    return image.transpose(_FLIPS[flip]) if flip in _FLIPS else image
