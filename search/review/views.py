"""What the review's photo and cluster pages show: a photo with its most similar photos (the
`similar` query on its stored vector) and its duplicate group, and the clusters saved by
`imgsearch clusters` as paged contact sheets."""

from __future__ import annotations

import os

from imgsearch_cnn.search.review.state import Review, ReviewError, group_id, photo_id
from imgsearch_cnn.search.similar import adapt, query

SHEET_PHOTOS = 8  # photos shown per cluster on the clusters page


def photo(review: Review, pid: str) -> dict:
    """A photo's details, its most similar photos and the id of its undecided group, if any."""
    record = review.record(pid)
    similar = []
    with review.reading() as store:
        vector = store.vector(record.hash)
        if vector is not None:
            matches = query.search(store, vector, review.options.similar_count, exclude={record.path},
                                   expand=query.EXPAND_NEIGHBOURS, adaptation=_adaptation(review, store))
            similar = [{**review.describe(m.record), "score": round(m.score, 4)} for m in matches if m.record]
    group = review.group_of(record.path)
    return {"photo": review.describe(record), "similar": similar,
            "group": group_id(group) if group else None, "cluster": _labels(review).get(record.path)}


def _adaptation(review: Review, store) -> adapt.Adaptation | None:
    """The collection's adapted space for `similar`, looked up once per index generation (an
    index written before it existed would otherwise learn it again on every photo page)."""
    if review.adaptation is None or review.adaptation[0] != store.generation:
        review.adaptation = (store.generation, adapt.current(store))
    return review.adaptation[1]


def _labels(review: Review) -> dict[str, str]:
    """Path -> cluster label of the last `imgsearch clusters` run, for photos still indexed
    (read once per index generation: at a million photos the saved labels are large)."""
    with review.reading() as store:
        generation = store.generation
        if review.cluster_labels is None or review.cluster_labels[0] != generation:
            saved = (store.get_extra("clusters") or {}).get("labels", {})
            indexed = {r.path for r in store.records()}
            review.cluster_labels = (generation, {p: str(label) for p, label in saved.items() if p in indexed})
    return review.cluster_labels[1]


def clusters(review: Review, number: int, size: int) -> dict:
    """One page of clusters, largest first, each with its first photos (noise last)."""
    labels = _labels(review)
    if not labels:
        raise ReviewError("no clusters saved in this index: run `imgsearch clusters` first")
    members = _members(labels)
    order = sorted(members, key=lambda label: (label == "-1", -len(members[label]), label))
    pages = max(1, -(-len(order) // size))
    number = min(number, pages)
    shown = order[(number - 1) * size: number * size]
    return {"page": number, "pages": pages, "total": len(order), "photos": len(labels),
            "clusters": [{"label": label, "size": len(members[label]), "noise": label == "-1",
                          "photos": [_brief(p) for p in members[label][:SHEET_PHOTOS]]} for label in shown]}


def cluster(review: Review, label: str, number: int, size: int) -> dict:
    """One page of a cluster's contact sheet."""
    members = _members(_labels(review)).get(label)
    if members is None:
        raise KeyError(label)
    pages = max(1, -(-len(members) // size))
    number = min(number, pages)
    return {"label": label, "page": number, "pages": pages, "total": len(members),
            "photos": [_brief(p) for p in members[(number - 1) * size: number * size]]}


def _members(labels: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted(labels):
        out.setdefault(labels[path], []).append(path)
    return out


def _brief(path: str) -> dict:
    return {"id": photo_id(path), "name": os.path.basename(path)}
