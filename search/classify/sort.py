"""`imgsearch classify --move-to DIR`: photos sorted into ``DIR/<label>/``, a dry run unless
applied, through the clean-up journal, so `imgsearch undo` puts every photo back.

A photo is moved only if it is indexed, unchanged since indexed and its bytes still have the
indexed content hash (checked again just before it is touched) and it is not "unsure". A name
already taken in its class folder (by a file there, or another photo sorted there) gets a number:
``IMG_1.jpg`` -> ``IMG_1-2.jpg``; nothing is ever overwritten. Each move goes through the
clean-up's own journaled step (search/dupes/actions.py): copy, verify, then remove, so a kill
at any moment leaves the photo whole in one place or the other. A moved photo leaves the index
(run `imgsearch index DIR` to index it at its new place); its sidecar files go with it.
"""

from __future__ import annotations

import os
from pathlib import Path

from imgsearch_cnn.indexer.scan import content_hash
from imgsearch_cnn.indexer.store import Record, Store
from imgsearch_cnn.search.dupes import fileops, sidecars
from imgsearch_cnn.search.dupes.actions import Operation, check_move_to, do_journaled, sidecar_problem
from imgsearch_cnn.search.dupes.journal import Journal


def plan(store: Store, predictions, move_to: str) -> list[Operation]:
    """What sorting would do to each photo (``Operation.skip`` says why one stays)."""
    check_move_to(store, move_to)
    base = os.path.abspath(move_to)
    taken: set[str] = set()
    operations = []
    for prediction in predictions:
        target = _free(os.path.join(base, prediction.label, os.path.basename(prediction.path)), taken)
        record = store.record(prediction.path)
        skip = ("unsure" if not prediction.sure else
                "not in the index (index it first)" if record is None else
                _problem(record, target, verify_bytes=False))
        # The journal's "keeper" is the destination: undo compares the photo's place with it.
        operations.append(Operation("move", prediction.path, target, target, skip))
        if skip:
            continue
        taken.add(target)
        for sidecar in sidecars.find(prediction.path):
            operations.append(Operation("move", sidecar, target, os.path.join(os.path.dirname(target),
                                        os.path.basename(sidecar)), sidecar_of=prediction.path))
    return operations


def apply(store: Store, operations: list[Operation]) -> Path | None:
    """Carry out the planned moves, each re-checked first; returns the journal (None if nothing
    moved). ``store`` must be writable."""
    todo = [op for op in operations if not op.skip]
    if not todo:
        return None
    journal = Journal.create(store, "move")
    try:
        for op in (op for op in todo if not op.sidecar_of):
            record = store.record(op.path)
            op.skip = "no longer indexed" if record is None else _problem(record, op.target, verify_bytes=True)
            if op.skip:
                continue
            do_journaled(journal, op, record, record)
            with store.transaction() as writer:
                writer.delete_record(op.path)
            for sidecar in (s for s in todo if s.sidecar_of == op.path):
                sidecar.skip = sidecar_problem(sidecar)
                if not sidecar.skip:
                    do_journaled(journal, sidecar, record, sidecars.record(sidecar.path))
    finally:
        journal.close()
    return journal.path if journal.files else None


def _free(target: str, taken: set[str]) -> str:
    """``target``, or the first ``stem-N.ext`` (N = 2, 3, ...) that neither exists nor is taken."""
    stem, ext = os.path.splitext(target)
    candidate, number = target, 1
    while candidate in taken or os.path.lexists(candidate):
        number += 1
        candidate = f"{stem}-{number}{ext}"
    return candidate


def _problem(record: Record, target: str, verify_bytes: bool) -> str | None:
    if not fileops.is_regular(record.path):
        return "missing or not a regular file"
    if not record.unchanged():
        return "changed since indexed"
    if verify_bytes and content_hash(record.path) != record.hash:
        return "bytes changed since indexed"
    if os.path.lexists(target):
        return "destination exists"
    return None
