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


def test_sorting_into_folders_is_a_dry_run_until_applied_and_undo_reverts_it(tmp_path):
    from inventories import inventory

    labelled = three_families(tmp_path)
    family(tmp_path / "unsorted" / "mixed", (20, 20, 200), "square", 4, 41)
    fake_index(tmp_path / "idx", [labelled, tmp_path / "unsorted"])
    assert imgsearch("train", labelled, "--index", tmp_path / "idx").returncode == 0
    before = inventory(tmp_path / "unsorted", labelled)
    sort = ["classify", "--all", "--index", tmp_path / "idx", "--min-confidence", "0", "--move-to", tmp_path / "sorted"]
    dry = imgsearch(*sort)
    assert dry.returncode == 0 and "would move" in dry.stdout and "dry run" in dry.stdout
    assert inventory(tmp_path / "unsorted", labelled) == before and not (tmp_path / "sorted").exists()
    applied = imgsearch(*sort, "--apply", "--json")
    assert applied.returncode == 0, applied.stderr
    moved = [row for row in json.loads(applied.stdout) if row["move_to"]]
    assert len(moved) == 34  # 30 labelled + 4 unsorted photos, each into its class folder
    assert all(row["move_to"].split("/")[-2] == row["label"] for row in moved)
    assert len(inventory(tmp_path / "sorted" / "blue_squares")) == 14
    assert imgsearch("undo", "--index", tmp_path / "idx").returncode == 0
    assert inventory(tmp_path / "unsorted", labelled) == before


def test_apply_without_a_destination_is_refused(index):
    result = imgsearch("classify", "--all", "--index", index / "idx", "--apply")
    assert result.returncode == 2 and "--apply needs --move-to" in result.stderr


def test_training_from_the_saved_clusters_with_names(index):
    assert imgsearch("clusters", "--index", index / "idx", "--k", "3").returncode == 0
    result = imgsearch("train", "--from-clusters", "--names", "0=first", "--index", index / "idx", "--name", "auto")
    assert result.returncode == 0, result.stderr
    assert "first" in result.stdout and "cluster 1" in result.stdout
    for args in (["train", index / "photos", "--from-clusters"], ["train", "--names", "0=a"],
                 ["train", "--from-clusters", "--names", "zero=a"]):
        refused = imgsearch(*args, "--index", index / "idx")
        assert refused.returncode == 2 and refused.stderr.startswith("error: "), (args, refused.stderr)
