"""Trained classifiers, kept in the index folder: ``classifiers/NAME.npz`` holds the head's arrays
and, as JSON, what the user is shown (classes, training photos, validation accuracy) and the
labels the semi-supervised step gave the index's unlabelled photos (by content hash, so renamed
photos keep theirs). Written to a temporary file and renamed: a crash leaves the old one whole.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imgsearch_cnn.indexer import layout
from imgsearch_cnn.search.classify.heads import Head

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ModelError(ValueError):
    """A classifier name that is not valid, or that the index does not hold."""


@dataclass
class Classifier:
    name: str
    head: Head
    training: dict[str, str]  # path -> class of every labelled photo it learned from
    validation_accuracy: float | None  # on the held-out part of the labelled photos
    validation_photos: int
    semi_supervised: bool
    created: str  # ISO time
    assigned: dict[str, list[float]] = field(default_factory=dict)  # content hash -> [class, probability]
    finetuned: bool = False  # its network's last stage(s) were trained too (NAME.pt beside it)
    epoch_seconds: list[float] = field(default_factory=list)  # of the fine-tuning

    @property
    def classes(self) -> list[str]:
        return self.head.classes


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ModelError(f"invalid classifier name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    return name


def folder(index: Path) -> Path:
    return Path(index) / layout.CLASSIFIERS


def save(index: Path, model: Classifier) -> Path:
    """Write the classifier into the index folder (replacing one of the same name)."""
    target = folder(index) / f"{check_name(model.name)}.npz"
    target.parent.mkdir(exist_ok=True)
    about = {"name": model.name, "kind": model.head.kind, "classes": model.head.classes, "power": model.head.power,
             "training": model.training, "validation_accuracy": model.validation_accuracy,
             "validation_photos": model.validation_photos, "semi_supervised": model.semi_supervised,
             "created": model.created, "assigned": model.assigned, "finetuned": model.finetuned,
             "epoch_seconds": model.epoch_seconds}
    arrays = {"mean": model.head.mean, "weights": model.head.weights, "bias": model.head.bias}
    if model.head.projection is not None:
        arrays["projection"] = model.head.projection
    temporary = target.with_name(target.name + ".tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, about=np.array(json.dumps(about)), **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return target


def load(index: Path, name: str) -> Classifier:
    path = folder(index) / f"{check_name(name)}.npz"
    if not path.is_file():
        known = names(index)
        hint = f"; the index has: {', '.join(known)}" if known else "; train one with `imgsearch train FOLDER`"
        raise ModelError(f"no classifier named {name!r} in {index}{hint}")
    with np.load(path, allow_pickle=False) as data:
        about = json.loads(str(data["about"]))
        projection = data["projection"] if "projection" in data.files else None
        head = Head(about["kind"], about["classes"], about["power"], data["mean"], projection, data["weights"],
                    data["bias"])
    return Classifier(about["name"], head, about["training"], about["validation_accuracy"],
                      about["validation_photos"], about["semi_supervised"], about["created"], about["assigned"],
                      about.get("finetuned", False), about.get("epoch_seconds", []))


def network_file(index: Path, name: str) -> Path:
    """Where a fine-tuned classifier keeps its network's trained tensors."""
    return folder(index) / f"{check_name(name)}.pt"


def names(index: Path) -> list[str]:
    """The names of the index's classifiers, sorted."""
    place = folder(index)
    return sorted(p.stem for p in place.glob("*.npz")) if place.is_dir() else []


def delete(index: Path, name: str) -> None:
    path = folder(index) / f"{check_name(name)}.npz"
    if not path.is_file():
        raise ModelError(f"no classifier named {name!r} in {index}")
    path.unlink()
    network_file(index, name).unlink(missing_ok=True)
