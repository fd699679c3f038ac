"""One line for a failure of the machine (full disk, read-only or forbidden folder), naming
its cause and what to do."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

# Below this much free space an I/O error while writing is taken to mean a full disk (LMDB
# reports a full disk as a plain "Input/output error").
_NEARLY_FULL_BYTES = 64 << 20


def explain(exc: BaseException, where: str | Path) -> str:
    """One line naming the cause of an environment failure (full disk, read-only or forbidden
    folder) at ``where``, and what to do."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    full = (f"the disk holding {where} is full: free some space and run the command again "
            "(the index keeps everything committed before the failure)")
    if code == errno.ENOSPC or "No space left" in text:
        return full
    if code == errno.EROFS or "Read-only file system" in text:
        return f"{where} is on a read-only file system: choose a writable --index folder"
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return f"permission denied writing {where}: choose a folder you can write to, or fix its permissions"
    if _nearly_full(where):  # LMDB says "Input/output error" when its disk fills up
        return full
    return f"cannot use index {where}: {text}"


def _nearly_full(where: str | Path) -> bool:
    folder = Path(where)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False
