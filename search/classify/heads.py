"""Classifier heads trained on the index's stored CNN vectors, and the semi-supervised step that
lets the index's unlabelled photos help.

Every head is linear on top of one fixed transform of the vectors (a signed square root, as in
transductive few-shot learning: it evens out the skewed activations of pooled CNN features; then,
for the semi-supervised head, PCA whitening): ``probabilities(x) = softmax(transform(x) @
weights + bias)``, so a trained head is a few arrays (search/classify/model.py) and classifies a
million stored vectors in seconds.

- ``logistic``: multinomial logistic regression on the L2-normalised vectors.
- ``prototype``: cosine to each class's mean vector (nearest class mean), softmax-scaled.

With unlabelled photos (``semi_supervised``), the vectors are first centred and PCA-whitened on
all photos (labelled and not), then the class means are refined over the unlabelled photos by
soft k-means (each photo pulls the means in proportion to its class probabilities, the labelled
ones fixed), and the probabilities are smoothed over each photo's nearest neighbours (a photo
and its neighbours mostly share a class). The head is then trained on the labelled photos plus
the most confident of the others, and the smoothed labels of the unlabelled photos are kept with
it (what ``classify`` answers for them). Which wins, by how much: docs/BENCHMARKS.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from imgsearch_cnn.indexer.vector_index import l2_normalise
from imgsearch_cnn.search.clusters.methods import nearest

HEADS = ("logistic", "prototype")


@dataclass
class HeadOptions:
    head: str = "logistic"
    regularisation: float = 10.0  # logistic regression's C (inverse strength), chosen on the dev data
    semi_supervised: bool = True  # use the index's unlabelled photos (when there are any)
    power: float = 0.5  # each vector value v -> sign(v) |v|^power before anything else
    whiten_dims: int = 256  # PCA components kept for the semi-supervised transform
    temperature: float = 0.05  # softness of the soft k-means assignments (cosine / temperature)
    rounds: int = 30  # soft k-means rounds
    neighbours: int = 10  # neighbours each photo's probabilities are smoothed over
    smoothing_steps: int = 5
    pseudo_share: float = 0.5  # share of the unlabelled photos, most confident first, the head learns from
    max_unlabelled: int = 50_000  # a random sample of this many unlabelled photos takes part (memory, time)
    prototype_scale: float = 20.0  # cosine -> logit for the prototype head
    seed: int = 0


@dataclass
class Head:
    kind: str
    classes: list[str]
    power: float
    mean: np.ndarray  # (d,) subtracted first (zeros: none)
    projection: np.ndarray | None  # (d, k) whitening PCA, or None (the normalised vectors as they are)
    weights: np.ndarray  # (k, classes)
    bias: np.ndarray  # (classes,)

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        x = _powered(vectors, self.power) - self.mean
        if self.projection is not None:
            x = x @ self.projection
        return l2_normalise(x)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, classes) class probabilities of stored CNN vectors."""
        if len(vectors) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        return _softmax(self.transform(vectors) @ self.weights + self.bias)


@dataclass
class Fitted:
    head: Head
    # Class probabilities the semi-supervised step gave each unlabelled photo (row order of the
    # ``unlabelled`` argument); None without it.
    unlabelled: np.ndarray | None


def fit(vectors: np.ndarray, labels: list[str], unlabelled: np.ndarray | None = None,
        options: HeadOptions | None = None) -> Fitted:
    """Train a head on labelled vectors (n, d) with their class names; ``unlabelled`` (m, d)
    vectors of the same index help when ``options.semi_supervised``."""
    options = options or HeadOptions()
    if options.head not in HEADS:
        raise ValueError(f"unknown head {options.head!r}: choose from {', '.join(HEADS)}")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("training needs at least two classes")
    y = np.array([classes.index(label) for label in labels])
    vectors = _powered(vectors, options.power)
    use_unlabelled = options.semi_supervised and unlabelled is not None and len(unlabelled) > 0
    if not use_unlabelled:
        mean, projection = np.zeros(vectors.shape[1], np.float32), None
        head = _linear(options, classes, mean, projection, vectors, y)
        return Fitted(head, None)
    unlabelled = _powered(unlabelled, options.power)
    mean, projection = _whitening(np.vstack([vectors, unlabelled]), options)
    x, u = l2_normalise((vectors - mean) @ projection), l2_normalise((unlabelled - mean) @ projection)
    soft = _propagate(x, y, u, len(classes), options)
    confident = np.argsort(-soft.max(axis=1), kind="stable")[: int(len(u) * options.pseudo_share)]
    head = _linear(options, classes, mean, projection, np.vstack([x, u[confident]]),
                   np.concatenate([y, soft[confident].argmax(axis=1)]))
    return Fitted(head, soft)


def _linear(options: HeadOptions, classes, mean, projection, x: np.ndarray, y: np.ndarray) -> Head:
    if options.head == "prototype":
        centres = l2_normalise(np.stack([x[y == c].mean(axis=0) for c in range(len(classes))]))
        return Head("prototype", classes, options.power, mean, projection, (centres.T * options.prototype_scale).astype(np.float32),
                    np.zeros(len(classes), np.float32))
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=options.regularisation, max_iter=3000).fit(x, y)
    weights, bias = model.coef_.T, model.intercept_
    if len(classes) == 2:  # scikit-learn keeps one column for two classes: make it a softmax pair
        weights, bias = np.hstack([-weights / 2, weights / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    return Head("logistic", classes, options.power, mean, projection, weights.astype(np.float32), bias.astype(np.float32))


# Softmax temperatures calibration may choose: wide enough for any head seen on the dev data
# (Caltech-101's logistic head wants 0.45), bounded so a few held-out photos cannot run it away.
TEMPERATURE_BOUNDS = (0.1, 10.0)


def temperature(head: Head, vectors: np.ndarray, labels: list[str]) -> float:
    """The softmax temperature under which ``head`` gives held-out labelled photos their classes
    with the highest likelihood (temperature scaling). Below 1 the head was under-confident:
    with 100 classes logistic regression spreads its probability, and a correct answer at 0.4
    would be reported "unsure" (docs/BENCHMARKS.md). The predicted class does not change."""
    from scipy.optimize import minimize_scalar

    known = [i for i, label in enumerate(labels) if label in head.classes]
    if not known:
        return 1.0
    logits = (head.transform(vectors[known]) @ head.weights + head.bias).astype(np.float64)
    truth = np.array([head.classes.index(labels[i]) for i in known])

    def loss(t: float) -> float:
        z = logits / t
        top = z.max(axis=1)
        return float(np.mean(top + np.log(np.exp(z - top[:, None]).sum(axis=1)) - z[np.arange(len(z)), truth]))

    return float(minimize_scalar(loss, bounds=TEMPERATURE_BOUNDS, method="bounded").x)


def scaled(head: Head, by: float) -> Head:
    """The same head with its logits divided by ``by`` (a temperature from :func:`temperature`)."""
    return replace(head, weights=(head.weights / by).astype(np.float32), bias=(head.bias / by).astype(np.float32))


def _whitening(vectors: np.ndarray, options: HeadOptions) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (d, k) PCA whitening matrix of the vectors (k <= whiten_dims)."""
    from sklearn.decomposition import PCA

    dims = max(1, min(options.whiten_dims, vectors.shape[1], len(vectors) - 1))
    pca = PCA(dims, whiten=True, random_state=options.seed).fit(vectors)
    projection = pca.components_.T / np.sqrt(np.maximum(pca.explained_variance_, 1e-12))
    return pca.mean_.astype(np.float32), projection.astype(np.float32)


def _propagate(x: np.ndarray, y: np.ndarray, u: np.ndarray, count: int, options: HeadOptions) -> np.ndarray:
    """Class probabilities of the unlabelled rows u: soft k-means seeded by the labelled class
    means, then smoothed over each photo's nearest neighbours."""
    every = np.vstack([x, u])
    fixed = np.eye(count, dtype=np.float32)[y]
    labelled = len(x)
    centres = np.stack([x[y == c].mean(axis=0) for c in range(count)])
    soft = fixed
    for _ in range(options.rounds):
        soft = _softmax(every @ l2_normalise(centres).T / options.temperature)
        soft[:labelled] = fixed
        centres = (soft.T @ every) / np.maximum(soft.sum(axis=0), 1e-12)[:, None]
    count = min(options.neighbours, len(every) - 1)
    neighbours = nearest(every, every, "cosine", {}, count + 1)[1][:, 1:] if count >= 1 else None
    smoothed = soft
    for _ in range(options.smoothing_steps if neighbours is not None else 0):
        smoothed = 0.5 * soft + 0.5 * smoothed[neighbours].mean(axis=1)
        smoothed[:labelled] = fixed
    return smoothed[labelled:]


def _powered(vectors: np.ndarray, power: float) -> np.ndarray:
    """Unit vectors of sign(v) |v|^power."""
    x = np.asarray(vectors, dtype=np.float32)
    return l2_normalise(np.sign(x) * np.abs(x) ** power)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
