"""Vectors: the FAISS file of an index (built from LMDB, saved atomically, rebuilt whenever
stale) and the vector arithmetic every feature shares (normalisation, PCA, IVF, sampling).

Vectors are L2-normalised, so inner product is cosine similarity. Up to ``exact_limit`` vectors
use an exact flat index; larger collections use IVF (inverted lists) with ``nprobe`` lists
searched per query, which trades a little recall for speed (see docs/BENCHMARKS.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.store import Store

EXACT_LIMIT = 200_000
_BLOCK = 1 << 16  # rows transformed at a time
IVF_NPROBE = 32


@dataclass
class VectorIndex:
    """A FAISS index and the file path of each of its rows."""

    index: object  # faiss.Index
    paths: list[str]
    generation: int

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row numbers of the ``k`` nearest rows for each query (-1 where none)."""
        k = min(k, len(self.paths))
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), as float32: inner product = cosine."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def sample_rows(n: int, limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` row numbers out of ``n``, sorted, drawn by a seeded random choice."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def reduce(vectors: np.ndarray, dims: int, seed: int = 0, fit_rows: int = 20_000) -> np.ndarray:
    """PCA to ``dims`` dimensions (fitted on at most ``fit_rows`` rows), rows re-normalised.
    Applied a block at a time, so memory stays at the output's size plus one block."""
    import faiss

    dims = min(dims, vectors.shape[1], len(vectors))
    pca = faiss.PCAMatrix(vectors.shape[1], dims)
    pca.train(np.ascontiguousarray(vectors[sample_rows(len(vectors), fit_rows, seed)], dtype=np.float32))
    out = np.empty((len(vectors), dims), dtype=np.float32)
    for start in range(0, len(vectors), _BLOCK):
        block = np.ascontiguousarray(vectors[start:start + _BLOCK], dtype=np.float32)
        out[start:start + len(block)] = l2_normalise(pca.apply(block))
    return out


def ivf_index(vectors: np.ndarray, nprobe: int, seed: int = 0):
    """An inverted-file FAISS index (inner product) over ``vectors``: about 4 sqrt(n) lists,
    trained on at most 64 vectors a list, searching ``nprobe`` lists per query."""
    import faiss

    dims = vectors.shape[1]
    nlist = int(4 * np.sqrt(len(vectors)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dims), dims, nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(vectors[sample_rows(len(vectors), 64 * nlist, seed)], dtype=np.float32))
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    index.nprobe = nprobe
    return index


def build(paths: list[str], vectors: np.ndarray, generation: int, exact_limit: int = EXACT_LIMIT) -> VectorIndex:
    """Build the FAISS index for these vectors (exact below ``exact_limit`` rows, IVF above)."""
    import faiss

    if len(vectors) > exact_limit:
        return VectorIndex(ivf_index(vectors, IVF_NPROBE), paths, generation)
    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return VectorIndex(index, paths, generation)


def _files(store: Store) -> tuple[str, str]:
    return str(store.path / layout.FAISS), str(store.path / layout.FAISS_PATHS)


def is_current(store: Store) -> bool:
    """Whether the FAISS file matches the store, read from a tiny stamp written last by save()."""
    try:
        return int((store.path / layout.FAISS_GENERATION).read_text()) == store.generation
    except (OSError, ValueError):
        return False


def save(store: Store, vindex: VectorIndex) -> None:
    """Write both files through temporary names and rename, so readers never see half a file."""
    import faiss

    index_file, paths_file = _files(store)
    faiss.write_index(vindex.index, index_file + ".tmp")
    with open(paths_file + ".tmp", "w", encoding="utf-8", errors="surrogateescape") as handle:
        json.dump({"generation": vindex.generation, "paths": vindex.paths}, handle)
    os.replace(index_file + ".tmp", index_file)
    os.replace(paths_file + ".tmp", paths_file)
    stamp = store.path / layout.FAISS_GENERATION
    stamp.with_suffix(".tmp").write_text(str(vindex.generation))
    os.replace(stamp.with_suffix(".tmp"), stamp)


def load(store: Store) -> VectorIndex:
    """The store's FAISS index, rebuilt in memory from LMDB (and saved, if writable) when stale."""
    import faiss

    index_file, paths_file = _files(store)
    generation = store.generation
    try:
        with open(paths_file, encoding="utf-8", errors="surrogateescape") as handle:
            sidecar = json.load(handle)
        if sidecar["generation"] == generation:
            index = faiss.read_index(index_file)
            if index.ntotal == len(sidecar["paths"]):
                return VectorIndex(index, sidecar["paths"], generation)
    except (OSError, ValueError, KeyError, RuntimeError):
        pass  # missing, stale or damaged: rebuilt below
    paths, vectors = store.all_vectors()
    vindex = build(paths, vectors, generation)
    if store.writable:
        save(store, vindex)
    return vindex
