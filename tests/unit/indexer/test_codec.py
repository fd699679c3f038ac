"""codec: vectors kept in one byte a number come back pointing the same way."""

import numpy as np

from imgsearch_cnn.indexer import codec


def _cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_uint8_vectors_take_a_quarter_of_the_room_and_keep_their_direction():
    rng = np.random.default_rng(0)
    vectors = [rng.standard_normal(1280).astype(np.float32), np.abs(rng.standard_normal(1280)).astype(np.float32)]
    for vector in vectors:
        raw = codec.encode(vector, codec.UINT8)
        assert len(raw) == 1280 + 12
        assert _cosine(codec.decode(raw, codec.UINT8), vector) > 0.9999
        assert np.abs(codec.decode(raw, codec.UINT8) - vector).max() <= (vector.max() - vector.min()) / 255
        unit = vector / np.linalg.norm(vector)
        assert abs(np.linalg.norm(codec.decode(codec.encode(unit, codec.UINT8), codec.UINT8)) - 1) < 1e-6


def test_many_vectors_decode_together_like_one_by_one():
    rng = np.random.default_rng(1)
    raws = [codec.encode(rng.standard_normal(16), codec.UINT8) for _ in range(5)]
    together = codec.decode_many(raws, codec.UINT8)
    assert together.dtype == np.float32 and together.shape == (5, 16)
    assert np.array_equal(together, np.vstack([codec.decode(r, codec.UINT8) for r in raws]))


def test_constant_and_empty_vectors_and_float32_are_exact():
    assert codec.decode(codec.encode(np.full(4, 0.25), codec.UINT8), codec.UINT8).tolist() == [0.25] * 4
    assert codec.decode(codec.encode(np.zeros(3), codec.UINT8), codec.UINT8).tolist() == [0, 0, 0]
    vector = np.random.default_rng(2).standard_normal(8).astype(np.float32)
    assert np.array_equal(codec.decode(codec.encode(vector, codec.FLOAT32), codec.FLOAT32), vector)


def test_many_vectors_encode_together_like_one_by_one():
    rng = np.random.default_rng(3)
    vectors = np.vstack([rng.standard_normal((6, 1280)), np.full((1, 1280), 0.5), np.zeros((1, 1280))]).astype(np.float32)
    for kind in codec.CODECS:
        together = codec.encode_many(vectors, kind)
        alone = [codec.encode(v, kind) for v in vectors]
        assert [len(r) for r in together] == [len(r) for r in alone]
        assert np.abs(codec.decode_many(together, kind) - codec.decode_many(alone, kind)).max() < 1e-6
        if kind == codec.UINT8:  # the same steps; only the stored length may differ in its last bit
            assert all(a[12:] == b[12:] for a, b in zip(together, alone))
        else:
            assert together == alone
