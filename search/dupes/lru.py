"""A small thread-safe cache that keeps the most recently used values (the duplicate check's
per-photo features: memory stays bounded however large the collection)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class BoundedCache:
    """At most ``capacity`` values, the least recently used dropped first (thread-safe)."""

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()  # outside the lock: computing runs on every core
        with self._lock:
            self._values[key] = value
            if self.capacity is not None and len(self._values) > self.capacity:
                self._values.popitem(last=False)
        return value

    def peek(self, key):
        """The value kept for key, or None; nothing is computed."""
        with self._lock:
            return self._values.get(key)

    def drop(self, key) -> None:
        with self._lock:
            self._values.pop(key, None)

    def put(self, key, value) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            if self.capacity is not None and len(self._values) > self.capacity:
                self._values.popitem(last=False)

    def take(self) -> list:
        """Every (key, value) kept, oldest first; the cache is left empty."""
        with self._lock:
            items, self._values = list(self._values.items()), OrderedDict()
        return items
