"""Vectors: the FAISS file of an index (built from LMDB, saved atomically, rebuilt whenever
stale) and the vector arithmetic every feature shares (normalisation, PCA, IVF, sampling).

Vectors are L2-normalised, so inner product is cosine similarity. Up to ``COMPRESS_ABOVE``
vectors the FAISS file is an exact flat index. Above, it is compressed (PCA to 256 dimensions,
inverted lists, 4-bit scalar quantisation: 128 bytes a photo instead of 5,120), and each search
re-ranks its best candidates by their exact cosine to the query, computed from the vectors in
LMDB: recall@10 against exact search and the sizes at 100,000 and 1,000,000 photos are in
docs/BENCHMARKS.md ("Scale"), measured by tools/bench_scale.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.store import Store

COMPRESS_ABOVE = 200_000  # more vectors: the compressed FAISS file (see module doc)
COMPRESSED_DIMS = 256  # PCA dimensions before the inverted lists
COMPRESSED_CODE = "SQ4"  # 4 bits a dimension: trains in seconds, where product quantisation took minutes
COMPRESSED_NPROBE = 48  # inverted lists searched per query
RERANK = 30  # candidates re-ranked exactly per result asked for (recall@10 0.88 at 10, 1.00 at 30: BENCHMARKS)
_BLOCK = 1 << 16  # rows transformed at a time


@dataclass
class VectorIndex:
    """A FAISS index and the file path of each of its rows; a compressed index also has
    ``exact``, which gives the stored vectors of some rows for re-ranking."""

    index: object  # faiss.Index
    paths: list[str]
    generation: int
    exact: Callable[[np.ndarray], np.ndarray] | None = None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row numbers of the ``k`` nearest rows for each query (-1 where none)."""
        k = min(k, len(self.paths))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if self.exact is None:
            return self.index.search(queries, k)
        _, candidates = self.index.search(queries, min(k * RERANK, len(self.paths)))
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        for n, (query, found) in enumerate(zip(queries, candidates)):
            found = found[found >= 0]
            exact = self.exact(found) @ query
            best = np.argsort(-exact, kind="stable")[:k]
            scores[n, :len(best)], rows[n, :len(best)] = exact[best], found[best]
        return scores, rows


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


def reduce(vectors: np.ndarray, dims: int, seed: int = 0, fit_rows: int = 20_000, whiten: float = 0.0) -> np.ndarray:
    """PCA to ``dims`` dimensions (fitted on at most ``fit_rows`` rows), rows re-normalised.
    ``whiten``: each axis is first divided by its spread (standard deviation) to this power, so
    that the few dominant axes weigh less (0: plain PCA, 1: full whitening).
    Applied a block at a time, so memory stays at the output's size plus one block."""
    import faiss

    dims = min(dims, vectors.shape[1], len(vectors))
    pca = faiss.PCAMatrix(vectors.shape[1], dims, -whiten / 2)  # FAISS scales by variance ** power
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


def training_rows(n: int, seed: int = 0) -> np.ndarray:
    """The rows a compressed index of ``n`` vectors is trained on."""
    return sample_rows(n, max(40 * _lists(n), 100_000), seed)


def _lists(n: int) -> int:
    return max(1, int(np.sqrt(n)))


def compressed_index(sample: np.ndarray, n: int):
    """An empty compressed index for ``n`` vectors, trained on ``sample`` (see training_rows):
    PCA to COMPRESSED_DIMS, about sqrt(n) inverted lists, COMPRESSED_CODE codes, inner product."""
    import faiss

    dims = sample.shape[1]
    index = faiss.index_factory(dims, f"PCAR{min(COMPRESSED_DIMS, dims)},IVF{_lists(n)},{COMPRESSED_CODE}",
                                faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    faiss.extract_index_ivf(index).nprobe = COMPRESSED_NPROBE
    return index


def is_compressed(index) -> bool:
    import faiss

    return not isinstance(faiss.downcast_index(index), faiss.IndexFlat)


def build(paths: list[str], vectors: np.ndarray, generation: int, compress_above: int | None = None,
          exact: Callable[[np.ndarray], np.ndarray] | None = None) -> VectorIndex:
    """Build the FAISS index for these vectors: exact up to ``compress_above`` rows (default
    COMPRESS_ABOVE), compressed above (``exact``, which gives the vectors of some rows,
    re-ranks its candidates; by default rows of ``vectors``)."""
    import faiss

    if len(vectors) > (COMPRESS_ABOVE if compress_above is None else compress_above):
        index = compressed_index(vectors[training_rows(len(vectors))], len(vectors))
        for start in range(0, len(vectors), _BLOCK):
            index.add(np.ascontiguousarray(vectors[start:start + _BLOCK], dtype=np.float32))
        return VectorIndex(index, paths, generation, exact or (lambda rows: vectors[rows]))
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
            paths = sidecar["paths"]
            if index.ntotal == len(paths):
                exact = stored_vectors(store, paths) if is_compressed(index) else None
                return VectorIndex(index, paths, generation, exact)
    except (OSError, ValueError, KeyError, RuntimeError):
        pass  # missing, stale or damaged: rebuilt below
    if store.count() > COMPRESS_ABOVE:
        vindex = _compressed_from_store(store)
    else:
        paths, vectors = store.all_vectors()
        vindex = build(paths, vectors, generation)
    if store.writable:
        save(store, vindex)
    return vindex


def _compressed_from_store(store: Store) -> VectorIndex:
    """The compressed index built straight from LMDB in two passes (the training sample, then
    every vector a block at a time), so a million vectors are never in memory at once."""
    index = compressed_index(sampled_vectors(store, training_rows(store.count())), store.count())
    paths: list[str] = []
    for block_paths, block in store.vector_blocks():
        index.add(block)
        paths += block_paths
    return VectorIndex(index, paths, store.generation, stored_vectors(store, paths))


def sampled_vectors(store: Store, rows: np.ndarray) -> np.ndarray:
    """The stored vectors of these rows (sorted row numbers, in path order), read a block at a
    time: a sample of a million photos without all of them in memory."""
    picked, seen = [], 0
    for _, block in store.vector_blocks():
        inside = rows[(rows >= seen) & (rows < seen + len(block))] - seen
        picked.append(block[inside])
        seen += len(block)
    return np.concatenate(picked) if picked else np.zeros((0, (store.model or {}).get("dims", 0)), np.float32)


def stored_vectors(store: Store, paths: list[str]) -> Callable[[np.ndarray], np.ndarray]:
    """rows -> the stored vectors of those rows' photos (for re-ranking a compressed index)."""
    def vectors(rows: np.ndarray) -> np.ndarray:
        found = [store.vector(store.record(paths[row]).hash) for row in rows]
        return np.vstack(found) if found else np.zeros((0, (store.model or {}).get("dims", 0)), np.float32)
    return vectors
