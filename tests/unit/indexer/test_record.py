"""record: a photo's record round-trips, and knows whether its file is still the one indexed."""

import os

from imgsearch_cnn.indexer.record import Record


def test_a_record_round_trips_without_its_path():
    record = Record("/p/a.jpg", 10, 20, "h", 640, 480, "JPEG", "2020-01-01T10:00:00")
    assert b"/p/a.jpg" not in record.to_bytes()
    assert Record.from_bytes("/p/a.jpg", record.to_bytes()) == record


def test_a_record_knows_whether_its_file_is_still_the_one_indexed(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x" * 10)
    info = os.stat(photo)
    record = Record(str(photo), info.st_size, info.st_mtime_ns, "h", 1, 1, "JPEG")
    assert record.unchanged()
    os.rename(photo, tmp_path / "b.jpg")
    photo.symlink_to(tmp_path / "b.jpg")  # same size and mtime through the link, but a link
    assert not record.unchanged()
    photo.unlink()
    assert not record.unchanged()
