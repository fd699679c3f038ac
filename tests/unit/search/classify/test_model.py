"""Classifiers kept in the index folder: round trip, listing, deletion, names."""

import numpy as np
import pytest

from imgsearch_cnn.search.classify import model as models
from imgsearch_cnn.search.classify.heads import Head


def classifier(name: str, projection=None) -> models.Classifier:
    head = Head("logistic", ["cats", "dogs"], 0.5, np.zeros(4, np.float32), projection,
                np.arange(8, dtype=np.float32).reshape(4, 2), np.array([0.1, -0.1], np.float32))
    return models.Classifier(name, head, {"/p/cats/1.jpg": "cats"}, 0.9, 2, True, "2026-11-25T00:00:00+00:00",
                             {"hash1": [1, 0.8]})


@pytest.mark.parametrize("projection", [None, np.eye(4, 3, dtype=np.float32)])
def test_a_saved_classifier_loads_back_the_same(tmp_path, projection):
    models.save(tmp_path, classifier("pets", projection))
    back = models.load(tmp_path, "pets")
    assert back.classes == ["cats", "dogs"] and back.head.power == 0.5 and back.training == {"/p/cats/1.jpg": "cats"}
    assert np.array_equal(back.head.weights, classifier("x").head.weights)
    assert (back.head.projection is None) == (projection is None)
    assert back.assigned == {"hash1": [1, 0.8]} and back.validation_accuracy == 0.9
    assert not list((tmp_path / "classifiers").glob("*.tmp"))


def test_names_lists_and_delete_removes(tmp_path):
    assert models.names(tmp_path) == []
    models.save(tmp_path, classifier("b"))
    models.save(tmp_path, classifier("a"))
    assert models.names(tmp_path) == ["a", "b"]
    models.delete(tmp_path, "a")
    assert models.names(tmp_path) == ["b"]
    with pytest.raises(models.ModelError, match="no classifier named 'a'"):
        models.delete(tmp_path, "a")


def test_a_missing_classifier_names_the_ones_there_are(tmp_path):
    models.save(tmp_path, classifier("pets"))
    with pytest.raises(models.ModelError, match="the index has: pets"):
        models.load(tmp_path, "cars")


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden", "x" * 65])
def test_names_that_could_leave_the_folder_are_refused(tmp_path, name):
    with pytest.raises(models.ModelError, match="invalid classifier name"):
        models.save(tmp_path, classifier(name))
