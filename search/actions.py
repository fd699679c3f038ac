"""Clean-up actions on duplicate groups, journaled and undoable, that never lose a photo.

Safety rules, checked when planning and again just before each file is touched:

* the keeper must exist, unchanged since it was indexed, or its whole group is left alone;
* a duplicate that changed since it was indexed (size, mtime) is left alone;
* files under a reference folder are never touched;
* ``hardlink`` and ``symlink`` only replace byte-identical copies (same content hash);
* ``delete`` needs an explicit confirmation and is the only action undo cannot revert.

Every applied action is appended to a journal (JSON lines, one per file, written before the
next file is touched) in ``<index>/journal/``; :func:`undo` reverts the newest journal.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer.scan import content_hash
from indexer.store import Record, Store
from search.keep import is_reference

ACTIONS = ("report", "move", "trash", "hardlink", "symlink", "delete")
LINKS = ("hardlink", "symlink")


class ActionError(RuntimeError):
    """An action that cannot be carried out as asked."""


@dataclass
class Operation:
    action: str
    path: str
    keeper: str
    target: str | None = None  # destination of a move
    skip: str | None = None  # why this file is left alone

    def describe(self) -> str:
        if self.skip:
            return f"keep ({self.skip})"
        if self.action == "move":
            return f"move to {self.target}"
        if self.action in LINKS:
            return f"replace by {self.action} to keeper"
        return {"trash": "send to trash", "delete": "delete permanently", "report": "none"}[self.action]


def _unchanged(record: Record) -> bool:
    try:
        stat = os.stat(record.path)
    except OSError:
        return False
    return stat.st_size == record.size and stat.st_mtime_ns == record.mtime_ns


def common_root(store: Store) -> str:
    paths = [r.path for r in store.records()]
    return os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else "/"


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
        keeper_ok = _unchanged(keeper)
        for member in group.members[1:]:
            record = member.record
            target = os.path.join(os.path.abspath(move_to), os.path.relpath(record.path, root)) if action == "move" else None
            skip = None
            if not keeper_ok:
                skip = "keeper missing or changed since indexed"
            elif is_reference(record.path, references):
                skip = "in a reference folder"
            elif not _unchanged(record):
                skip = "changed since indexed"
            elif action in LINKS and record.hash != keeper.hash:
                skip = "not byte-identical to the keeper"
            elif target and os.path.lexists(target):
                skip = "destination exists"
            operations.append(Operation(action, record.path, keeper.path, target, skip))
    return operations


def _journal_dir(store: Store) -> Path:
    return store.path / "journal"


def apply(store: Store, operations: list[Operation], confirm_delete: bool = False) -> Path | None:
    """Carry out the planned operations; returns the journal written (None if nothing was done)."""
    todo = [op for op in operations if not op.skip and op.action != "report"]
    if not todo:
        return None
    if any(op.action == "delete" for op in todo) and not confirm_delete:
        raise ActionError("delete is permanent: confirm it with --yes (or use --trash or --move-to)")
    folder = _journal_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    journal = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.jsonl"
    with open(journal, "a", encoding="utf-8") as handle:
        for op in todo:
            record, keeper = store.record(op.path), store.record(op.keeper)
            if record is None or keeper is None or not _unchanged(keeper) or not _unchanged(record):
                op.skip = "changed since planned"
                continue
            entry = {**asdict(op), "record": json.loads(record.to_bytes()), "trashed": None}
            entry["trashed"] = _do(op, keeper)
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            _update_index(store, op, record)
    return journal


def _do(op: Operation, keeper: Record) -> str | None:
    if op.action == "move":
        os.makedirs(os.path.dirname(op.target), exist_ok=True)
        shutil.move(op.path, op.target)
    elif op.action == "trash":
        from send2trash import send2trash

        send2trash(op.path)
        return _find_in_trash(op.path)
    elif op.action == "delete":
        os.remove(op.path)
    elif op.action in LINKS:
        if content_hash(op.path) != keeper.hash:  # recheck the bytes before replacing them
            raise ActionError(f"{op.path} is no longer identical to {keeper.path}")
        tmp = op.path + ".imgsearch-tmp"
        (os.link if op.action == "hardlink" else os.symlink)(keeper.path, tmp)
        os.replace(tmp, op.path)
    return None


def _update_index(store: Store, op: Operation, record: Record) -> None:
    with store.transaction() as writer:
        writer.delete_record(op.path)
        if op.action == "move":
            writer.put_record(Record(**{**asdict(record), "path": op.target}))
        elif op.action in LINKS:
            stat = os.stat(op.path)
            writer.put_record(Record(**{**asdict(record), "mtime_ns": stat.st_mtime_ns}))


def _trash_dirs(path: str) -> list[Path]:
    home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "Trash"
    top = Path(path).resolve().parent
    while not os.path.ismount(top) and top != top.parent:
        top = top.parent
    uid = os.getuid()
    return [home, top / f".Trash-{uid}", top / ".Trash" / str(uid)]


def _find_in_trash(path: str) -> str | None:
    """Where the freedesktop trash put the file (its .trashinfo records the original path)."""
    wanted = urllib.parse.quote(path, safe="/")
    best = None
    for trash in _trash_dirs(path):
        for info in (trash / "info").glob("*.trashinfo"):
            text = info.read_text(errors="replace")
            if f"Path={wanted}\n" in text or f"Path={path}\n" in text:
                stamp = info.stat().st_mtime
                if best is None or stamp > best[0]:
                    best = (stamp, str(trash / "files" / info.name[: -len(".trashinfo")]))
    return best[1] if best else None


@dataclass
class UndoReport:
    journal: Path | None
    restored: int
    problems: list[str]


def undo(store: Store) -> UndoReport:
    """Revert the newest journal that has not been undone yet."""
    folder = _journal_dir(store)
    journals = sorted(folder.glob("*.jsonl")) if folder.exists() else []
    if not journals:
        return UndoReport(None, 0, ["nothing to undo"])
    journal = journals[-1]
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()]
    restored, problems = 0, []
    for entry in reversed(entries):
        record = Record(path=entry["path"], **entry["record"])
        try:
            problem = _revert(entry, record)
        except OSError as exc:
            problem = f"{entry['path']}: {exc}"
        if problem:
            problems.append(problem)
            continue
        restored += 1
        with store.transaction() as writer:
            if entry["action"] == "move":
                writer.delete_record(entry["target"])
            stat = os.stat(record.path)
            writer.put_record(Record(**{**asdict(record), "mtime_ns": stat.st_mtime_ns}))
    journal.rename(journal.with_suffix(".undone"))
    return UndoReport(journal, restored, problems)


def _revert(entry: dict, record: Record) -> str | None:
    path, action = entry["path"], entry["action"]
    if action == "delete":
        return f"{path}: was deleted permanently; cannot be restored"
    if action in LINKS:
        source = entry["keeper"]
        tmp = path + ".imgsearch-tmp"
        shutil.copyfile(source, tmp)
        if content_hash(tmp) != record.hash:
            os.remove(tmp)
            return f"{path}: keeper {source} changed; cannot rebuild the copy"
        os.replace(tmp, path)
        os.utime(path, ns=(record.mtime_ns, record.mtime_ns))
        return None
    if os.path.lexists(path):
        return f"{path}: a file is there again; left both in place"
    source = entry["target"] if action == "move" else entry["trashed"]
    if not source or not os.path.exists(source):
        return f"{path}: cannot find it in {'the destination' if action == 'move' else 'the trash'}; restore it by hand"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.move(source, path)
    if action == "trash":
        info = Path(source).parent.parent / "info" / (Path(source).name + ".trashinfo")
        info.unlink(missing_ok=True)
    return None
