"""The `imgsearch classify` job: a class and its probability for photos, by a trained classifier.

Indexed, unchanged photos use their stored vectors (no network load); photos the classifier was
trained on answer with their own label; photos the semi-supervised step labelled answer with
that label; other files are embedded with the index's network first. A fine-tuned classifier
has its own network: every photo but its training photos is embedded by ``make_embedder``
(the caller passes the fine-tuned one: search/classify/finetune.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer import embed
from imgsearch_cnn.indexer.models import Preprocessing
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.classify.model import Classifier


class ClassifyError(ValueError):
    """A file that cannot be classified (missing, a folder, unreadable)."""


@dataclass
class Prediction:
    path: str
    label: str
    probability: float
    sure: bool  # probability >= the minimum confidence asked for
    source: str  # "trained on" (its own label), "index" (stored vector or semi-supervised label), "embedded"


def classify(store: Store, model: Classifier, files: list[str] | None, make_embedder: Callable[[], object],
             prep: Preprocessing, min_confidence: float = 0.0) -> list[Prediction]:
    """Predictions for ``files`` (None: every photo of the index), in the order given (the
    index's photos by path)."""
    if files is None:
        wanted = sorted(r.path for r in store.records())
    else:
        wanted = [_check(name) for name in files]
    predictions: dict[str, tuple[str, float, str]] = {}
    from_vectors, vectors, to_embed = [], [], []
    for path in wanted:
        record = store.record(path)
        if path in model.training and record is not None and record.unchanged():
            predictions[path] = (model.training[path], 1.0, "trained on")
        elif record is not None and record.unchanged() and record.hash in model.assigned:
            best, probability = model.assigned[record.hash]
            predictions[path] = (model.classes[int(best)], float(probability), "index")
        elif model.finetuned:
            to_embed.append(path)
        elif record is not None and record.unchanged() and (vector := store.vector(record.hash)) is not None:
            from_vectors.append(path)
            vectors.append(vector)
        else:
            to_embed.append(path)
    if vectors:
        _predict(model, from_vectors, np.stack(vectors), "index", predictions)
    if to_embed:
        loaded = [embed.load(path, prep) for path in to_embed]
        bad = [item for item in loaded if item.pixels is None]
        if bad:
            raise ClassifyError(f"cannot read {bad[0].path}: {bad[0].error}")
        good, embedded = make_embedder().embed_loaded(loaded)
        _predict(model, [item.path for item in good], embedded, "embedded", predictions)
    return [Prediction(path, label, probability, probability >= min_confidence, source)
            for path in wanted for label, probability, source in [predictions[path]]]


def embedder_for(index, model: Classifier, spec, device: str = "auto") -> Callable[[], object]:
    """What makes the network a classifier's photos are embedded with (called only if one is
    needed): the index's own, or the classifier's fine-tuned one."""
    def fine_tuned():
        from imgsearch_cnn.search.classify.finetune import FinetunedEmbedder, load_state
        from imgsearch_cnn.search.classify.model import network_file

        return FinetunedEmbedder(spec, load_state(network_file(index, model.name)), device)

    def plain():
        from imgsearch_cnn.indexer.embed import Embedder

        return Embedder(spec, device)

    return fine_tuned if model.finetuned else plain


def _predict(model: Classifier, paths: list[str], vectors: np.ndarray, source: str, out: dict) -> None:
    probabilities = model.head.probabilities(vectors)
    for path, row in zip(paths, probabilities):
        best = int(row.argmax())
        out[path] = (model.classes[best], float(row[best]), source)


def _check(name: str) -> str:
    path = os.path.realpath(name)
    if os.path.isdir(path):
        raise ClassifyError(f"{name} is a folder: give photo files, or --all for every photo of the index")
    if not os.path.isfile(path):
        raise ClassifyError(f"file not found: {name}")
    return path
