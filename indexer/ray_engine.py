"""Embedding on a Ray cluster (`imgsearch index --engine ray [--address ADDR]`).

Ray workers read, decode and embed photos, a chunk of one batch at a time, each worker keeping
one copy of the network (a Ray actor); the process that runs `imgsearch index` only receives
finished batches (the photo's facts and its vectors, not its pixels) and writes them, one
transaction a batch, exactly as the local engine does. So incremental updates, the crash
guarantees and the one-writer rule are the same: a killed run leaves every finished batch
committed and the next run completes the rest.

Without an address a local Ray instance is started (as many workers as cores); with one, the
cluster at that address is joined. Every worker must see the photos under the same paths
(a shared file system) and have imgsearch installed (README, "Indexing on a Ray cluster").
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Iterator

import numpy as np

from imgsearch_cnn.indexer import embed
from imgsearch_cnn.indexer.models import ModelSpec

IN_FLIGHT = 2  # chunks queued per worker, so none waits while the writer catches up


class RayMissing(RuntimeError):
    """Ray is not installed."""


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise RayMissing("--engine ray needs Ray: pip install 'imgsearch-cnn[ray]'") from exc
    return ray


class _Worker:
    """One network on one Ray worker (a Ray actor)."""

    def __init__(self, spec: ModelSpec, device: str):
        self.spec = spec
        self.embedder = embed.Embedder(spec, device)

    def describe(self) -> str:
        return f"{self.embedder.device} ({self.embedder.runtime})"

    def embed(self, paths: list[str]) -> tuple[list[embed.Loaded], list[int], np.ndarray]:
        """(every photo's facts without its pixels, which of them were embedded, their vectors)."""
        loaded = [embed.load(path, self.spec.preprocessing, self.embedder.decodes_jpeg) for path in paths]
        good, vectors = self.embedder.embed_loaded(loaded)
        embedded = {id(item) for item in good}
        rows = [n for n, item in enumerate(loaded) if id(item) in embedded]
        return [replace(item, pixels=None, jpeg=False) for item in loaded], rows, vectors


class RayEmbedding:
    """Embeds photos on a Ray cluster; yields batches like the local engine."""

    def __init__(self, spec: ModelSpec, device: str = "auto", address: str | None = None, workers: int | None = None):
        """``device``: cpu, cuda (one worker per GPU of the cluster) or auto (cuda if the
        cluster has GPUs); ``workers``: how many (default: one per CPU core, or per GPU)."""
        ray = _ray()
        if not ray.is_initialized():
            if address:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        available = ray.cluster_resources()
        if device == "auto":
            device = "cuda" if available.get("GPU", 0) >= 1 else "cpu"
        if device == "cuda" and available.get("GPU", 0) < 1:
            raise RuntimeError("--device cuda was asked for but the Ray cluster has no GPU")
        gpus = 1 if device == "cuda" else 0
        count = workers or max(1, int(available.get("GPU" if gpus else "CPU", 1)))
        actor = ray.remote(num_cpus=0 if gpus else 1, num_gpus=gpus)(_Worker)
        self.ray, self.device = ray, device
        self.workers = [actor.remote(spec, device) for _ in range(count)]
        self.describe = f"ray: {count} worker(s), " + ray.get(self.workers[0].describe.remote())

    def batches(self, paths: list[str], size: int) -> Iterator[tuple[list[embed.Loaded], list[embed.Loaded], np.ndarray]]:
        """(photos of a batch, those embedded, their vectors) for every batch of ``size`` paths,
        in the order they finish."""
        chunks = [paths[start:start + size] for start in range(0, len(paths), size)]
        pending: dict = {}
        next_chunk = 0
        while next_chunk < len(chunks) or pending:
            while next_chunk < len(chunks) and len(pending) < IN_FLIGHT * len(self.workers):
                worker = self.workers[next_chunk % len(self.workers)]
                pending[worker.embed.remote(chunks[next_chunk])] = next_chunk
                next_chunk += 1
            ready, _ = self.ray.wait(list(pending), num_returns=1)
            del pending[ready[0]]
            items, rows, vectors = self.ray.get(ready[0])
            yield items, [items[n] for n in rows], vectors
        for worker in self.workers:  # the cluster's resources go back once every batch is in
            self.ray.kill(worker)
