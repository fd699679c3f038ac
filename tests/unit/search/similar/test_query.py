"""query: nearest photos for indexed files (stored vectors), outside files and combined queries."""

import pytest
from PIL import ImageEnhance

from fakes import FAKE_SPEC, FakeEmbedder, fake_index
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.similar.query import QueryError, similar
from photos import draw_photo


@pytest.fixture
def index(tmp_path, photos):
    fake_index(tmp_path / "idx", [photos])
    return tmp_path / "idx"


def find(index, files, **options):
    with Store.open(index) as store:
        return similar(store, [str(f) for f in files], FakeEmbedder, FAKE_SPEC.preprocessing, **options)


def test_indexed_query_uses_stored_vector_without_loading_the_model(index, photos):
    def no_model():
        raise AssertionError("the model was loaded for an indexed query")

    with Store.open(index) as store:
        matches = similar(store, [str(photos / "a" / "photo_0000.jpg")], no_model, FAKE_SPEC.preprocessing, k=3,
                          expand=0)
    assert len(matches) == 3
    assert str(photos / "a" / "photo_0000.jpg") not in [m.path for m in matches]
    assert matches[0].score >= matches[1].score >= matches[2].score


def test_edited_copy_outside_the_index_finds_its_original(index, photos, tmp_path):
    edited = ImageEnhance.Brightness(draw_photo(7)).enhance(1.3).resize((200, 150))
    edited.save(tmp_path / "query.jpg", quality=70)
    matches = find(index, [tmp_path / "query.jpg"], k=1)
    assert matches[0].path == str(photos / "b" / "photo_0007.jpg")
    assert matches[0].score > 0.8


def test_a_query_through_a_symbolic_link_is_the_indexed_photo(index, photos, tmp_path):
    (tmp_path / "fav.jpg").symlink_to(photos / "a" / "photo_0002.jpg")
    matches = find(index, [tmp_path / "fav.jpg"], k=11)
    assert str(photos / "a" / "photo_0002.jpg") not in [m.path for m in matches] and len(matches) == 11


def test_combined_query_and_min_score(index, photos):
    queries = [photos / "a" / "photo_0000.jpg", photos / "a" / "photo_0001.jpg"]
    matches = find(index, queries, k=20)
    assert len(matches) == 10  # 12 photos minus the two queries
    strict = find(index, queries, k=20, min_score=matches[2].score)
    assert [m.path for m in strict] == [m.path for m in matches[:3]]


def test_unreadable_missing_or_folder_query_is_a_clear_error(index, tmp_path, photos):
    (tmp_path / "bad.jpg").write_text("no")
    with pytest.raises(QueryError, match="cannot read query"):
        find(index, [tmp_path / "bad.jpg"])
    with pytest.raises(QueryError, match="not found"):
        find(index, [tmp_path / "missing.jpg"])
    with pytest.raises(QueryError, match="is a folder"):
        find(index, [photos])


def test_empty_index_is_a_clear_error(tmp_path, photos):
    fake_index(tmp_path / "empty", [])
    with pytest.raises(QueryError, match="empty"):
        find(tmp_path / "empty", [photos / "a" / "photo_0000.jpg"])


def test_colour_features_find_the_photo_with_the_same_colours(index, photos, tmp_path):
    draw_photo(3).resize((100, 80)).save(tmp_path / "small.png")  # another size and format
    matches = find(index, [tmp_path / "small.png"], k=1, features="color")
    assert matches[0].path == str(photos / "a" / "photo_0003.jpg") and matches[0].score > 0.9


def test_query_expansion_ranks_with_the_neighbours_but_scores_against_the_query(index, photos):
    query = photos / "a" / "photo_0000.jpg"
    plain = find(index, [query], k=5, expand=0)
    expanded = find(index, [query], k=5, expand=3)
    with Store.open(index) as store:
        own = store.vector(store.record(str(query)).hash)
        for match in expanded:
            assert match.score == pytest.approx(float(store.vector(match.record.hash) @ own), abs=1e-5)
    assert str(query) not in [m.path for m in expanded] and len(expanded) == 5
    assert {m.path for m in expanded} & {m.path for m in plain}  # the same neighbourhood, re-ranked
