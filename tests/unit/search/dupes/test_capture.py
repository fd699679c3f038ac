"""capture: one capture (a copy) or two shots of one scene, from capture times, camera file
numbers and the pixels once aligned."""

import pytest
from PIL import Image, ImageDraw, ImageFilter

from imgsearch_cnn.indexer.record import Record
from imgsearch_cnn.search.dupes import capture
from imgsearch_cnn.search.dupes.pixels import PixelCache
from imgsearch_cnn.search.dupes.verify import FeatureCache, Verdict
from photos import draw_photo


def record(path, taken=None, content=None):
    return Record(str(path), 1, 1, content or str(path), 400, 300, "JPEG", taken)


def judge(a, b):
    return capture.judge(a, b, FeatureCache(), PixelCache())


def test_the_same_bytes_are_one_capture(tmp_path):
    assert judge(record(tmp_path / "a", content="h"), record(tmp_path / "b", content="h")).one


@pytest.mark.parametrize("first, second, one, why", [
    ("2024-05-01T10:00:00.120", "2024-05-01T10:00:00.520", False, "taken 0.4 s apart"),
    ("2024-05-01T10:00:00", "2024-05-01T10:00:03", False, "taken 3 s apart"),
    ("2024-05-01T10:00:00.120", "2024-05-01T10:00:00.120", True, "same capture time"),
])
def test_capture_times_decide_within_a_series(tmp_path, first, second, one, why):
    verdict = judge(record(tmp_path / "a.jpg", first), record(tmp_path / "b.jpg", second))
    assert (verdict.one, verdict.why) == (one, why)


@pytest.mark.parametrize("second", ["2024-05-01T10:00:00", "2021-01-01T09:00:00"])
def test_times_that_cannot_tell_leave_it_to_the_pixels(tmp_path, second):
    # Same second without sub-seconds (a burst or a copy), or years apart (an editor's save date):
    # the photos here do not exist, so the pixels cannot agree.
    verdict = judge(record(tmp_path / "a.jpg", "2024-05-01T10:00:00"), record(tmp_path / "b.jpg", second))
    assert not verdict.one and verdict.why.startswith("pixels differ")


def test_camera_file_numbers_of_one_series_are_two_shots(tmp_path):
    verdict = judge(record(tmp_path / "IMG_1234.JPG"), record(tmp_path / "IMG_1235.JPG"))
    assert not verdict.one and verdict.why == "camera file numbers 1234 and 1235"


def test_numbers_far_apart_are_no_series(tmp_path):
    # A messenger's copy renamed IMG-20240101-WA0001 is no frame of the IMG_1234 series: the
    # pixels decide (here the files do not exist, so they cannot agree).
    verdict = judge(record(tmp_path / "IMG_1234.JPG"), record(tmp_path / "IMG-20240101-WA0001.jpg"))
    assert verdict.why.startswith("pixels differ")


def test_records_alone_tell_only_bytes_times_and_camera_numbers(tmp_path):
    # What the duplicate search uses to skip the keypoints of pairs whose records decide.
    assert capture.by_records(record(tmp_path / "IMG_1234.JPG"), record(tmp_path / "IMG_1235.JPG")).why == \
        "camera file numbers 1234 and 1235"
    assert capture.by_records(record(tmp_path / "a.jpg", content="h"), record(tmp_path / "b.jpg", content="h")).one
    assert capture.by_records(record(tmp_path / "a.jpg"), record(tmp_path / "b.jpg")) is None


@pytest.mark.parametrize("name, expected", [("IMG_1234.JPG", ("IMG", 1234)), ("DSC01234.jpg", ("DSC", 1234)),
                                            ("dscf0042.jpg", ("DSCF", 42)), ("IMG_1234 (1).jpg", ("IMG", 1234)),
                                            ("image_0001.jpg", None), ("holiday.jpg", None)])
def test_camera_numbers_are_read_from_camera_names_only(name, expected):
    assert capture.camera_numbers("/photos/" + name) == expected


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    photo = draw_photo(11, (480, 360))
    photo.save(folder / "original.jpg", quality=95)
    return folder, photo


@pytest.mark.parametrize("edit", ["crop", "blur", "sticker", "caption", "smaller"])
def test_edited_copies_are_one_capture(scene, edit):
    folder, photo = scene
    if edit == "crop":
        copy = photo.crop((40, 30, 440, 330))
    elif edit == "blur":
        copy = photo.filter(ImageFilter.GaussianBlur(1.5))
    elif edit == "sticker":
        copy = photo.copy()
        ImageDraw.Draw(copy).ellipse((380, 20, 460, 100), fill=(255, 220, 0))
    elif edit == "caption":
        copy = Image.new("RGB", (480, 420), "white")
        copy.paste(photo, (0, 0))
        ImageDraw.Draw(copy).text((10, 380), "best day ever", fill="black")
    else:
        copy = photo.resize((240, 180))
    copy.save(folder / f"{edit}.jpg", quality=85)
    verdict = judge(record(folder / "original.jpg"), record(folder / f"{edit}.jpg"))
    assert verdict.one, verdict.why


def test_another_shot_with_the_subject_moved_and_the_camera_turned_is_not(scene):
    folder, photo = scene
    subject = draw_photo(12, (200, 240))
    first, second = photo.copy(), photo.copy()
    first.paste(subject, (40, 60))
    second.paste(subject.rotate(10), (200, 80))
    first.save(folder / "shot1.jpg", quality=92)
    second.rotate(2, resample=Image.Resampling.BICUBIC).save(folder / "shot2.jpg", quality=92)
    verdict = judge(record(folder / "shot1.jpg"), record(folder / "shot2.jpg"))
    assert not verdict.one, verdict.why


def verdict(residual, containment, agreement):
    return Verdict(True, 100, 0.9, residual, containment, agreement)


@pytest.mark.parametrize("found, one, why", [
    (verdict(0.2, 1.0, 0.97), True, "pixels agree"),
    (verdict(0.1, 1.0, 0.7), True, "aligned exactly, a patch differs"),
    (verdict(0.2, 0.3, 1.0), False, "views overlap only in part"),
    (verdict(2.5, 1.0, 0.9), False, "parallax"),
    (verdict(0.8, 1.0, 0.6), False, "something moved"),
])
def test_pixel_evidence(found, one, why):
    result = capture.by_pixels(found, square=lambda: pytest.fail("alignment was found"))
    assert result.one == one and result.why.startswith(why)


def test_without_keypoints_the_square_pictures_decide():
    assert capture.by_pixels(None, square=lambda: 0.95).one
    assert not capture.by_pixels(Verdict(False, 3, 0.0), square=lambda: 0.5).one
