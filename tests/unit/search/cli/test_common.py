"""cli/common: numbers are finite and in range, output folders are checked before any work."""

import click
import pytest

from imgsearch_cnn.search.cli import common


def test_finite_float_refuses_nan_infinity_and_out_of_range():
    kind = common.FiniteFloat(0, 1)
    assert kind.convert("0.5", None, None) == 0.5
    for bad in ("nan", "inf", "1.5", "x"):
        with pytest.raises(click.BadParameter):
            kind.convert(bad, None, None)


def test_missing_output_folder_exits_2_with_one_line(tmp_path, capsys):
    common.check_outputs(str(tmp_path / "ok.csv"), None)
    with pytest.raises(SystemExit) as stop:
        common.check_outputs(str(tmp_path / "no" / "such" / "r.html"))
    assert stop.value.code == common.USAGE_ERROR
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_the_index_option_names_the_index_a_failure_happened_in(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.argv", ["imgsearch", "dupes", "--index", str(tmp_path / "i")])
    assert common.index_from_argv() == tmp_path / "i"
    monkeypatch.setattr("sys.argv", ["imgsearch", "info", f"--index={tmp_path / 'j'}"])
    assert common.index_from_argv() == tmp_path / "j"
