"""Indexing speed on a GPU, and where the time goes (issue "Scale", part 4).

    python tools/bench_gpu.py FOLDER [--make N] [--batch-size B] [--profile]

With ``--make N`` it first fills FOLDER with N synthetic 640x480 JPEGs (smooth colour fields,
shapes and sensor-like noise, quality 90, about the size of a camera photo at that resolution),
made on all cores; an existing FOLDER is used as it is. Then it prints, for the bundled network:

1. the network alone: fp16, channels_last batches already on the GPU, photos/s;
2. decoding and preparing alone (nvJPEG, resizing, colour histograms, pHashes; the files' bytes
   already in memory), photos/s;
3. `imgsearch index FOLDER --device cuda` end to end (a new index, the command's wall time);
4. the same job in this process with the time of each stage (scan, hash, embed+store, FAISS),
   for each ``--workers`` count asked for, and with ``--profile`` the functions that took the
   main process's time.

The files are read from the page cache after the first pass (the machine's disk is not measured).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_index import machine

WIDTH, HEIGHT = 640, 480


def synthetic_jpeg(seed: int, path: str) -> None:
    """One photo-like JPEG: a smooth random colour field, a few shapes, and noise."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    field = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((WIDTH, HEIGHT), Image.BICUBIC)
    draw = ImageDraw.Draw(field)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        box = (x0, y0, x0 + int(rng.integers(20, 300)), y0 + int(rng.integers(20, 240)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    pixels = np.asarray(field, np.float32) + rng.normal(0, 7, (HEIGHT, WIDTH, 3))
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path, quality=90)


def _make_one(args: tuple[int, str]) -> None:
    synthetic_jpeg(*args)


def make_folder(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(i, str(folder / f"{i // 1000:03d}" / f"p{i:07d}.jpg")) for i in range(count)]
    for sub in {os.path.dirname(path) for _, path in jobs}:
        os.makedirs(sub, exist_ok=True)
    with multiprocessing.Pool() as pool:
        pool.map(_make_one, jobs, chunksize=64)


def jpeg_paths(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.jpg"))


def bench_network(batch_size: int, seconds: float = 10.0) -> float:
    import torch

    from imgsearch_cnn.indexer import embed, models

    embedder = embed.Embedder(models.resolve(), "cuda")
    batch = torch.randint(0, 256, (batch_size, 3, 224, 224), dtype=torch.uint8, device="cuda")
    for _ in range(3):
        embedder.embed_tensor(batch)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        embedder.embed_tensor(batch)
        done += batch_size
    return done / (time.perf_counter() - start)


def bench_decode(paths: list[str], batch_size: int) -> float:
    import torch

    from imgsearch_cnn.indexer.gpu_prepare import prepare_jpegs

    blobs = [Path(p).read_bytes() for p in paths]
    prepare_jpegs(blobs[:batch_size], 224, "cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(0, len(blobs), batch_size):
        prepare_jpegs(blobs[i:i + batch_size], 224, "cuda")
    torch.cuda.synchronize()
    return len(blobs) / (time.perf_counter() - start)


def bench_reading(paths: list[str], workers: int) -> tuple[float, float]:
    """(photos/s hashed, photos/s read with their headers): the CPU side of the device path alone."""
    from imgsearch_cnn.indexer import embed, models, scan
    from imgsearch_cnn.indexer.update import _hash_all

    infos = [scan.FileInfo(p, os.path.getsize(p), 0) for p in paths]
    start = time.perf_counter()
    _hash_all(infos, lambda *a: None)
    hashing = len(paths) / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in embed.load_all(paths, models.resolve().preprocessing, workers, gpu_jpeg=True):
        pass
    return hashing, len(paths) / (time.perf_counter() - start)


def bench_command(folder: Path, extra: list[str]) -> tuple[float, int]:
    from imgsearch_cnn.indexer.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "imgsearch_cnn.search.cli", "index", str(folder),
                   "--index", os.path.join(tmp, "idx"), "--device", "cuda", *extra]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        with Store.open(os.path.join(tmp, "idx")) as store:
            return seconds, store.count()


def bench_stages(folder: Path, options, profile: bool) -> dict[str, float]:
    """Seconds from the start to the end of each stage of one in-process run."""
    from imgsearch_cnn.indexer import models
    from imgsearch_cnn.indexer.store import Store
    from imgsearch_cnn.indexer.update import update_index

    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        marks[stage] = time.perf_counter() - start

    profiler = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory() as tmp, Store.open(os.path.join(tmp, "idx"), writable=True, create=True) as store:
        if profiler:
            profiler.enable()
        summary = update_index(store, [str(folder)], models.resolve(), options, progress)
        if profiler:
            profiler.disable()
    marks["total"] = time.perf_counter() - start
    marks["photos"] = summary.embedded
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        print(out.getvalue())
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--make", type=int, default=0, help="first fill FOLDER with this many synthetic JPEGs")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", default="", help="reading processes for the in-process runs, comma-separated "
                        "(default: the command's default)")
    parser.add_argument("--profile", action="store_true", help="profile the in-process run")
    parser.add_argument("--skip-command", action="store_true", help="leave out the command-line run")
    args = parser.parse_args()
    import torch

    from imgsearch_cnn.indexer.update import IndexOptions

    if not torch.cuda.is_available():
        sys.exit("bench_gpu: no CUDA GPU here")
    if args.make and not args.folder.exists():
        start = time.perf_counter()
        make_folder(args.folder, args.make)
        print(f"made {args.make} synthetic {WIDTH}x{HEIGHT} JPEGs in {time.perf_counter() - start:.1f} s")
    paths = jpeg_paths(args.folder)
    mean_kb = np.mean([os.path.getsize(p) for p in paths[:2000]]) / 1024
    print(f"machine: {machine()}")
    print(f"data: {len(paths)} JPEGs, {WIDTH}x{HEIGHT}, mean {mean_kb:.0f} KiB, in {args.folder}")
    print(f"network alone (fp16, channels_last, batch {args.batch_size}): {bench_network(args.batch_size):8.0f} photos/s")
    from imgsearch_cnn.indexer.embed import default_workers

    threads = default_workers(device_decode=True)
    hashing, reading = bench_reading(paths, threads)
    print(f"hash pass alone: {hashing:8.0f} photos/s; reading + headers alone ({threads} processes): {reading:8.0f} photos/s")
    sample = paths[:min(len(paths), 5000)]
    print(f"decode + prepare alone ({len(sample)} photos): {bench_decode(sample, args.batch_size):8.0f} photos/s")
    if not args.skip_command:
        seconds, count = bench_command(args.folder, ["--batch-size", str(args.batch_size)])
        print(f"imgsearch index --device cuda: {count} photos in {seconds:.1f} s = {count / seconds:.0f} photos/s")
    for run, workers in enumerate([int(w) for w in args.workers.split(",") if w] or [None]):
        marks = bench_stages(args.folder, IndexOptions("cuda", args.batch_size, workers), args.profile and run == 0)
        stages = ", ".join(f"{k} {v:.1f}" for k, v in marks.items() if k != "photos")
        print(f"in-process run, workers {workers if workers is not None else 'default'}, seconds from the start: "
              f"{stages}; {marks['photos'] / marks['total']:.0f} photos/s")


if __name__ == "__main__":
    main()
