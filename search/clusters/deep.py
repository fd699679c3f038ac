"""``--method deep``: a clustering head trained on the stored vectors (SCAN-style).

A photo and its nearest neighbours should land in the same cluster: each head (a linear layer
and a softmax over k clusters, on the vectors' main PCA axes) is trained on mini-batches of
(photo, one of its NEIGHBOURS nearest) pairs to give both the same cluster with confidence,
while an entropy term on the batch's mean assignment keeps every cluster in use. HEADS heads
start from different partitions (``start``, given, then k-means on neighbour-averaged vectors);
the one with the lowest loss is kept. Then self-labelling: the head is trained on its own
confident answers (above SELF_LABEL_CONFIDENCE, classes weighted equally, the vectors slightly
noised), which sharpens the borders. Every photo gets its cluster and the head's probability of it.

:func:`from_auto` is what the command runs: auto's clusters refined by :func:`refine`, which keeps
the trained head's clusters only if they hold more of each photo's nearest neighbours
(modularity) than the ``start`` partition, else the start's, with the head's probability of
each. On the dev sets the head never beat its start from `--method auto` (docs/BENCHMARKS.md):
its clusters are auto's there.

On the GPU when torch sees one, else the CPU; deterministic for a given seed; memory grows with
the photos only through the PCA vectors and the neighbour lists. docs/BENCHMARKS.md has what it
reaches against k-means.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from imgsearch_cnn.indexer.vector_index import reduce, sample_rows
from imgsearch_cnn.search.clusters.steps import reported

DIMS = 128  # PCA axes the head reads (as k-means)
NEIGHBOURS = 10  # pairs are drawn among each photo's this many nearest
HEADS = 5
BATCH = 256
EPOCHS = 60
MAX_STEPS = 6_000  # large collections get fewer epochs: the head converges within this many batches
LEARNING_RATE = 1e-3
ENTROPY_WEIGHT = 2.0  # 5 (SCAN's choice) forces equal sizes, which splits big classes (Caltech-101)
INIT_SCALE = 10.0  # a head starts as k-means centres x this (softmax temperature 0.1)
SELF_LABEL_CONFIDENCE = 0.9
SELF_LABEL_EPOCHS = 20
SELF_LABEL_NOISE = 0.05


def cluster(vectors: np.ndarray, k: int, seed: int = 0, smooth_neighbours: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Labels (0..k-1) and each photo's probability of its label, from the best trained head,
    every head started from k-means (the experiment of docs/BENCHMARKS.md; the command runs
    :func:`refine`)."""
    import torch

    head, x = _best_head(vectors, k, seed, smooth_neighbours, None)
    with torch.no_grad():
        probabilities = torch.softmax(head(x), dim=1).cpu().numpy()
    return probabilities.argmax(axis=1), probabilities.max(axis=1)


@dataclass
class Refined:
    labels: np.ndarray
    confidence: np.ndarray  # the trained head's probability of each photo's label
    kept: str  # "head" or "start"
    scores: tuple[float, float]  # modularity of (the head's partition, the start's)


def refine(vectors: np.ndarray, start: np.ndarray, seed: int = 0, smooth_neighbours: int = 10,
           progress=None) -> Refined:
    """Trains heads from ``start`` (labels 0..k-1) and keeps whichever partition, the best head's
    or the start's, holds more of each photo's nearest neighbours (modularity, as auto scores).
    ``progress(stage, done, total)`` hears each training epoch (stage "train")."""
    import torch

    from imgsearch_cnn.search.clusters import choose_k
    from imgsearch_cnn.search.clusters.choose_method import SCORE_ROWS  # as many photos as auto scores on

    k = int(start.max()) + 1
    head, x = _best_head(vectors, k, seed, smooth_neighbours, start, progress)
    with torch.no_grad():
        probabilities = torch.softmax(head(x), dim=1).cpu().numpy()
    trained = probabilities.argmax(axis=1)
    rows = sample_rows(len(vectors), SCORE_ROWS, seed)
    graph = choose_k.knn_graph(x.cpu().numpy()[rows])
    scores = (choose_k.modularity(graph, trained[rows]), choose_k.modularity(graph, start[rows]))
    if scores[0] > scores[1]:
        return Refined(trained, probabilities.max(axis=1), "head", scores)
    # the best head may have started from k-means, its cluster ids unrelated to the start's: its
    # clusters are matched one to one to the start's by their overlap before reading probabilities
    from scipy.optimize import linear_sum_assignment

    overlap = np.zeros((k, k), dtype=np.int64)
    np.add.at(overlap, (start, trained), 1)
    _, column_of = linear_sum_assignment(-overlap)
    return Refined(start, probabilities[np.arange(len(start)), column_of[start]], "start", scores)


def from_auto(vectors: np.ndarray, options, progress=None):
    """``--method deep``: auto's clusters (search/clusters/choose_method.py) refined by trained
    heads (:func:`refine`), as a ClusterResult whose notes say which partition was kept."""
    from imgsearch_cnn.search.clusters import choose_method
    from imgsearch_cnn.search.clusters.methods import ClusterResult

    started = time.perf_counter()
    start = choose_method.best_method(vectors, replace(options, method="auto"), progress)
    refined = refine(vectors, np.unique(start.labels, return_inverse=True)[1].reshape(-1), options.seed,
                     progress=progress)
    chosen, other = refined.scores if refined.kept == "head" else refined.scores[::-1]
    notes = [f"trained heads started from {start.notes[0].removeprefix('method ')}",
             f"kept the {'trained head' if refined.kept == 'head' else 'start'}'s clusters: modularity "
             f"{chosen:.3f} against {other:.3f}; confidence is the head's probability"]
    return ClusterResult(refined.labels, "deep", options.metric, int(options.k), time.perf_counter() - started,
                         notes, refined.confidence)


def _best_head(vectors: np.ndarray, k: int, seed: int, smooth_neighbours: int, start: np.ndarray | None,
               progress=None):
    """The trained, self-labelled head with the lowest consistency loss, and the PCA vectors it reads."""
    import torch

    from imgsearch_cnn.search.clusters.methods import kmeans, nearest, smooth

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = reduce(vectors, DIMS, seed) if vectors.shape[1] > DIMS else np.ascontiguousarray(vectors, np.float32)
    k = int(min(k, len(data)))
    neighbours = min(NEIGHBOURS, len(data) - 1)
    _, rows = nearest(data, data, "cosine", {}, neighbours + 1)
    pairs = rows[:, 1:]
    initial = smooth(data, smooth_neighbours) if 1 <= smooth_neighbours < len(data) else data
    starts = ([start] if start is not None else []) + [kmeans(initial, k, seed * HEADS + h, restarts=1, dims=DIMS)
                                                       for h in range(HEADS - (start is not None))]
    heads = torch.nn.ModuleList(_head(initial, labels, k, rng) for labels in starts)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    heads.to(device)
    x = torch.from_numpy(data).to(device)
    losses = _train_consistency(heads, x, pairs, rng, progress)
    best = heads[int(np.argmin(losses))]
    _self_label(best, x, rng)
    return best, x


def _head(data: np.ndarray, labels: np.ndarray, k: int, rng: np.random.Generator):
    """A linear head whose weights are the k-means centres (empty ones: a random photo)."""
    import torch

    centres = np.stack([data[labels == c].mean(axis=0) if np.any(labels == c) else data[rng.integers(len(data))]
                        for c in range(k)])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    head = torch.nn.Linear(data.shape[1], k)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(INIT_SCALE * centres.astype(np.float32)))
        head.bias.zero_()
    return head


def _epochs(n: int) -> int:
    batches = max(1, -(-n // BATCH))
    return max(1, min(EPOCHS, MAX_STEPS // batches))


def _train_consistency(heads, x, pairs: np.ndarray, rng: np.random.Generator, progress=None) -> np.ndarray:
    """Trains every head on neighbour consistency minus ENTROPY_WEIGHT x the entropy of the
    mean assignment; returns each head's mean loss over the last epoch."""
    import torch

    optimiser = torch.optim.Adam(heads.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    n = len(x)
    totals = np.zeros(len(heads))
    for _ in reported(range(_epochs(n)), "train", progress):
        totals[:] = 0
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            anchors = order[start:start + BATCH]
            partners = pairs[anchors, rng.integers(0, pairs.shape[1], len(anchors))]
            losses = torch.stack([scan_loss(head, x[anchors], x[partners]) for head in heads])
            optimiser.zero_grad()
            losses.sum().backward()
            optimiser.step()
            totals += losses.detach().cpu().numpy() * len(anchors)
    return totals / n


def scan_loss(head, anchors, partners, entropy_weight: float = ENTROPY_WEIGHT):
    """Neighbour consistency of ``head``'s assignments of ``anchors`` and their ``partners``,
    minus ``entropy_weight`` x the entropy of the batch's mean assignment."""
    import torch

    p = torch.softmax(head(anchors), dim=1)
    q = torch.softmax(head(partners), dim=1)
    consistency = -torch.log((p * q).sum(dim=1).clamp_min(1e-8)).mean()
    mean = p.mean(dim=0)
    negative_entropy = (mean * torch.log(mean.clamp_min(1e-8))).sum()
    return consistency + entropy_weight * negative_entropy


def _self_label(head, x, rng: np.random.Generator) -> None:
    """Trains ``head`` on its own confident answers, every cluster weighted alike."""
    import torch

    optimiser = torch.optim.Adam(head.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    k = head.out_features
    for _ in range(min(SELF_LABEL_EPOCHS, _epochs(len(x)))):
        with torch.no_grad():
            confidence, labels = torch.softmax(head(x), dim=1).max(dim=1)
        sure = np.flatnonzero(confidence.cpu().numpy() > SELF_LABEL_CONFIDENCE)
        if len(sure) == 0:
            return
        counts = np.bincount(labels.cpu().numpy()[sure], minlength=k).astype(np.float32)
        weights = torch.from_numpy(np.where(counts > 0, len(sure) / np.maximum(counts, 1) / (counts > 0).sum(), 0)
                                   .astype(np.float32)).to(x.device)
        order = rng.permutation(sure)
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            noisy = x[rows] + SELF_LABEL_NOISE * torch.randn(len(rows), x.shape[1], device=x.device)
            loss = torch.nn.functional.cross_entropy(head(noisy), labels[rows], weight=weights)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
