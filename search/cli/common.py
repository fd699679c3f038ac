"""What every command shares: the index option, one-line errors with exit codes, number and
output-path checks. Only click is imported here, so `imgsearch --help` stays instant."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import click

# Exit codes (README "Commands").
OK, SOME_FAILED, USAGE_ERROR, ENVIRONMENT_ERROR = 0, 1, 2, 3

INDEX_HELP = ("Index folder (default: $IMGSEARCH_INDEX, else indexes/default of the nearest folder with an "
              "indexes/ folder, else your user data folder).")
index_option = click.option("--index", "index", help=INDEX_HELP)


def index_path(index: str | None) -> Path:
    from imgsearch_cnn.indexer.layout import default_location

    return Path(index) if index else default_location()


def fail(message: str, code: int = USAGE_ERROR) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def store_failed(exc: Exception) -> None:
    """A refused index, query or option: one line; exit 3 if the machine is the cause, else 2."""
    fail(str(exc), ENVIRONMENT_ERROR if getattr(exc, "environment", False) else USAGE_ERROR)


class FiniteFloat(click.ParamType):
    """A float in [low, high]; NaN and infinities are refused."""

    name = "number"

    def __init__(self, low: float, high: float):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{value} is not a number between {self.low:g} and {self.high:g}", param, ctx)
        return number


def check_outputs(*files: str | None) -> None:
    """Refuse output files (or folders) whose parent folder is missing or not writable, before
    any work starts."""
    for name in files:
        if not name:
            continue
        folder = os.path.dirname(os.path.abspath(name))
        if not os.path.isdir(folder):
            fail(f"cannot write {name}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            fail(f"cannot write {name}: folder {folder} is not writable", ENVIRONMENT_ERROR)


def index_from_argv() -> Path:
    """The index a failing command was using (for naming the full disk in an error)."""
    args = sys.argv
    for i, arg in enumerate(args):
        if arg == "--index" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--index="):
            return Path(arg.split("=", 1)[1])
    return index_path(None)


def given_options(ctx: click.Context) -> set[str]:
    """Parameters the user typed (not left at their defaults)."""
    return {name for name in ctx.params if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT}


def emit(render, outcome, csv_file: str | None, html_out: str | None, as_json: bool, **extra) -> None:
    """Print the result, then write the files asked for; ``render`` is the module with
    print_table, to_json, write_csv and write_html. Printing comes first, so that what was done
    is always reported even if a file cannot be written."""
    import json

    if as_json:
        click.echo(json.dumps(render.to_json(outcome, **extra), indent=2))
    else:
        render.print_table(outcome, **extra)
    if csv_file:
        render.write_csv(outcome, Path(csv_file))
    if html_out:
        click.echo(f"HTML written: {render.write_html(outcome, Path(html_out))}", err=True)


def with_options(options: list):
    """A decorator applying a list of click options, in the order listed."""
    def apply(function):
        for option in reversed(options):
            function = option(function)
        return function
    return apply


def output_options(html_help: str, html_type: click.Path) -> list:
    return [
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option("--csv", "csv_file", type=click.Path(dir_okay=False), default=None, help="Write a CSV file."),
        click.option("--html", "html_out", type=html_type, default=None, help=html_help),
    ]
