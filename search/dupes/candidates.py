"""Candidate pairs for duplicate checks, without an N x N matrix: each photo's nearest CNN
neighbours (exact FAISS search, or IVF on PCA vectors for large collections) and pairs whose
perceptual hashes are close in some orientation (FAISS multi-hash)."""

from __future__ import annotations

import numpy as np

from imgsearch_cnn.indexer.vector_index import ivf_index, reduce

# PCA-space cosines differ a little from full ones: the approximate search keeps pairs this
# much below the score floor, then rescores them exactly.
APPROXIMATE_MARGIN = 0.15
_SCORE_BLOCK = 1 << 16  # pairs rescored at a time


def candidate_pairs(vectors: np.ndarray, neighbours: int, approximate_above: int,
                    min_score: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(pairs (m, 2) with i < j, cosine (m,)) of each row's nearest neighbours whose cosine is at
    least ``min_score``, deduplicated. Memory stays linear in the number of rows."""
    import faiss

    n = len(vectors)
    k = min(neighbours + 1, n)
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if n > approximate_above:
        scores, rows = approximate_knn(data, k)
        margin = APPROXIMATE_MARGIN
    else:
        index = faiss.IndexFlatIP(data.shape[1])
        index.add(data)
        scores, rows = index.search(data, k)
        margin = 0.0
    left = np.repeat(np.arange(n, dtype=np.int64), k)
    right = rows.ravel().astype(np.int64)
    keep = (right >= 0) & (left != right) & (scores.ravel() >= min_score - margin)
    low, high = np.minimum(left[keep], right[keep]), np.maximum(left[keep], right[keep])
    codes = np.unique(low * n + high)
    pairs = np.stack([codes // n, codes % n], axis=1)
    exact = np.empty(len(pairs), dtype=np.float32)
    for start in range(0, len(pairs), _SCORE_BLOCK):  # exact cosines, a block at a time
        block = pairs[start:start + _SCORE_BLOCK]
        exact[start:start + len(block)] = np.einsum("ij,ij->i", data[block[:, 0]], data[block[:, 1]])
    keep = exact >= min_score
    return pairs[keep], exact[keep]


def approximate_knn(data: np.ndarray, k: int, dims: int = 128, nprobe: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Scores and rows of the k nearest rows for every row, via IVF on PCA-reduced vectors (the
    caller recomputes exact scores); recall against exact search: tools/bench_dedupe_scale.py."""
    reduced = reduce(data, dims, fit_rows=100_000) if data.shape[1] > dims else data
    return ivf_index(reduced, nprobe, seed=1).search(reduced, k)


def phash_pairs(codes: np.ndarray, radius: int) -> np.ndarray:
    """(m, 2) row pairs whose perceptual hashes are within ``radius`` bits in some orientation.

    ``codes`` is (n, 8) uint64, identity first. A FAISS multi-hash index (4 tables of 16 bits)
    finds every pair within 3 bits for certain and most pairs further apart, without comparing
    all n x n; it catches copies the CNN ranks far apart (90-degree turns)."""
    import faiss

    n = len(codes)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    as_bytes = lambda column: np.ascontiguousarray(codes[:, column].astype(">u8")).view(np.uint8).reshape(n, 8)
    index = faiss.IndexBinaryMultiHash(64, 4, 16)
    index.add(as_bytes(0))
    index.nflip = 1  # also probe buckets one bit away: catches most pairs up to ~8 bits
    found = []
    for column in range(codes.shape[1]):
        lims, _, rows = index.range_search(as_bytes(column), radius + 1)
        owners = np.repeat(np.arange(n), np.diff(lims).astype(np.int64))
        found.append(np.stack([owners, rows], axis=1))
    pairs = np.concatenate(found)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(np.sort(pairs, axis=1), axis=0)


def locality_order(vectors: np.ndarray, per_cluster: int = 256, seed: int = 0) -> np.ndarray:
    """A cluster number per row (k-means on 32-d PCA vectors, about ``per_cluster`` rows each):
    checking pairs cluster by cluster keeps the photos being compared few at a time, so the
    check's caches stay small however large the collection."""
    import faiss

    n = len(vectors)
    clusters = n // per_cluster
    if clusters < 2:
        return np.zeros(n, dtype=np.int64)
    small = reduce(vectors, 32, seed)
    kmeans = faiss.Kmeans(small.shape[1], clusters, niter=10, seed=seed, max_points_per_centroid=64)
    kmeans.train(small)
    return kmeans.index.search(small, 1)[1].ravel().astype(np.int64)
