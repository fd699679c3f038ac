"""JPEG bytes -> what indexing stores about each photo, in batches on the GPU.

nvJPEG decodes a batch of JPEGs at once; the network's input (each photo squashed to size x size),
the colour histogram (indexer/color.py) and the eight perceptual hashes (indexer/phash.py) are then
computed on the device for the whole batch. Measured on an H100 with 16 cores, doing the
histograms and hashes photo by photo on the CPU in the main process held indexing to 177
photos/s while the network alone runs at 19,500 (docs/BENCHMARKS.md, "Indexing on a GPU").

Every function also runs with ``device="cpu"`` (the tests use that): the code path is the same.
The results match the CPU path closely, not bit for bit: the pHash thumbnail is resized with
antialiased bicubic instead of Lanczos, so a hash may differ from the CPU's in a few bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imgsearch_cnn.indexer import color, phash

# At most this many pixels are decoded at once (about 240 MB of device memory decoded, 1 GB as
# floats while resizing), so a batch of 50-megapixel photos decodes in several rounds instead of
# asking for tens of gigabytes.
MAX_DECODE_PIXELS = 80_000_000


@dataclass
class Prepared:
    """Per input photo, in input order; None where the photo could not be decoded."""

    pixels: list = field(default_factory=list)  # (3, size, size) uint8 tensors on the device
    colors: list[np.ndarray | None] = field(default_factory=list)  # (color.DIMS,) float32
    phashes: list[np.ndarray | None] = field(default_factory=list)  # (8,) uint64


def decode_jpegs(blobs: list[bytes], device: str) -> list:
    """Upright RGB (3, H, W) uint8 tensors on ``device`` (EXIF orientation applied); None where
    decoding failed. One call decodes the whole batch; only when that fails are the photos
    decoded one by one to find the bad ones."""
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    tensors = [torch.frombuffer(bytearray(blob), dtype=torch.uint8) for blob in blobs]
    if not tensors:
        return []
    try:
        return list(decode_jpeg(tensors, mode=ImageReadMode.RGB, device=device, apply_exif_orientation=True))
    except RuntimeError:
        pass
    out = []
    for tensor in tensors:
        try:
            out.append(decode_jpeg(tensor, mode=ImageReadMode.RGB, device=device, apply_exif_orientation=True))
        except RuntimeError:
            out.append(None)
    return out


def prepare_jpegs(blobs: list[bytes], size: int, device: str, pixel_counts: list[int] | None = None) -> Prepared:
    """Decode JPEGs and compute the network input, colour histogram and pHashes of each.
    ``pixel_counts`` (from the files' headers) splits the decoding into rounds of at most
    MAX_DECODE_PIXELS."""
    counts = pixel_counts or [0] * len(blobs)
    result = Prepared()
    start = 0
    while start < len(blobs):
        end, total = start + 1, counts[start]
        while end < len(blobs) and total + counts[end] <= MAX_DECODE_PIXELS:
            total += counts[end]
            end += 1
        _prepare_round(decode_jpegs(blobs[start:end], device), size, result)
        start = end
    return result


def _prepare_round(images: list, size: int, result: Prepared) -> None:
    """Photos of one shape are resized together; the histograms and hashes of the round are
    computed in one go."""
    import torch

    offset = len(result.pixels)
    result.pixels.extend([None] * len(images))
    result.colors.extend([None] * len(images))
    result.phashes.extend([None] * len(images))
    by_shape: dict[tuple, list[int]] = {}
    for i, image in enumerate(images):
        if image is not None:
            by_shape.setdefault(tuple(image.shape), []).append(i)
    if not by_shape:
        return
    order, pixels, thumbnails = [], [], []
    for indexes in by_shape.values():
        stack = torch.stack([images[i] for i in indexes]).float()
        pixels.append(_resize(stack, size).round().clamp(0, 255).to(torch.uint8))
        thumbnails.append(_grey_thumbnails(stack))
        order.extend(indexes)
    batch, thumbs = torch.cat(pixels), torch.cat(thumbnails)
    colors = color.from_counts(hsv_counts(batch).cpu().numpy())
    hashes = phash.hashes_from_blocks(dct_blocks(thumbs).cpu().numpy())
    for row, i in enumerate(order):
        result.pixels[offset + i] = batch[row]
        result.colors[offset + i] = colors[row]
        result.phashes[offset + i] = hashes[row]


def _resize(stack, side: int):
    import torch.nn.functional as F

    return F.interpolate(stack, size=(side, side), mode="bilinear", antialias=True, align_corners=False)


def _grey_thumbnails(stack):
    """(N, 3, H, W) float RGB -> (N, THUMBNAIL, THUMBNAIL) float grey, rounded like Pillow's "L"."""
    import torch.nn.functional as F

    weights = stack.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    grey = (stack * weights).sum(dim=1, keepdim=True).round()
    small = F.interpolate(grey, size=(phash.THUMBNAIL, phash.THUMBNAIL), mode="bicubic", antialias=True,
                          align_corners=False)
    return small.round().clamp(0, 255)[:, 0]


def dct_blocks(thumbnails):
    """(N, T, T) grey thumbnails -> (N, 8, 8) low-frequency DCT blocks (float64)."""
    import torch

    rows = torch.from_numpy(phash.dct_rows()).to(thumbnails.device)
    return rows @ thumbnails.double() @ rows.T


def hsv_counts(batch):
    """(N, 3, H, W) uint8 RGB -> (N, color.DIMS) pixel counts per HSV bin, with Pillow's RGB->HSV
    conversion (hue, saturation and value as bytes)."""
    import torch

    rgb = batch.float()
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    top, bottom = rgb.max(dim=1).values, rgb.min(dim=1).values
    spread = top - bottom
    grey = spread == 0
    safe = torch.where(grey, torch.ones_like(spread), spread)
    rc, gc, bc = (top - r) / safe, (top - g) / safe, (top - b) / safe
    hue = torch.where(r == top, bc - gc, torch.where(g == top, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = torch.remainder(hue / 6.0 + 1.0, 1.0)
    h = torch.where(grey, 0.0, (hue * 255.0).floor()).clamp(0, 255)
    s = torch.where(grey, 0.0, (spread / torch.where(top == 0, 1.0, top) * 255.0).floor()).clamp(0, 255)
    bins = [(channel.long() * n) >> 8 for channel, n in zip((h, s, top), color.BINS)]
    flat = (bins[0] * color.BINS[1] + bins[1]) * color.BINS[2] + bins[2]
    n = len(batch)
    offsets = torch.arange(n, device=batch.device).view(n, 1, 1) * color.DIMS
    return torch.bincount((flat + offsets).ravel(), minlength=n * color.DIMS).view(n, color.DIMS)
