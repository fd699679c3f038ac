"""``--method deep``: a clustering head trained on the stored vectors (SCAN-style).

A photo and its nearest neighbours should land in the same cluster: each head (a linear layer
and a softmax over k clusters, on the vectors' main PCA axes) is trained on mini-batches of
(photo, one of its NEIGHBOURS nearest) pairs to give both the same cluster with confidence,
while an entropy term on the batch's mean assignment keeps every cluster in use. HEADS heads
start from different k-means solutions (on neighbour-averaged vectors); the one with the lowest
loss is kept. Then self-labelling: the head is trained on its own confident answers (above
SELF_LABEL_CONFIDENCE, classes weighted equally, the vectors slightly noised), which sharpens
the borders. Every photo gets its cluster and the head's probability of it.

On the GPU when torch sees one, else the CPU; deterministic for a given seed; memory grows with
the photos only through the PCA vectors and the neighbour lists. docs/BENCHMARKS.md has what it
reaches against k-means.
"""

from __future__ import annotations

import numpy as np

from imgsearch_cnn.indexer.vector_index import reduce

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
    """Labels (0..k-1) and each photo's probability of its label."""
    import torch

    from imgsearch_cnn.search.clusters.methods import kmeans, nearest, smooth

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = reduce(vectors, DIMS, seed) if vectors.shape[1] > DIMS else np.ascontiguousarray(vectors, np.float32)
    k = int(min(k, len(data)))
    neighbours = min(NEIGHBOURS, len(data) - 1)
    _, rows = nearest(data, data, "cosine", {}, neighbours + 1)
    pairs = rows[:, 1:]
    start = smooth(data, smooth_neighbours) if 1 <= smooth_neighbours < len(data) else data
    heads = torch.nn.ModuleList(_head(start, kmeans(start, k, seed * HEADS + h, restarts=1, dims=DIMS), k, rng)
                                for h in range(HEADS))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    heads.to(device)
    x = torch.from_numpy(data).to(device)
    losses = _train_consistency(heads, x, pairs, rng)
    best = heads[int(np.argmin(losses))]
    _self_label(best, x, rng)
    with torch.no_grad():
        probabilities = torch.softmax(best(x), dim=1).cpu().numpy()
    return probabilities.argmax(axis=1), probabilities.max(axis=1)


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


def _train_consistency(heads, x, pairs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Trains every head on neighbour consistency minus ENTROPY_WEIGHT x the entropy of the
    mean assignment; returns each head's mean loss over the last epoch."""
    import torch

    optimiser = torch.optim.Adam(heads.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    n = len(x)
    totals = np.zeros(len(heads))
    for _ in range(_epochs(n)):
        totals[:] = 0
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            anchors = order[start:start + BATCH]
            partners = pairs[anchors, rng.integers(0, pairs.shape[1], len(anchors))]
            losses = torch.stack([_scan_loss(head, x[anchors], x[partners]) for head in heads])
            optimiser.zero_grad()
            losses.sum().backward()
            optimiser.step()
            totals += losses.detach().cpu().numpy() * len(anchors)
    return totals / n


def _scan_loss(head, anchors, partners):
    import torch

    p = torch.softmax(head(anchors), dim=1)
    q = torch.softmax(head(partners), dim=1)
    consistency = -torch.log((p * q).sum(dim=1).clamp_min(1e-8)).mean()
    mean = p.mean(dim=0)
    negative_entropy = (mean * torch.log(mean.clamp_min(1e-8))).sum()
    return consistency + ENTROPY_WEIGHT * negative_entropy


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
