"""Perceptual hashes (pHash, from imagehash) of a photo in all eight orientations.

Stored at index time so that duplicate detection can compare copies that were blurred, shrunk,
recompressed, brightened or turned grey (pHash survives those) and, through the eight variants,
mirrored or turned by 90 degrees, without decoding any photo again.
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

# The dihedral group: identity, the three rotations, and the four mirrors.
ORIENTATIONS = (None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270,
                Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.TRANSPOSE,
                Image.Transpose.TRANSVERSE)


def phashes(image: Image.Image) -> np.ndarray:
    """(8,) uint64: the 64-bit pHash of the image in each orientation (identity first)."""
    small = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    out = np.zeros(len(ORIENTATIONS), dtype=np.uint64)
    for i, op in enumerate(ORIENTATIONS):
        bits = imagehash.phash(small if op is None else small.transpose(op)).hash.ravel()
        out[i] = np.uint64(int("".join("1" if b else "0" for b in bits), 2))
    return out


def distance(a: np.ndarray, b: np.ndarray) -> int:
    """Hamming distance between photo a (upright) and photo b in its closest orientation."""
    return int(min(bin(int(a[0]) ^ int(other)).count("1") for other in b))
