"""An index of three kinds of scene sorted into class folders, plus unsorted photos of each kind."""

import pytest

from fakes import fake_index
from photos import family, three_families


@pytest.fixture
def sorted_and_unsorted(tmp_path):
    """(labelled folder, unsorted folder, index): 3 classes x 10 labelled photos and 3 x 6 unsorted
    ones (named after their kind), all indexed by the fake embedder."""
    labelled = three_families(tmp_path)
    unsorted = tmp_path / "unsorted"
    family(unsorted / "a", (200, 20, 20), "disc", 6, 11)
    family(unsorted / "b", (20, 20, 200), "square", 6, 12)
    family(unsorted / "c", (20, 160, 20), "stripes", 6, 13)
    fake_index(tmp_path / "idx", [labelled, unsorted])
    return labelled, unsorted, tmp_path / "idx"
