"""The `imgsearch dupes` job: find duplicate groups, plan an action, carry it out if asked."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import actions, cache, groups


@dataclass
class DupesOutcome:
    result: groups.DedupeResult
    operations: list[actions.Operation]
    journal: Path | None
    applied: bool
    move_to: str | None = None
    include_similar_shots: bool = False

    def planned(self) -> dict[str, actions.Operation]:
        """Duplicate path -> what the action does (or why it leaves the file alone)."""
        return self._by_path

    def sidecars_of(self, path: str) -> int:
        """How many sidecar files the plan carries along with this photo."""
        return self._sidecar_counts.get(path, 0)

    @cached_property
    def _by_path(self) -> dict[str, actions.Operation]:  # reports ask once per photo: built once
        return {op.path: op for op in self.operations}

    @cached_property
    def _sidecar_counts(self) -> Counter:
        return Counter(op.sidecar_of for op in self.operations if op.sidecar_of)


def run(store: Store, options: groups.DedupeOptions, action: str = "report", move_to: str | None = None,
        apply: bool = False, confirm_delete: bool = False, progress=None,
        include_similar_shots: bool = False) -> DupesOutcome:
    """Find groups and plan ``action`` on the duplicate groups (and the similar-shots groups
    too with ``include_similar_shots``); carry it out only with ``apply`` (dry run otherwise).
    ``store`` must be writable to apply; ``progress`` as for groups.find_groups."""
    if move_to:
        actions.check_move_to(store, move_to, options.references)
    result = cache.load(store, options)
    if result is None:
        result = groups.find_groups(store, options, progress=progress)
        cache.save(store, options, result)
    root = actions.common_root(store) if action == "move" else "/"
    acted_on = [g for g in result.groups if g.tier == groups.DUPLICATES or include_similar_shots]
    operations = actions.plan(acted_on, action, options.references, move_to, root)
    journal = None
    if apply and action != "report":
        journal = actions.apply(store, operations, confirm_delete, options.references)
    return DupesOutcome(result, operations, journal, apply and action != "report", move_to, include_similar_shots)
