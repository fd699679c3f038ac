"""Terminal output: progress bars, summary tables, match lists. Plain text when not a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)

_STAGES = {"scan": "Scanning", "hash": "Hashing", "embed": "Embedding", "check": "Checking candidate pairs",
           "prepare": "Reading photos to check",
           "finetune": "Fine-tuning", "choose-k": "Choosing k", "methods": "Trying clustering methods",
           "train": "Training clustering heads"}
_UNITS = {"check": "pairs", "prepare": "photos", "finetune": "photos", "choose-k": "values of k",
          "methods": "methods", "train": "epochs"}
_ONE = {"pairs": "pair", "photos": "photo", "files": "file", "values of k": "value of k", "methods": "method",
        "epochs": "epoch"}


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} {task.fields.get('unit', 'images')}/s" if speed else "", style="cyan")


@contextmanager
def progress() -> Iterator:
    """A callback progress(stage, done, total): a live bar on a terminal, a line per stage otherwise."""
    if not err_console.is_terminal:
        finished: set[str] = set()

        def plain(stage: str, done: int, total: int) -> None:
            if done >= total and stage not in finished:
                finished.add(stage)
                unit = _UNITS.get(stage, "files")
                print(f"{_STAGES.get(stage, stage)}: {done:,} {_ONE.get(unit, unit) if done == 1 else unit}",
                      file=sys.stderr, flush=True)

        yield plain
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def live(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total, unit=_UNITS.get(stage, "images"))
            bar.update(tasks[stage], completed=done, total=total)

        yield live


def _size(count: int) -> str:
    return f"{count / 1e9:.2f} GB" if count >= 1e9 else f"{count / 1e6:.1f} MB"


def print_summary(summary, index_path: Path) -> None:
    table = Table(title=f"imgsearch index -> {index_path}", show_header=True)
    for name in ("new", "updated", "moved", "removed", "unchanged", "failed", "time", "images/s"):
        table.add_column(name, justify="right")
    table.add_row(
        f"{summary.new:,}", f"{summary.updated:,}", f"{summary.moved:,}", f"{summary.removed:,}",
        f"{summary.unchanged:,}", f"{summary.failed:,}", f"{summary.seconds:.1f} s",
        f"{summary.images_per_second:,.1f}",
    )
    console.print(table)
    if summary.embedded:
        console.print(f"embedded {summary.embedded:,} images on {summary.device}")
    else:
        console.print("nothing new to embed: the index is up to date")
    for path, reason in summary.failures[:20]:
        console.print(f"[yellow]skipped[/] {path}: {reason}", markup=True, highlight=False)
    if len(summary.failures) > 20:
        console.print(f"... and {len(summary.failures) - 20} more: imgsearch info --failures")
    compacted = summary.compacted
    if compacted and compacted.skipped:
        console.print(f"the index's database was not compacted: {compacted.skipped} (the next `imgsearch index` "
                      "tries again)", highlight=False)
    elif compacted:
        console.print(f"compacted the index's database: {_size(compacted.bytes_before)} -> "
                      f"{_size(compacted.bytes_after)}")
    if summary.still_failing:
        console.print(f"{summary.still_failing:,} file(s) that failed before are unchanged and were not read "
                      "again (imgsearch info --failures)")


def print_matches(matches) -> None:
    table = Table(show_header=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("pixels", justify="right")
    table.add_column("path", overflow="fold")
    for rank, match in enumerate(matches, 1):
        rec = match.record
        table.add_row(str(rank), f"{match.score:.4f}", f"{rec.width}x{rec.height}" if rec else "", match.path)
    console.print(table)


def print_info(facts: dict, failures: dict | None) -> None:
    table = Table(show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key in ("index", "photos", "model", "dims", "schema_version", "vector_codec", "failures"):
        table.add_row(key, str(facts[key]))
    table.add_row("size on disk", f"{facts['size_on_disk_bytes'] / 1e6:,.1f} MB")
    console.print(table)
    if failures is None:
        if facts["failures"]:
            console.print("list them with: imgsearch info --failures")
        return
    if not failures:
        console.print("no failures")
    for path, value in sorted(failures.items()):
        console.print(f"{path}: {value['reason']}", markup=False, highlight=False)
