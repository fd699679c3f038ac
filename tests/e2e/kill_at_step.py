"""Run the imgsearch command line and SIGKILL the process at its Nth file-system step.

Usage: python kill_at_step.py N [--commits] imgsearch-arguments...

A step is the moment just before or just after a call that changes files (rename, replace,
remove, link, symlink, fsync, makedirs, utime, rmdir) and the middle of every copy (half the
bytes written); with ``--commits``, also just before and after every index transaction. Counting steps, not seconds, makes every kill land at the same place on every run and
every machine; N past the last step lets the command finish (exit status as usual).
"""

import os
import shutil
import signal
import sys

_limit = int(sys.argv[1])
_count = 0


def _step() -> None:
    global _count
    _count += 1
    if _count == _limit:
        os.kill(os.getpid(), signal.SIGKILL)


def _wrap(function):
    def wrapped(*args, **kwargs):
        _step()
        result = function(*args, **kwargs)
        _step()
        return result

    return wrapped


for _name in ("rename", "replace", "remove", "unlink", "link", "symlink", "fsync", "makedirs", "utime", "rmdir"):
    setattr(os, _name, _wrap(getattr(os, _name)))


def _copy_in_halves(source, target, length=0):
    data = source.read()
    _step()
    target.write(data[: len(data) // 2])
    target.flush()
    _step()
    target.write(data[len(data) // 2:])
    _step()


shutil.copyfileobj = _copy_in_halves


def _count_commits() -> None:
    from contextlib import contextmanager

    from imgsearch_cnn.indexer.store import Store

    original = Store.transaction

    @contextmanager
    def transaction(self):
        _step()
        with original(self) as writer:
            yield writer
        _step()

    Store.transaction = transaction


if __name__ == "__main__":
    args = sys.argv[2:]
    if args[:1] == ["--commits"]:
        _count_commits()
        args = args[1:]
    from imgsearch_cnn.search.cli import main

    sys.argv = ["imgsearch", *args]
    main()
