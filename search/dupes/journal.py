"""The clean-up journal and `imgsearch undo`.

A journal is a JSON-lines file in ``<index>/journal/``: a header line, then for every file a
``begin`` line, written and flushed to disk *before* the file is touched, and a ``done`` line
after. Undo does not trust the journal to say how far an action got: for every file it looks at
the disk (is the photo at its place, with its bytes? at the destination? in the trash? is a
partial copy lying around?) and finishes the way back from wherever things stand. So undo can
itself be killed and run again, and a clean-up killed half-way is reverted like a finished one.
A journal is marked undone only when every file it names is back (or was deleted permanently).
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.store import Record, Store
from imgsearch_cnn.search.dupes import fileops, sidecars

JOURNAL_VERSION = 2


def journal_dir(store: Store) -> Path:
    return store.path / layout.JOURNALS


class Journal:
    """An open journal being written by one clean-up."""

    def __init__(self, path: Path):
        self.path = path
        self.files = 0  # files named so far
        self._handle = open(path, "a", encoding="utf-8")

    @classmethod
    def create(cls, store: Store, action: str) -> "Journal":
        folder = journal_dir(store)
        folder.mkdir(parents=True, exist_ok=True)
        journal = cls(folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.jsonl")
        journal._write({"journal": JOURNAL_VERSION, "action": action, "created": time.time()})
        return journal

    def _write(self, entry: dict) -> None:
        self._handle.write(json.dumps(entry) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def begin(self, op, record: Record, created: str | None) -> None:
        """Say what is about to happen to one file (``created``: outermost folder a move makes)."""
        self._write({"step": "begin", "action": op.action, "path": op.path, "keeper": op.keeper,
                     "target": op.target, "created": created, "record": json.loads(record.to_bytes())})
        self.files += 1

    def done(self, op, trashed: str | None) -> None:
        self._write({"step": "done", "path": op.path, "trashed": trashed})

    def close(self) -> None:
        """Close the journal; one that names no file is removed (there is nothing to undo)."""
        self._handle.close()
        if self.files == 0:
            self.path.unlink()


def _trash_dirs(path: str) -> list[Path]:
    home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "Trash"
    top = Path(path).resolve().parent
    while not os.path.ismount(top) and top != top.parent:
        top = top.parent
    uid = os.getuid()
    return [home, top / f".Trash-{uid}", top / ".Trash" / str(uid)]


def find_in_trash(path: str) -> str | None:
    """Where the freedesktop trash put the file (its .trashinfo records the original path)."""
    wanted = urllib.parse.quote(path, safe="/")
    best = None
    for trash in _trash_dirs(path):
        if not (trash / "info").is_dir():
            continue
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
    restored: int = 0
    problems: list[str] = field(default_factory=list)  # files not back yet: run undo again after fixing
    lost: list[str] = field(default_factory=list)  # deleted permanently (byte-identical copies)


def _entries(journal: Path) -> list[dict]:
    """The files a journal names, newest last, with what its ``done`` lines added."""
    entries: dict[str, dict] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill: its file was not touched yet
        if "journal" in entry:
            continue
        if entry.get("step", "begin") == "begin":
            entries[entry["path"]] = entry
        elif entry["path"] in entries:
            entries[entry["path"]]["trashed"] = entry.get("trashed")
    return list(entries.values())


def pending(store: Store) -> list[Path]:
    """Journals not undone yet, oldest first."""
    folder = journal_dir(store)
    return sorted(folder.glob("*.jsonl")) if folder.exists() else []


def undo(store: Store) -> UndoReport:
    """Revert the newest clean-up that is not fully undone yet (see module doc)."""
    journals = pending(store)
    if not journals:
        return UndoReport(None, problems=["nothing to undo"])
    report = UndoReport(journals[-1])
    for entry in reversed(_entries(journals[-1])):
        record = Record(path=entry["path"], **entry["record"])
        try:
            outcome = _revert(entry, record)
        except (OSError, fileops.FileOpError) as exc:
            outcome = f"{entry['path']}: {exc}"
        if outcome == "lost":
            report.lost.append(f"{record.path}: was deleted permanently (a byte-identical copy is kept at "
                               f"{entry['keeper']})")
            continue
        if outcome:
            report.problems.append(outcome)
            continue
        if sidecars.is_sidecar(entry["record"]):
            continue  # back in place; a sidecar is no photo of the index
        report.restored += 1
        info = os.stat(record.path)
        with store.transaction() as writer:
            writer.put_record(Record(**{**asdict(record), "mtime_ns": info.st_mtime_ns}))
        if entry.get("target") and entry.get("created"):
            fileops.remove_empty_folders(os.path.dirname(entry["target"]), entry["created"])
    if not report.problems:
        journals[-1].rename(journals[-1].with_suffix(".undone"))
    return report


def _revert(entry: dict, record: Record) -> str | None:
    """Bring one file back; returns None when it is back, "lost", or a problem to report."""
    path, action, content = entry["path"], entry["action"], record.hash
    fileops.remove_part(path)
    if action == "move":
        fileops.remove_part(entry["target"])
    if fileops.holds(path, content) and not fileops.same_file(path, entry["keeper"]):
        # Already in place: the action never ran, or undo got this far before. A second
        # complete copy left by an interrupted move across file systems goes.
        target = entry.get("target")
        if action == "move" and target and fileops.holds(target, content) and not fileops.same_file(path, target):
            os.remove(target)
        return None
    if action == "delete":
        return "lost"
    if action in ("hardlink", "symlink"):
        keeper = entry["keeper"]
        if not fileops.holds(keeper, content):
            return f"{path}: the keeper {keeper} changed, so the copy cannot be rebuilt from it"
        fileops.replace_with_copy(keeper, path, content)
        os.utime(path, ns=(record.mtime_ns, record.mtime_ns))
        return None
    source = entry.get("target") if action == "move" else entry.get("trashed") or find_in_trash(path)
    if not source or not fileops.holds(source, content):
        where = "the destination" if action == "move" else "the trash"
        return f"{path}: cannot find it in {where}; restore it by hand"
    if os.path.lexists(path):
        return f"{path}: another file is there now; the photo is kept at {source}"
    fileops.move(source, path, content)
    if action == "trash":
        info = Path(source).parent.parent / "info" / (Path(source).name + ".trashinfo")
        info.unlink(missing_ok=True)
    return None
