"""raw: camera RAW files (real DNGs written by pidng) decode upright, are found by the scan, and
a broken RAW is a failure that says why."""

import numpy as np
import pytest

from imgsearch_cnn.indexer import decode, raw, scan
from photos import draw_photo, write_dng


def test_a_dng_decodes_to_its_picture_with_the_sensor_size(tmp_path):
    photo = draw_photo(5, (320, 240))
    write_dng(tmp_path / "shot.dng", photo)
    decoded = decode.open_image(tmp_path / "shot.dng", draft_size=64)
    assert (decoded.width, decoded.height, decoded.format) == (320, 240, "DNG")
    assert decoded.image.mode == "RGB" and decoded.image.size == (160, 120)  # developed at half size
    developed = np.asarray(decoded.image.convert("L").resize((32, 24)), dtype=np.float32)
    original = np.asarray(photo.convert("L").resize((32, 24)), dtype=np.float32)
    assert np.corrcoef(developed.ravel(), original.ravel())[0, 1] > 0.98  # the same picture


def test_a_turned_camera_shot_comes_out_upright(tmp_path):
    write_dng(tmp_path / "portrait.dng", draw_photo(6, (320, 240)), orientation=6)
    decoded = decode.open_image(tmp_path / "portrait.dng")
    assert (decoded.width, decoded.height) == (240, 320) and decoded.image.size == (120, 160)


def test_raw_files_are_found_and_a_broken_one_fails_with_a_reason(tmp_path):
    write_dng(tmp_path / "a.dng", draw_photo(7))
    (tmp_path / "b.NEF").write_bytes(b"II*\x00" + b"\x00" * 200)  # a TIFF header and nothing else
    (tmp_path / "c.cr2").write_bytes(b"not a raw file at all")
    found = scan.walk([tmp_path]).files
    assert [f.path.rsplit("/", 1)[1] for f in found] == ["a.dng", "b.NEF", "c.cr2"]
    assert scan.image_content_hash(str(tmp_path / "b.NEF")) and scan.image_content_hash(str(tmp_path / "c.cr2")) is None
    with pytest.raises(decode.DecodeError, match="cannot read RAW file"):
        decode.open_image(tmp_path / "b.NEF")
    assert raw.format_name(tmp_path / "b.NEF") == "NEF"
