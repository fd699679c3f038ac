"""Photos -> L2-normalised vectors: parallel decoding in worker processes, batched inference.

On the CPU the network runs through onnxruntime when it is installed (about 4x faster than eager
PyTorch on the same cores, identical to 1e-5); on CUDA it runs in PyTorch with fp16 and
channels_last, and JPEGs are decoded and prepared on the GPU in batches (indexer/gpu_prepare.py).
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from imgsearch_cnn.indexer import models
from imgsearch_cnn.indexer.color import hsv_histogram
from imgsearch_cnn.indexer.phash import phashes
from imgsearch_cnn.indexer.decode import DecodeError, open_image, prepare, read_header
from imgsearch_cnn.indexer.models import ModelSpec, Preprocessing
from imgsearch_cnn.indexer.vector_index import l2_normalise

# Defaults per device; both are command-line options (--batch-size, --workers).
DEFAULT_BATCH_SIZE = {"cpu": 32, "cuda": 256}


def default_workers(device_decode: bool = False) -> int:
    """Decoding processes besides the main one. On 2 cores the network's threads already use
    both, and a decoding process gained nothing measurable (caltech101-dev: 102.9 s with one,
    104.0 s without), so none there; on larger machines about half the cores beyond two.
    When the device decodes (``device_decode``), the processes only read files and parse
    headers, and the main process does little else than feed the GPU: all cores but two (on an
    H100 with 16 cores, 14 processes indexed 2,113 photos/s where 7 gave 1,345; threads were
    slower, held by the GIL in Pillow's header parsing: docs/BENCHMARKS.md, "Indexing on a GPU")."""
    if device_decode:
        return max(0, (os.cpu_count() or 2) - 2)
    return max(0, min(16, ((os.cpu_count() or 2) - 2) // 2))


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise RuntimeError("--device cuda was asked for but no CUDA GPU is available")
    return "cpu"


@dataclass
class Loaded:
    """One decoded photo ready for the network, or the reason it could not be read."""

    path: str
    pixels: np.ndarray | None  # (size, size, 3) uint8
    width: int = 0
    height: int = 0
    format: str = ""
    taken: str | None = None
    meta: dict | None = None  # indexer/metadata.py
    error: str | None = None
    jpeg: bool = False  # a JPEG left for the device to decode: the embedding process reads its bytes
    color: np.ndarray | None = None  # HSV colour histogram of the prepared pixels
    phash: np.ndarray | None = None  # perceptual hashes in the eight orientations


def load(path: str, prep: Preprocessing, gpu_jpeg: bool = False) -> Loaded:
    """Decode and resize one photo (runs in worker processes). With ``gpu_jpeg``, only a JPEG's
    header is parsed; the process that embeds it reads its bytes for the GPU to decode (sending
    them from here through a pipe cost the main process more than reading them itself)."""
    try:
        if gpu_jpeg:
            with open(path, "rb") as handle:
                if handle.read(3) == b"\xff\xd8\xff":
                    handle.seek(0)
                    header = read_header(handle)
                    return Loaded(path, None, header.width, header.height, header.format, header.taken,
                                  header.meta, jpeg=True)
        decoded = open_image(path, draft_size=prep.size)
        pixels = prepare(decoded.image, prep)
    except DecodeError as exc:
        return Loaded(path, None, error=str(exc))
    except Exception as exc:  # a worker must never die on one bad photo
        return Loaded(path, None, error=f"cannot decode: {type(exc).__name__}: {exc}")
    return Loaded(path, pixels, decoded.width, decoded.height, decoded.format, decoded.taken, decoded.meta,
                  color=hsv_histogram(pixels), phash=phashes(decoded.image))


class _Loader:
    """Picklable callable for Pool.imap."""

    def __init__(self, prep: Preprocessing, gpu_jpeg: bool):
        self.prep, self.gpu_jpeg = prep, gpu_jpeg

    def __call__(self, path: str) -> Loaded:
        return load(path, self.prep, self.gpu_jpeg)


def load_all(paths: list[str], prep: Preprocessing, workers: int, gpu_jpeg: bool = False) -> Iterator[Loaded]:
    """Decode photos in ``workers`` processes, yielding results in input order."""
    loader = _Loader(prep, gpu_jpeg)
    if workers <= 0 or len(paths) < 8:
        yield from map(loader, paths)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process that has ORT/torch threads
    with context.Pool(workers) as pool:
        yield from pool.imap(loader, paths, chunksize=4)


class Embedder:
    """Runs one model on batches of prepared pixels."""

    def __init__(self, spec: ModelSpec, device: str = "auto", cache_dir: Path | None = None,
                 device_decode: bool | None = None):
        """``device_decode``: JPEGs decoded and prepared by the device in batches
        (indexer/gpu_prepare.py); default on CUDA only. On the CPU it runs the network in PyTorch,
        which lets the tests follow the CUDA code path."""
        self.spec = spec
        self.device = resolve_device(device)
        self.device_decode = self.device == "cuda" if device_decode is None else device_decode
        self.runtime = "torch"
        prep = spec.preprocessing
        self._mean = np.asarray(prep.mean, np.float32).reshape(1, 3, 1, 1) * 255.0
        self._std = np.asarray(prep.std, np.float32).reshape(1, 3, 1, 1) * 255.0
        self._inverse_std = (1.0 / self._std).astype(np.float32)
        if self.device == "cpu" and not self.device_decode and _has_onnxruntime():
            import onnxruntime as ort

            path = models.export_onnx(spec, cache_dir or _default_cache())
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self.runtime = "onnxruntime"
        else:
            import torch

            model = models.build(spec).to(self.device)
            if self.device == "cuda":
                model = model.half().to(memory_format=torch.channels_last)
            self._model = model

    @property
    def decodes_jpeg(self) -> bool:
        """Whether JPEGs should reach :meth:`embed_loaded` undecoded (GPU decoding pays on CUDA)."""
        return self.device_decode

    def embed_loaded(self, items: list[Loaded]) -> tuple[list[Loaded], np.ndarray]:
        """Embed the readable items of a batch; items that fail here get their ``error`` set.
        Returns the embedded items and their vectors, in order."""
        for item in items:
            if item.jpeg and not self.device_decode:
                _decode_on_cpu(item, self.spec.preprocessing)
        if self.device_decode:
            return self._embed_on_device(items)
        good = [item for item in items if item.pixels is not None]
        if not good:
            return [], np.zeros((0, 0), np.float32)
        return good, self.embed(np.stack([item.pixels for item in good]))

    def _embed_on_device(self, items: list[Loaded]) -> tuple[list[Loaded], np.ndarray]:
        import torch

        from imgsearch_cnn.indexer.gpu_prepare import prepare_jpegs

        jpegs = [item for item in items if item.jpeg]
        prepared = prepare_jpegs([_read_or_nothing(item.path) for item in jpegs], self.spec.preprocessing.size,
                                 self.device, [item.width * item.height for item in jpegs])
        on_device = {}
        for item, pixels, colors, hashes in zip(jpegs, prepared.pixels, prepared.colors, prepared.phashes):
            item.jpeg = False
            if pixels is None:  # nvJPEG refused it (CMYK, progressive...) or it cannot be read
                _decode_on_cpu(item, self.spec.preprocessing)
            else:
                on_device[item.path], item.color, item.phash = pixels, colors, hashes
        tensors, good = [], []
        for item in items:
            tensor = on_device.get(item.path)
            if tensor is None and item.pixels is not None:
                tensor = torch.from_numpy(item.pixels).to(self.device).permute(2, 0, 1)
            if tensor is not None:
                tensors.append(tensor)
                good.append(item)
        if not good:
            return [], np.zeros((0, 0), np.float32)
        return good, l2_normalise(self.embed_tensor(torch.stack(tensors)))

    def _normalise(self, pixels: np.ndarray) -> np.ndarray:
        # Two passes into one new array: a sixth of the time of transpose-copy, subtract, divide
        # (6% of CPU indexing on 2 cores before).
        n, height, width, _ = pixels.shape
        batch = np.empty((n, 3, height, width), np.float32)
        np.subtract(pixels.transpose(0, 3, 1, 2), self._mean, out=batch)
        batch *= self._inverse_std
        return batch

    def embed(self, pixels: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) uint8 -> (N, dims) float32, unit length."""
        if self.runtime == "onnxruntime":
            features = self._session.run(None, {"images": self._normalise(pixels)})[0]
        else:
            features = self.embed_tensor(_to_tensor(pixels, self.device))
        return l2_normalise(features)

    def embed_tensor(self, batch) -> np.ndarray:
        """(N, 3, size, size) uint8 torch tensor already on the device -> features (torch path)."""
        import torch

        mean = torch.as_tensor(self._mean, device=batch.device)
        std = torch.as_tensor(self._std, device=batch.device)
        with torch.inference_mode():
            x = (batch.float() - mean) / std
            if self.device == "cuda":
                x = x.half().contiguous(memory_format=torch.channels_last)
            return self._model(x).float().cpu().numpy()


def _read_or_nothing(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""  # decoding fails, and the CPU decoder then says why


def _decode_on_cpu(item: Loaded, prep: Preprocessing) -> None:
    item.jpeg = False
    result = load(item.path, prep)
    item.pixels, item.error, item.color, item.phash = result.pixels, result.error, result.color, result.phash


def _to_tensor(pixels: np.ndarray, device: str):
    import torch

    return torch.from_numpy(pixels).to(device, non_blocking=True).permute(0, 3, 1, 2)


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _default_cache() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("IMGSEARCH_CACHE", user_cache_dir("imgsearch")))


def batches(items: Iterable[Loaded], size: int) -> Iterator[list[Loaded]]:
    """Group loaded photos into lists of ``size`` (the last may be shorter)."""
    batch: list[Loaded] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
