"""Groups from accepted pairs: a keeper and the photos accepted as duplicates *of the keeper*
(no chaining), and groups of similar shots among the duplicate groups' keepers and the photos in
no group."""

from __future__ import annotations

from dataclasses import dataclass

from imgsearch_cnn.indexer.store import Record
from imgsearch_cnn.search.dupes import keep as keeping
from imgsearch_cnn.search.dupes.capture import Capture
from imgsearch_cnn.search.dupes.ignore import ignore_key
from imgsearch_cnn.search.dupes.looks import LookCache


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
    looks = LookCache(decide.cache.looks if decide else None)
    looks.prefetch([paths[n] for n in adjacency], options.workers)
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


def shot_groups(paths, records, edges, groups, options, decide, ignored) -> list[Group]:
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
