"""candidates: nearest-neighbour and perceptual-hash pairs, without an N x N matrix."""

import numpy as np

from imgsearch_cnn.indexer.vector_index import l2_normalise
from imgsearch_cnn.search.dupes import candidates


def near_copies(n=300, dims=64, seed=0):
    """n random unit vectors, row i + n a slightly moved copy of row i."""
    rng = np.random.default_rng(seed)
    base = l2_normalise(rng.normal(size=(n, dims)))
    return np.vstack([base, l2_normalise(base + rng.normal(0, 0.05, base.shape))])


def test_each_copy_is_paired_with_its_original_once_with_its_exact_cosine():
    data = near_copies()
    pairs, scores = candidates.candidate_pairs(data, neighbours=3, approximate_above=10**9, min_score=0.5)
    found = {tuple(p) for p in pairs.tolist()}
    assert all((i, i + 300) in found for i in range(300))
    assert len(found) == len(pairs) and (pairs[:, 0] < pairs[:, 1]).all()
    assert np.allclose(scores, np.einsum("ij,ij->i", data[pairs[:, 0]], data[pairs[:, 1]]), atol=1e-5)
    assert scores.min() >= 0.5


def test_the_approximate_search_for_large_collections_finds_the_same_copies():
    data = near_copies(n=2000, dims=256)
    pairs, _ = candidates.candidate_pairs(data, neighbours=3, approximate_above=1000, min_score=0.5)
    found = {tuple(p) for p in pairs.tolist()}
    assert sum((i, i + 2000) in found for i in range(2000)) >= 0.99 * 2000


def test_phash_candidates_find_pairs_the_cnn_ranks_far_apart():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 2**63, size=(500, 8), dtype=np.uint64)
    codes[3, 2] = codes[400, 0] ^ np.uint64(0b101)  # a turned copy, 2 bits off
    pairs = candidates.phash_pairs(codes, 8).tolist()
    assert [3, 400] in pairs
    assert len(pairs) < 50  # random hashes are ~32 bits apart: almost no false candidates


def test_locality_order_puts_neighbours_in_one_cluster():
    from imgsearch_cnn.search.dupes.candidates import locality_order

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 64))
    vectors = np.repeat(centres, 300, axis=0) + 0.05 * rng.normal(size=(1200, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    cluster = locality_order(vectors, per_cluster=300)
    for blob in range(4):
        labels = cluster[blob * 300:(blob + 1) * 300]
        assert np.bincount(labels).max() >= 0.95 * 300  # a blob's rows stay together
