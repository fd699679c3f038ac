"""The last duplicate-finding result, kept in the index folder so that a dry run, the reports and
`--apply` that follow it do not check every pair again. It is used only while the index is
unchanged (same generation), the options are the same and the "not duplicates" list is the same;
the actions re-check every file at apply time anyway (search/dupes/actions.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes.groups import DedupeOptions, DedupeResult, Group, Member
from imgsearch_cnn.search.dupes.ignore import load_ignored

VERSION = 2  # the layout of the kept result


def _key(store: Store, options: DedupeOptions) -> str:
    ignored = sorted(load_ignored(store))
    settings = {name: value for name, value in asdict(options).items()
                if name not in ("workers", "cache_photos")}  # these change the speed, not the groups
    text = json.dumps([store.generation, settings, ignored], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def load(store: Store, options: DedupeOptions) -> DedupeResult | None:
    """The kept result for these options, or None when there is none or it may be stale."""
    try:  # a cache written by an older version has another layout: it is simply not used
        with open(store.path / layout.DUPES_CACHE, encoding="utf-8", errors="surrogateescape") as handle:
            kept = json.load(handle)
    except (OSError, ValueError):
        return None
    if kept.get("key") != _key(store, options) or kept.get("version") != VERSION:
        return None
    groups = []
    for entry in kept["groups"]:
        members = []
        for path, score, reason, shot in entry["members"]:
            record = store.record(path)
            if record is None:
                return None
            members.append(Member(record, score, reason, shot))
        groups.append(Group(members[0].record, members, entry["keeper_reason"], entry["tier"]))
    return DedupeResult(groups, kept["pairs_checked"], kept["seconds"], kept["stats"], cached=True)


def save(store: Store, options: DedupeOptions, result: DedupeResult) -> None:
    """Keep a result (written under a temporary name and renamed: readers never see half)."""
    kept = {"key": _key(store, options), "version": VERSION, "pairs_checked": result.pairs_checked, "seconds": result.seconds,
            "stats": result.stats,
            "groups": [{"keeper_reason": g.keeper_reason, "tier": g.tier,
                        "members": [[m.record.path, m.score, m.reason, m.shot] for m in g.members]}
                       for g in result.groups]}
    target = store.path / layout.DUPES_CACHE
    part = target.with_name(target.name + ".tmp")
    try:
        with open(part, "w", encoding="utf-8", errors="surrogateescape") as handle:
            json.dump(kept, handle)
        os.replace(part, target)
    except OSError:
        pass  # a cache that cannot be written (read-only index, full disk) only costs time
