"""The "not duplicates" list: pairs of contents a user said are different photos, kept in the
index by content hash (so moving or renaming a file does not lose the decision)."""

from __future__ import annotations

from imgsearch_cnn.indexer.store import Store


def ignore_key(hash_a: str, hash_b: str) -> tuple[str, str]:
    """The ignore-list key of a pair of contents (order does not matter)."""
    return tuple(sorted((hash_a, hash_b)))


def load_ignored(store: Store) -> set[tuple[str, str]]:
    """Pairs of contents marked "not a duplicate" (by content hash, so moves don't lose them)."""
    return {tuple(pair) for pair in store.get_extra("ignored_pairs") or []}


def add_ignored(store: Store, paths: list[str]) -> int:
    """Mark every pair among these indexed files as not duplicates; returns how many pairs."""
    hashes = []
    for path in paths:
        record = store.record(path)
        if record is None:
            raise ValueError(f"not in the index: {path}")
        hashes.append(record.hash)
    pairs = load_ignored(store)
    before = len(pairs)
    pairs.update(ignore_key(a, b) for n, a in enumerate(hashes) for b in hashes[n + 1:] if a != b)
    store.set_extra("ignored_pairs", sorted(pairs))
    return len(pairs) - before
