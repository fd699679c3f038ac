"""What one `imgsearch review` knows: the duplicate groups still to decide, the photos it may
show (by id, never by a path from a request), and reading and writing the index one step at a
time.

The app holds the index open for reading between requests and closes it for each write (LMDB
allows one environment per file per process), so `imgsearch undo`, `dupes` and `index` can run
beside it. Every decision is written to the index or a journal before the answer goes back
(search/review/decisions.py): killing the server loses nothing decided.
"""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from imgsearch_cnn.indexer.scan import is_under
from imgsearch_cnn.indexer.store import Record, Store, StoreError
from imgsearch_cnn.search.dupes import actions, cache, groups
from imgsearch_cnn.search.dupes.groups import DUPLICATES, DedupeOptions, DedupeResult, Group

REVIEW_ACTIONS = ("move", "trash", "hardlink", "symlink")  # never a permanent delete from the browser


class ReviewError(ValueError):
    """A request that cannot be carried out; the message is shown to the user."""


@dataclass
class ReviewOptions:
    dedupe: DedupeOptions = field(default_factory=DedupeOptions)
    action: str = "trash"  # what happens to the duplicates of a decided group
    move_to: str | None = None  # destination folder of the "move" action
    thumbnail_size: int = 256  # pixels, longest side (thumbnails are cached in the index folder)
    large_size: int = 2048  # pixels, longest side of the photo viewer's image
    similar_count: int = 12  # photos in the "similar" panel


def photo_id(path: str) -> str:
    """The id a photo is asked for by (a hash of its path: URLs never carry paths)."""
    return hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


def group_id(group: Group) -> str:
    """A group's id, stable while its members are the same."""
    text = "\0".join(sorted(group.paths))
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


class Review:
    """The review of one index (see module doc). Thread-safe: every use of the index goes
    through one lock."""

    def __init__(self, index: Path, options: ReviewOptions, progress=None):
        if options.action not in REVIEW_ACTIONS:
            raise ReviewError(f"the review can {', '.join(REVIEW_ACTIONS)}, not {options.action!r}")
        if options.action == "move" and not options.move_to:
            raise ReviewError("the move action needs a destination folder (--move-to DIR)")
        self.index = Path(index)
        self.options = options
        self._lock = threading.RLock()
        self._reader: Store | None = None
        with self.reading() as store:
            if options.move_to:
                actions.check_move_to(store, options.move_to, options.dedupe.references)
            result = cache.load(store, options.dedupe)
            if result is None:
                result = groups.find_groups(store, options.dedupe, progress=progress)
                cache.save(store, options.dedupe, result)
            self.result = result
            self.generation = store.generation
            self.paths = {photo_id(r.path): r.path for r in store.records()}
            self.root = actions.common_root(store)
        self.groups: list[Group] = list(result.groups)
        self.cluster_labels: tuple[int, dict[str, str]] | None = None  # (generation, path -> label): views.py
        self.adaptation: tuple[int, object] | None = None  # (generation, adapt.Adaptation or None): views.py
        self.stale = False  # see changed_elsewhere()

    # -- the index -----------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[Store]:
        """The index, open for reading (kept open between requests)."""
        with self._lock:
            if self._reader is None:
                self._reader = Store.open(self.index)
            yield self._reader

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """The index, open for writing for one step; refused while another process writes."""
        with self._lock:
            self.close()
            try:
                with Store.open(self.index, writable=True) as store:
                    self.stale |= store.generation != self.generation
                    yield store
                    self.generation = store.generation
            except StoreError as exc:
                raise ReviewError(str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def changed_elsewhere(self) -> bool:
        """Whether another process (`imgsearch index`, `undo`...) changed the index since the
        groups were found: they may then miss new duplicates, so they are no longer kept as the
        `dupes` result, and the page suggests a restart."""
        with self.reading() as store:
            self.stale |= store.generation != self.generation
        return self.stale

    # -- photos --------------------------------------------------------------------------------
    def record(self, pid: str) -> Record:
        """The indexed photo with this id; refused if it is not (or no longer) in the index, or
        lies inside the index folder (nothing there but thumbnails is ever served)."""
        path = self.paths.get(pid)
        if path is None:
            raise KeyError(pid)
        with self.reading() as store:
            record = store.record(path)
        if record is None or is_under(os.path.realpath(path), [os.path.realpath(self.index)]):
            raise KeyError(pid)
        return record

    def describe(self, record: Record, member=None, keeper: bool = False) -> dict:
        """What the page shows of a photo."""
        info = {"id": photo_id(record.path), "path": record.path, "name": os.path.basename(record.path),
                "folder": os.path.dirname(record.path), "width": record.width, "height": record.height,
                "bytes": record.size, "taken": record.taken, "format": record.format,
                "reference": any(is_under(record.path, [r]) for r in self.options.dedupe.references)}
        if member is not None:
            info.update(score=round(member.score, 4), reason=member.reason, shot=member.shot or None, keeper=keeper)
        return info

    # -- groups --------------------------------------------------------------------------------
    def group_json(self, group: Group) -> dict:
        return {"id": group_id(group), "tier": group.tier, "keeper_reason": group.keeper_reason,
                "members": [self.describe(m.record, m, i == 0) for i, m in enumerate(group.members)]}

    def page(self, number: int, size: int, tier: str | None = None) -> dict:
        """One page of the groups still to decide (``tier``: only duplicates or similar shots)."""
        with self._lock:
            chosen = [g for g in self.groups if tier is None or g.tier == tier]
            pages = max(1, -(-len(chosen) // size))
            number = min(max(number, 1), pages)
            shown = chosen[(number - 1) * size: number * size]
            return {"page": number, "pages": pages, "size": size, "total": len(chosen),
                    "duplicates": sum(g.tier == DUPLICATES for g in self.groups),
                    "shots": sum(g.tier != DUPLICATES for g in self.groups),
                    "action": self.action_words(), "changed_elsewhere": self.changed_elsewhere(),
                    "groups": [self.group_json(g) for g in shown]}

    def find(self, gid: str) -> Group:
        with self._lock:
            for group in self.groups:
                if group_id(group) == gid:
                    return group
        raise ReviewError("this group is decided already or no longer exists: reload the page")

    def group_of(self, path: str) -> Group | None:
        """The undecided group a photo belongs to, if any."""
        with self._lock:
            return next((g for g in self.groups if path in g.paths), None)

    def action_words(self) -> str:
        """What deciding a group does to its duplicates, in words for the buttons."""
        if self.options.action == "move":
            return f"move to {self.options.move_to}"
        return {"trash": "send to the trash", "hardlink": "replace by hard links",
                "symlink": "replace by symbolic links"}[self.options.action]

    def save_groups(self, store: Store) -> None:
        """Drop photos that left the index and groups left with one photo, and keep the list as
        the `dupes` result of the index as it is now, so a reopened review (or `dupes`) shows
        what remains without checking every pair again (unless another process changed the
        index meanwhile: see changed_elsewhere())."""
        with self._lock:
            kept = []
            for group in self.groups:
                members = [m for m in group.members if store.record(m.record.path) is not None]
                if len(members) > 1 and members[0] is group.members[0]:
                    kept.append(Group(members[0].record, members, group.keeper_reason, group.tier))
            self.groups = kept
            self.paths.update({photo_id(m.record.path): m.record.path for g in kept for m in g.members})
            if self.stale:
                return
            cache.save(store, self.options.dedupe, DedupeResult(kept, self.result.pairs_checked,
                                                                self.result.seconds, self.result.stats))
