"""`imgsearch train --finetune`: the network's last stage(s) trained too, on the labelled photos'
pixels with real augmentation (random crop and scale, flip, colour), on the GPU when there is one.

The trained tensors (the last ``stages`` blocks, the final 1x1 convolution and its norm) are
kept beside the classifier; the head itself is then fitted as usual (search/classify/heads.py)
on the fine-tuned network's vectors of the training photos. A fine-tuned classifier embeds every
photo it classifies again with its own network: the index's stored vectors come from the
original one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from imgsearch_cnn.indexer import embed, models
from imgsearch_cnn.indexer.decode import DecodeError, open_image
from imgsearch_cnn.indexer.models import ModelSpec


@dataclass
class FinetuneOptions:
    epochs: int = 3
    stages: int = 1  # trailing blocks of the network that learn (with its last 1x1 convolution and norm)
    batch_size: int = 32
    learning_rate: float = 1e-3  # of the new linear layer; the network's own layers learn at a tenth of it
    smallest_crop: float = 0.5  # random crops keep at least this share of the photo's area
    device: str = "auto"
    seed: int = 0


@dataclass
class Finetuned:
    state: dict  # the trained tensors of the network, by name
    epoch_seconds: list[float] = field(default_factory=list)
    device: str = "cpu"


def trainable_names(model, stages: int) -> list[str]:
    """Prefixes of the modules that learn: the last ``stages`` blocks, conv_head and bn2."""
    count = len(model.blocks)
    return [f"blocks.{i}." for i in range(count - stages, count)] + ["conv_head.", "bn2."]


def finetune(spec: ModelSpec, paths: list[str], labels: list[str], options: FinetuneOptions | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> Finetuned:
    """Train the network's last stage(s) and a linear layer to tell the labels apart."""
    import torch
    from torch import nn

    options = options or FinetuneOptions()
    progress = progress or (lambda stage, done, total: None)
    torch.manual_seed(options.seed)
    device = embed.resolve_device(options.device)
    network = models.build(spec)
    prefixes = trainable_names(network, options.stages)
    learning = [p for name, p in network.named_parameters() if name.startswith(tuple(prefixes))]
    for name, parameter in network.named_parameters():
        parameter.requires_grad = name.startswith(tuple(prefixes))
    classes = sorted(set(labels))
    layer = nn.Linear(network.num_features, len(classes))
    network, layer = network.to(device), layer.to(device)
    optimiser = torch.optim.AdamW([{"params": learning, "lr": options.learning_rate / 10},
                                   {"params": layer.parameters(), "lr": options.learning_rate}])
    augment = _augmentation(spec, options)
    targets = [classes.index(label) for label in labels]
    rng = np.random.default_rng(options.seed)
    result = Finetuned({}, device=device)
    for epoch in range(options.epochs):
        started = time.perf_counter()
        network.eval()  # the frozen layers' batch statistics stay as pretrained...
        for name, module in network.named_modules():
            if name and (name + ".").startswith(tuple(prefixes)):
                module.train()  # ...the learning ones adapt
        order = rng.permutation(len(paths))
        for start in range(0, len(order), options.batch_size):
            images = [(_image(paths[i]), targets[i]) for i in order[start: start + options.batch_size]]
            images = [(image, target) for image, target in images if image is not None]
            if not images:
                continue
            batch = torch.stack([augment(image) for image, _ in images]).to(device)
            truth = torch.tensor([target for _, target in images], device=device)
            loss = nn.functional.cross_entropy(layer(network(batch)), truth)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            progress("finetune", epoch * len(paths) + min(start + options.batch_size, len(paths)),
                     options.epochs * len(paths))
        result.epoch_seconds.append(time.perf_counter() - started)
    result.state = {name: tensor.detach().cpu() for name, tensor in network.state_dict().items()
                    if name.startswith(tuple(prefixes))}
    return result


class FinetunedEmbedder:
    """The network with its fine-tuned tensors, with the interface of indexer.embed.Embedder."""

    def __init__(self, spec: ModelSpec, state: dict, device: str = "auto"):
        import torch

        self.device = embed.resolve_device(device)
        self.runtime = "torch (fine-tuned)"
        network = models.build(spec)
        missing = set(state) - set(network.state_dict())
        if missing:
            raise models.ModelError(f"fine-tuned tensors do not fit {spec.model_id}: {sorted(missing)[:3]}")
        network.load_state_dict({**network.state_dict(), **state})
        self._network = network.eval().to(self.device)
        prep = spec.preprocessing
        self._mean = torch.tensor(prep.mean).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(prep.std).view(1, 3, 1, 1) * 255.0

    def embed_loaded(self, items) -> tuple[list, np.ndarray]:
        import torch

        good = [item for item in items if item.pixels is not None]
        out = []
        with torch.inference_mode():
            for start in range(0, len(good), 32):
                pixels = torch.from_numpy(np.stack([i.pixels for i in good[start: start + 32]])).permute(0, 3, 1, 2)
                batch = ((pixels.float() - self._mean) / self._std).to(self.device)
                out.append(self._network(batch).float().cpu().numpy())
        vectors = np.vstack(out) if out else np.zeros((0, self._network.num_features), np.float32)
        return good, vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def embed_paths(embedder: FinetunedEmbedder, spec: ModelSpec, paths: list[str]) -> np.ndarray:
    """Vectors of ``paths`` by the fine-tuned network (a photo that cannot be read: zeros)."""
    loaded = [embed.load(path, spec.preprocessing) for path in paths]
    good, vectors = embedder.embed_loaded(loaded)
    out = np.zeros((len(paths), vectors.shape[1]), np.float32)
    where = {item.path: row for row, item in enumerate(good)}
    for i, path in enumerate(paths):
        if path in where:
            out[i] = vectors[where[path]]
    return out


def save_state(path: Path, state: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def load_state(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def _augmentation(spec: ModelSpec, options: FinetuneOptions):
    from torchvision import transforms

    prep = spec.preprocessing
    return transforms.Compose([
        transforms.RandomResizedCrop(prep.size, scale=(options.smallest_crop, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.2, 0.2, 0.2),
        transforms.ToTensor(),
        transforms.Normalize(prep.mean, prep.std),
    ])


def _image(path: str):
    """The photo, or None if it can no longer be read (it was indexed, so it was readable)."""
    try:
        return open_image(path, draft_size=512).image
    except DecodeError:
        return None
