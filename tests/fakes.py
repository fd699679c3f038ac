"""A small deterministic stand-in for the CNN, so the whole pipeline runs in milliseconds.

Its vector is the photo's 8 x 8 colour thumbnail, centred on its mean brightness and
L2-normalised: copies and resized copies of one drawing land close together, different drawings
and differently coloured scenes far apart, as with the real network on these synthetic photos."""

from __future__ import annotations

import numpy as np
from PIL import Image

from imgsearch_cnn.indexer.models import ModelSpec, Preprocessing

DIMS = 8 * 8 * 3
# What an index built by the fake records as its model: small input, so decoding is quick too.
FAKE_SPEC = ModelSpec("fake-colour-8x8", Preprocessing(64, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))


class FakeEmbedder:
    device = "cpu"
    runtime = "fake"
    decodes_jpeg = False

    def embed_loaded(self, items):
        good = [item for item in items if item.pixels is not None]
        if not good:
            return [], np.zeros((0, DIMS), np.float32)
        return good, np.stack([self.vector(item.pixels) for item in good])

    @staticmethod
    def vector(pixels: np.ndarray) -> np.ndarray:
        small = np.asarray(Image.fromarray(pixels).resize((8, 8), Image.Resampling.BOX), np.float32)
        centred = small.ravel() - small.mean()
        return (centred / max(float(np.linalg.norm(centred)), 1e-6)).astype(np.float32)


def fake_index(index, folders, spec: ModelSpec | None = None):
    """Index ``folders`` into ``index`` with the fake embedder; returns the run's summary."""
    from imgsearch_cnn.indexer.store import Store
    from imgsearch_cnn.indexer.update import IndexOptions, update_index

    with Store.open(index, writable=True, create=True) as store:
        return update_index(store, [str(f) for f in folders], spec or FAKE_SPEC, IndexOptions("cpu", 16, 0),
                            embedder=FakeEmbedder())


def photo_and_copy(tmp_path):
    """A photo, a.jpg, and its byte-identical copy, b.jpg, in tmp_path/photos, indexed by the fake
    into tmp_path/idx; returns (photos folder, index folder)."""
    import shutil

    from photos import draw_photo

    photos = tmp_path / "photos"
    photos.mkdir()
    draw_photo(1).save(photos / "a.jpg", quality=90)
    shutil.copy2(photos / "a.jpg", photos / "b.jpg")
    fake_index(tmp_path / "idx", [photos])
    return photos, tmp_path / "idx"
