"""decode: every photo becomes an upright 8-bit RGB image, or a DecodeError that says why."""

import io
import struct
import warnings

import numpy as np
import pytest
from PIL import Image

from imgsearch_cnn.indexer import decode
from imgsearch_cnn.indexer.models import Preprocessing
from photos import draw_photo, needs_shared

# EXIF orientation tag -> the transpose that a camera's raw pixels need to look upright,
# inverted: what we apply to an upright image to fake what the camera stored.
_STORE_AS = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    upright = draw_photo(5, (200, 120))
    stored = upright
    for op in _STORE_AS[orientation]:
        stored = stored.transpose(op)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    stored.save(path, "JPEG", quality=95, exif=exif)
    result = decode.open_image(path)
    assert (result.width, result.height) == (200, 120)
    diff = np.abs(np.asarray(result.image, float) - np.asarray(upright, float)).mean()
    assert diff < 6, diff


def _mean_rgb(path):
    return np.asarray(decode.open_image(path).image, float).mean(axis=(0, 1))


def test_cmyk_palette_and_alpha_become_rgb(tmp_path):
    photo = draw_photo(1, (64, 48))
    photo.convert("CMYK").save(tmp_path / "cmyk.jpg", "JPEG", quality=95)
    photo.convert("P").save(tmp_path / "palette.png")
    rgba = photo.convert("RGBA")
    rgba.putalpha(0)  # fully transparent: must come out white, not black
    rgba.save(tmp_path / "alpha.png")
    for name in ("cmyk.jpg", "palette.png", "alpha.png"):
        image = decode.open_image(tmp_path / name).image
        assert image.mode == "RGB" and image.size == (64, 48)
    assert np.allclose(_mean_rgb(tmp_path / "alpha.png"), 255)
    assert np.allclose(_mean_rgb(tmp_path / "cmyk.jpg"), np.asarray(photo, float).mean(axis=(0, 1)), atol=8)


def test_16_bit_grey_keeps_its_brightness(tmp_path):
    ramp = (np.linspace(0, 65535, 64 * 32).reshape(32, 64)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    image = np.asarray(decode.open_image(tmp_path / "deep.png").image)
    assert image[0, 0, 0] == 0 and image[-1, -1, 0] == 255
    assert abs(image.mean() - 127.5) < 2


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    first = np.asarray(decode.open_image(tmp_path / "anim.gif").image)
    assert first[..., 0].mean() > 200 and first[..., 2].mean() < 50


def test_truncated_and_non_image_files_raise_decode_error(tmp_path):
    buffer = io.BytesIO()
    draw_photo(1).save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:300])
    (tmp_path / "text.jpg").write_text("hello")
    for name in ("cut.png", "text.jpg"):
        with pytest.raises(decode.DecodeError):
            decode.open_image(tmp_path / name)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    draw_photo(1, (100, 100)).save(tmp_path / "big.png")
    monkeypatch.setattr(decode, "MAX_PIXELS", 5_000)
    with pytest.raises(decode.DecodeError, match="bomb"):
        decode.open_image(tmp_path / "big.png")


def test_prepare_squashes_whole_image_to_network_size():
    image = draw_photo(1, (400, 100))
    pixels = decode.prepare(image, Preprocessing(224, (0.5,) * 3, (0.5,) * 3))
    assert pixels.shape == (224, 224, 3) and pixels.dtype == np.uint8


def test_real_camera_orientations_all_come_out_upright():
    folder = needs_shared("exif-samples", "jpg", "orientation")
    # The samples differ only by the digit printed on them (mean difference ~14 grey levels);
    # a file left as stored differs from the upright one by 50 or more.
    for kind in ("landscape", "portrait"):
        reference = np.asarray(decode.open_image(folder / f"{kind}_1.jpg").image, float)
        for n in range(2, 9):
            image = np.asarray(decode.open_image(folder / f"{kind}_{n}.jpg").image, float)
            assert image.shape == reference.shape, (kind, n)
            assert np.abs(image - reference).mean() < 25, (kind, n)


def test_real_heic_files_decode():
    folder = needs_shared("exif-samples", "heic")
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        result = decode.open_image(path)
        assert result.format == "HEIF" and result.image.mode == "RGB"


def test_corrupt_exif_warnings_do_not_reach_the_terminal(tmp_path):
    # One EXIF tag whose data would lie past the end of the block: Pillow warns, then skips it.
    blob = b"II*\x00" + struct.pack("<IH", 8, 1) + struct.pack("<HHII", 0x010F, 2, 100, 26) + struct.pack("<I", 0)
    Image.new("RGB", (64, 48), (200, 100, 50)).save(tmp_path / "bad_exif.jpg", exif=b"Exif\x00\x00" + blob)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decoded = decode.open_image(tmp_path / "bad_exif.jpg")
        header = decode.read_header(tmp_path / "bad_exif.jpg")
        with Image.open(tmp_path / "bad_exif.jpg") as raw:
            raw.getexif().get(0x010F)  # Pillow itself does warn about this file
    assert (decoded.width, header.width) == (64, 64)
    assert [str(w.message) for w in caught if issubclass(w.category, UserWarning)] == [
        "Tag data larger than file. Skipping tag 271"]
