"""File operations a clean-up is built from, each safe against a kill at any moment.

* A move within one file system is one ``rename``. Across file systems the bytes go to a hidden
  temporary name in the destination folder, are flushed to disk and verified, the temporary file
  is renamed into place, and only then is the source removed: a kill leaves either the source
  alone, or the source plus a hidden partial file, or two complete copies; never a truncated
  file under a photo's name.
* Replacing a file (by a link, or by a copy when undoing a link) writes the new version under a
  temporary name and renames it over the old one in one step.
* Nothing is ever written over an existing file that is not the one being replaced.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat

from imgsearch_cnn.indexer.durable import sync_folder
from imgsearch_cnn.indexer.scan import content_hash, is_under

PART_SUFFIX = ".imgsearch-part"
_COPY_CHUNK = 1 << 20


class FileOpError(RuntimeError):
    """A file operation refused because it could lose data; the message says why."""


def is_regular(path: str) -> bool:
    """A regular file reached without following a symbolic link."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def same_file(a: str, b: str) -> bool:
    """Whether two paths lead to one file on disk (a link, an alias, a hard link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def holds(path: str, expected_hash: str) -> bool:
    """Whether ``path`` is a regular file (not a link) whose bytes have this content hash."""
    if not is_regular(path):
        return False
    try:
        return content_hash(path) == expected_hash
    except OSError:
        return False


def part_name(path: str) -> str:
    """The hidden temporary name used while ``path`` is being written (scans skip hidden files)."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}{PART_SUFFIX}")


def remove_part(path: str) -> None:
    """Remove a partial file left by an interrupted copy to ``path``, if any."""
    try:
        os.remove(part_name(path))
    except FileNotFoundError:
        pass


def _copy_verified(source: str, part: str, expected_hash: str) -> None:
    """Copy ``source`` to ``part``, flush it to disk and check its bytes."""
    with open(source, "rb") as reader, open(part, "wb") as writer:
        shutil.copyfileobj(reader, writer, _COPY_CHUNK)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copystat(source, part)
    if content_hash(part) != expected_hash:
        os.remove(part)
        raise FileOpError(f"copy of {source} does not match the original; nothing was changed")


def move(source: str, target: str, expected_hash: str) -> None:
    """Move a file to a path where nothing is, across file systems too (see module doc)."""
    if os.path.lexists(target):
        raise FileOpError(f"{target} exists already; nothing was changed")
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    try:
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    part = part_name(target)
    _copy_verified(source, part, expected_hash)
    if os.path.lexists(target):
        os.remove(part)
        raise FileOpError(f"{target} appeared while copying; nothing was changed")
    os.rename(part, target)
    sync_folder(folder)
    os.remove(source)
    sync_folder(os.path.dirname(source) or ".")


def replace_with_copy(source: str, path: str, expected_hash: str) -> None:
    """Make ``path`` a regular file with the bytes of ``source``, in one rename."""
    part = part_name(path)
    _copy_verified(source, part, expected_hash)
    os.replace(part, path)


def replace_with_link(keeper: str, path: str, kind: str) -> None:
    """Make ``path`` a hard or symbolic link to ``keeper``, in one rename."""
    part = part_name(path)
    if os.path.lexists(part):
        os.remove(part)
    if kind == "hardlink":
        os.link(keeper, part)
    else:
        os.symlink(os.path.realpath(keeper), part)
    os.replace(part, path)


def first_missing_folder(path: str) -> str | None:
    """The outermost folder that creating ``path``'s folder would create (None if it exists)."""
    folder, missing = os.path.dirname(os.path.abspath(path)), None
    while not os.path.exists(folder):
        missing, folder = folder, os.path.dirname(folder)
    return missing


def remove_empty_folders(start: str, top: str) -> None:
    """Remove ``start`` and its parents up to and including ``top`` while they are empty."""
    folder, top = os.path.abspath(start), os.path.abspath(top)
    while is_under(folder, [top]):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)
