"""ignore: "not duplicates" decisions are kept by content, for good."""

import pytest

from imgsearch_cnn.indexer.store import Record, Store
from imgsearch_cnn.search.dupes import ignore


def test_pairs_are_remembered_by_content_in_any_order(tmp_path):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        with store.transaction() as writer:
            for name, content in (("a", "h1"), ("b", "h2"), ("c", "h3")):
                writer.put_record(Record(f"/p/{name}.jpg", 1, 1, content, 1, 1, "JPEG"))
        assert ignore.add_ignored(store, ["/p/a.jpg", "/p/b.jpg", "/p/c.jpg"]) == 3
        assert ignore.add_ignored(store, ["/p/b.jpg", "/p/a.jpg"]) == 0
        assert ignore.ignore_key("h2", "h1") in ignore.load_ignored(store)
        with pytest.raises(ValueError, match="not in the index"):
            ignore.add_ignored(store, ["/p/a.jpg", "/p/missing.jpg"])
