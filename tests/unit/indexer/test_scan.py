"""scan: which files are photos, found once each, whatever the folder tree looks like."""

import os

from imgsearch_cnn.indexer import scan
from photos import draw_photo


def test_finds_photos_by_extension_and_by_content(tmp_path):
    draw_photo(1).save(tmp_path / "a.jpg", "JPEG")
    draw_photo(2).save(tmp_path / "no_extension", "JPEG")
    draw_photo(3).save(tmp_path / "wrong.dat", "PNG")
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "random.bin").write_bytes(os.urandom(64))
    found = scan.walk([tmp_path])
    assert sorted(os.path.basename(f.path) for f in found.files) == ["a.jpg", "no_extension", "wrong.dat"]
    assert found.errors == []


def test_sniffs_every_supported_format(tmp_path):
    for fmt in ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP"):
        path = tmp_path / f"x_{fmt}"
        draw_photo(1, (40, 30)).save(path, fmt)
        assert scan.sniff_image(path.read_bytes()[:16]), fmt


def test_survives_symlink_loops_and_skips_hidden_folders(tmp_path):
    (tmp_path / "sub").mkdir()
    draw_photo(1).save(tmp_path / "sub" / "p.jpg")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    (tmp_path / ".thumbnails").mkdir()
    draw_photo(2).save(tmp_path / ".thumbnails" / "t.jpg")
    os.symlink(tmp_path / "missing", tmp_path / "dangling.jpg")
    found = scan.walk([tmp_path])
    assert [os.path.relpath(f.path, tmp_path) for f in found.files] == ["sub/p.jpg"]


def test_reports_missing_roots_without_stopping(tmp_path):
    draw_photo(1).save(tmp_path / "p.jpg")
    found = scan.walk([tmp_path / "nope", tmp_path])
    assert len(found.files) == 1
    assert found.errors == [(str(tmp_path / "nope"), "no such file or folder")]


def test_excluded_folder_is_not_scanned(tmp_path):
    draw_photo(1).save(tmp_path / "p.jpg")
    (tmp_path / "idx").mkdir()
    draw_photo(2).save(tmp_path / "idx" / "q.jpg")
    assert len(scan.walk([tmp_path], exclude=[tmp_path / "idx"]).files) == 1


def test_content_hash_depends_on_bytes_only(tmp_path):
    (tmp_path / "a").write_bytes(b"same")
    (tmp_path / "b").write_bytes(b"same")
    (tmp_path / "c").write_bytes(b"other")
    assert scan.content_hash(str(tmp_path / "a")) == scan.content_hash(str(tmp_path / "b"))
    assert scan.content_hash(str(tmp_path / "a")) != scan.content_hash(str(tmp_path / "c"))


def test_an_image_is_hashed_as_content_hash_does_and_a_non_image_not_at_all(tmp_path):
    draw_photo(1).save(tmp_path / "p.jpg")
    (tmp_path / "fake.jpg").write_bytes(b"not an image at all" * 1000)
    assert scan.image_content_hash(str(tmp_path / "p.jpg")) == scan.content_hash(str(tmp_path / "p.jpg"))
    assert scan.image_content_hash(str(tmp_path / "fake.jpg")) is None
