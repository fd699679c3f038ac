"""Sidecar files that belong to a photo and must travel with it: XMP written by Lightroom,
darktable, digiKam or RawTherapee (``IMG_1.jpg.xmp`` or ``IMG_1.xmp``) and Apple's edit lists
(``IMG_1.AAE``). A clean-up that moves or trashes a photo moves its sidecars along, and undo
brings them back; actions that leave the photo's name in place (links, permanent deletion of a
byte-identical copy) leave the sidecars where they are.
"""

from __future__ import annotations

import os

from imgsearch_cnn.indexer.record import Record
from imgsearch_cnn.indexer.scan import IMAGE_EXTENSIONS, content_hash

SUFFIXES = (".xmp", ".aae")
FORMAT = "sidecar"  # the Record.format of a sidecar in the journal: undo does not index it


def find(path: str) -> list[str]:
    """The sidecars of ``path``. A sidecar named after the stem alone (``IMG_1.xmp``) may be shared
    by every file with that stem (a RAW + JPEG pair): it goes with this photo only if no other
    file of that stem is in the folder."""
    folder, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    try:
        neighbours = os.listdir(folder)
    except OSError:
        return []
    found = []
    shared_ok = not [n for n in neighbours if n != name and os.path.splitext(n)[0] == stem
                     and os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS]
    for neighbour in sorted(neighbours):
        base, suffix = os.path.splitext(neighbour)
        if suffix.lower() not in SUFFIXES or not os.path.isfile(os.path.join(folder, neighbour)):
            continue
        if base == name or (base == stem and shared_ok):
            found.append(os.path.join(folder, neighbour))
    return found


def record(path: str) -> Record:
    """A journal record for a sidecar: its bytes' hash lets moves and undo verify it."""
    info = os.stat(path)
    return Record(path, info.st_size, info.st_mtime_ns, content_hash(path), 0, 0, FORMAT)


def is_sidecar(entry_record: dict) -> bool:
    return entry_record.get("format") == FORMAT


