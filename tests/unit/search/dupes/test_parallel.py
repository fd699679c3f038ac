"""parallel: every pair gets its verdict, in order, whether checked here or in forked processes;
a process that dies or fails loses no verdict; photos are prepared once and let go when done."""

import os
import threading
import time

import cv2
import pytest

from imgsearch_cnn.search.dupes import parallel

forking = pytest.mark.skipif(not parallel.CAN_FORK, reason="pairs are checked in forked processes on Linux only")


class Decide:
    """A stand-in decider: a pair's verdict names the pair, the process that checked it and the
    OpenCV threads it had; ``broken(a, b, forked)`` says how checking a pair goes wrong."""

    def __init__(self, broken=lambda a, b, forked: None):
        self.parent, self.broken = os.getpid(), broken
        self.prepared, self.released, self.found, self.added = [], [], [], []
        self.preparers = set()

    def needs(self, a, b, i, j, score):
        return [("keypoints", a), ("keypoints", b)]

    def prepare(self, item):
        self.prepared.append((item, cv2.getNumThreads()))
        self.preparers.add(threading.get_ident())

    def __call__(self, a, b, i, j, score):
        trouble = self.broken(a, b, os.getpid() != self.parent)
        if trouble == "exit":
            os._exit(3)
        if trouble == "raise":
            raise ValueError(f"cannot check {a} {b}")
        if trouble == "hang":
            time.sleep(3600)
        self.found.append(((a, b), "aligned"))
        return f"{a}+{b}", (os.getpid(), cv2.getNumThreads())

    def release(self, path):
        self.released.append(path)

    def take_found(self):
        found, self.found = self.found, []
        return found

    def add_found(self, found):
        self.added += found


def chain(count):
    """``count`` pairs along a chain of photos p0-p1, p1-p2, ..."""
    return [(f"p{k}", f"p{k + 1}", k, k + 1, 0.5) for k in range(count)]


def run(decide, tasks, workers=2, window_photos=10 ** 6):
    heard = []
    verdicts = parallel.decide_all(decide, tasks, workers, lambda *said: heard.append(said), window_photos)
    return verdicts, heard


@forking
def test_many_pairs_are_checked_in_forked_processes_and_come_back_in_order():
    tasks = chain(2 * parallel.FORK_MIN_PAIRS)
    decide = Decide()
    verdicts, heard = run(decide, tasks)
    assert [reason for reason, _ in verdicts] == [f"{a}+{b}" for a, b, *_ in tasks]
    checkers = {pid for _, (pid, _) in verdicts}
    assert len(checkers) == 2 and os.getpid() not in checkers
    assert {threads for _, (_, threads) in verdicts} == {1}
    # Alignments found in the processes reach this one (the keeper choice reads them).
    assert sorted(pair for pair, _ in decide.added) == sorted((a, b) for a, b, *_ in tasks)
    photos = [item for item, _ in decide.prepared]
    assert len(photos) == len(set(photos)) == len(tasks) + 1  # each photo prepared once
    assert {threads for _, threads in decide.prepared} == {1}
    assert heard[-1] == ("check", len(tasks), len(tasks))
    assert ("prepare", len(tasks) + 1, len(tasks) + 1) in heard  # every photo of the pairs


@forking
@pytest.mark.parametrize("trouble", ["exit", "raise", "hang"])
def test_a_share_whose_process_dies_fails_or_stalls_is_checked_here(trouble, monkeypatch):
    monkeypatch.setattr(parallel, "STALL_SECONDS", 2.0)  # the healthy process answers within milliseconds
    tasks = chain(2 * parallel.FORK_MIN_PAIRS)
    decide = Decide(lambda a, b, forked: trouble if forked and a == "p7" else None)
    verdicts, _ = run(decide, tasks)
    assert [reason for reason, _ in verdicts] == [f"{a}+{b}" for a, b, *_ in tasks]
    # p7-p8 is the 8th pair: the second process's share (every other pair) was checked again here.
    assert {pid for _, (pid, _) in verdicts[1::2]} == {os.getpid()}
    assert os.getpid() not in {pid for _, (pid, _) in verdicts[0::2]}


@forking
def test_an_error_that_happens_here_too_surfaces():
    decide = Decide(lambda a, b, forked: "raise" if a == "p7" else None)
    with pytest.raises(ValueError, match="cannot check p7 p8"):
        run(decide, chain(2 * parallel.FORK_MIN_PAIRS))


@forking
def test_an_interrupted_check_stops_and_reaps_its_processes(monkeypatch):
    started = []
    real_fork = parallel._fork
    monkeypatch.setattr(parallel, "_fork", lambda *args: started.append(real_fork(*args)) or started[-1])

    def progress(stage, done, total):
        if stage == "check":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        parallel.decide_all(Decide(), chain(4 * parallel.FORK_MIN_PAIRS), 2, progress, 10 ** 6)
    assert len(started) == 2
    for pid, _ in started:
        with pytest.raises(ChildProcessError):  # already waited for: no process is left behind
            os.waitpid(pid, os.WNOHANG)


def test_few_pairs_are_checked_here_with_opencv_on_one_thread_which_is_given_back():
    before = cv2.getNumThreads()
    decide = Decide()
    verdicts, _ = run(decide, [("a", "b", 0, 1, 0.5), ("a", "c", 0, 2, 0.5)])
    assert verdicts == [("a+b", (os.getpid(), 1)), ("a+c", (os.getpid(), 1))]
    assert sorted(item for item, _ in decide.prepared) == [(("keypoints",), "a"), (("keypoints",), "b"), (("keypoints",), "c")]
    assert cv2.getNumThreads() == before


def test_all_that_the_pairs_need_of_one_photo_is_prepared_in_one_go():
    decide = Decide()
    decide.needs = lambda a, b, i, j, score: [("edges", a), ("edges", b)] if b == "b" else [("keypoints", a), ("keypoints", b)]
    run(decide, [("a", "b", 0, 1, 0.5), ("a", "c", 0, 2, 0.5)])
    assert sorted((path, kinds) for (kinds, path), _ in decide.prepared) == [
        ("a", ("edges", "keypoints")), ("b", ("edges",)), ("c", ("keypoints",))]


def test_one_worker_prepares_nothing_ahead():
    decide = Decide()
    verdicts, _ = run(decide, chain(3), workers=1)
    assert len(verdicts) == 3 and decide.prepared == []


def test_windows_touch_at_most_so_many_photos_and_keep_every_pair_in_order():
    tasks = chain(10)
    windows = list(parallel.windows(tasks, 4))
    assert [task for window in windows for task in window] == tasks
    assert all(len({photo for task in window for photo in task[:2]}) <= 4 for window in windows)
    assert len(windows) == 4
    assert list(parallel.windows(tasks, 1)) == [[task] for task in tasks]  # at least one pair each


def test_photos_are_let_go_once_their_last_pair_is_checked():
    decide = Decide()
    verdicts, heard = run(decide, chain(10), window_photos=4)
    assert len(verdicts) == 10
    assert sorted(decide.released) == sorted(f"p{k}" for k in range(11))  # each photo once
    # Reading the photos counts up over the windows to the photos of all the pairs.
    read = [done for stage, done, total in heard if stage == "prepare" and total == 11]
    assert read == sorted(read) and read[-1] == 11 and len(read) > 2


@forking
def test_the_preparing_threads_outlive_every_fork():
    # A thread that ends runs OpenCV's clean-up under a lock after Python stops waiting for it: a
    # fork taken then inherits the lock held, and its first RANSAC waits forever.
    tasks = chain(3 * parallel.FORK_MIN_PAIRS)
    decide = Decide()
    verdicts, _ = run(decide, tasks, window_photos=parallel.FORK_MIN_PAIRS + 1)  # three windows
    assert len(verdicts) == len(tasks) and len({pid for _, (pid, _) in verdicts}) == 6
    assert len(decide.preparers) <= 2
