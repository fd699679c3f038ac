"""Checking candidate pairs on every core.

The pairs go window by window (as many pairs as touch at most ``window_photos`` photos, so that
memory stays bounded). For each window:

1. the photos' check features (decoding, edge maps, SIFT: long native calls that release the GIL)
   are prepared on a pool of threads, each photo once, into the decider's caches;
2. the pairs are checked in ``workers`` forked processes, every one a share of them. A fork sees
   the prepared features without copying or pickling them (its memory is shared copy-on-write);
   only the verdicts, and the alignments found (which the keeper choice reads), come back.

Checks are many short numpy and OpenCV calls that hold the GIL: on threads they queue for it, in
processes they do not (docs/BENCHMARKS.md). A process that dies or fails has its share checked
again in this one, so a verdict is never lost. Where fork is not safe (only Linux is trusted
with it here) or a window is small, the pairs are checked in this process.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections import Counter
from contextlib import contextmanager, nullcontext
from typing import Callable, Iterator

CHUNK = 256  # pairs a checking process reports at a time (the progress bar moves by these)
FORK_MIN_PAIRS = 512  # fewer pairs than this are checked in this process: forking costs more
# A checking process silent this long is stuck (a chunk takes well under a second, or seconds
# where features must be extracted again): it is stopped and its share checked here.
STALL_SECONDS = 120.0
CAN_FORK = sys.platform.startswith("linux") and hasattr(os, "fork")

Progress = Callable[[str, int, int], None]


def decide_all(decide, tasks: list[tuple], workers: int, progress: Progress, window_photos: int) -> list[tuple]:
    """The verdict of ``decide(*task)`` on every task (pair), in order. ``decide`` also offers
    ``needs(*task)`` (the per-photo work a task will ask for, as (kind, path) items),
    ``prepare((kinds, path))`` (do all of it that a window's tasks ask of one photo),
    ``release(path)`` (a photo is done with), and ``take_found()`` / ``add_found(found)`` (hand
    over the alignments found). ``progress(stage, done, total)`` hears stages "prepare" (photos)
    and "check" (pairs)."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    verdicts: list[tuple] = []
    uses = Counter(path for task in tasks for path in task[:2])
    prepared: set[str] = set()  # photos read so far, of len(uses) in all the pairs
    # One BLAS and one OpenCV thread per thread or process: they already use every core, and
    # nested pools only fight over them. The preparing threads live until every fork is done:
    # a thread that ends runs its libraries' clean-up (OpenCV's, under a lock) after Python
    # stops waiting for it, and a fork taken then would inherit that lock held forever.
    with threadpool_limits(limits=1, user_api="blas"), _opencv_threads(1), \
            ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as pool:
        for window in windows(tasks, window_photos):
            if pool is not None:
                _prepare(decide, window, pool, lambda: progress("prepare", len(prepared), len(uses)), prepared)
            verdicts += _check(decide, window, workers,
                               lambda done: progress("check", len(verdicts) + done, len(tasks)))
            for task in window:  # a photo with no pair left to check lets its features go
                for path in task[:2]:
                    uses[path] -= 1
                    if not uses[path]:
                        decide.release(path)
    if workers > 1:  # photos whose pairs needed no pixels were never read
        progress("prepare", len(uses), len(uses))
    progress("check", len(tasks), len(tasks))
    return verdicts


def windows(tasks: list[tuple], window_photos: int) -> Iterator[list[tuple]]:
    """Consecutive runs of tasks touching at most ``window_photos`` photos (at least one task)."""
    window: list[tuple] = []
    photos: set[str] = set()
    for task in tasks:
        new = {task[0], task[1]} - photos
        if window and len(photos) + len(new) > window_photos:
            yield window
            window, photos = [], set()
            new = {task[0], task[1]}
        window.append(task)
        photos |= new
    if window:
        yield window


def _prepare(decide, window: list[tuple], pool, report: Callable[[], None], prepared: set[str]) -> None:
    """Prepares the window's photos on the pool's threads, adding each to ``prepared``."""
    kinds: dict[str, list[str]] = {}  # per photo, what its pairs need of it: prepared together
    for task in window:
        for kind, path in decide.needs(*task):
            if kind not in kinds.setdefault(path, []):
                kinds[path].append(kind)
    items = [(tuple(wanted), path) for path, wanted in kinds.items()]
    for done, (_, (_, path)) in enumerate(zip(pool.map(decide.prepare, items), items), 1):  # failures raise here
        prepared.add(path)
        if done % 64 == 0:
            report()
    report()


def _check(decide, window: list[tuple], workers: int, report: Callable[[int], None]) -> list[tuple]:
    """Verdicts of the window's tasks, in order: in forked processes when worth it."""
    if workers < 2 or not CAN_FORK or len(window) < FORK_MIN_PAIRS:
        verdicts = []
        for start in range(0, len(window), CHUNK):
            verdicts += [decide(*task) for task in window[start:start + CHUNK]]
            report(len(verdicts))
        return verdicts
    shares = [window[share::workers] for share in range(workers)]
    found = _check_forked(decide, shares, report)
    verdicts: list = [None] * len(window)
    for share, (results, alignments) in enumerate(found):
        if results is None:  # its process died or failed: check its share here
            results = [decide(*task) for task in shares[share]]
        else:
            decide.add_found(alignments)
        verdicts[share::workers] = results
    return verdicts


def _check_forked(decide, shares: list[list[tuple]], report: Callable[[int], None]) -> list[tuple]:
    """(verdicts or None, alignments) per share, each share checked in a forked process."""
    from multiprocessing.connection import wait

    children = [_fork(decide, share) for share in shares]
    results: list[list] = [[] for _ in shares]
    alignments: list = [[] for _ in shares]
    failed: set[int] = set()
    try:
        open_ = {reader: number for number, (_, reader) in enumerate(children)}
        heard = {reader: time.monotonic() for reader in open_}
        while open_:
            for reader in wait(list(open_), timeout=STALL_SECONDS / 10):
                heard[reader] = time.monotonic()
                try:
                    kind, payload = reader.recv()
                except (EOFError, OSError):  # died without a word (killed, out of memory)
                    kind, payload = "failed", None
                if kind == "verdicts":
                    results[open_[reader]] += payload
                    report(sum(len(r) for r in results))
                    continue
                if kind == "found":
                    alignments[open_[reader]] = payload
                else:
                    failed.add(open_[reader])
                reader.close()
                del open_[reader]
            for reader in [r for r in open_ if time.monotonic() - heard[r] > STALL_SECONDS]:
                _kill(children[open_[reader]][0])
                failed.add(open_.pop(reader))
                reader.close()
    finally:
        for pid, reader in children:
            if not reader.closed:  # this process was interrupted: stop the others too
                reader.close()
                _kill(pid)
            os.waitpid(pid, 0)
    return [(None, None) if number in failed else (results[number], alignments[number])
            for number in range(len(shares))]


def _fork(decide, share: list[tuple]):
    """(pid, reader) of a forked process that checks ``share`` and sends back its verdicts a
    chunk at a time, then ("found", alignments); ("failed", reason) if anything goes wrong."""
    from multiprocessing import Pipe

    reader, writer = Pipe(duplex=False)
    with warnings.catch_warnings():
        # Python 3.12+ warns when forking beside other threads (the idle preparing ones, a
        # progress bar's), as a lock they hold stays locked in the fork: the forked process
        # takes none of theirs (it writes nothing to the terminal, warnings included).
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        writer.close()
        return pid, reader
    status = 1
    try:  # the forked process: it never returns, and leaves the parent's files and buffers alone
        reader.close()
        warnings.simplefilter("ignore")  # printing one would take the terminal's lock
        decide.take_found()  # the parent's already: only new ones go back
        for start in range(0, len(share), CHUNK):
            writer.send(("verdicts", [decide(*task) for task in share[start:start + CHUNK]]))
        writer.send(("found", decide.take_found()))
        status = 0
    except BaseException as error:  # noqa: BLE001 - told to the parent, which checks the share itself
        try:
            writer.send(("failed", f"{type(error).__name__}: {error}"))
        except BaseException:  # noqa: BLE001 - the parent sees the pipe close instead
            pass
    finally:
        os._exit(status)


def _kill(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def _opencv_threads(count: int):
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
