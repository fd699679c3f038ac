"""Classifying photos: the training labels, stored vectors, embedded outside files, 'unsure'."""

import os
import shutil

import pytest

from fakes import FAKE_SPEC, FakeEmbedder
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.classify.heads import HeadOptions
from imgsearch_cnn.search.classify.predict import ClassifyError, classify
from imgsearch_cnn.search.classify.train import TrainOptions, train
from photos import family

KIND = {"a": "red_discs", "b": "blue_squares", "c": "green_stripes"}  # unsorted sub-folder -> its class (conftest)


@pytest.fixture(params=[True, False], ids=["semi-supervised", "labelled-only"])
def trained(sorted_and_unsorted, request):
    labelled, unsorted, index = sorted_and_unsorted
    with Store.open(index, writable=True) as store:
        model = train(store, str(labelled), TrainOptions("scenes", HeadOptions(semi_supervised=request.param))).classifier
    return labelled, unsorted, index, model


def run(index, model, files, embedder=None, min_confidence=0.0):
    with Store.open(index) as store:
        return classify(store, model, files, embedder or (lambda: pytest.fail("no photo needed the network")),
                        FAKE_SPEC.preprocessing, min_confidence)


def test_every_photo_of_the_index_gets_its_kind(trained):
    labelled, unsorted, index, model = trained
    predictions = run(index, model, None)
    assert len(predictions) == 48
    for p in predictions:
        parent = os.path.basename(os.path.dirname(p.path))
        if p.path.startswith(str(labelled)):
            assert (p.label, p.probability, p.source) == (parent, 1.0, "trained on")
        else:
            assert p.label == KIND[parent] and p.source == "index"


def test_outside_photos_are_embedded_and_classified(trained, tmp_path):
    _, _, index, model = trained
    family(tmp_path / "new", (20, 20, 200), "square", 2, 21)
    files = [str(tmp_path / "new" / "0.jpg"), str(tmp_path / "new" / "1.jpg")]
    predictions = run(index, model, files, FakeEmbedder)
    assert [p.label for p in predictions] == ["blue_squares"] * 2
    assert {p.source for p in predictions} == {"embedded"}


def test_below_the_minimum_confidence_a_photo_is_unsure(trained):
    _, unsorted, index, model = trained
    files = [str(unsorted / "a" / "0.jpg")]
    probability = run(index, model, files)[0].probability
    assert run(index, model, files, min_confidence=probability)[0].sure
    if probability < 1.0:
        assert not run(index, model, files, min_confidence=min(1.0, probability + 1e-3))[0].sure


def test_a_changed_training_photo_is_classified_again_not_trusted(trained):
    labelled, _, index, model = trained
    target = labelled / "red_discs" / "0.jpg"
    shutil.copy(labelled / "blue_squares" / "0.jpg", target)  # now shows a blue square
    [prediction] = run(index, model, [str(target)], FakeEmbedder)
    assert prediction.source == "embedded" and prediction.label == "blue_squares"


def test_missing_files_and_folders_are_refused(trained, tmp_path):
    _, unsorted, index, model = trained
    with pytest.raises(ClassifyError, match="file not found"):
        run(index, model, [str(tmp_path / "nope.jpg")])
    with pytest.raises(ClassifyError, match="is a folder"):
        run(index, model, [str(unsorted)])
