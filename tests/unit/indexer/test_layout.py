"""layout: where the index is found, and --rebuild removes only the index's own files."""

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.indexer.store import Store


def test_the_project_index_is_found_from_a_subfolder(tmp_path, monkeypatch):
    monkeypatch.delenv("IMGSEARCH_INDEX", raising=False)
    (tmp_path / "indexes").mkdir()
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    assert layout.default_location() == tmp_path / "indexes" / "default"
    monkeypatch.setenv("IMGSEARCH_INDEX", str(tmp_path / "elsewhere"))
    assert layout.default_location() == tmp_path / "elsewhere"


def test_outside_a_project_the_per_user_index_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("IMGSEARCH_INDEX", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "anywhere").mkdir()
    monkeypatch.chdir(tmp_path / "anywhere")
    assert layout.default_location() == tmp_path / "data" / "imgsearch" / "indexes" / "default"


def test_remove_deletes_the_index_and_nothing_else(tmp_path):
    folder = tmp_path / "photos_and_index"
    Store.open(folder, writable=True, create=True).close()
    (folder / layout.JOURNALS).mkdir()
    (folder / "my_photo.jpg").write_bytes(b"precious")
    assert layout.is_index(folder)
    layout.remove(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["my_photo.jpg"]
    only_index = tmp_path / "idx"
    Store.open(only_index, writable=True, create=True).close()
    layout.remove(only_index)
    assert not only_index.exists()
