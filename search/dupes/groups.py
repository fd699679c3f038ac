"""Duplicate groups: exact copies by content hash, near-duplicates by a cascade of checks.

Near-duplicates: every photo's ``neighbours`` nearest CNN neighbours are candidates (FAISS; no
N x N matrix). A candidate pair is accepted by the first rule that fires, cheapest first:

1. same content hash (exact copy);
2. cosine similarity >= ``accept`` (the preset's threshold);
3. perceptual hash within ``phash_distance`` bits in some orientation, confirmed by the pixels:
   the edges of the two photos, the second turned the way the hashes say, correlate at least
   ``phash_agreement`` (finds blurred, shrunk, recompressed, brightened, grey, mirrored and
   rotated copies, whatever their CNN score; a hash match alone also groups look-alike product
   shots, documents and small images);
4. cosine >= ``verify_floor`` and the local-feature check passes (crops, straightened,
   captioned, padded copies; search/dupes/verify.py), mirrored too when the hashes are closest
   in a mirrored orientation (most candidate pairs are different photos: each SIFT pass saved counts).

Every accepted pair is then judged one capture or two shots (search/dupes/capture.py): duplicate
groups hold only copies of one capture; bursts, series and brackets form "similar shots" groups
(of the duplicate groups' keepers and the photos in no group), reported apart and left alone by
the clean-up unless asked.

Groups never chain: each group is a keeper and photos accepted as duplicates *of the keeper*.

Presets and the threshold scale: ``--threshold`` is a cosine similarity of CNN vectors (0..1).
``exact``: content hash only. ``near`` (default): accept 0.95 plus rules 3 and 4.
``similar``: accept 0.80 plus rules 3 and 4, which also groups different shots of one scene.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer.phash import MIRRORS, closest
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import candidates, parallel
from imgsearch_cnn.search.dupes import keep as keeping
from imgsearch_cnn.search.dupes.capture import Capture, by_records, judge
from imgsearch_cnn.search.dupes.ignore import ignore_key, load_ignored
from imgsearch_cnn.search.dupes.pixels import PixelCache, read
# The groups themselves (stars.py) are part of this module's interface: callers import them here.
from imgsearch_cnn.search.dupes.stars import DUPLICATES, SHOTS, Group, Member, shot_groups, star_groups  # noqa: F401
from imgsearch_cnn.search.dupes.verify import FeatureCache

PRESETS = {
    "exact": None,
    "near": 0.95,
    "similar": 0.80,
}


@dataclass
class DedupeOptions:
    preset: str = "near"
    threshold: float | None = None  # overrides the preset's cosine threshold
    neighbours: int = 10
    phash_distance: int = 8
    phash_agreement: float = 0.7  # edge correlation a pHash match needs (docs/BENCHMARKS.md)
    verify_floor: float = 0.5
    max_group_size: int = 100
    keep_rules: list[str] = field(default_factory=lambda: list(keeping.DEFAULT_RULES))
    references: list[str] = field(default_factory=list)
    approximate_above: int = 50_000  # candidate search switches to IVF on PCA vectors above this
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # threads and processes checking pairs
    # Above this many photos, pairs are checked cluster by cluster, and at most this many photos
    # check features (~100-350 kB each) are kept; each photo's go once its last pair is checked.
    cache_photos: int = 8192
    # Pairs are checked in windows touching at most this many photos (and half cache_photos):
    # their features are all prepared, then all their pairs checked (search/dupes/parallel.py).
    window_photos: int = 2048


@dataclass
class DedupeResult:
    groups: list[Group]
    pairs_checked: int
    seconds: float
    stats: dict[str, int]
    cached: bool = False  # taken from the last run (search/dupes/cache.py), nothing checked again
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage: candidates, check, group


def accept_threshold(options: DedupeOptions) -> float | None:
    if options.threshold is not None:
        return options.threshold
    if options.preset not in PRESETS:
        raise ValueError(f"unknown preset {options.preset!r}: {', '.join(PRESETS)}")
    return PRESETS[options.preset]


def find_groups(store: Store, options: DedupeOptions | None = None,
                ignored: set[tuple[str, str]] | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> DedupeResult:
    """Duplicate groups of the indexed photos (see module doc); pairs marked "not a duplicate"
    (the store's ignore list unless ``ignored`` is given) are never grouped. ``progress(stage,
    done, total)`` hears how the photos are read for the check (stage "prepare") and how the
    candidate pairs are being checked (stage "check")."""
    options = options or DedupeOptions()
    progress = progress or (lambda stage, done, total: None)
    ignored = load_ignored(store) if ignored is None else ignored
    started = time.perf_counter()
    records = {r.path: r for r in store.records()}
    accept = accept_threshold(options)
    edges: dict[tuple[int, int], tuple[float, str, Capture]] = {}  # accepted pairs: score, rule, tier
    stats = {"exact": 0, "cosine": 0, "phash": 0, "local": 0, "rejected": 0, "shots": 0}
    paths = sorted(records)
    position = {p: i for i, p in enumerate(paths)}
    by_hash: dict[str, list[int]] = {}
    for i, p in enumerate(paths):
        by_hash.setdefault(records[p].hash, []).append(i)
    for rows in by_hash.values():
        for j in rows[1:]:
            edges[(rows[0], j)] = (1.0, "exact", Capture(True, "same bytes"))
            stats["exact"] += 1
    checked = 0
    stages: dict[str, float] = {}
    if accept is not None and len(paths) > 1:
        vec_paths, vectors = store.all_vectors()
        order = np.array([position[p] for p in vec_paths])
        pairs, scores = candidates.candidate_pairs(vectors, options.neighbours, options.approximate_above,
                                        min(options.verify_floor, accept))
        hashes = {records[p].hash: store.vector(records[p].hash, "phash") for p in vec_paths}
        hashed = np.array([a for a, p in enumerate(vec_paths) if hashes[records[p].hash] is not None], dtype=np.int64)
        codes = np.vstack([hashes[records[vec_paths[a]].hash] for a in hashed]) if len(hashed) else np.zeros((0, 8), np.uint64)
        extra = hashed[candidates.phash_pairs(codes, options.phash_distance)] if len(hashed) else np.zeros((0, 2), np.int64)
        if len(extra):
            known = {tuple(p) for p in pairs.tolist()}
            extra = np.array([p for p in extra.tolist() if tuple(p) not in known], dtype=np.int64).reshape(-1, 2)
            pairs = np.concatenate([pairs, extra])
            scores = np.concatenate([scores, np.einsum("ij,ij->i", vectors[extra[:, 0]], vectors[extra[:, 1]])])
        vectors_by_row = np.zeros((len(paths), vectors.shape[1]), dtype=np.float32)
        vectors_by_row[order] = vectors
        decide = _Decider(accept, options, FeatureCache(capacity=options.cache_photos),
                          lambda n: hashes[records[paths[n]].hash], vectors_by_row,
                          lambda n: records[paths[n]])
        tasks = []
        for (a, b), score in zip(pairs, scores):
            i, j = sorted((int(order[a]), int(order[b])))
            ra, rb = records[paths[i]], records[paths[j]]
            if (i, j) in edges or ra.hash == rb.hash or ignore_key(ra.hash, rb.hash) in ignored:
                continue
            tasks.append((paths[i], paths[j], i, j, float(score)))
        if len(paths) > options.cache_photos:  # check cluster by cluster: few photos in play at once
            cluster = np.zeros(len(paths), dtype=np.int64)
            cluster[order] = candidates.locality_order(vectors)
            tasks.sort(key=lambda task: (cluster[task[2]], cluster[task[3]]))
        checked = len(tasks)
        stages["candidates"] = time.perf_counter() - started
        for (_, _, i, j, score), (reason, capture) in zip(tasks, parallel.decide_all(
                decide, tasks, options.workers, progress, max(2, min(options.window_photos, options.cache_photos // 2)))):
            if reason:
                edges[(i, j)] = (score, reason, capture)
                stats[reason if capture.one else "shots"] += 1
            else:
                stats["rejected"] += 1
    else:
        decide = None
    copies = {pair: value for pair, value in edges.items() if value[2].one}
    grouping = time.perf_counter()
    stages["check"] = grouping - started - stages.get("candidates", 0.0)
    groups = star_groups(paths, records, copies, options, decide, ignored)
    groups += shot_groups(paths, records, edges, groups, options, decide, ignored)
    stages["group"] = time.perf_counter() - grouping
    return DedupeResult(groups, checked, time.perf_counter() - started, stats, stages=stages)


class _Decider:
    """The accept cascade for one pair (see module doc); returns the rule that accepted it."""

    def __init__(self, accept, options, cache, phash_of, vectors, record_of):
        self.accept, self.options, self.cache, self.phash_of, self.vectors = accept, options, cache, phash_of, vectors
        self.record_of = record_of
        self.pixels = PixelCache(capacity=options.cache_photos)

    def release(self, path: str) -> None:
        """Forget a photo's check features (they are computed again if asked for later)."""
        self.cache.release(path)
        self.pixels.release(path)

    def _phash_match(self, path_a: str, path_b: str, bits: int, turn: int) -> bool:
        """Close perceptual hashes, and the pixels agree once b is turned the way the hashes say:
        a hash match alone groups look-alike product shots, documents and small images."""
        return bits <= self.options.phash_distance and \
            self.pixels.agreement(path_a, path_b, turn) >= self.options.phash_agreement

    def __call__(self, path_a: str, path_b: str, i: int, j: int,
                 score: float | None = None) -> tuple[str | None, Capture | None]:
        """The rule that accepted the pair (None: not alike) and whether it is one capture."""
        if score is None:
            score = float(self.vectors[i] @ self.vectors[j])
        a, b = self.phash_of(i), self.phash_of(j)
        bits, turn = closest(a, b) if a is not None and b is not None else (64, 0)
        if score >= self.accept:
            reason = "cosine"
        elif self._phash_match(path_a, path_b, bits, turn):
            reason = "phash"
        elif score >= self.options.verify_floor and self.cache.same(path_a, path_b, mirrored=turn in MIRRORS):
            reason = "local"
        else:
            return None, None
        return reason, judge(self.record_of(i), self.record_of(j), self.cache, self.pixels, turn)

    def needs(self, path_a: str, path_b: str, i: int, j: int, score: float) -> list[tuple[str, str]]:
        """The per-photo work deciding this pair will ask for, as far as the cheap signals tell:
        ("edges" | "keypoints", path) items for :meth:`prepare`."""
        work = []
        a, b = self.phash_of(i), self.phash_of(j)
        if score < self.accept and a is not None and b is not None and closest(a, b)[0] <= self.options.phash_distance:
            work += [("edges", path_a), ("edges", path_b)]
        # Rule 4 checks keypoints; an accepted pair is judged by them unless its records tell.
        if score >= self.options.verify_floor and (score < self.accept or
                                                   by_records(self.record_of(i), self.record_of(j)) is None):
            work += [("keypoints", path_a), ("keypoints", path_b)]
        return work

    def prepare(self, item: tuple[tuple[str, ...], str]) -> None:
        """Compute one photo's edge map and/or keypoints into the caches: ``item`` is (kinds,
        path), the kinds of :meth:`needs` for that photo. The photo is read once for both."""
        kinds, path = item
        image = read(path) if len(kinds) > 1 else None
        if "edges" in kinds:
            self.pixels.edges(path, image=image)
        if "keypoints" in kinds:
            self.cache.get(path, image=image)

    def take_found(self) -> list:
        """The alignments found by checks so far, forgotten here (search/dupes/parallel.py)."""
        return self.cache.take_matches()

    def add_found(self, found: list) -> None:
        """Alignments another process found (:meth:`take_found`): keeper choice reads them."""
        self.cache.add_matches(found)
