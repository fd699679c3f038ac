"""color: HSV histograms are unit vectors; same colours score high, other colours low."""

import numpy as np
from PIL import Image

from imgsearch_cnn.indexer.color import DIMS, hsv_histogram
from photos import draw_photo


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def test_a_histogram_is_a_unit_vector_of_the_documented_size():
    vector = hsv_histogram(pixels(draw_photo(1)))
    assert vector.shape == (DIMS,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5


def test_same_colours_in_another_layout_score_higher_than_other_colours():
    red_blue = Image.new("RGB", (64, 64), (200, 20, 20))
    red_blue.paste((20, 20, 200), (0, 0, 32, 64))
    blue_red = red_blue.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    green = Image.new("RGB", (64, 64), (20, 180, 20))
    a, b, c = (hsv_histogram(pixels(i)) for i in (red_blue, blue_red, green))
    assert float(a @ b) > 0.99 and float(a @ c) < 0.1
