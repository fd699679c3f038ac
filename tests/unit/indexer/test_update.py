"""update: the `imgsearch index` job is incremental and handles every kind of change."""

import os
import shutil

import pytest

from fakes import DIMS, FAKE_SPEC, FakeEmbedder
from imgsearch_cnn.indexer import models
from imgsearch_cnn.indexer.store import Store, StoreError
from imgsearch_cnn.indexer.update import IndexOptions, update_index
from photos import draw_photo, make_photos

OPTIONS = IndexOptions(device="cpu", batch_size=4, workers=0)


def run(index, folder, options=OPTIONS, **kwargs):
    with Store.open(index, writable=True, create=True) as store:
        return update_index(store, [folder], FAKE_SPEC, options, embedder=FakeEmbedder(), **kwargs)


def paths_in(index):
    with Store.open(index) as store:
        return {r.path for r in store.records()}


def test_first_run_embeds_every_photo_and_records_metadata(tmp_path, photos):
    summary = run(tmp_path / "idx", photos)
    assert (summary.new, summary.embedded, summary.failed) == (12, 12, 0)
    with Store.open(tmp_path / "idx") as store:
        record = store.record(str(photos / "a" / "photo_0000.jpg"))
        assert (record.width, record.height, record.format) == (320, 240, "JPEG")
        assert store.model["dims"] == DIMS and store.model["model_id"] == FAKE_SPEC.model_id
        assert store.vector(record.hash).shape == (DIMS,)


def test_second_run_over_unchanged_folder_embeds_nothing(tmp_path, photos):
    run(tmp_path / "idx", photos)
    again = run(tmp_path / "idx", photos)
    assert (again.unchanged, again.new, again.embedded) == (12, 0, 0)


def test_changed_moved_deleted_and_copied_files(tmp_path, photos):
    run(tmp_path / "idx", photos)
    draw_photo(99).save(photos / "a" / "photo_0000.jpg", "JPEG")           # changed content
    os.rename(photos / "a" / "photo_0001.jpg", photos / "b" / "renamed.jpg")  # moved
    os.remove(photos / "a" / "photo_0002.jpg")                              # deleted
    shutil.copy(photos / "b" / "photo_0006.jpg", photos / "copy.jpg")       # exact copy
    os.utime(photos / "a" / "photo_0003.jpg", ns=(1, 1))                    # touched only
    summary = run(tmp_path / "idx", photos)
    assert (summary.updated, summary.moved, summary.removed, summary.new) == (2, 1, 1, 1)
    assert summary.embedded == 1  # only the changed photo goes through the network
    on_disk = {str(p) for p in photos.rglob("*.jpg")}
    assert paths_in(tmp_path / "idx") == on_disk


def test_unreadable_file_is_skipped_listed_and_read_again_once_changed(tmp_path, photos):
    broken = photos / "a" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 definitely not a whole jpeg")
    summary = run(tmp_path / "idx", photos)
    assert summary.new == 12 and summary.failed == 1
    with Store.open(tmp_path / "idx") as store:
        assert list(store.failures()) == [str(broken)]
    draw_photo(50).save(broken, "JPEG")  # repaired
    summary = run(tmp_path / "idx", photos)
    assert summary.new == 1 and summary.failed == 0
    with Store.open(tmp_path / "idx") as store:
        assert store.failures() == {} and store.count() == 13


def test_other_roots_are_left_alone(tmp_path):
    make_photos(tmp_path / "one", 3)
    make_photos(tmp_path / "two", 3, start=3)
    run(tmp_path / "idx", tmp_path / "one")
    summary = run(tmp_path / "idx", tmp_path / "two")
    assert summary.removed == 0 and len(paths_in(tmp_path / "idx")) == 6


def test_index_refuses_another_model(tmp_path, photos):
    run(tmp_path / "idx", photos)
    with Store.open(tmp_path / "idx", writable=True) as store:
        with pytest.raises(StoreError, match="--rebuild"):
            update_index(store, [photos], models.resolve("efficientnet-lite1"), OPTIONS)


def test_progress_reports_every_stage(tmp_path, photos):
    seen = []
    run(tmp_path / "idx", photos, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert ("embed", 12, 12) in seen and ("scan", 12, 12) in seen


def test_worker_processes_give_the_same_vectors(tmp_path, photos):
    run(tmp_path / "serial", photos)
    run(tmp_path / "parallel", photos, IndexOptions("cpu", 5, 2))
    with Store.open(tmp_path / "serial") as a, Store.open(tmp_path / "parallel") as b:
        pa, va = a.all_vectors()
        pb, vb = b.all_vectors()
    assert pa == pb and abs(va - vb).max() < 1e-5


def test_symlinked_folders_and_files_are_indexed_once_under_their_real_paths(tmp_path, photos):
    (tmp_path / "alias").symlink_to(photos)
    (photos / "b" / "link.jpg").symlink_to(photos / "a" / "photo_0000.jpg")
    (tmp_path / "outside.jpg").write_bytes((photos / "a" / "photo_0001.jpg").read_bytes())
    (photos / "b" / "to_outside.jpg").symlink_to(tmp_path / "outside.jpg")
    run(tmp_path / "idx", photos)
    again = run(tmp_path / "idx", tmp_path / "alias")
    assert (again.new, again.removed, again.embedded) == (0, 0, 0)
    assert paths_in(tmp_path / "idx") == {str(p) for p in photos.rglob("photo_*.jpg")} | {str(tmp_path / "outside.jpg")}


def test_hard_links_are_one_photo_under_the_first_name(tmp_path, photos):
    os.link(photos / "b" / "photo_0006.jpg", photos / "a" / "z_hardlink.jpg")
    run(tmp_path / "idx", photos)
    assert str(photos / "a" / "z_hardlink.jpg") in paths_in(tmp_path / "idx")
    assert str(photos / "b" / "photo_0006.jpg") not in paths_in(tmp_path / "idx")


def test_the_indexed_folders_are_remembered(tmp_path, photos):
    run(tmp_path / "idx", photos / "a")
    run(tmp_path / "idx", photos / "b")
    with Store.open(tmp_path / "idx") as store:
        assert store.roots() == [str(photos / "a"), str(photos / "b")]


def test_a_non_image_is_not_hashed_and_not_read_again_until_it_changes(tmp_path, photos):
    (photos / "x.jpg").write_bytes(b"this is no photo" * 1000)
    idx = tmp_path / "I"
    first = run(idx, photos)
    assert first.failed == 1 and "not an image" in first.failures[0][1]
    with Store.open(idx) as store:
        stamp = store.failures()[str(photos / "x.jpg")]["at"]
    second = run(idx, photos)
    assert second.failed == 0 and second.still_failing == 1
    with Store.open(idx) as store:
        assert store.failures()[str(photos / "x.jpg")]["at"] == stamp
    draw_photo(9).save(photos / "x.jpg", "JPEG")  # fixed: indexed on the next run
    third = run(idx, photos)
    assert third.new == 1 and third.still_failing == 0
    with Store.open(idx) as store:
        assert store.failures() == {}


class DiesAfter(FakeEmbedder):
    """A fake that fails after ``batches`` batches, as a process killed half-way would."""

    def __init__(self, batches: int):
        self.left = batches

    def embed_loaded(self, items):
        if self.left == 0:
            raise KeyboardInterrupt("killed")
        self.left -= 1
        return super().embed_loaded(items)


@pytest.mark.parametrize("batches", [0, 1, 2])
def test_a_run_stopped_half_way_keeps_what_it_committed_and_the_next_run_completes(tmp_path, photos, batches):
    with Store.open(tmp_path / "idx", writable=True, create=True) as store:
        with pytest.raises(KeyboardInterrupt):
            update_index(store, [photos], FAKE_SPEC, OPTIONS, embedder=DiesAfter(batches))
    with Store.open(tmp_path / "idx") as store:
        records = list(store.records())
        assert len(records) == 4 * batches and all(store.has_vector(r.hash) for r in records)
    summary = run(tmp_path / "idx", photos)
    assert (summary.new, summary.embedded) == (12 - 4 * batches, 12 - 4 * batches)
    assert paths_in(tmp_path / "idx") == {str(p) for p in photos.rglob("*.jpg")}


def test_hashing_in_processes_gives_what_threads_give(tmp_path, monkeypatch):
    from imgsearch_cnn.indexer import scan, update

    for i in range(3):
        draw_photo(i).save(tmp_path / f"{i}.jpg")
    (tmp_path / "notes.jpg").write_bytes(b"plain text, not a photo")
    files = [scan.FileInfo(str(tmp_path / n), 1, 0) for n in ("0.jpg", "1.jpg", "notes.jpg", "2.jpg", "gone.jpg")]
    threads = update._hash_all(files, lambda *a: None)
    monkeypatch.setattr(update, "HASH_PROCESSES_MIN_CORES", 1)
    monkeypatch.setattr(update, "HASH_PROCESSES_MIN_FILES", 1)
    seen = []
    processes = update._hash_all(files, lambda stage, done, total: seen.append((stage, done, total)))
    assert processes == threads and seen[-1] == ("hash", 5, 5)
    hashes, problems = processes
    assert hashes[str(tmp_path / "1.jpg")] == scan.content_hash(str(tmp_path / "1.jpg"))
    assert set(problems) == {str(tmp_path / "notes.jpg"), str(tmp_path / "gone.jpg")}
