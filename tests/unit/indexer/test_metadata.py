"""metadata: capture time with sub-seconds, camera, lens, GPS, rating and keywords are read from
real EXIF and XMP; broken or missing metadata gives nothing, never an error."""

from PIL import Image

from imgsearch_cnn.indexer import metadata
from imgsearch_cnn.indexer.decode import open_image, read_header
from photos import draw_photo, save_with_metadata


def test_every_field_is_read_from_exif_and_xmp(tmp_path):
    path = save_with_metadata(draw_photo(1), tmp_path / "a.jpg", taken="2024:05:01 10:00:00", subsec="120",
                              camera=("Canon", "Canon EOS R5"), gps=True, rating=4, keywords=["beach", "family"])
    header = read_header(path)
    assert header.taken == "2024-05-01T10:00:00.120"
    assert header.meta == {"camera": "Canon EOS R5", "gps": True, "rating": 4, "keywords": ["beach", "family"]}
    assert open_image(path).meta == header.meta
    assert metadata.fields(header.taken, header.meta) == {"time", "camera", "gps", "rating", "keywords"}


def test_make_is_not_repeated_but_kept_when_the_model_lacks_it(tmp_path):
    path = save_with_metadata(draw_photo(1), tmp_path / "a.jpg", camera=("NIKON", "COOLPIX P6000"))
    assert read_header(path).meta == {"camera": "NIKON COOLPIX P6000"}


def test_a_photo_without_metadata_has_none(tmp_path):
    draw_photo(2).save(tmp_path / "plain.jpg")
    header = read_header(tmp_path / "plain.jpg")
    assert header.taken is None and header.meta == {}
    assert metadata.fields(header.taken, header.meta) == set()


def test_time_without_sub_seconds_stays_to_the_second(tmp_path):
    path = save_with_metadata(draw_photo(1), tmp_path / "a.jpg", taken="2024:05:01 10:00:00")
    assert read_header(path).taken == "2024-05-01T10:00:00"


def test_broken_metadata_gives_nothing(tmp_path):
    exif = Image.Exif()
    exif[0x4746] = "not a number"
    exif.get_ifd(0x8769)[0x9003] = "yesterday"
    draw_photo(3).save(tmp_path / "bad.jpg", exif=exif)
    header = read_header(tmp_path / "bad.jpg")
    assert header.taken is None and header.meta == {}
