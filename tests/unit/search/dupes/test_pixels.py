"""pixels: what two lined-up photos' pixels say (edge agreement, tiles, texture, steps)."""

import numpy as np
from PIL import Image, ImageFilter

from imgsearch_cnn.indexer.phash import closest, phashes
from imgsearch_cnn.search.dupes import pixels
from photos import textured_photo as textured


def test_pixel_agreement_confirms_a_turned_blurred_copy_and_not_another_photo(tmp_path):
    photo = textured(7)
    photo.save(tmp_path / "a.jpg", quality=92)
    photo.transpose(Image.Transpose.ROTATE_90).filter(ImageFilter.GaussianBlur(2)).save(tmp_path / "b.jpg")
    textured(8).save(tmp_path / "c.jpg")
    edges = pixels.PixelCache()
    bits, turn = closest(phashes(photo), phashes(Image.open(tmp_path / "b.jpg")))
    assert bits <= 8 and turn != 0
    assert edges.agreement(str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"), turn) > 0.9
    assert max(edges.agreement(str(tmp_path / "a.jpg"), str(tmp_path / "c.jpg"), k) for k in range(8)) < 0.3
    assert edges.agreement(str(tmp_path / "a.jpg"), str(tmp_path / "missing.jpg"), 0) == 0.0


def grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float32)


def test_tiles_agree_for_a_copy_and_not_where_something_moved():
    photo = textured(3)
    moved = photo.copy()
    moved.paste(textured(4, (240, 180)), (0, 0))  # a quarter of the picture changed
    assert pixels.tile_agreement(grey(photo), grey(photo.filter(ImageFilter.GaussianBlur(1)))) > 0.95
    assert 0.6 < pixels.tile_agreement(grey(photo), grey(moved)) < 0.85


def test_texture_steps_and_open_sides_around_a_footprint():
    boxed = np.zeros((360, 480), np.float32)
    boxed[60:300] = grey(textured(5, (480, 240)))
    footprint = np.zeros((360, 480), bool)
    footprint[60:300] = True
    assert pixels.textured(boxed, ~footprint) == 0.0  # black bars: no texture
    assert pixels.edge_step(boxed, footprint) > 20  # ...and a step where the picture starts
    assert pixels.open_sides(footprint) == 2  # above and below
    scene = grey(textured(5))
    assert pixels.textured(scene, ~footprint) > 0.9 and pixels.edge_step(scene, footprint) < 8
