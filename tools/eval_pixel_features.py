"""Features learned from the collection's own pixels, without labels, against the transferred CNN
vectors: a convolutional autoencoder, a deeper one, and a GAN's discriminator (the seed articles'
"learned features").

    python tools/eval_pixel_features.py DATA_DIR --index IDX [--size 32] [--epochs 15] [--limit 10000]

Every photo of DATA_DIR (class sub-folders), at most ``--limit``, is decoded to ``--size`` pixels
square. Each network is trained on them for ``--epochs`` on the CPU (mini-batches of 128, Adam):

* conv AE: 3 strided convolutions (32, 64, 128 channels) to a 256-d code, mirrored decoder,
  mean squared error;
* deep conv AE: the same with 5 convolutions (32 ... 256 channels) and a 512-d code;
* GAN: a DCGAN-style generator and discriminator (4 strided convolutions); the features are the
  discriminator's last convolution, average-pooled.

Each photo's code (L2-normalised) is then scored like the CNN vectors of the index: retrieval
precision@10 (same class among the 10 nearest, cosine) and k-means ACC (k = number of classes,
search/clusters/methods.py). Prints a markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from eval_clustering import accuracy, precision_at_10  # tools/ is the script's folder
from eval_dec import train_autoencoder
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.indexer.vector_index import l2_normalise
from imgsearch_cnn.search.clusters import methods


def load(root: Path, size: int, limit: int, exclude: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    files = sorted(p for folder in root.iterdir() if folder.is_dir() and folder.name not in exclude
                   for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    files = [files[i] for i in sorted(np.random.default_rng(0).choice(len(files), min(limit, len(files)), replace=False))]
    pixels = np.stack([np.asarray(Image.open(f).convert("RGB").resize((size, size), Image.Resampling.BILINEAR))
                       for f in files]).astype(np.float32) / 127.5 - 1.0
    return [os.path.realpath(f) for f in files], pixels.transpose(0, 3, 1, 2), np.array([f.parent.name for f in files])


def _convs(channels: list[int], transpose: bool = False):
    from torch import nn

    layers = []
    for i, (a, b) in enumerate(zip(channels, channels[1:])):
        conv = nn.ConvTranspose2d(a, b, 4, 2, 1) if transpose else nn.Conv2d(a, b, 4, 2, 1)
        layers.append(conv)
        if i < len(channels) - 2 or not transpose:
            layers += [nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers)


def autoencoder(x, size: int, channels: list[int], code: int, epochs: int, seed: int) -> np.ndarray:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    side = size // 2 ** (len(channels) - 1)
    flat = channels[-1] * side * side
    encoder = nn.Sequential(_convs(channels), nn.Flatten(), nn.Linear(flat, code))
    decoder = nn.Sequential(nn.Linear(code, flat), nn.Unflatten(1, (channels[-1], side, side)),
                            _convs(channels[::-1], transpose=True), nn.Tanh())
    train_autoencoder(encoder, decoder, x, epochs, 128)
    encoder.eval()
    with torch.no_grad():
        return torch.cat([encoder(rows) for rows in x.split(512)]).numpy()


def gan_features(x, size: int, epochs: int, seed: int, noise: int = 64) -> np.ndarray:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    channels = [3, 64, 128, 256]
    side = size // 8
    discriminator = nn.Sequential(_convs(channels), nn.Flatten(), nn.Linear(256 * side * side, 1))
    generator = nn.Sequential(nn.Linear(noise, 256 * side * side), nn.Unflatten(1, (256, side, side)),
                              nn.BatchNorm2d(256), nn.ReLU(), _convs(channels[::-1], transpose=True), nn.Tanh())
    d_opt = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.functional.binary_cross_entropy_with_logits
    for _ in range(epochs):
        for rows in torch.randperm(len(x)).split(128):
            real = x[rows]
            fake = generator(torch.randn(len(rows), noise))
            d_loss = bce(discriminator(real), torch.ones(len(rows), 1)) + bce(discriminator(fake.detach()),
                                                                              torch.zeros(len(rows), 1))
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_loss = bce(discriminator(fake), torch.ones(len(rows), 1))
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
    discriminator.eval()
    with torch.no_grad():
        return torch.cat([discriminator[0](rows).mean(dim=(2, 3)) for rows in x.split(512)]).numpy()


def scores(vectors: np.ndarray, truth: np.ndarray, seed: int) -> tuple[float, float]:
    data = l2_normalise(vectors)
    labels = methods.cluster(data, methods.ClusterOptions(k=len(set(truth)), seed=seed)).labels
    return precision_at_10(data, truth, "cosine"), accuracy(truth, labels)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--index", required=True, help="index of DATA_DIR, for the CNN vectors")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--exclude", action="append", default=["BACKGROUND_Google"])
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    paths, pixels, truth = load(args.data_dir, args.size, args.limit, args.exclude)
    with Store.open(args.index) as store:
        cnn = np.stack([store.vector(store.record(p).hash) for p in paths])
    x = torch.from_numpy(pixels)
    print(f"machine: {os.cpu_count()} cores; data: {args.data_dir.name}, {len(paths):,} photos at {args.size} px, "
          f"{len(set(truth))} classes; {args.epochs} epochs each")
    print("\n| features | P@10 | k-means ACC | training time (s) |\n|---|---|---|---|")
    p10, acc = scores(cnn, truth, 0)
    print(f"| transferred CNN (the index's vectors) | {p10:.3f} | {acc:.3f} | - |", flush=True)
    runs = [
        ("conv autoencoder (256-d code)", lambda: autoencoder(x, args.size, [3, 32, 64, 128], 256, args.epochs, 0)),
        ("deep conv autoencoder (512-d code)",
         lambda: autoencoder(x, args.size, [3, 32, 64, 128, 256, 256][:min(6, int(np.log2(args.size)))], 512,
                             args.epochs, 0)),
        ("GAN discriminator (256-d)", lambda: gan_features(x, args.size, args.epochs, 0)),
    ]
    for name, learn in runs:
        started = time.perf_counter()
        features = learn()
        seconds = time.perf_counter() - started
        p10, acc = scores(features, truth, 0)
        print(f"| {name} | {p10:.3f} | {acc:.3f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
