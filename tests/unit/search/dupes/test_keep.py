"""keep: the ordered keeper rules and reference folders."""

import pytest

from imgsearch_cnn.indexer.store import Record
from imgsearch_cnn.search.dupes import keep


def rec(path, w=100, h=100, size=1000, taken=None, fmt="JPEG"):
    return Record(path, size, 0, path, w, h, fmt, taken)


def best(records, rules, references=()):
    return keep.choose(records, list(rules), list(references))[0].path


def test_default_prefers_resolution_then_size_then_oldest_then_shortest_path():
    photos = [rec("/p/small.jpg", 50, 50, 9000), rec("/p/big.jpg", 200, 100, 10), rec("/p/big2.jpg", 200, 100, 20)]
    assert best(photos, keep.DEFAULT_RULES) == "/p/big2.jpg"
    same = [rec("/p/a/new.jpg", taken="2021-01-01T00:00:00"), rec("/p/old.jpg", taken="2019-01-01T00:00:00")]
    assert best(same, keep.DEFAULT_RULES) == "/p/old.jpg"
    assert best([rec("/p/long/name.jpg"), rec("/p/x.jpg")], keep.DEFAULT_RULES) == "/p/x.jpg"


def test_newest_format_and_path_rules():
    photos = [rec("/a/1.jpg", taken="2019-01-01T00:00:00"), rec("/b/2.heic", taken="2020-01-01T00:00:00", fmt="HEIF")]
    assert best(photos, ["newest"]) == "/b/2.heic"
    assert best(photos, ["format:jpg>heic"]) == "/a/1.jpg"
    assert best(photos, ["format:heic>jpg"]) == "/b/2.heic"
    assert best(photos, ["path:/a"]) == "/a/1.jpg"


def test_reference_folder_always_wins():
    photos = [rec("/ref/tiny.jpg", 10, 10), rec("/p/huge.jpg", 5000, 5000)]
    assert best(photos, keep.DEFAULT_RULES, ["/ref"]) == "/ref/tiny.jpg"


def test_unknown_rule_is_rejected():
    with pytest.raises(ValueError, match="unknown keep rule"):
        keep.parse_rules("resolution,prettiest")


def test_raw_names_every_camera_raw_format():
    photos = [rec("/p/a.jpg", fmt="JPEG"), rec("/p/a.nef", fmt="NEF"), rec("/p/b.cr3", fmt="CR3")]
    assert best(photos, ["format:raw>jpg"]) in ("/p/a.nef", "/p/b.cr3")
    assert best(photos, ["format:jpg>raw"]) == "/p/a.jpg"


def test_the_original_is_kept_over_letterboxed_captioned_grey_cropped_and_renamed_copies(tmp_path):
    import os

    from PIL import Image, ImageDraw, ImageOps

    from imgsearch_cnn.search.dupes.looks import LookCache
    from photos import draw_photo

    def saved(name, image, when):
        path = tmp_path / name
        image.save(path, quality=90)
        os.utime(path, ns=(when, when))
        return Record(str(path), path.stat().st_size, when, name, image.width, image.height, "JPEG")

    photo = draw_photo(31, (400, 300))
    boxed = Image.new("RGB", (400, 400))
    boxed.paste(photo, (0, 50))
    captioned = Image.new("RGB", (400, 360), "white")
    captioned.paste(photo)
    ImageDraw.Draw(captioned).text((10, 320), "best day ever", fill="black")
    original = saved("beach.jpg", photo, 2_000_000_000)
    copies = {"letterbox": saved("boxed.jpg", boxed, 1_000_000_000),
              "caption": saved("captioned.jpg", captioned, 1_000_000_000),
              "grey": saved("grey.jpg", ImageOps.grayscale(photo).convert("RGB"), 1_000_000_000),
              "crop": saved("crop.jpg", photo.crop((40, 30, 360, 270)), 1_000_000_000),
              "named": saved("beach (1).jpg", photo, 2_000_000_000)}
    expected = {"letterbox": "no added border", "caption": "no added border", "grey": "in colour",
                "crop": "widest view", "named": "not named as a copy"}
    looks = LookCache()
    for kind, copy in copies.items():  # every copy is older than the original: only the signs decide
        keeper, why = keep.choose([copy, original], list(keep.DEFAULT_RULES), [], looks)
        assert (keeper.path, why) == (original.path, expected[kind]), kind


def test_with_no_sign_in_the_pixels_the_file_written_first_is_kept(tmp_path):
    first, later = rec("/p/b.jpg"), rec("/p/a.jpg")
    first.mtime_ns, later.mtime_ns = 1, 2
    assert keep.choose([later, first], list(keep.DEFAULT_RULES))[0] is first
    assert keep.choose([later, first], list(keep.DEFAULT_RULES))[1] == "earliest"


def test_the_aligned_pixels_say_which_is_the_crop_and_which_has_bars():
    records = [rec("/p/crop.jpg", 1000, 1000), rec("/p/original.jpg", 900, 900), rec("/p/boxed.jpg", 1200, 1200)]
    relations = {("/p/original.jpg", "/p/crop.jpg"): "crop", ("/p/boxed.jpg", "/p/original.jpg"): "bars"}
    chosen, why = keep.choose(records, ["original", "resolution"], framing=lambda o, i: relations.get((o, i)))
    assert chosen.path == "/p/original.jpg" and why.startswith("widest view")


def test_copies_framed_alike_are_not_judged_by_their_flat_edges():
    # A plain white background looks like a border; when the pixels show the two are framed
    # alike, that sign is skipped and a later one decides.
    records = [rec("/p/a.jpg", 1000, 1000), rec("/p/b.jpg", 900, 900)]
    from imgsearch_cnn.search.dupes.looks import Look

    looks = {"/p/a.jpg": Look(0.3, 0.0, False), "/p/b.jpg": Look(0.0, 0.0, False)}
    chosen, why = keep.choose(records, ["original", "resolution"], looks=looks.get,
                              framing=lambda o, i: "same")
    assert chosen.path == "/p/a.jpg" and why == "resolution"
