"""Fine-tuning the bundled network's last stage: only those tensors change, the classifier keeps
them, and classifying uses the fine-tuned network (real weights, real photos drawn here)."""

import numpy as np
import pytest

from commands import imgsearch
from imgsearch_cnn.indexer import models
from imgsearch_cnn.search.classify.finetune import FinetunedEmbedder, FinetuneOptions, embed_paths, finetune, trainable_names
from photos import family


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("finetune")
    family(root / "lab" / "discs", (200, 20, 20), "disc", 6, 71)
    family(root / "lab" / "stripes", (20, 160, 20), "stripes", 6, 72)
    return root


def test_only_the_last_stage_learns_and_the_new_network_tells_the_classes_apart(labelled):
    spec = models.resolve()
    paths = sorted(str(p) for p in (labelled / "lab").rglob("*.jpg"))
    names = [p.split("/")[-2] for p in paths]
    tuned = finetune(spec, paths, names, FinetuneOptions(epochs=2, batch_size=4))
    network = models.build(spec)
    prefixes = tuple(trainable_names(network, 1))
    assert tuned.state and all(name.startswith(prefixes) for name in tuned.state)
    assert len(tuned.epoch_seconds) == 2
    changed = [name for name, tensor in tuned.state.items()
               if tensor.is_floating_point() and not np.allclose(tensor.numpy(), network.state_dict()[name].numpy())]
    assert changed  # it really learned
    vectors = embed_paths(FinetunedEmbedder(spec, tuned.state, "cpu"), spec, paths)
    assert vectors.shape == (12, 1280) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    discs, stripes = vectors[:6], vectors[6:]
    within = (discs @ discs.T).mean() + (stripes @ stripes.T).mean()
    assert within / 2 > (discs @ stripes.T).mean()


def test_train_finetune_then_classify_from_the_command_line(labelled):
    index = labelled / "idx"
    trained = imgsearch("train", labelled / "lab", "--index", index, "--finetune", "--epochs", "1", "--name", "ft")
    assert trained.returncode == 0, trained.stderr
    assert "fine-tuned network (1 epochs" in trained.stdout and (index / "classifiers" / "ft.pt").is_file()
    family(labelled / "new", (200, 20, 20), "disc", 1, 73)
    result = imgsearch("classify", labelled / "new" / "0.jpg", "--index", index, "--name", "ft", "--json")
    assert result.returncode == 0, result.stderr
    assert '"label": "discs"' in result.stdout and '"source": "embedded"' in result.stdout
    assert imgsearch("models", "--index", index, "--delete", "ft").returncode == 0
    assert not (index / "classifiers" / "ft.pt").exists()
