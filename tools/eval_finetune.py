"""Deep clustering that trains the network itself: the backbone's last stage and a clustering
head, on views of the photos' pixels, against `--method auto` and the head's k-means start.

    python tools/eval_finetune.py DATA_DIR --index IDX [--seeds 3] [--draw 5000] [--epochs 6]
                                  [--lr 5e-4] [--entropy 5]

An experiment of issue 14, not a method of `imgsearch clusters`. `--method deep` trains a head
on the stored vectors only; here the gradient also reaches the CNN's last stage, as the deep
clustering of the articles (and SCAN's clustering step) trains the encoder. Each seed draws
``--draw`` photos (0: all) and:

1. reads three views of each photo's pixels (as indexed; mirrored; a random crop of half to all
   of its area, mirrored half the time, one per photo) and keeps, in float16, the network's
   activations before its last stage, so that only that stage runs while training;
2. starts from k-means on neighbour-averaged vectors (the start of `deep`'s heads): a linear
   head on the network's pooled, L2-normalised output, its weights the start's cluster centres;
3. trains the last stage, the 1x1 convolution after it and the head for ``--epochs`` on
   mini-batches of (a random view of a photo, a random view of one of its 10 nearest by the
   stored vectors) for neighbour consistency, minus ``--entropy`` x the entropy of the batch's
   mean assignment (search/clusters/deep.py's loss), Adam at ``--lr`` for the network and 1e-3
   for the head, the batch norms' statistics kept from ImageNet;
4. scores the head's clusters of the original views by accuracy against the folders, beside
   the start's and `--method auto`'s on the same photos.

Only the EfficientNet-Lite models (timm's layout: conv_stem, bn1, blocks, conv_head, bn2) are
supported. Prints a markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import numpy as np

from eval_clustering import accuracy, experiment_parser, labelled_photos, nearest_neighbours, seed_table  # tools/ is the script's folder
from imgsearch_cnn.indexer import decode, models
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.indexer.vector_index import l2_normalise, reduce
from imgsearch_cnn.search.clusters import choose_method, deep, methods

DIMS = 128
NEIGHBOURS = 10
BATCH = 128
HEAD_LR = 1e-3
CROP_AREA = (0.5, 1.0)


def views(image, rng: np.random.Generator) -> list:
    """The photo as indexed, mirrored, and one random crop (mirrored half the time)."""
    from PIL import Image

    width, height = image.size
    scale = np.sqrt(rng.uniform(*CROP_AREA))
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    crop = image.crop((left, top, left + w, top + h))
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return [image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), crop]


def stem_maps(network, paths: list[str], prep: models.Preprocessing, rng: np.random.Generator) -> np.ndarray:
    """(photos, 3 views, C, H, W) float16 activations before the network's last stage."""
    import torch

    mean = torch.tensor(prep.mean).view(1, 3, 1, 1)
    std = torch.tensor(prep.std).view(1, 3, 1, 1)
    out = []
    with torch.no_grad():
        for start in range(0, len(paths), BATCH):
            pixels = [decode.prepare(view, prep) for path in paths[start:start + BATCH]
                      for view in views(decode.open_image(path).image, rng)]
            x = (torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float() / 255.0 - mean) / std
            x = network.bn1(network.conv_stem(x))
            for block in network.blocks[:-1]:
                x = block(x)
            out.append(x.half().numpy().reshape(-1, 3, *x.shape[1:]))
    return np.concatenate(out)


def tail_network(network, centres: np.ndarray):
    """The network's last stage, 1x1 convolution and pooling, then a linear head from ``centres``."""
    import torch

    class Tail(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stage = copy.deepcopy(network.blocks[-1])
            self.conv_head = copy.deepcopy(network.conv_head)
            self.bn2 = copy.deepcopy(network.bn2)
            self.head = torch.nn.Linear(centres.shape[1], len(centres))
            with torch.no_grad():
                self.head.weight.copy_(torch.from_numpy(deep.INIT_SCALE * centres))
                self.head.bias.zero_()

        def features(self, x):
            return torch.nn.functional.normalize(self.bn2(self.conv_head(self.stage(x))).mean((2, 3)), dim=1)

        def forward(self, x):
            return self.head(self.features(x))

    return Tail().eval()  # eval: the batch norms keep ImageNet's statistics


def features_of(tail, maps: np.ndarray) -> np.ndarray:
    """Each photo's pooled, L2-normalised network output from its original view."""
    import torch

    with torch.no_grad():
        return torch.cat([tail.features(torch.from_numpy(maps[start:start + 500, 0].astype(np.float32)))
                          for start in range(0, len(maps), 500)]).numpy()


def labels_of(tail, maps: np.ndarray) -> np.ndarray:
    """Each photo's cluster by the head, from its original view."""
    import torch

    with torch.no_grad():
        return tail.head(torch.from_numpy(features_of(tail, maps))).argmax(dim=1).numpy()


def train(tail, maps: np.ndarray, pairs: np.ndarray, epochs: int, lr: float, entropy: float,
          rng: np.random.Generator) -> None:
    """Neighbour consistency between random views of a photo and of one of its ``pairs``."""
    import torch

    network = [p for name, p in tail.named_parameters() if not name.startswith("head.")]
    optimiser = torch.optim.Adam([{"params": network, "lr": lr},
                                  {"params": list(tail.head.parameters()), "lr": HEAD_LR}], weight_decay=1e-4)

    def batch(rows: np.ndarray):
        return torch.from_numpy(maps[rows, rng.integers(0, maps.shape[1], len(rows))].astype(np.float32))

    for _ in range(epochs):
        order = rng.permutation(len(maps))
        for start in range(0, len(order), BATCH):
            anchors = order[start:start + BATCH]
            partners = pairs[anchors, rng.integers(0, pairs.shape[1], len(anchors))]
            loss = deep.scan_loss(tail, batch(anchors), batch(partners), entropy)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()


def main() -> None:
    import torch

    parser = experiment_parser(__doc__)
    parser.add_argument("--draw", type=int, default=5000, help="photos drawn per seed (0: all)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=5e-4, help="learning rate of the network's last stage")
    parser.add_argument("--entropy", type=float, default=5.0, help="weight of the mean assignment's entropy")
    args = parser.parse_args()

    root = os.path.abspath(args.data_dir)
    paths, vectors, truth = labelled_photos(args.index, root, args.exclude)
    with Store.open(args.index) as store:
        model = store.model
    spec = models.resolve(model["model_id"], model.get("weights"))
    prep = models.Preprocessing.from_dict(model["preprocessing"])
    network = models.build(spec)
    k = len(np.unique(truth))
    print(f"machine: {os.cpu_count()} cores; data: {Path(root).name}, {args.draw or len(paths):,} of "
          f"{len(paths):,} photos drawn per seed, k = {k}; {args.epochs} epochs, lr {args.lr}, entropy {args.entropy}")
    names = ("auto", "k-means on neighbour-averaged vectors (the start)", "last stage and head trained")
    rows: dict[str, list[tuple[float, ...]]] = {name: [] for name in names}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        pick = np.sort(rng.choice(len(paths), min(args.draw or len(paths), len(paths)), replace=False))
        v, t = vectors[pick], truth[pick]
        started = time.perf_counter()
        auto = choose_method.best_method(v, methods.ClusterOptions(method="auto", k=k, seed=seed)).labels
        rows[names[0]].append((accuracy(t, auto), time.perf_counter() - started))

        started = time.perf_counter()
        data = l2_normalise(reduce(v, DIMS, seed))
        near = nearest_neighbours(data, NEIGHBOURS)
        start = methods.kmeans(methods.smooth(data, NEIGHBOURS), k, seed, restarts=1, dims=DIMS)
        rows[names[1]].append((accuracy(t, start), time.perf_counter() - started))

        started = time.perf_counter()
        maps = stem_maps(network, [paths[i] for i in pick], prep, rng)
        read = time.perf_counter() - started
        tail = tail_network(network, np.zeros((k, v.shape[1]), np.float32))
        pooled = features_of(tail, maps)
        centres = l2_normalise(np.stack([pooled[start == c].mean(axis=0) if np.any(start == c) else pooled[c]
                                         for c in range(k)])).astype(np.float32)
        tail = tail_network(network, centres)
        train(tail, maps, near, args.epochs, args.lr, args.entropy, rng)
        rows[names[2]].append((accuracy(t, labels_of(tail, maps)), time.perf_counter() - started))
        print(f"seed {seed} ({len(t):,} photos): " + ", ".join(f"{name} {r[-1][0]:.3f}" for name, r in rows.items())
              + f"; pixels read in {read:.0f} s", flush=True)
    print("\n" + seed_table(rows, [("time (s)", ".1f")]))


if __name__ == "__main__":
    main()
