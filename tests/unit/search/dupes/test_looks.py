"""looks: the signs of a derived copy read from its pixels (here: lost colour)."""

from PIL import ImageDraw, ImageOps

from imgsearch_cnn.search.dupes.looks import look_of
from photos import draw_photo


def test_a_black_and_white_photo_stays_grey_with_a_coloured_sticker_on_it():
    # The sticker adds colour to a patch; it does not make the copy the colour original.
    grey = ImageOps.grayscale(draw_photo(5, (400, 300))).convert("RGB")
    stuck = grey.copy()
    ImageDraw.Draw(stuck).ellipse((40, 40, 120, 110), fill=(255, 210, 0))  # about 5 % of the photo
    assert look_of(grey).grey and look_of(stuck).grey
    assert not look_of(draw_photo(5, (400, 300))).grey
