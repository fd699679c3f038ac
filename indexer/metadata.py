"""What a photo's embedded metadata says: capture time (with the camera's sub-seconds), camera,
lens, GPS position, rating and keywords (EXIF and embedded XMP).

The duplicate finder uses it twice: two photos with different capture times are two shots, not
copies (search/dupes/capture.py), and a copy that carries metadata its keeper lacks is flagged
before it is removed (search/dupes/keep.py). Reading it must never make a photo fail: broken
EXIF gives empty metadata.
"""

from __future__ import annotations

import re
from datetime import datetime

from PIL import Image

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME, _SUBSEC_ORIGINAL = 0x9003, 0x0132, 0x9291
_MAKE, _MODEL, _LENS_MODEL, _RATING = 0x010F, 0x0110, 0xA434, 0x4746
_GPS_LATITUDE = 2

# Field names, in the order reports list them.
FIELDS = ("time", "camera", "lens", "gps", "rating", "keywords")

_XMP_RATING = re.compile(rb"xmp:Rating(?:=\"|>)\s*(-?\d+)")
_XMP_SUBJECT = re.compile(rb"<dc:subject>(.*?)</dc:subject>", re.DOTALL)
_XMP_ITEM = re.compile(rb"<rdf:li[^>]*>([^<]*)</rdf:li>")


def capture_time(image: Image.Image) -> str | None:
    """EXIF capture time as ISO 8601, with the sub-seconds when the camera wrote them
    ("2024-05-01T10:00:00.120"): bursts often share the second."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(_EXIF_IFD)
        value = details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
        if not value:
            return None
        taken = datetime.strptime(str(value).strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat()
        subsec = str(details.get(_SUBSEC_ORIGINAL) or "").strip("\x00 ")
        return f"{taken}.{subsec}" if subsec.isdigit() else taken
    except Exception:  # broken EXIF must not make the photo itself fail
        return None


def read(image: Image.Image) -> dict[str, object]:
    """The metadata fields present (names from FIELDS except "time", which capture_time gives):
    camera "Make Model", lens, gps True, rating, keywords [..]. Missing fields are left out."""
    found: dict[str, object] = {}
    try:
        exif = image.getexif()
        details = exif.get_ifd(_EXIF_IFD)
        make, model = (str(exif.get(tag) or "").strip("\x00 ") for tag in (_MAKE, _MODEL))
        # "Canon" + "Canon EOS 40D": the model often repeats the make
        camera = model if make and model.lower().startswith(make.split()[0].lower()) else f"{make} {model}".strip()
        if camera:
            found["camera"] = camera
        lens = str(details.get(_LENS_MODEL) or "").strip("\x00 ")
        if lens:
            found["lens"] = lens
        if exif.get_ifd(_GPS_IFD).get(_GPS_LATITUDE):
            found["gps"] = True
        if exif.get(_RATING):
            found["rating"] = int(exif.get(_RATING))
    except Exception:
        pass
    xmp = image.info.get("xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    rating = _XMP_RATING.search(xmp)
    if rating and int(rating.group(1)) > 0:
        found["rating"] = int(rating.group(1))
    subject = _XMP_SUBJECT.search(xmp)
    if subject:
        words = [w.decode("utf-8", "replace").strip() for w in _XMP_ITEM.findall(subject.group(1))]
        if any(words):
            found["keywords"] = [w for w in words if w]
    return found


def fields(taken: str | None, meta: dict[str, object]) -> set[str]:
    """The names of the metadata fields a photo carries."""
    return ({"time"} if taken else set()) | {name for name in meta if name in FIELDS}
