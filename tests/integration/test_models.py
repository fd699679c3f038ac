"""models: the bundled default loads offline; other backbones are selectable."""

import numpy as np
import pytest

from imgsearch_cnn.indexer import models


def test_default_is_lite0_with_its_recorded_preprocessing():
    spec = models.resolve()
    assert spec.model_id == "efficientnet-lite0"
    assert spec.preprocessing.size == 224 and spec.preprocessing.mean == (0.5, 0.5, 0.5)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(models.ModelError, match="unknown model"):
        models.resolve("resnet50")
    with pytest.raises(models.ModelError, match="timm has no model"):
        models.resolve("timm:no_such_network_xyz")


def test_bundled_lite0_gives_1280_features_and_onnx_matches_torch(tmp_path):
    import onnxruntime as ort
    import torch

    spec = models.resolve()
    network = models.build(spec)
    batch = torch.rand(2, 3, 224, 224) * 2 - 1
    with torch.no_grad():
        expected = network(batch).numpy()
    assert expected.shape == (2, 1280)
    session = ort.InferenceSession(str(models.export_onnx(spec, tmp_path)), providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": batch.numpy()})[0]
    assert np.abs(got - expected).max() < 1e-4


def test_torchvision_model_with_a_local_weights_file(tmp_path):
    import torch
    import torchvision

    weights = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    spec = models.resolve("torchvision:resnet18", str(weights))
    network = models.build(spec)
    with torch.no_grad():
        assert network(torch.zeros(1, 3, 224, 224)).shape == (1, 512)
