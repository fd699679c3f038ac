"""Training from class folders: labelled photos, held-out validation, the index's other photos."""

import numpy as np
import pytest

from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.classify import model as models
from imgsearch_cnn.search.classify.train import TrainError, TrainOptions, labelled_photos, train


def test_the_first_sub_folder_names_the_class(sorted_and_unsorted):
    labelled, _, index = sorted_and_unsorted
    with Store.open(index) as store:
        found = labelled_photos(store, str(labelled))
    assert len(found) == 30 and set(found.values()) == {"red_discs", "blue_squares", "green_stripes"}


def test_training_saves_a_classifier_with_its_classes_photos_and_validation(sorted_and_unsorted):
    labelled, _, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store:
        outcome = train(store, str(labelled), TrainOptions("scenes"))
    assert outcome.per_class == {"blue_squares": 10, "green_stripes": 10, "red_discs": 10}
    assert outcome.unlabelled == 18 and outcome.saved.is_file()
    kept = models.load(index, "scenes")
    assert kept.classes == ["blue_squares", "green_stripes", "red_discs"] and len(kept.training) == 30
    assert kept.validation_photos == 6 and kept.validation_accuracy >= 0.8  # 2 of each class held out


def test_the_unsorted_photos_are_labelled_when_they_helped(sorted_and_unsorted):
    labelled, _, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store:
        outcome = train(store, str(labelled))
    model = outcome.classifier
    if model.semi_supervised:  # kept only if it measured at least as well as the labelled-only head
        assert len(model.assigned) == 18
        assert all(0 <= best < 3 and 0 < probability <= 1 for best, probability in model.assigned.values())
    else:
        assert model.assigned == {}


def test_a_folder_with_one_class_is_refused_before_anything_is_saved(sorted_and_unsorted):
    labelled, _, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store, pytest.raises(TrainError, match="at least two classes"):
        train(store, str(labelled / "red_discs"))
    assert models.names(index) == []


def test_a_bad_name_is_refused(sorted_and_unsorted):
    labelled, _, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store, pytest.raises(models.ModelError, match="invalid classifier name"):
        train(store, str(labelled), TrainOptions("../escape"))
