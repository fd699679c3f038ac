"""Photos drawn on the fly, so a fresh clone needs no data; and the real data when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def draw_photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A distinct synthetic 'photo': gradient background, random shapes, a little noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = np.linspace(0, 1, w)[None, :, None] * rng.uniform(0, 255, 3) + np.linspace(0, 1, h)[:, None, None] * rng.uniform(0, 255, 3)
    image = Image.fromarray(np.clip(base / 2 + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8))
    pen = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        x1, y1 = x0 + rng.integers(10, w // 2), y0 + rng.integers(10, h // 2)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            pen.ellipse((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            pen.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            pen.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(2, 12)))
    return image


def make_photos(folder: Path, count: int, start: int = 0, fmt: str = "JPEG", ext: str = ".jpg") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + count):
        path = folder / f"photo_{i:04d}{ext}"
        draw_photo(i).save(path, fmt, quality=90) if fmt == "JPEG" else draw_photo(i).save(path, fmt)
        paths.append(path)
    return paths


def needs_shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real photo data not present at {path}")
    return path


def family(folder: Path, colour, shape: str, count: int, seed: int) -> None:
    """Photos of one kind of scene: the same kind of object, placed and sized at random."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        image = Image.new("RGB", (200, 150), tuple(int(c) for c in rng.integers(200, 255, 3)))
        pen = ImageDraw.Draw(image)
        x, y, r = rng.integers(60, 140), rng.integers(55, 95), rng.integers(45, 60)
        if shape == "disc":
            pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        elif shape == "square":
            pen.rectangle((x - r, y - r, x + r, y + r), fill=colour)
        else:
            for top in range(int(rng.integers(0, 12)), 150, 24):
                pen.rectangle((0, top, 200, top + 12), fill=colour)
        image.save(folder / f"{i}.jpg")


def three_families(root: Path) -> Path:
    """30 photos of three kinds of scene in three folders under ``root``/photos; returns that folder."""
    family(root / "photos" / "red_discs", (200, 20, 20), "disc", 10, 1)
    family(root / "photos" / "blue_squares", (20, 20, 200), "square", 10, 2)
    family(root / "photos" / "green_stripes", (20, 160, 20), "stripes", 10, 3)
    return root / "photos"


def purity(members: dict[int, list[str]], total: int) -> float:
    """Share of photos in their cluster's majority folder."""
    import os

    right = 0
    for paths in members.values():
        folders = [os.path.basename(os.path.dirname(p)) for p in paths]
        right += max(folders.count(f) for f in set(folders))
    return right / total


def write_dng(path: Path, image: Image.Image, orientation: int = 1) -> Path:
    """A real DNG (pidng, an encoder of Adobe's format) holding ``image`` as 12-bit RGGB sensor
    data, as a camera would store it; ``orientation`` is the TIFF orientation tag (6 = turned).
    The sensor holds linear light in sRGB primaries (its colour matrix says so), so developing
    it gives back the picture."""
    from pidng.core import RAW2DNG, DNGTags, Tag
    from pidng.defs import CalibrationIlluminant, CFAPattern, DNGVersion, PhotometricInterpretation

    linear = (np.asarray(image.convert("RGB"), dtype=np.float64) / 255) ** 2.2
    height, width = linear.shape[:2]
    top = (1 << 12) - 1
    sensor = np.zeros((height, width), np.uint16)
    for rows, cols, channel in ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 2)):
        sensor[rows::2, cols::2] = np.round(linear[rows::2, cols::2, channel] * top).astype(np.uint16)
    xyz_to_srgb = [[32406, 10000], [-15372, 10000], [-4986, 10000], [-9689, 10000], [18758, 10000],
                   [415, 10000], [557, 10000], [-2040, 10000], [10570, 10000]]
    tags = DNGTags()
    for tag, value in ((Tag.ImageWidth, width), (Tag.ImageLength, height), (Tag.TileWidth, width),
                       (Tag.TileLength, height), (Tag.Orientation, orientation),
                       (Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array),
                       (Tag.SamplesPerPixel, 1), (Tag.BitsPerSample, 12), (Tag.CFARepeatPatternDim, [2, 2]),
                       (Tag.CFAPattern, CFAPattern.RGGB), (Tag.BlackLevel, 0), (Tag.WhiteLevel, top),
                       (Tag.ColorMatrix1, xyz_to_srgb),
                       (Tag.CalibrationIlluminant1, CalibrationIlluminant.D65),
                       (Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]]), (Tag.Make, "imgsearch"),
                       (Tag.Model, "test camera"), (Tag.DNGVersion, DNGVersion.V1_4),
                       (Tag.DNGBackwardVersion, DNGVersion.V1_2)):
        tags.set(tag, value)
    writer = RAW2DNG()
    writer.options(tags, path=str(path.parent), compress=False)
    writer.convert(sensor, filename=path.stem)
    return path


XMP_TEMPLATE = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmp:Rating="{rating}"><dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject></rdf:Description>'
    '</rdf:RDF></x:xmpmeta>')


def save_with_metadata(image: Image.Image, path: Path, taken: str | None = None, subsec: str | None = None,
                       camera: tuple[str, str] | None = None, gps: bool = False, rating: int | None = None,
                       keywords: list[str] = (), quality: int = 92) -> Path:
    """A JPEG with real EXIF (capture time "YYYY:MM:DD HH:MM:SS", sub-seconds, make/model, GPS)
    and embedded XMP (rating, keywords), as cameras and photo managers write them."""
    exif = Image.Exif()
    if camera:
        exif[0x010F], exif[0x0110] = camera
    details = exif.get_ifd(0x8769)
    if taken:
        details[0x9003] = taken
    if subsec:
        details[0x9291] = subsec
    if gps:
        position = exif.get_ifd(0x8825)
        position[1], position[2] = "N", (52.0, 31.0, 0.0)
    extra = {}
    if rating or keywords:
        items = "".join(f"<rdf:li>{word}</rdf:li>" for word in keywords)
        extra["xmp"] = XMP_TEMPLATE.format(rating=rating or 0, items=items).encode()
    image.save(path, "JPEG", quality=quality, exif=exif, **extra)
    return path


def textured_photo(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """A photo with plenty of corners for keypoints: a drawing plus fine noise."""
    base = np.asarray(draw_photo(seed, size), dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0, 18, base.shape)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
