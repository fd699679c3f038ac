"""`imgsearch review` refuses bad input in one line with its exit code, before serving anything."""

import socket

from commands import imgsearch
from fakes import photo_and_copy


def test_no_index_is_a_usage_error(tmp_path):
    result = imgsearch("review", "--no-browser", "--index", tmp_path / "nothing")
    assert result.returncode == 2 and result.stderr.startswith("error: no index at") and not result.stdout


def test_a_port_in_use_is_an_environment_error(tmp_path):
    _, idx = photo_and_copy(tmp_path)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        result = imgsearch("review", "--no-browser", "--index", idx, "--port", taken.getsockname()[1])
    finally:
        taken.close()
    assert result.returncode == 3 and "cannot listen on 127.0.0.1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_conflicting_or_unsafe_actions_are_refused(tmp_path):
    photos, idx = photo_and_copy(tmp_path)
    both = imgsearch("review", "--no-browser", "--index", idx, "--move-to", tmp_path / "out", "--hardlink")
    assert both.returncode == 2 and "choose one action" in both.stderr
    inside = imgsearch("review", "--no-browser", "--index", idx, "--move-to", photos / "dupes")
    assert inside.returncode == 2 and "inside the indexed folder" in inside.stderr
    assert not (photos / "dupes").exists() and sorted(p.name for p in photos.iterdir()) == ["a.jpg", "b.jpg"]
    assert "--delete" not in imgsearch("review", "--help").stdout  # never a permanent delete from the browser
