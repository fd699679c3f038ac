"""render/terminal: the index summary and the info table say what happened in plain words."""

from rich.console import Console

from imgsearch_cnn.indexer.update import Summary
from imgsearch_cnn.search.render import terminal


def printed(monkeypatch, function, *args) -> str:
    console = Console(width=80, record=True, color_system=None)
    monkeypatch.setattr(terminal, "console", console)
    function(*args)
    return console.export_text()


def test_an_up_to_date_index_says_so(monkeypatch, tmp_path):
    text = printed(monkeypatch, terminal.print_summary, Summary(unchanged=5, still_failing=1), tmp_path)
    assert "nothing new to embed" in text and "on none" not in text
    assert "1 file(s) that failed before are unchanged" in text


def test_a_run_that_embedded_names_the_device(monkeypatch, tmp_path):
    text = printed(monkeypatch, terminal.print_summary, Summary(new=3, embedded=3, device="cpu (fake)"), tmp_path)
    assert "embedded 3 images on cpu (fake)" in text


def test_info_lists_failures_when_asked(monkeypatch):
    facts = {"index": "/i", "photos": 2, "model": "m", "dims": 4, "schema_version": 1, "vector_codec": "uint8", "failures": 1,
             "size_on_disk_bytes": 2e6}
    text = printed(monkeypatch, terminal.print_info, facts, {"/p/x.jpg": {"reason": "not an image"}})
    assert "/p/x.jpg: not an image" in text and "2.0 MB" in text


def test_progress_off_a_terminal_is_one_line_per_finished_stage(capsys):
    with terminal.progress() as progress:
        progress("prepare", 1, 2)
        progress("prepare", 2, 2)
        progress("prepare", 2, 2)
        progress("check", 1, 1)
    assert capsys.readouterr().err.splitlines() == ["Reading photos to check: 2 photos", "Checking candidate pairs: 1 pair"]
