"""groups: copies are grouped with their original, different photos are not, groups never chain."""

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from fakes import fake_index
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import groups, ignore, job
from photos import draw_photo


def build(tmp_path, files):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, image in files.items():
        image.save(folder / name, quality=90)
    index = tmp_path / "idx"
    fake_index(index, [folder])
    return folder, index


def grouped(index, **options):
    # The fake embedder's cosines are not the CNN's: let every candidate pair reach the keypoint
    # check, which then has to tell crops from different photos on its own.
    options.setdefault("verify_floor", 0.0)
    with Store.open(index) as store:
        result = groups.find_groups(store, groups.DedupeOptions(**options))
    return [sorted(p.split("/")[-1] for p in g.paths) for g in result.groups], result


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dedupe")
    a, b = draw_photo(1, (400, 300)), draw_photo(2, (400, 300))
    files = {
        "a.jpg": a,
        "a_small.jpg": a.resize((200, 150)),
        "a_turned.jpg": a.transpose(Image.Transpose.ROTATE_90),
        "a_mirror.jpg": ImageOps.mirror(a),
        "a_grey.jpg": ImageOps.grayscale(a).convert("RGB"),
        "a_crop.jpg": a.crop((30, 20, 370, 280)),
        "a_blur.jpg": a.filter(ImageFilter.GaussianBlur(2)),
        "b.jpg": b,
        "b_bright.jpg": ImageEnhance.Brightness(b).enhance(1.3),
    }
    for seed in range(3, 9):
        files[f"other_{seed}.jpg"] = draw_photo(seed, (400, 300))
    folder, index = build(tmp, files)
    (folder / "a_copy.jpg").write_bytes((folder / "a.jpg").read_bytes())  # byte-identical
    fake_index(index, [folder])
    return index


def test_edited_copies_are_grouped_with_their_original_and_nothing_else(library):
    found, result = grouped(library)
    assert ["a.jpg", "a_blur.jpg", "a_copy.jpg", "a_crop.jpg", "a_grey.jpg", "a_mirror.jpg", "a_small.jpg",
            "a_turned.jpg"] in found
    assert ["b.jpg", "b_bright.jpg"] in found
    assert len(found) == 2
    assert result.stats["exact"] == 1


def test_exact_preset_finds_only_byte_identical_copies(library):
    found, _ = grouped(library, preset="exact")
    assert found == [["a.jpg", "a_copy.jpg"]]


def test_every_member_is_a_duplicate_of_the_keeper_and_scores_are_reported(library):
    _, result = grouped(library)
    for group in result.groups:
        assert group.members[0].reason == "keeper"
        assert all(m.reason in ("exact", "cosine", "phash", "local") for m in group.members[1:])
        assert all(-1.0 <= m.score <= 1.0 for m in group.members)


def test_max_group_size_splits_large_groups(library):
    found, _ = grouped(library, max_group_size=3)
    assert found and max(len(g) for g in found) == 3


def test_ignored_pairs_never_come_back(library):
    with Store.open(library, writable=True) as store:
        folder = store.record(next(r.path for r in store.records() if r.path.endswith("b.jpg"))).path.rsplit("/", 1)[0]
        assert ignore.add_ignored(store, [f"{folder}/b.jpg", f"{folder}/b_bright.jpg"]) == 1
    found, _ = grouped(library)
    assert ["b.jpg", "b_bright.jpg"] not in found
    with Store.open(library, writable=True) as store:
        store.set_extra("ignored_pairs", [])


def test_no_chaining_along_a_gradual_sequence(tmp_path):
    """Each step is a near-copy of the previous one, but the ends are different photos."""
    base = np.asarray(draw_photo(11, (320, 240)), dtype=np.float32)
    other = np.asarray(draw_photo(12, (320, 240)), dtype=np.float32)
    steps = {f"step_{i}.jpg": Image.fromarray(((1 - t) * base + t * other).astype(np.uint8))
             for i, t in enumerate(np.linspace(0, 1, 9))}
    _, index = build(tmp_path, steps)
    _, result = grouped(index)
    assert result.groups  # neighbouring steps are near-duplicates...
    for group in result.groups:  # ...but no group reaches from one end to the other
        names = {p.split("/")[-1] for p in group.paths}
        assert not {"step_0.jpg", "step_8.jpg"} <= names, names


@pytest.mark.parametrize("rule, keeper", [("format:raw>jpg", "shot.dng"), ("format:jpg>raw", "shot.jpg")])
def test_a_raw_and_the_camera_jpeg_of_one_shot_are_one_capture(tmp_path, rule, keeper):
    from photos import write_dng

    folder = tmp_path / "photos"
    folder.mkdir()
    shot = draw_photo(21, (480, 360))
    write_dng(folder / "shot.dng", shot)
    shot.save(folder / "shot.jpg", quality=92)  # what the camera wrote beside it
    draw_photo(22, (480, 360)).save(folder / "other.jpg", quality=92)
    fake_index(tmp_path / "idx", [folder])
    found, result = grouped(tmp_path / "idx", keep_rules=[rule])
    assert found == [["shot.dng", "shot.jpg"]]
    assert result.groups[0].keeper.path.endswith(keeper) and result.groups[0].keeper.format in ("DNG", "JPEG")


@pytest.fixture(scope="module")
def burst(tmp_path_factory):
    """A burst of two frames 0.3 s apart (EXIF with sub-seconds, as cameras write it), a resized
    copy of the first frame that kept its EXIF, and a copy with GPS and keywords added."""
    from photos import save_with_metadata

    tmp = tmp_path_factory.mktemp("burst")
    folder = tmp / "photos"
    folder.mkdir()
    first = draw_photo(31, (480, 360))
    second = first.copy()
    second.paste(draw_photo(32, (60, 60)), (300, 200))  # the subject moved a little
    camera = ("Canon", "Canon EOS R5")
    save_with_metadata(first, folder / "frame_a.jpg", "2024:05:01 10:00:00", "100", camera)
    save_with_metadata(second, folder / "frame_b.jpg", "2024:05:01 10:00:00", "400", camera)
    save_with_metadata(first.resize((240, 180)), folder / "frame_a_small.jpg", "2024:05:01 10:00:00", "100", camera)
    other = draw_photo(33, (480, 360))
    other.save(folder / "plain.jpg", quality=92)
    save_with_metadata(other.resize((360, 270)), folder / "tagged.jpg", gps=True, keywords=["beach"])
    index = tmp / "idx"
    fake_index(index, [folder])
    return index


def test_frames_of_a_burst_are_similar_shots_and_copies_stay_duplicates(burst):
    with Store.open(burst) as store:
        result = groups.find_groups(store, groups.DedupeOptions(verify_floor=0.0))
    tiers = {g.tier: sorted(p.split("/")[-1] for p in g.paths) for g in result.groups
             if any(p.endswith("/frame_a.jpg") for p in g.paths)}
    assert tiers[groups.DUPLICATES] == ["frame_a.jpg", "frame_a_small.jpg"]
    assert tiers[groups.SHOTS] == ["frame_a.jpg", "frame_b.jpg"]
    shot = next(g for g in result.groups if g.tier == groups.SHOTS).members[1]
    assert shot.shot == "taken 0.3 s apart"


def test_the_clean_up_touches_similar_shots_only_when_asked(burst):
    with Store.open(burst) as store:
        plain = job.run(store, groups.DedupeOptions(verify_floor=0.0), "trash")
        wider = job.run(store, groups.DedupeOptions(verify_floor=0.0), "trash", include_similar_shots=True)
    planned = {p.split("/")[-1] for p in plain.planned()}
    assert "frame_b.jpg" not in planned and "frame_a_small.jpg" in planned
    assert "frame_b.jpg" in {p.split("/")[-1] for p in wider.planned()}


def test_a_copy_with_metadata_the_keeper_lacks_is_flagged_and_the_metadata_rule_keeps_it(burst):
    from imgsearch_cnn.search.render import dupes as render

    with Store.open(burst) as store:
        outcome = job.run(store, groups.DedupeOptions(verify_floor=0.0), "trash")
        richer = job.run(store, groups.DedupeOptions(verify_floor=0.0, keep_rules=["metadata", "resolution"]), "trash")
    report = render.to_json(outcome)
    group = next(g for g in report["groups"] if g["keeper"].endswith("plain.jpg"))
    assert group["members"][1]["metadata_keeper_lacks"] == ["gps", "keywords"]
    assert any(g.keeper.path.endswith("tagged.jpg") and g.keeper_reason == "metadata" for g in richer.result.groups)


def test_small_caches_and_cluster_order_give_the_same_groups(library):
    found, _ = grouped(library)
    small, _ = grouped(library, cache_photos=2)  # fewer than the photos: cluster order and eviction
    assert sorted(small) == sorted(found)


def test_more_threads_extract_no_photo_more_often_than_one(library, monkeypatch):
    # Pairs checked side by side share photos: two threads used to extract one photo twice.
    from imgsearch_cnn.search.dupes import verify

    real, extracted, found = verify._extract, {}, {}
    for workers in (1, 2):
        seen = extracted[workers] = []
        monkeypatch.setattr(verify, "_extract", lambda path, *rest, seen=seen: seen.append(path) or real(path, *rest))
        found[workers] = sorted(grouped(library, workers=workers)[0])
    assert found[1] == found[2]
    assert len(extracted[2]) == len(extracted[1]) > 0


def test_a_photo_whose_pairs_need_its_edges_and_its_keypoints_is_read_once(library, monkeypatch):
    import collections

    from imgsearch_cnn.search.dupes import groups, pixels

    reads, both = collections.Counter(), {}
    real_read, real_prepare = pixels.read, groups._Decider.prepare

    def counted(path):
        reads[path] += 1
        return real_read(path)

    def prepare(self, item):
        kinds, path = item
        before = reads[path]
        real_prepare(self, item)
        if len(kinds) > 1:
            both[path] = reads[path] - before
    monkeypatch.setattr(pixels, "read", counted)
    monkeypatch.setattr(groups, "read", counted)
    monkeypatch.setattr(groups._Decider, "prepare", prepare)
    found, _ = grouped(library, workers=2)
    assert both and set(both.values()) == {1}
    monkeypatch.undo()
    assert sorted(found) == sorted(grouped(library, workers=1)[0])


def test_pairs_checked_in_forked_processes_give_the_same_groups_and_keepers(library, monkeypatch):
    from imgsearch_cnn.search.dupes import parallel

    if not parallel.CAN_FORK:
        pytest.skip("pairs are checked in forked processes on Linux only")
    _, alone = grouped(library, workers=1)
    monkeypatch.setattr(parallel, "FORK_MIN_PAIRS", 1)
    _, forked = grouped(library, workers=2)

    def described(result):
        return sorted((g.keeper.path, g.keeper_reason, sorted((m.record.path, m.reason) for m in g.members))
                      for g in result.groups)
    assert described(forked) == described(alone) and forked.stats == alone.stats
