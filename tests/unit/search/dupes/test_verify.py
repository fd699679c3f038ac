"""verify: keypoint matching accepts a crop, a straightened or mirrored copy of a photo, and
rejects a different photo and another shot of the same scene with its subject moved."""

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from imgsearch_cnn.search.dupes import verify
from imgsearch_cnn.search.dupes.verify import FeatureCache
from photos import draw_photo, textured_photo as textured


def check(tmp_path, a: Image.Image, b: Image.Image) -> bool:
    a.save(tmp_path / "a.jpg", quality=92)
    b.save(tmp_path / "b.jpg", quality=92)
    return FeatureCache().same(str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"))


def test_a_crop_is_the_same_photo(tmp_path):
    photo = textured(1)
    assert check(tmp_path, photo, photo.crop((60, 40, 420, 320)))


def test_a_straightened_and_a_mirrored_copy_are_the_same_photo(tmp_path):
    photo = textured(2)
    straightened = photo.rotate(6, resample=Image.Resampling.BICUBIC).crop((40, 30, 440, 330))
    assert check(tmp_path, photo, straightened)
    assert check(tmp_path, photo, ImageOps.mirror(photo))


def test_a_different_photo_is_not(tmp_path):
    assert not check(tmp_path, textured(3), textured(4))


def test_another_shot_with_the_subject_moved_is_not(tmp_path):
    scene = textured(5)
    first, second = scene.copy(), scene.copy()
    ImageDraw.Draw(first).ellipse((60, 60, 260, 300), fill=(30, 30, 200))
    ImageDraw.Draw(second).ellipse((230, 60, 430, 300), fill=(30, 30, 200))
    assert not check(tmp_path, first, second)


def test_an_unreadable_file_is_never_the_same(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"no photo")
    textured(6).save(tmp_path / "ok.jpg")
    assert not FeatureCache().same(str(tmp_path / "broken.jpg"), str(tmp_path / "ok.jpg"))


def test_mirrored_features_are_derived_like_sift_on_the_mirrored_photo(tmp_path):
    from imgsearch_cnn.search.dupes.verify import mirror

    photo = textured(7)
    photo.save(tmp_path / "p.png")
    ImageOps.mirror(photo).save(tmp_path / "mirrored.png")
    cache = FeatureCache()
    plain, theirs = cache.get(str(tmp_path / "p.png")), cache.get(str(tmp_path / "mirrored.png"))
    derived = mirror(plain)
    assert np.array_equal(derived.grey, theirs.grey)
    pairs = [(i, int(np.argmin(np.hypot(*(theirs.keypoints - p).T)))) for i, p in enumerate(derived.keypoints)]
    pairs = [(i, j) for i, j in pairs if np.hypot(*(theirs.keypoints[j] - derived.keypoints[i])) < 1.0]
    assert len(pairs) >= 20
    mine = derived.descriptors[[i for i, _ in pairs]].astype(np.float32)
    sift = theirs.descriptors[[j for _, j in pairs]].astype(np.float32)
    unmirrored = plain.descriptors[[i for i, _ in pairs]].astype(np.float32)
    assert np.abs(mine - sift).mean() < 0.4 * np.abs(unmirrored - sift).mean()


def test_framing_tells_crops_and_added_bars_from_the_same_framing(tmp_path):
    from PIL import ImageFilter

    photo = textured(17)
    photo.save(tmp_path / "original.jpg", quality=95)
    photo.crop((60, 40, 420, 320)).save(tmp_path / "crop.jpg", quality=90)
    photo.filter(ImageFilter.GaussianBlur(1)).save(tmp_path / "blur.jpg", quality=90)
    boxed = Image.new("RGB", (480, 480), "black")
    boxed.paste(photo, (0, 60))
    boxed.save(tmp_path / "letterbox.jpg", quality=90)
    cache = FeatureCache()
    path = lambda name: str(tmp_path / name)  # noqa: E731
    assert cache.framing(path("original.jpg"), path("crop.jpg")) == "crop"
    assert cache.framing(path("letterbox.jpg"), path("original.jpg")) == "bars"
    assert cache.framing(path("original.jpg"), path("blur.jpg")) == "same"
    assert cache.framing(path("crop.jpg"), path("original.jpg")) is None  # the crop is not the wider one


def test_a_copy_with_a_big_pasted_sticker_is_the_same_photo(tmp_path):
    # The sticker spoils the overall correlation; the keypoints still align the rest exactly.
    photo = textured(9)
    stuck = photo.copy()
    ImageDraw.Draw(stuck).ellipse((150, 90, 330, 270), fill=(255, 220, 0), outline=(0, 0, 0), width=3)
    assert check(tmp_path, photo, stuck)


def test_both_match_orders_come_from_one_distance_matrix():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 200, (40, 128)).astype(np.uint8)
    b = np.vstack([a[:25] + rng.integers(0, 3, (25, 128)).astype(np.uint8), rng.integers(0, 200, (30, 128)).astype(np.uint8)])
    there, back = verify.ratio_matches_both(a, b)
    copies = {(i, i) for i in range(25)}  # b's first 25 descriptors are near-copies of a's
    assert copies <= set(zip(*map(list, there))) and copies <= set(zip(*map(list, back)))
    separate = set(zip(*map(list, verify.ratio_matches(b, a))))
    assert len(separate ^ set(zip(*map(list, back)))) <= 1  # the same up to float rounding at the ratio's edge


def test_large_photos_are_read_by_sift_at_most_sift_max_side_with_keypoints_on_the_check_image(tmp_path, monkeypatch):
    import cv2

    shapes = []
    real = cv2.SIFT_create

    class Spy:
        def __init__(self, sift):
            self.sift = sift

        def detectAndCompute(self, image, mask):
            shapes.append(image.shape)
            return self.sift.detectAndCompute(image, mask)

    monkeypatch.setattr(cv2, "SIFT_create", lambda **options: Spy(real(**options)))
    big = textured(8, (300, 225)).resize((1200, 900), Image.Resampling.BICUBIC)  # texture SIFT still sees at 300 px
    big.save(tmp_path / "big.jpg", quality=92)
    features = FeatureCache().get(str(tmp_path / "big.jpg"))
    assert max(shapes[0]) <= verify.SIFT_MAX_SIDE < verify.SIFT_SCALE * verify.MAX_SIDE
    height, width = features.grey.shape
    assert max(height, width) == verify.MAX_SIDE
    x, y = features.keypoints.T
    assert x.min() >= 0 and y.min() >= 0 and x.max() < width and y.max() < height
    # the same picture small enough for SIFT to read it whole: its keypoints, put in the large
    # photo's check-image pixels, land where the large photo's do
    big.resize((400, 300), Image.Resampling.LANCZOS).save(tmp_path / "small.png")
    small = FeatureCache().get(str(tmp_path / "small.png"))
    there = (small.keypoints + 0.5) * (width / small.grey.shape[1]) - 0.5
    gaps = np.hypot(*(features.keypoints[:, None, :] - there[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    assert np.mean(gaps < 3.0) > 0.5, np.median(gaps)


def test_a_caption_bar_full_of_text_is_an_added_bar_and_a_cut_off_bottom_is_a_crop(tmp_path):
    # The text gives the bar texture, as a wider view has; the step where it meets the picture
    # and its lying on one side only say it was added. A real cut keeps the scene seamless.
    photo = textured(23)
    photo.save(tmp_path / "original.jpg", quality=95)
    captioned = Image.new("RGB", (photo.width, photo.height + 64), "white")
    captioned.paste(photo)
    draw = ImageDraw.Draw(captioned)
    for line in range(3):
        draw.text((8, photo.height + 8 + 20 * line), "the best day ever at the beach with everyone of us " * 2, fill="black")
    captioned.save(tmp_path / "captioned.jpg", quality=90)
    photo.crop((0, 0, photo.width, photo.height - 70)).save(tmp_path / "cut.jpg", quality=90)
    cache = FeatureCache()
    path = lambda name: str(tmp_path / name)  # noqa: E731
    assert cache.framing(path("captioned.jpg"), path("original.jpg")) == "bars"
    assert cache.framing(path("original.jpg"), path("cut.jpg")) == "crop"
