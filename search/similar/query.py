"""Nearest photos for one or several query photos, or for a vector."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer import embed, vector_index
from imgsearch_cnn.indexer.vector_index import l2_normalise
from imgsearch_cnn.indexer.models import Preprocessing
from imgsearch_cnn.indexer.store import Record, Store
from imgsearch_cnn.search.similar import adapt


class QueryError(ValueError):
    """A query that cannot be answered (unreadable photo, empty index...)."""


@dataclass
class Match:
    path: str
    score: float  # cosine similarity, 1.0 = identical features
    record: Record | None


def _require_photos(store: Store) -> None:
    if store.count() == 0:
        raise QueryError(f"index {store.path} is empty: run `imgsearch index FOLDER` first")


def query_vector(store: Store, files: list[str], make_embedder: Callable[[], object], prep: Preprocessing,
                 features: str = "cnn") -> np.ndarray:
    """One unit vector for the query files: stored vectors for indexed, unchanged files (no model
    load), embeddings for the others; several files are averaged (a combined query).
    ``make_embedder`` is called only if some file needs embedding (loading a network costs
    seconds); ``prep`` is the index's preprocessing. ``features``: "cnn" or "color"."""
    if not files:
        raise QueryError("no query file given")
    vectors, to_embed = [], []
    for name in files:
        path = os.path.realpath(name)
        if os.path.isdir(path):
            raise QueryError(f"{name} is a folder: give one or more photo files as the query")
        if not os.path.isfile(path):
            raise QueryError(f"query file not found: {name}")
        record = store.record(path)
        if record and record.unchanged():
            vector = store.vector(record.hash, features)
            if vector is not None:
                vectors.append(vector)
                continue
        to_embed.append(path)
    if to_embed:
        loaded = [embed.load(path, prep) for path in to_embed]
        bad = [item for item in loaded if item.pixels is None]
        if bad:
            raise QueryError(f"cannot read query {bad[0].path}: {bad[0].error}")
        if features == "color":
            vectors.extend(item.color for item in loaded)
        else:
            vectors.extend(make_embedder().embed_loaded(loaded)[1])
    return l2_normalise(np.mean(np.vstack(vectors), axis=0))


# Query expansion: the query's own nearest photos join it before the real search (average query
# expansion). Measured on the dev sets (docs/BENCHMARKS.md): precision@10 0.878 -> 0.898 on
# Caltech-101 and 0.627 -> 0.637 on CIFAR-10 with 3 neighbours at weight 1.
EXPAND_NEIGHBOURS = 3
EXPAND_WEIGHT = 1.0


def search(
    store: Store, vector: np.ndarray, k: int = 10, min_score: float = -1.0, exclude: set[str] = frozenset(),
    features: str = "cnn", expand: int = 0, adaptation: adapt.Adaptation | None = None,
) -> list[Match]:
    """The ``k`` best matches for a unit vector, best first, above ``min_score``. With ``expand``,
    the vector's ``expand`` nearest photos join it first (query expansion). With ``adaptation``,
    the adapt.CANDIDATES best are re-ranked in the collection's adapted space (CNN features).
    The scores stay the cosine similarity to ``vector`` itself."""
    _require_photos(store)
    if features == "cnn":
        vindex = vector_index.load(store)
    else:  # colour histograms are small: an exact index built on the fly
        paths, vectors = store.all_vectors(features)
        vindex = vector_index.build(paths, vectors, store.generation)
    ranking, scored_by = vector, None
    if expand:
        first = _best(store, vindex, vector, expand, -1.0, exclude, features)
        known = [v for v in (store.vector(m.record.hash, features) for m in first if m.record) if v is not None]
        if known:
            ranking = l2_normalise((vector + EXPAND_WEIGHT * np.mean(known, axis=0)).reshape(1, -1))[0]
            scored_by = vector
    if adaptation is None or features != "cnn":
        return _best(store, vindex, ranking, k, min_score, exclude, features, scored_by)
    # Ranked without scores: each candidate's stored vector, read once here, gives its score.
    found = _best(store, vindex, ranking, max(k, adapt.CANDIDATES), -1.0, exclude, features)
    pool, stored = [], []
    for match in found:
        known = store.vector(match.record.hash) if match.record else None
        if known is not None:
            pool.append(Match(match.path, float(known @ vector), match.record))
            stored.append(known)
    candidates = np.vstack(stored) if stored else np.zeros((0, len(vector)), np.float32)
    order = adapt.rerank(vector, candidates, adaptation, expand)
    return [pool[row] for row in order if pool[row].score >= min_score][:k]


def _best(store: Store, vindex, ranking: np.ndarray, k: int, min_score: float, exclude: set[str], features: str,
          scored_by: np.ndarray | None = None) -> list[Match]:
    """Matches ranked by cosine to ``ranking``; scored by cosine to ``scored_by`` when given (the
    original query of an expanded one), else to ``ranking``."""
    scores, rows = vindex.search(ranking.reshape(1, -1), k + len(exclude))
    matches = []
    for score, row in zip(scores[0], rows[0]):
        if row < 0:
            continue
        path = vindex.paths[row]
        if path in exclude:
            continue
        record = store.record(path)
        if scored_by is not None:
            stored = store.vector(record.hash, features) if record else None
            score = float(stored @ scored_by) if stored is not None else float(score)
        if score < min_score:
            continue
        matches.append(Match(path, float(score), record))
        if len(matches) == k:
            break
    return matches


def similar(store: Store, files: list[str], make_embedder: Callable[[], object], prep: Preprocessing,
            k: int = 10, min_score: float = -1.0, features: str = "cnn",
            expand: int = EXPAND_NEIGHBOURS, adapted: bool = True) -> list[Match]:
    """Photos most similar to ``files`` (the query files themselves are left out); see
    :func:`query_vector` for the embedder, :func:`search` for ``expand`` and the re-ranking in
    the collection's adapted space (``adapted``; CNN features of collections of at least
    adapt.MIN_PHOTOS photos)."""
    _require_photos(store)  # before embedding a query for nothing
    vector = query_vector(store, files, make_embedder, prep, features)
    cnn = features == "cnn"
    return search(store, vector, k, min_score, {os.path.realpath(f) for f in files}, features,
                  expand if cnn else 0, adapt.current(store) if adapted and cnn else None)
