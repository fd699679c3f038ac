"""Perceptual hashes (pHash, as imagehash computes it) of a photo in all eight orientations.

Stored at index time so that duplicate detection can compare copies that were blurred, shrunk,
recompressed, brightened or turned grey (pHash survives those) and, through the eight variants,
mirrored or turned by 90 degrees, without decoding any photo again.

pHash is the sign pattern of the low-frequency 8x8 block of the 2-D DCT of a 32x32 grey
thumbnail, against its median. Mirroring or turning the thumbnail only transposes that block
and flips the signs of its odd rows or columns, so one DCT gives all eight hashes (the result
is bit-identical to eight ``imagehash.phash`` calls, which tests/test_phash.py checks, at an
eighth of the cost).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# The dihedral group: identity, the three rotations, and the four mirrors.
ORIENTATIONS = (None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270,
                Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.TRANSPOSE,
                Image.Transpose.TRANSVERSE)
MIRRORS = frozenset({4, 5, 6, 7})  # the indexes of ORIENTATIONS that mirror the picture

THUMBNAIL = 32  # side of the grey thumbnail whose DCT is hashed (imagehash's default)

_ODD = (-1.0) ** np.arange(8)
_ROWS, _COLS = _ODD[:, None], _ODD[None, :]


def _variants(block: np.ndarray) -> list[np.ndarray]:
    """The low-frequency DCT blocks, (..., 8, 8), in each of ORIENTATIONS, in that order."""
    turned = np.swapaxes(block, -1, -2)
    return [block, _ROWS * turned, _ROWS * _COLS * block, turned * _COLS,
            block * _COLS, _ROWS * block, turned, _ROWS * _COLS * turned]


def dct_rows(size: int = THUMBNAIL, keep: int = 8) -> np.ndarray:
    """(keep, size): the first rows of the unnormalised DCT-II matrix (scipy's ``dct`` default), so
    that ``D @ x @ D.T`` is the low-frequency block of a thumbnail x (used where the thumbnails
    are a batch on the GPU, indexer/gpu_prepare.py)."""
    k, n = np.arange(keep)[:, None], np.arange(size)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * size))


def hashes_from_blocks(blocks: np.ndarray) -> np.ndarray:
    """(N, 8, 8) low-frequency DCT blocks -> (N, 8) uint64 pHashes, one per orientation."""
    flat = np.stack(_variants(np.asarray(blocks, np.float64)), axis=1).reshape(len(blocks), len(ORIENTATIONS), 64)
    bits = flat > np.median(flat, axis=-1, keepdims=True)
    return np.packbits(bits, axis=-1).view(">u8")[..., 0].astype(np.uint64)


def phashes(image: Image.Image) -> np.ndarray:
    """(8,) uint64: the 64-bit pHash of the image in each orientation (identity first)."""
    from scipy.fftpack import dct  # here, not at import: comparing hashes (dupes) never needs it

    small = np.asarray(image.convert("L").resize((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS), dtype=np.float64)
    block = dct(dct(small, axis=0), axis=1)[:8, :8]
    return hashes_from_blocks(block[None])[0]


def distance(a: np.ndarray, b: np.ndarray) -> int:
    """Hamming distance between photo a (upright) and photo b in its closest orientation."""
    return closest(a, b)[0]


def closest(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(Hamming distance, index in ORIENTATIONS) of the orientation of photo b closest to photo a
    upright: b turned by ORIENTATIONS[index] looks like a."""
    distances = [bin(int(a[0]) ^ int(other)).count("1") for other in b]
    best = int(np.argmin(distances))
    return distances[best], best
