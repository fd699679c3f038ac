"""How vectors are kept in LMDB.

``uint8`` (every index made since schema 2): a vector is its lowest and highest value and its
length (three float32), then each number as one byte, a step of 1/255 of that range; decoded
vectors are scaled back to their length, so unit vectors stay unit vectors and cosine scores
stay within [-1, 1]. A 1280-d CNN vector takes 1,292 bytes instead of 5,120, and comes back
with cosine >= 0.9999 to the original (tests/unit/indexer/test_codec.py); precision@10 on
the dev data moved by at most 0.0004 (docs/BENCHMARKS.md, "Scale"). ``float32``: indexes
made before, read as they are.
"""

from __future__ import annotations

import numpy as np

FLOAT32, UINT8 = "float32", "uint8"
CODECS = (FLOAT32, UINT8)
_HEADER = 12  # bytes: lowest value, highest value, length; float32


def encode(vector: np.ndarray, codec: str) -> bytes:
    """One vector as stored."""
    return encode_many(np.ravel(np.asarray(vector, np.float32))[None], codec)[0]


def encode_many(vectors: np.ndarray, codec: str) -> list[bytes]:
    """Rows of a matrix as stored, encoded together (cheaper than one by one in the indexing loop)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if codec == FLOAT32:
        return [row.tobytes() for row in vectors]
    if vectors.shape[1] == 0:
        return [np.zeros(3, np.float32).tobytes()] * len(vectors)
    low, high = vectors.min(axis=1), vectors.max(axis=1)
    span = high.astype(np.float64) - low
    scale = np.where(span > 0, 255 / np.where(span > 0, span, 1), 0).astype(np.float32)
    steps = np.round((vectors - low[:, None]) * scale[:, None]).astype(np.uint8)
    header = np.stack([low, high, np.linalg.norm(vectors, axis=1)], axis=1).astype(np.float32)
    rows = np.concatenate([header.view(np.uint8), steps], axis=1)
    return [row.tobytes() for row in rows]


def decode(raw: bytes, codec: str) -> np.ndarray:
    """One stored vector as float32."""
    return decode_many([raw], codec)[0]


def decode_many(raws: list, codec: str, out: np.ndarray | None = None) -> np.ndarray:
    """Stored vectors of one length as a float32 matrix (decoded together: fast at a million);
    written into ``out`` (rows x dims) when given, so no second copy is made."""
    if not raws:
        return np.zeros((0, 0), np.float32) if out is None else out[:0]
    blob = np.frombuffer(b"".join(raws), np.uint8).reshape(len(raws), -1)
    if codec == FLOAT32:
        vectors = blob.view(np.float32)
        if out is None:
            return vectors.copy()
        out[:] = vectors
        return out
    header = np.ascontiguousarray(blob[:, :_HEADER]).view(np.float32)
    vectors = np.empty((len(raws), blob.shape[1] - _HEADER), np.float32) if out is None else out
    np.multiply(blob[:, _HEADER:], ((header[:, 1] - header[:, 0]) / 255)[:, None], out=vectors)
    vectors += header[:, :1]
    lengths = np.linalg.norm(vectors, axis=1)
    vectors *= (header[:, 2] / np.where(lengths > 0, lengths, 1))[:, None]
    return vectors
