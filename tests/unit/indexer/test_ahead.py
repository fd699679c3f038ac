"""ahead: a producer on a thread, its items in order, its errors raised, stopped when left."""

import threading

import pytest

from imgsearch_cnn.indexer.ahead import run_ahead


def test_items_come_in_order_and_all_of_them():
    assert list(run_ahead(iter(range(100)), depth=2)) == list(range(100))
    assert list(run_ahead([], depth=1)) == []


def test_the_producer_runs_on_another_thread_at_most_depth_ahead():
    produced, threads = [], set()

    def producer():
        for i in range(10):
            threads.add(threading.get_ident())
            produced.append(i)
            yield i

    items = run_ahead(producer(), depth=2)
    assert next(items) == 0
    assert threads and threading.get_ident() not in threads
    # at most: the one taken, two waiting in the queue, one blocked on put
    assert len(produced) <= 4
    assert list(items) == list(range(1, 10))


def test_an_error_in_the_producer_is_raised_after_its_earlier_items():
    def producer():
        yield 1
        raise ValueError("bad batch")

    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for item in run_ahead(producer(), depth=4):
            got.append(item)
    assert got == [1]


def test_leaving_early_stops_the_producer():
    finished = threading.Event()

    def producer():
        try:
            for i in range(10_000):
                yield i
        finally:
            finished.set()

    items = run_ahead(producer(), depth=1)
    assert next(items) == 0
    items.close()
    assert finished.wait(timeout=30)
