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
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer.phash import MIRRORS, closest
from imgsearch_cnn.indexer.store import Record, Store
from imgsearch_cnn.search.dupes import candidates
from imgsearch_cnn.search.dupes.capture import Capture, judge
from imgsearch_cnn.search.dupes import keep as keeping
from imgsearch_cnn.search.dupes.ignore import ignore_key, load_ignored
from imgsearch_cnn.search.dupes.looks import LookCache
from imgsearch_cnn.search.dupes.pixels import PixelCache
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
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # threads checking pairs
    # Above this many photos, pairs are checked cluster by cluster, and at most this many photos
    # check features (~100-350 kB each) are kept; each photo's go once its last pair is checked.
    cache_photos: int = 8192


@dataclass
class Member:
    record: Record
    score: float  # similarity to the keeper (1.0 for the keeper and exact copies)
    reason: str  # keeper | exact | cosine | phash | local
    shot: str = ""  # in a similar-shots group: why it is another shot, not a copy


DUPLICATES, SHOTS = "duplicates", "similar shots"


@dataclass
class Group:
    keeper: Record
    members: list[Member]  # keeper first
    keeper_reason: str = ""  # the keep rule that decided (search/dupes/keep.py)
    tier: str = DUPLICATES  # or SHOTS: other captures of one scene

    @property
    def paths(self) -> list[str]:
        return [m.record.path for m in self.members]


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
    done, total)`` hears how the candidate pairs are being checked (stage "check")."""
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
        for (_, _, i, j, score), (reason, capture) in zip(tasks, _decide_all(decide, tasks, options.workers, progress)):
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
    groups += _shot_groups(paths, records, edges, groups, options, decide, ignored)
    stages["group"] = time.perf_counter() - grouping
    return DedupeResult(groups, checked, time.perf_counter() - started, stats, stages=stages)


def _shot_groups(paths, records, edges, groups, options, decide, ignored) -> list[Group]:
    """Similar-shots groups among the duplicate groups' keepers and the photos in no group: a
    copy stands for its keeper, so a burst with copies of its frames is one series."""
    position = {p: n for n, p in enumerate(paths)}
    stands_for = {position[m.record.path]: position[g.keeper.path] for g in groups for m in g.members}
    shots = {}
    for (i, j), value in edges.items():
        if value[2].one:
            continue
        a, b = sorted((stands_for.get(i, i), stands_for.get(j, j)))
        if a != b and ((a, b) not in shots or value[0] > shots[(a, b)][0]):
            shots[(a, b)] = value
    return star_groups(paths, records, shots, options, decide, ignored, tier=SHOTS)


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


def _decide_all(decide, tasks: list[tuple], workers: int, progress) -> list[tuple]:
    """The cascade's verdict on every pair, in order, on ``workers`` threads: decoding, SIFT and
    matching run in native code that releases the GIL, so threads use every core."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    verdicts: list[tuple] = []
    uses = Counter(path for task in tasks for path in task[:2])
    # One BLAS thread per worker: the workers already use every core (descriptor matching is
    # a matrix product), and nested thread pools only fight over them.
    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as pool:
        for task, verdict in zip(tasks, (pool.map if pool else map)(lambda task: decide(*task), tasks)):
            verdicts.append(verdict)
            for path in task[:2]:  # a photo with no pair left to check lets its features go
                uses[path] -= 1
                if not uses[path]:
                    decide.release(path)
            if len(verdicts) % 64 == 0:
                progress("check", len(verdicts), len(tasks))
    progress("check", len(tasks), len(tasks))
    return verdicts


def star_groups(paths, records, edges, options, decide=None, ignored=frozenset(), tier=DUPLICATES) -> list[Group]:
    """Split the accepted-pair graph into groups of a keeper and its own duplicates.

    A photo whose accepted partner went to a group with another keeper is checked against that
    keeper directly (the same cascade) and joins the group only if it passes: no chaining."""
    adjacency: dict[int, dict[int, tuple[float, str]]] = {}
    for (i, j), value in edges.items():
        adjacency.setdefault(i, {})[j] = value
        adjacency.setdefault(j, {})[i] = value
    assigned: set[int] = set()
    groups = []
    looks = LookCache()
    # Visit the best-connected photos first: their neighbourhoods are the natural groups.
    for node in sorted(adjacency, key=lambda n: (-len(adjacency[n]), paths[n])):
        if node in assigned:
            continue
        neighbourhood = [node] + [n for n in adjacency[node] if n not in assigned]
        chosen, why = keeping.choose([records[paths[n]] for n in neighbourhood], options.keep_rules,
                                     options.references, looks, decide.cache.framing if decide else None)
        keeper = next(n for n in neighbourhood if records[paths[n]] is chosen)
        members = [n for n in adjacency.get(keeper, {}) if n not in assigned and n != keeper]
        members.sort(key=lambda n: -adjacency[keeper][n][0])
        members = members[: options.max_group_size - 1]
        if not members:
            continue
        assigned.update([keeper, *members])
        group = [Member(records[paths[keeper]], 1.0, "keeper")]
        group += [_member(records[paths[n]], *adjacency[keeper][n], tier) for n in members]
        if decide is not None:
            group += _join_keeper(keeper, members, adjacency, assigned, paths, records, options, decide, ignored,
                                  options.max_group_size - len(group), tier)
        if all(keeping.is_reference(m.record.path, options.references) for m in group):
            continue  # only reference files: nothing to do, nothing to report
        groups.append(Group(group[0].record, group, why, tier))
    groups.sort(key=lambda g: g.keeper.path)
    return groups


def _member(record: Record, score: float, reason: str, capture: Capture, tier: str) -> Member:
    return Member(record, score, reason, "" if tier == DUPLICATES else capture.why)


def _join_keeper(keeper, members, adjacency, assigned, paths, records, options, decide, ignored, room,
                 tier) -> list[Member]:
    """Unassigned photos accepted with a member, verified directly against the keeper (as a copy
    for a duplicate group, as another shot for a similar-shots group)."""
    joined = []
    outside = {n for m in members for n in adjacency.get(m, {}) if n not in assigned}
    for n in sorted(outside):
        if len(joined) >= room:
            break
        if ignore_key(records[paths[n]].hash, records[paths[keeper]].hash) in ignored:
            continue
        i, j = sorted((keeper, n))
        if records[paths[n]].hash == records[paths[keeper]].hash:
            reason, capture = "exact", Capture(True, "same bytes")
        else:
            reason, capture = decide(paths[i], paths[j], i, j)
        if reason and capture.one == (tier == DUPLICATES):
            assigned.add(n)
            score = 1.0 if reason == "exact" else float(decide.vectors[keeper] @ decide.vectors[n])
            joined.append(_member(records[paths[n]], score, reason, capture, tier))
    return joined
