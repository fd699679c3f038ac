"""Walk photo folders: which files are images, their size, mtime and content hash.

Images are recognised by extension or, for files with no or an unknown extension, by their first
bytes. Hidden files and folders (names starting with ".") are skipped, as photo managers keep
caches and thumbnails there. Folders that cannot be read are reported, never fatal.

One photo, one identity: a file is recorded under its real path (symbolic links resolved), and
one file on disk (device + inode) is recorded once, however many links, aliases or hard links
lead to it (hard links: under the alphabetically first of their paths). So a folder reached
through two paths, a symbolic link to a photo and two hard links of one file are never
"duplicates" of each other that a clean-up could remove.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from imgsearch_cnn.indexer.raw import RAW_EXTENSIONS

IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .webp .gif .bmp .dib .tif .tiff .heic .heif .hif .avif".split()
) | RAW_EXTENSIONS
# Extensions that are certainly not photos: not worth opening to sniff.
_NOT_IMAGES = frozenset(
    ".txt .json .xml .xmp .html .htm .md .csv .pdf .zip .gz .tar .7z .mp4 .mov .avi .mkv .m4v "
    ".mp3 .wav .aac .m4a .db .sqlite .lmdb .mdb .faiss .py .exe .dll .so .aae .thm .ini .log".split()
)
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileInfo:
    """A candidate photo on disk."""

    path: str  # absolute path, as reached through the scanned root
    size: int
    mtime_ns: int


@dataclass
class ScanResult:
    files: list[FileInfo] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def sniff_image(head: bytes) -> bool:
    """True if these first bytes start a photo format we can decode."""
    return (
        head.startswith(b"\xff\xd8\xff")  # JPEG
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or head[:6] in (b"GIF87a", b"GIF89a")
        or head.startswith(b"BM")
        or head[:4] in (b"II*\x00", b"MM\x00*")  # TIFF
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head[4:8] == b"ftyp"  # HEIF/HEIC/AVIF/CR3: an ISO media file (brands vary by camera)
        or head[:4] in (b"IIRO", b"IIRS", b"MMOR", b"IIU\x00", b"FOVb")  # Olympus, Panasonic, Sigma RAW
        or head.startswith(b"FUJIFILM")  # Fujifilm RAF
    )


def _is_candidate(entry: os.DirEntry) -> bool:
    ext = os.path.splitext(entry.name)[1].lower()
    if ext in IMAGE_EXTENSIONS:
        return True
    if ext in _NOT_IMAGES:
        return False
    try:
        with open(entry.path, "rb") as handle:
            return sniff_image(handle.read(16))
    except OSError:
        return False


def walk(roots: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> ScanResult:
    """Find every photo under ``roots`` (files or folders), by real path, each file once, sorted."""
    result = ScanResult()
    seen_dirs: set[tuple[int, int]] = set()
    excluded = {os.path.realpath(p) for p in exclude}
    by_inode: dict[tuple[int, int], FileInfo] = {}
    for root in roots:
        root = os.path.realpath(os.fspath(root))
        if os.path.isfile(root):
            _add(by_inode, root, os.stat(root))
        elif os.path.isdir(root):
            _walk_dir(root, seen_dirs, excluded, result.errors, by_inode)
        else:
            result.errors.append((root, "no such file or folder"))
    result.files = sorted(by_inode.values(), key=lambda info: info.path)
    return result


def _add(by_inode: dict, path: str, stat: os.stat_result) -> None:
    """Record one file once per inode, under its alphabetically first path."""
    key = (stat.st_dev, stat.st_ino)
    if key not in by_inode or path < by_inode[key].path:
        by_inode[key] = FileInfo(path, stat.st_size, stat.st_mtime_ns)


def _walk_dir(top: str, seen: set, excluded: set, errors: list, by_inode: dict) -> None:
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            stat = os.stat(folder)
        except OSError as exc:
            errors.append((folder, f"cannot read folder: {exc.strerror}"))
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in seen or folder in excluded:
            continue  # a symlink loop, an alias of a folder already walked, or the index itself
        seen.add(key)
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            errors.append((folder, f"cannot read folder: {exc.strerror}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                path = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
                if entry.is_dir(follow_symlinks=True):
                    stack.append(path)
                elif entry.is_file(follow_symlinks=True) and _is_candidate(entry):
                    _add(by_inode, path, os.stat(path))
            except OSError as exc:
                errors.append((entry.path, f"cannot read: {exc.strerror}"))


def is_under(path: str, folders: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``folders`` or inside one (string test on absolute paths)."""
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)


def content_hash(path: str) -> str:
    """BLAKE2b-128 of the file's bytes: identifies moved files and exact duplicates."""
    with open(path, "rb") as handle:
        return _hash_rest(handle)


def _hash_rest(handle, head: bytes = b"") -> str:
    """content_hash of ``head`` (bytes already read from ``handle``) followed by the rest of it."""
    digest = hashlib.blake2b(head, digest_size=16)
    while chunk := handle.read(_HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def image_content_hash(path: str) -> str | None:
    """content_hash of a file whose first bytes start a format we decode, else None; one open,
    and a huge non-image named .jpg is never read past its first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(16)
        return _hash_rest(handle, head) if sniff_image(head) else None


def hash_image_file(path: str) -> tuple[str, str | None, str | None]:
    """(path, image_content_hash or None, why not) for the hash pass of indexing (picklable, so
    worker processes can run it)."""
    try:
        content = image_content_hash(path)
    except OSError as exc:
        return path, None, f"cannot read file: {exc.strerror}"
    if content is None:
        return path, None, "not an image (unknown file header)"
    return path, content, None
