"""Clean-up actions on duplicate groups: planned, re-checked, journaled, undoable.

A group is acted on only if, when planned and again just before its first file is touched:

* the keeper is a regular file (not a symbolic link), unchanged since indexed, and its bytes
  still have the indexed content hash;
* no member is the keeper under another name (a symbolic link to it, a hard link of it, a path
  through a linked folder): any such doubt leaves the whole group alone, with the reason.

Each duplicate is then left alone if it changed since indexed, lies in a reference folder, or
(for ``hardlink``, ``symlink`` and ``delete``) is not byte-identical to the keeper: permanent
deletion only ever removes exact copies, so the content always survives in the keeper. After each
file the keeper is checked again; if it is gone, the clean-up stops.

Every step is written to the journal (search/journal.py) before the file is touched. Files a
clean-up moves, trashes, deletes or replaces by a link leave the index; undo puts them back.
A photo moved or trashed takes its sidecar files (.xmp, .aae: search/dupes/sidecars.py) along.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from imgsearch_cnn.indexer.scan import content_hash, is_under
from imgsearch_cnn.indexer.store import Record, Store
from imgsearch_cnn.search.dupes import fileops, sidecars
from imgsearch_cnn.search.dupes.journal import Journal, find_in_trash
from imgsearch_cnn.search.dupes.keep import is_reference

ACTIONS = ("report", "move", "trash", "hardlink", "symlink", "delete")
LINKS = ("hardlink", "symlink")
EXACT_ONLY = ("hardlink", "symlink", "delete")  # actions that leave no copy of a near-duplicate
SIDECARS_TRAVEL = ("move", "trash")  # actions that take a photo's sidecar files along


class ActionError(RuntimeError):
    """An action that cannot be carried out as asked."""


@dataclass
class Operation:
    action: str
    path: str
    keeper: str
    target: str | None = None  # destination of a move
    skip: str | None = None  # why this file is left alone
    sidecar_of: str | None = None  # a sidecar file, which goes where this photo goes

    def describe(self) -> str:
        if self.skip:
            return f"keep ({self.skip})"
        if self.action == "move":
            return f"move to {self.target}"
        if self.action in LINKS:
            return f"replace by {self.action} to keeper"
        return {"trash": "send to trash", "delete": "delete permanently", "report": "none"}[self.action]


def common_root(store: Store) -> str:
    paths = [r.path for r in store.records()]
    return os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else "/"


def check_move_to(store: Store, move_to: str, references: list[str] = ()) -> None:
    """Refuse a destination whose files would come back as photos of the collection."""
    target = os.path.realpath(move_to)
    folders = store.roots() or [common_root(store)]
    for folder in folders:
        if is_under(target, [folder]):
            raise ActionError(f"--move-to {move_to} is inside the indexed folder {folder}: the moved copies "
                              "would be indexed again; choose a folder outside it")
    if is_under(target, [os.path.realpath(store.path)]) or is_under(target, [os.path.realpath(r) for r in references]):
        raise ActionError(f"--move-to {move_to} is inside the index or a reference folder; choose another folder")


def group_problem(keeper: Record, members: list[Record], verify_bytes: bool) -> str | None:
    """Why no file of this group may be touched (None: the group is safe to act on)."""
    if not fileops.is_regular(keeper.path):
        return "keeper missing or not a regular file"
    if not keeper.unchanged():
        return "keeper changed since indexed"
    if verify_bytes and content_hash(keeper.path) != keeper.hash:
        return "keeper's bytes changed since indexed"
    real_keeper = os.path.realpath(keeper.path)
    for member in members:
        if os.path.islink(member.path) or fileops.same_file(member.path, keeper.path) \
                or os.path.realpath(member.path) == real_keeper:
            return f"{member.path} is a link to, or another name of, the keeper"
    return None


def member_problem(action: str, record: Record, keeper: Record, references: list[str],
                   target: str | None, verify_bytes: bool) -> str | None:
    """Why this one duplicate is left alone (None: it may be acted on)."""
    if is_reference(record.path, references):
        return "in a reference folder"
    if not record.unchanged():
        return "changed since indexed"
    if action in EXACT_ONLY and record.hash != keeper.hash:
        return "not byte-identical to the keeper"
    if action == "hardlink" and os.stat(record.path).st_dev != os.stat(keeper.path).st_dev:
        return "on another file system than the keeper: cannot hard-link"
    if verify_bytes and content_hash(record.path) != record.hash:
        return "bytes changed since indexed"
    if target and os.path.lexists(target):
        return "destination exists"
    return None


def plan(groups, action: str, references: list[str] = (), move_to: str | None = None,
         root: str = "/") -> list[Operation]:
    """What the action would do to each duplicate (keepers are never in the plan)."""
    if action not in ACTIONS:
        raise ActionError(f"unknown action {action!r}")
    if action == "move" and not move_to:
        raise ActionError("move needs a destination folder")
    operations = []
    for group in groups:
        keeper = group.members[0].record
        members = [m.record for m in group.members[1:]]
        doubt = group_problem(keeper, members, verify_bytes=False) if action != "report" else None
        for record in members:
            target = os.path.join(os.path.abspath(move_to), os.path.relpath(record.path, root)) if action == "move" else None
            skip = doubt or (member_problem(action, record, keeper, references, target, False)
                             if action != "report" else None)
            operations.append(Operation(action, record.path, keeper.path, target, skip))
            if action in SIDECARS_TRAVEL and not skip:
                for sidecar in sidecars.find(record.path):
                    moved = os.path.join(os.path.dirname(target), os.path.basename(sidecar)) if target else None
                    operations.append(Operation(action, sidecar, keeper.path, moved, sidecar_of=record.path))
    return operations


def apply(store: Store, operations: list[Operation], confirm_delete: bool = False,
          references: list[str] = ()) -> Path | None:
    """Carry out the planned operations, re-checking each group and file first (see module doc).
    Returns the journal written (None if nothing was done)."""
    todo = [op for op in operations if not op.skip and op.action != "report"]
    if not todo:
        return None
    if any(op.action == "delete" for op in todo) and not confirm_delete:
        raise ActionError("delete is permanent: confirm it with --yes (or use --trash or --move-to)")
    journal = Journal.create(store, todo[0].action)
    try:
        _apply_groups(store, todo, journal, references)
    finally:
        journal.close()
    return journal.path if journal.files else None


def _apply_groups(store: Store, todo: list[Operation], journal: Journal, references: list[str]) -> None:
    for keeper_path, ops in groupby(todo, key=lambda op: op.keeper):
        ops = list(ops)
        photos = [op for op in ops if not op.sidecar_of]
        keeper = store.record(keeper_path)
        records = [store.record(op.path) for op in photos]
        doubt = "keeper no longer indexed" if keeper is None or None in records else \
            group_problem(keeper, records, verify_bytes=True)
        for op, record in zip(photos, records):
            op.skip = doubt or member_problem(op.action, record, keeper, references, op.target, True)
            if op.skip:
                continue
            do_journaled(journal, op, keeper, record)
            with store.transaction() as writer:
                writer.delete_record(op.path)  # moved out is out; a link is not a separate photo
            for sidecar in (s for s in ops if s.sidecar_of == op.path):
                sidecar.skip = sidecar_problem(sidecar)
                if not sidecar.skip:
                    do_journaled(journal, sidecar, keeper, sidecars.record(sidecar.path))
            if not fileops.is_regular(keeper.path):
                raise ActionError(f"keeper {keeper.path} disappeared during the clean-up; stopped "
                                  f"(`imgsearch undo` reverts what was done)")


def do_journaled(journal: Journal, op: Operation, keeper: Record, record: Record) -> None:
    """Journal one operation, carry it out, journal that it is done (also used by
    search/classify/sort.py)."""
    journal.begin(op, record, fileops.first_missing_folder(op.target) if op.target else None)
    journal.done(op, _do(op, keeper, record))


def sidecar_problem(op: Operation) -> str | None:
    """Why a sidecar stays where it is (None: it goes with its photo)."""
    if not fileops.is_regular(op.path):
        return "sidecar gone or not a regular file"
    if op.target and os.path.lexists(op.target):
        return "destination exists"
    return None


def _do(op: Operation, keeper: Record, record: Record) -> str | None:
    """Carry out one operation; returns where the trash put the file, for trash."""
    if op.action == "move":
        fileops.move(op.path, op.target, record.hash)
    elif op.action == "trash":
        from send2trash import send2trash

        send2trash(op.path)
        return find_in_trash(op.path)
    elif op.action == "delete":
        os.remove(op.path)
    elif op.action in LINKS:
        fileops.replace_with_link(keeper.path, op.path, op.action)
    return None

