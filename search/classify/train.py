"""The `imgsearch train` job: photos sorted into one sub-folder per class (or the confident
members of the last `imgsearch clusters` run) -> a classifier saved in the index. The caller
indexes the folder first (so every labelled photo has its stored vector); the index's other
photos are the unlabelled ones the semi-supervised head learns from.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.classify import model as models
from imgsearch_cnn.search.classify.finetune import FinetuneOptions
from imgsearch_cnn.search.classify.heads import HeadOptions, fit, scaled, temperature


# The share of each cluster, nearest its centre, that trains a classifier from clusters (the
# rest are unlabelled); measured in docs/BENCHMARKS.md ("from clusters").
CONFIDENT_SHARE = 0.5


class TrainError(ValueError):
    """The labelled folder cannot train a classifier (too few classes or photos)."""


@dataclass
class TrainOptions:
    name: str = "default"
    head: HeadOptions = field(default_factory=HeadOptions)
    validation_share: float = 0.2  # of each class's labelled photos, held out to measure accuracy
    min_validation: int = 5  # a class needs this many photos before any are held out
    finetune: FinetuneOptions | None = None  # also train the network's last stage(s) (needs the model)


@dataclass
class TrainOutcome:
    classifier: models.Classifier
    saved: Path
    per_class: dict[str, int]  # labelled photos per class
    unlabelled: int  # other photos of the index that took part
    seconds: float


def check_folder(folder: str) -> list[str]:
    """The class sub-folders of ``folder`` that hold photos; TrainError unless there are two or
    more (checked before anything is indexed)."""
    from imgsearch_cnn.indexer.scan import IMAGE_EXTENSIONS

    classes = sorted(entry.name for entry in os.scandir(folder) if entry.is_dir() and any(
        p.suffix.lower() in IMAGE_EXTENSIONS for p in Path(entry.path).rglob("*") if p.is_file()))
    if len(classes) < 2:
        raise TrainError(f"{folder} needs at least two sub-folders of photos, one per class "
                         f"(found {len(classes)}: {', '.join(classes) or 'none'})")
    return classes


def labelled_photos(store: Store, folder: str) -> dict[str, str]:
    """path -> class of the indexed photos under ``folder``: the class is the name of the first
    sub-folder (photos lying directly in ``folder`` have none and are left out)."""
    root = os.path.realpath(folder)
    found = {}
    for record in store.records():
        if record.path.startswith(root + os.sep):
            parts = os.path.relpath(record.path, root).split(os.sep)
            if len(parts) > 1:
                found[record.path] = parts[0]
    return found


def train(store: Store, folder: str, options: TrainOptions | None = None) -> TrainOutcome:
    """Train and save a classifier on the labelled photos under ``folder`` (see module doc)."""
    return train_on(store, labelled_photos(store, folder), options, source=folder)


def from_clusters(store: Store, names: dict[int, str] | None = None, share: float = CONFIDENT_SHARE) -> dict[str, str]:
    """path -> class pseudo-labels from the clusters saved by the last `imgsearch clusters` run:
    in each cluster the ``share`` of its members nearest its centre compared with the next
    cluster's centre (the confident ones); a cluster is called by its name in ``names``, else
    "cluster N". DBSCAN's noise is left out."""
    saved = store.get_extra("clusters")
    if not saved or not saved.get("labels"):
        raise TrainError("no clusters saved in this index: run `imgsearch clusters` first")
    paths, vectors = store.all_vectors()
    assigned = np.array([saved["labels"].get(p, -1) for p in paths])
    clusters = sorted(int(c) for c in set(assigned.tolist()) if c >= 0)
    unknown = sorted(set(names or {}) - set(clusters))
    if unknown:
        raise TrainError(f"--names names cluster(s) {', '.join(map(str, unknown))}, which the last clusters run "
                         f"does not have (it has {clusters[0]}..{clusters[-1]})")
    if len(clusters) < 2:
        raise TrainError("the saved clusters run has fewer than two clusters")
    labels: dict[str, str] = {}
    for row, cluster in confident_members(vectors, assigned, share).items():
        labels[paths[row]] = (names or {}).get(cluster, f"cluster {cluster}")
    return labels


def confident_members(vectors: np.ndarray, assigned: np.ndarray, share: float = CONFIDENT_SHARE) -> dict[int, int]:
    """row -> cluster for the ``share`` of each cluster's members (at least one) whose cosine to
    their own cluster's centre most exceeds their cosine to the next nearest centre (-1: no cluster)."""
    clusters = sorted(int(c) for c in set(assigned.tolist()) if c >= 0)
    centres = np.stack([vectors[assigned == c].mean(axis=0) for c in clusters])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    similarity = vectors @ centres.T
    chosen: dict[int, int] = {}
    for column, cluster in enumerate(clusters):
        members = np.flatnonzero(assigned == cluster)
        others = np.delete(similarity[members], column, axis=1)
        margin = similarity[members, column] - others.max(axis=1)
        for row in members[np.argsort(-margin, kind="stable")[: max(1, int(round(len(members) * share)))]]:
            chosen[int(row)] = cluster
    return chosen


def train_on(store: Store, labels: dict[str, str], options: TrainOptions | None = None,
             source: str = "the labels given", spec=None, progress=None) -> TrainOutcome:
    """Train and save a classifier on ``labels`` (path -> class) of indexed photos; the index's
    other photos are the unlabelled ones. ``spec`` (the index's model) is needed to fine-tune."""
    options = options or TrainOptions()
    models.check_name(options.name)
    started = time.perf_counter()
    vectors: dict[str, np.ndarray] = {}
    hashes: dict[str, str] = {}
    paths, every = store.all_vectors()
    records = {r.path: r for r in store.records()}
    for path, vector in zip(paths, every):
        hashes[path] = records[path].hash
        if path in labels:
            vectors[path] = vector
    labels = {path: label for path, label in labels.items() if path in vectors}  # photos that could not be read have no vector
    per_class = {name: sum(1 for label in labels.values() if label == name) for name in sorted(set(labels.values()))}
    if len(per_class) < 2:
        raise TrainError(f"{source} needs at least two classes of indexed photos "
                         f"(found {len(per_class)}: {', '.join(per_class) or 'none'})")
    others = [i for i, path in enumerate(paths) if path not in labels]
    rng = np.random.default_rng(options.head.seed)
    if len(others) > options.head.max_unlabelled:
        others = sorted(rng.choice(others, options.head.max_unlabelled, replace=False).tolist())
    held = _hold_out(labels, options, rng)
    if options.finetune is not None:
        return _train_finetuned(store, labels, held, per_class, options, spec, progress, started)
    # The unlabelled photos help with few labels and can hurt with many (docs/BENCHMARKS.md):
    # the head is trained with and without them, scored on the held-out photos, the better kept.
    choices = [options.head.semi_supervised] if not others else sorted({False, options.head.semi_supervised})
    trials = {semi: _validate(vectors, labels, held, every[others], replace(options.head, semi_supervised=semi))
              for semi in choices} if held else {choices[-1]: (None, 1.0)}
    semi = max(trials, key=lambda key: (trials[key][0] or 0.0, key))
    accuracy, calibration = trials[semi]
    ordered = sorted(labels)
    fitted = fit(np.stack([vectors[p] for p in ordered]), [labels[p] for p in ordered],
                 every[others] if others else None, replace(options.head, semi_supervised=semi))
    fitted.head = scaled(fitted.head, calibration)
    assigned = {}
    if fitted.unlabelled is not None:
        for row, probabilities in zip(others, fitted.unlabelled):
            best = int(probabilities.argmax())
            assigned[hashes[paths[row]]] = [best, round(float(probabilities[best]), 4)]
    classifier = models.Classifier(options.name, fitted.head, {p: labels[p] for p in ordered}, accuracy, len(held),
                                   fitted.unlabelled is not None, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                   assigned)
    saved = models.save(store.path, classifier)
    return TrainOutcome(classifier, saved, per_class, len(others), time.perf_counter() - started)


def _train_finetuned(store, labels, held, per_class, options, spec, progress, started) -> TrainOutcome:
    """Fine-tune the network on the labelled photos but the held-out ones, then fit the head on
    the new network's vectors (labelled photos only: the index's vectors come from the old one)."""
    from imgsearch_cnn.search.classify import finetune

    if spec is None:
        raise TrainError("fine-tuning needs the index's model")
    learn = [p for p in sorted(labels) if p not in held]
    tuned = finetune.finetune(spec, learn, [labels[p] for p in learn], options.finetune, progress)
    embedder = finetune.FinetunedEmbedder(spec, tuned.state, tuned.device)
    ordered = sorted(labels)
    vectors = dict(zip(ordered, finetune.embed_paths(embedder, spec, ordered)))
    head = replace(options.head, semi_supervised=False)
    accuracy = None
    if held:
        kept = sorted(held)
        trial = fit(np.stack([vectors[p] for p in learn]), [labels[p] for p in learn], None, head)
        predicted = np.array(trial.head.classes)[trial.head.probabilities(np.stack([vectors[p] for p in kept])).argmax(axis=1)]
        accuracy = float((predicted == np.array([labels[p] for p in kept])).mean())
    fitted = fit(np.stack([vectors[p] for p in ordered]), [labels[p] for p in ordered], None, head)
    classifier = models.Classifier(options.name, fitted.head, {p: labels[p] for p in ordered}, accuracy, len(held),
                                   False, datetime.now(timezone.utc).isoformat(timespec="seconds"), {}, True,
                                   [round(s, 1) for s in tuned.epoch_seconds])
    finetune.save_state(models.network_file(store.path, options.name), tuned.state)
    saved = models.save(store.path, classifier)
    return TrainOutcome(classifier, saved, per_class, 0, time.perf_counter() - started)


def _hold_out(labels: dict[str, str], options: TrainOptions, rng: np.random.Generator) -> set[str]:
    """A stratified share of each class's photos (none from small classes)."""
    held: set[str] = set()
    for name in sorted(set(labels.values())):
        members = sorted(p for p, label in labels.items() if label == name)
        if len(members) >= options.min_validation:
            count = max(1, int(len(members) * options.validation_share))
            held.update(rng.choice(members, count, replace=False).tolist())
    return held


def _validate(vectors, labels, held: set[str], others: np.ndarray, options: HeadOptions) -> tuple[float, float]:
    """Accuracy on the held-out photos of a head trained on the rest, and the temperature that
    calibrates that head's probabilities on them; they take part as unlabelled photos (as they
    would in the index), after the index's ``others``."""
    learn = [p for p in sorted(labels) if p not in held]
    kept = sorted(held)
    held_vectors = np.stack([vectors[p] for p in kept])
    truth = [labels[p] for p in kept]
    trial = fit(np.stack([vectors[p] for p in learn]), [labels[p] for p in learn],
                np.vstack([others, held_vectors]), options)
    if trial.unlabelled is not None:
        probabilities = trial.unlabelled[len(others):]
    else:
        probabilities = trial.head.probabilities(held_vectors)
    predicted = np.array(trial.head.classes)[probabilities.argmax(axis=1)]
    return float((predicted == np.array(truth)).mean()), temperature(trial.head, held_vectors, truth)
