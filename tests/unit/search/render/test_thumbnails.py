"""render/thumbnails: upright thumbnails as data: URIs; an unreadable photo becomes grey."""

import base64
import io

from PIL import Image

from imgsearch_cnn.search.render.thumbnails import data_uris, thumbnail
from photos import draw_photo


def test_thumbnails_fit_the_size_and_broken_files_are_grey(tmp_path):
    draw_photo(1, (400, 200)).save(tmp_path / "wide.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"no")
    assert thumbnail(str(tmp_path / "wide.jpg"), 100).size == (100, 50)
    uris = data_uris([str(tmp_path / "wide.jpg"), str(tmp_path / "broken.jpg")], 64)
    grey = Image.open(io.BytesIO(base64.b64decode(uris[1].split(",", 1)[1])))
    assert grey.size == (64, 64) and grey.getpixel((5, 5))[0] in range(190, 211)
