"""Classifier heads: linear on a fixed transform, supervised or helped by unlabelled photos."""

import numpy as np
import pytest

from imgsearch_cnn.search.classify.heads import HeadOptions, fit


def blobs(per_class: int, seed: int, spread: float = 0.35, classes: int = 3, dims: int = 32):
    """Unit vectors around ``classes`` well-separated non-negative centres (pooled CNN features
    are non-negative), with their class names."""
    rng = np.random.default_rng(seed)
    centres = np.abs(np.random.default_rng(99).normal(size=(classes, dims)))
    vectors = np.vstack([np.abs(c + rng.normal(0, spread, (per_class, dims))) for c in centres])
    names = [f"class{c}" for c in range(classes) for _ in range(per_class)]
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), names


@pytest.mark.parametrize("head", ["logistic", "prototype"])
def test_each_head_classifies_new_photos_of_the_classes_it_learned(head):
    train, train_names = blobs(20, seed=1)
    test, test_names = blobs(30, seed=2)
    fitted = fit(train, train_names, options=HeadOptions(head=head, semi_supervised=False))
    probabilities = fitted.head.probabilities(test)
    assert probabilities.shape == (90, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    predicted = np.array(fitted.head.classes)[probabilities.argmax(axis=1)]
    assert (predicted == np.array(test_names)).mean() >= 0.95
    assert fitted.unlabelled is None


def test_unlabelled_photos_help_when_there_is_one_label_a_class():
    labelled, names = blobs(1, seed=3, spread=0.6)
    others, truth = blobs(60, seed=4, spread=0.6)
    alone = fit(labelled, names, options=HeadOptions(semi_supervised=False))
    helped = fit(labelled, names, others, HeadOptions(whiten_dims=16))
    classes = np.array(helped.head.classes)
    semi_accuracy = (classes[helped.unlabelled.argmax(axis=1)] == np.array(truth)).mean()
    alone_accuracy = (classes[alone.head.probabilities(others).argmax(axis=1)] == np.array(truth)).mean()
    assert helped.unlabelled.shape == (180, 3)
    assert semi_accuracy >= 0.9 and semi_accuracy >= alone_accuracy
    # The head trained with them also classifies photos it never saw.
    new, new_truth = blobs(20, seed=5, spread=0.6)
    assert (classes[helped.head.probabilities(new).argmax(axis=1)] == np.array(new_truth)).mean() >= 0.85


def test_two_classes_give_two_probabilities_a_photo():
    vectors, names = blobs(10, seed=6, classes=2)
    fitted = fit(vectors, names, options=HeadOptions(semi_supervised=False))
    probabilities = fitted.head.probabilities(vectors)
    assert probabilities.shape == (20, 2)
    assert (np.array(fitted.head.classes)[probabilities.argmax(axis=1)] == np.array(names)).all()


def test_one_class_or_an_unknown_head_is_refused():
    vectors, _ = blobs(5, seed=7)
    with pytest.raises(ValueError, match="two classes"):
        fit(vectors, ["cats"] * len(vectors))
    with pytest.raises(ValueError, match="unknown head"):
        fit(vectors, ["a", "b", "c"] * 5, options=HeadOptions(head="forest"))


def test_calibration_makes_an_under_confident_head_as_sure_as_it_is_right():
    from imgsearch_cnn.search.classify.heads import scaled, temperature

    train, train_names = blobs(20, seed=1, spread=1.5, classes=6)  # overlapping classes: about half right
    held, held_names = blobs(30, seed=5, spread=1.5, classes=6)
    head = fit(train, train_names, options=HeadOptions(semi_supervised=False, regularisation=2)).head
    before = head.probabilities(held)
    t = temperature(head, held, held_names)
    after = scaled(head, t).probabilities(held)
    classes = np.array(head.classes)
    right = (classes[after.argmax(axis=1)] == np.array(held_names)).mean()
    assert t < 1  # heavily regularised: too unsure
    assert np.array_equal(before.argmax(axis=1), after.argmax(axis=1))  # same answers
    assert before.max(axis=1).mean() < right - 0.2  # before: far less sure than it is right
    assert abs(after.max(axis=1).mean() - right) < 0.05  # after: about as sure as it is right


def test_calibration_ignores_classes_the_head_never_saw():
    from imgsearch_cnn.search.classify.heads import temperature

    train, train_names = blobs(20, seed=1)
    head = fit(train, train_names, options=HeadOptions(semi_supervised=False)).head
    assert temperature(head, train[:2], ["a class it never saw"] * 2) == 1.0
