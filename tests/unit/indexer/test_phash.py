"""phash: eight orientations from one DCT, bit-identical to imagehash's pHash of each."""

import imagehash
from PIL import Image, ImageFilter

from imgsearch_cnn.indexer.phash import ORIENTATIONS, distance, phashes
from photos import draw_photo


def reference(image: Image.Image) -> list[int]:
    small = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    out = []
    for op in ORIENTATIONS:
        bits = imagehash.phash(small if op is None else small.transpose(op)).hash.ravel()
        out.append(int("".join("1" if b else "0" for b in bits), 2))
    return out


def test_matches_imagehash_in_every_orientation():
    for seed in range(12):
        image = draw_photo(seed, (300 + seed * 7, 200))
        assert phashes(image).tolist() == reference(image), seed


def test_turned_and_mirrored_copies_are_at_distance_zero_and_others_far():
    photo = draw_photo(3, (320, 240))
    original = phashes(photo)
    for op in ORIENTATIONS[1:]:
        assert distance(original, phashes(photo.transpose(op))) == 0, op
    assert distance(original, phashes(photo.filter(ImageFilter.GaussianBlur(2)).resize((160, 120)))) <= 4
    assert distance(original, phashes(draw_photo(4, (320, 240)))) > 16
