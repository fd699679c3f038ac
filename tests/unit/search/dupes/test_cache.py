"""cache: a dupes run is reused while the index, the options and the ignore list are unchanged."""

from fakes import fake_index, photo_and_copy
from imgsearch_cnn.indexer.store import Store
from imgsearch_cnn.search.dupes import groups, ignore, job
from photos import draw_photo


def run(index, **options):
    with Store.open(index) as store:
        return job.run(store, groups.DedupeOptions(**options)).result


def test_a_second_run_reuses_the_first_until_something_changes(tmp_path):
    photos, index = photo_and_copy(tmp_path)
    first = run(index, preset="exact")
    again = run(index, preset="exact")
    assert not first.cached and again.cached
    assert [m.record for m in again.groups[0].members] == [m.record for m in first.groups[0].members]
    assert again.groups[0].keeper_reason == first.groups[0].keeper_reason
    assert not run(index, preset="near").cached  # other options: checked again
    draw_photo(9).save(photos / "new.jpg")
    fake_index(index, [photos])  # the collection changed
    assert not run(index, preset="exact").cached
    draw_photo(1).resize((160, 120)).save(photos / "c_small.jpg", quality=80)  # a near copy of a.jpg
    fake_index(index, [photos])
    assert any(str(photos / "c_small.jpg") in g.paths for g in run(index).groups)
    assert run(index).cached
    with Store.open(index, writable=True) as store:
        ignore.add_ignored(store, [str(photos / "a.jpg"), str(photos / "c_small.jpg")])
    after = run(index)  # the ignore list is part of the key
    assert not after.cached and not any(str(photos / "c_small.jpg") in g.paths for g in after.groups)
