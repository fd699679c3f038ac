"""sidecars: which .xmp and .aae files belong to a photo."""

from imgsearch_cnn.search.dupes import sidecars


def names(paths):
    return sorted(p.rsplit("/", 1)[1] for p in paths)


def test_sidecars_named_after_the_file_or_its_stem_belong_to_it(tmp_path):
    for name in ("solo.jpg", "solo.xmp", "solo.AAE", "solo.jpg.XMP", "solo2.xmp", "solo.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert names(sidecars.find(str(tmp_path / "solo.jpg"))) == ["solo.AAE", "solo.jpg.XMP", "solo.xmp"]


def test_a_stem_sidecar_shared_by_a_raw_and_its_jpeg_stays(tmp_path):
    for name in ("IMG_1.JPG", "IMG_1.CR2", "IMG_1.xmp", "IMG_1.JPG.xmp"):
        (tmp_path / name).write_bytes(b"x")
    assert names(sidecars.find(str(tmp_path / "IMG_1.JPG"))) == ["IMG_1.JPG.xmp"]


def test_a_photo_without_sidecars_has_none(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    assert sidecars.find(str(tmp_path / "a.jpg")) == []
    assert sidecars.find(str(tmp_path / "missing" / "a.jpg")) == []


def test_a_sidecar_record_carries_its_hash_and_is_marked(tmp_path):
    (tmp_path / "a.xmp").write_text("<x/>")
    record = sidecars.record(str(tmp_path / "a.xmp"))
    assert record.format == sidecars.FORMAT and len(record.hash) == 32
    assert sidecars.is_sidecar({"format": "sidecar"}) and not sidecars.is_sidecar({"format": "JPEG"})
