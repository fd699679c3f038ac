"""How the clustering stages tell their progress: ``progress(stage, done, total)`` before each
step and once more when all are done (search/render/terminal.py draws it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Callable, TypeVar

Item = TypeVar("Item")


def reported(items: Sequence[Item], stage: str, progress: Callable[[str, int, int], None] | None) -> Iterator[Item]:
    """The items one by one, each announced to ``progress`` (if any) as step ``stage``."""
    for done, item in enumerate(items):
        if progress:
            progress(stage, done, len(items))
        yield item
    if progress:
        progress(stage, len(items), len(items))
