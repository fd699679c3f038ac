"""End-to-end indexing speed: `imgsearch index` against imagededup's CNN pipeline, same folder,
same machine, same run. imagededup gets the same EfficientNet-Lite0 network (bundled weights)
through its CustomModel hook, so the comparison measures the pipelines, not the networks.

    python tools/bench_index.py FOLDER [--skip-imagededup] [--imagededup-workers N]

Prints the machine, each tool's wall time and images/s, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path



def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {gpu}, Python {platform.python_version()}, torch {torch.__version__}"


def time_imgsearch(folder: str, extra: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, IMGSEARCH_CACHE=os.path.join(tmp, "cache"))
        command = [sys.executable, "-m", "imgsearch_cnn.search.cli", "index", folder, "--index", os.path.join(tmp, "idx"), *extra]
        start = time.perf_counter()
        subprocess.run(command, check=False, env=env, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        from imgsearch_cnn.indexer.store import Store

        with Store.open(os.path.join(tmp, "idx")) as store:
            return seconds, store.count()


def time_imagededup(folder: str, workers: int) -> tuple[float, int]:
    import torch
    from imagededup.methods import CNN
    from imagededup.utils import CustomModel
    from torchvision import transforms

    from imgsearch_cnn.indexer import models

    start = time.perf_counter()
    network = models.build(models.resolve("efficientnet-lite0"))
    transform = transforms.Compose([
        transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3),
    ])
    torch.set_num_threads(os.cpu_count() or 1)
    cnn = CNN(verbose=False, model_config=CustomModel(name="lite0", model=network, transform=transform))
    encodings = cnn.encode_images(image_dir=folder, recursive=True, num_enc_workers=workers)
    return time.perf_counter() - start, len(encodings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--skip-imagededup", action="store_true")
    parser.add_argument("--imagededup-workers", type=int, default=0, help="its num_enc_workers (default 0, its default)")
    parser.add_argument("imgsearch_args", nargs="*", help="extra options for imgsearch index (after --)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"data: {args.folder}")
    seconds, count = time_imgsearch(args.folder, args.imgsearch_args)
    ours = count / seconds
    print(f"imgsearch index   {count:6d} images  {seconds:8.1f} s  {ours:7.1f} images/s")
    if args.skip_imagededup:
        return
    seconds, count = time_imagededup(args.folder, args.imagededup_workers)
    theirs = count / seconds
    print(f"imagededup CNN    {count:6d} images  {seconds:8.1f} s  {theirs:7.1f} images/s")
    print(f"speed-up: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
