"""Run a producer a few items ahead of its consumer, on a thread.

Indexing embeds a batch (decoding, the network) and then writes it to LMDB; with the producer on
its own thread the next batch is embedded while this one is written, and the index still has one
writer, the main thread, committing batches in order.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_DONE = object()


def run_ahead(items: Iterable[T], depth: int) -> Iterator[T]:
    """Yield what ``items`` yields, in order, while a thread computes up to ``depth`` more. An
    exception in the producer is raised here; leaving the loop early stops the producer at its
    next item."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put((None, exc))
            return
        finally:
            getattr(iterator, "close", lambda: None)()  # e.g. a pool of decoding processes ends now
        put((_DONE, None))

    thread = threading.Thread(target=produce, name="imgsearch-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
