"""lru: a bounded cache keeps the most recently used values."""

from imgsearch_cnn.search.dupes import lru


def test_bounded_cache_keeps_the_most_recently_used():
    made = []
    cache = lru.BoundedCache(capacity=2)
    for key in ("a", "b", "a", "c", "b"):
        cache.get(key, lambda: made.append(key) or key.upper())
    assert made == ["a", "b", "c", "b"]  # "b" was dropped for "c"; "a" stayed, being used again
