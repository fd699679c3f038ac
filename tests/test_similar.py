"""similar: nearest photos for indexed files (stored vectors), outside files and combined queries."""

import pytest
from PIL import ImageEnhance

from indexer import embed, models
from indexer.store import Store
from indexer.update import IndexOptions, update_index
from search.similar import QueryError, similar
from conftest import draw_photo


@pytest.fixture
def index(tmp_path, photos):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        update_index(store, [photos], models.resolve(), IndexOptions("cpu", 8, 0))
    return tmp_path / "idx"


def test_indexed_query_uses_stored_vector_without_loading_the_model(index, photos, monkeypatch):
    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded for an indexed query")

    monkeypatch.setattr(embed, "Embedder", no_model)
    with Store.open(index) as store:
        matches = similar(store, models.resolve(), [str(photos / "a" / "photo_0000.jpg")], k=3)
    assert len(matches) == 3
    assert str(photos / "a" / "photo_0000.jpg") not in [m.path for m in matches]
    assert matches[0].score >= matches[1].score >= matches[2].score


def test_edited_copy_outside_the_index_finds_its_original(index, photos, tmp_path):
    edited = ImageEnhance.Brightness(draw_photo(7)).enhance(1.3).resize((200, 150))
    edited.save(tmp_path / "query.jpg", quality=70)
    with Store.open(index) as store:
        matches = similar(store, models.resolve(), [str(tmp_path / "query.jpg")], k=1, device="cpu")
    assert matches[0].path == str(photos / "b" / "photo_0007.jpg")
    assert matches[0].score > 0.8


def test_combined_query_and_min_score(index, photos):
    queries = [str(photos / "a" / "photo_0000.jpg"), str(photos / "a" / "photo_0001.jpg")]
    with Store.open(index) as store:
        matches = similar(store, models.resolve(), queries, k=20)
        assert len(matches) == 10  # 12 photos minus the two queries
        strict = similar(store, models.resolve(), queries, k=20, min_score=matches[2].score)
    assert [m.path for m in strict] == [m.path for m in matches[:3]]


def test_unreadable_or_missing_query_is_a_clear_error(index, tmp_path):
    (tmp_path / "bad.jpg").write_text("no")
    with Store.open(index) as store:
        with pytest.raises(QueryError, match="cannot read query"):
            similar(store, models.resolve(), [str(tmp_path / "bad.jpg")], device="cpu")
        with pytest.raises(QueryError, match="not found"):
            similar(store, models.resolve(), [str(tmp_path / "missing.jpg")])


def test_empty_index_is_a_clear_error(tmp_path, photos):
    Store.open(tmp_path / "empty", writable=True, create=True).close()
    with Store.open(tmp_path / "empty") as store:
        with pytest.raises(QueryError, match="empty"):
            similar(store, models.resolve(), [str(photos / "a" / "photo_0000.jpg")])


def test_colour_features_find_the_photo_with_the_same_colours(index, photos, tmp_path):
    draw_photo(3).resize((100, 80)).save(tmp_path / "small.png")  # another size and format
    with Store.open(index) as store:
        matches = similar(store, models.resolve(), [str(tmp_path / "small.png")], k=1, features="color")
    assert matches[0].path == str(photos / "a" / "photo_0003.jpg") and matches[0].score > 0.9
