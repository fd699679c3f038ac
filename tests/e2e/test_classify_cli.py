"""`imgsearch train`, `classify` and `models` end to end, on an index the fake embedder built (the
labelled photos are indexed already, so training needs no network)."""

import csv
import json

import pytest

from commands import imgsearch
from fakes import fake_index
from photos import family, three_families


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("classify-cli")
    labelled = three_families(root)
    family(root / "unsorted" / "discs", (200, 20, 20), "disc", 5, 31)
    fake_index(root / "idx", [labelled, root / "unsorted"])
    return root


def test_train_then_list_then_classify_every_photo(index, tmp_path):
    trained = imgsearch("train", index / "photos", "--index", index / "idx", "--name", "scenes")
    assert trained.returncode == 0, trained.stderr
    assert "validation accuracy" in trained.stdout and "scenes.npz" in trained.stdout
    listed = imgsearch("models", "--index", index / "idx")
    assert listed.returncode == 0 and "scenes" in listed.stdout
    result = imgsearch("classify", "--all", "--index", index / "idx", "--name", "scenes", "--json",
                       "--csv", tmp_path / "labels.csv")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 35
    assert all(r["label"] in ("red_discs", "unsure") and r["best"] == "red_discs" for r in rows if "/unsorted/" in r["path"])
    assert len(list(csv.DictReader(open(tmp_path / "labels.csv")))) == 35


def test_usage_errors_exit_2_with_one_line(index):
    for args in (["classify", "--index", index / "idx"],  # neither files nor --all
                 ["classify", "--all", "--index", index / "idx", "--name", "nothing-here"],
                 ["train", index / "photos" / "red_discs", "--index", index / "idx"],  # one class
                 ["models", "--index", index / "idx", "--delete", "nothing-here"]):
        result = imgsearch(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_delete_removes_a_classifier(index):
    assert imgsearch("train", index / "photos", "--index", index / "idx", "--name", "spare").returncode == 0
    deleted = imgsearch("models", "--index", index / "idx", "--delete", "spare")
    assert deleted.returncode == 0 and "deleted" in deleted.stdout
    assert "spare" not in imgsearch("models", "--index", index / "idx").stdout
