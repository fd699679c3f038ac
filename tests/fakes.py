"""A small deterministic stand-in for the CNN, so the whole pipeline runs in milliseconds.

Its vector is the photo's 16 x 16 grey thumbnail, centred and L2-normalised: copies and resized
copies of one drawing land close together, different drawings far apart, as with the real
network on these synthetic photos."""

from __future__ import annotations

import numpy as np
from PIL import Image

from indexer import models

DIMS = 256


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
        grey = np.asarray(Image.fromarray(pixels).convert("L").resize((16, 16), Image.Resampling.BOX), np.float32)
        centred = grey.ravel() - grey.mean()
        return (centred / max(float(np.linalg.norm(centred)), 1e-6)).astype(np.float32)


def fake_index(index, folders, spec=None):
    """Index ``folders`` into ``index`` with the fake embedder; returns the run's summary."""
    from indexer.store import Store
    from indexer.update import IndexOptions, update_index

    with Store.open(index, writable=True, create=True) as store:
        return update_index(store, [str(f) for f in folders], spec or models.resolve(),
                            IndexOptions("cpu", 16, 0), embedder=FakeEmbedder())
