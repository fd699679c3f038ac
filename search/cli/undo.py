"""`imgsearch undo`"""

from __future__ import annotations

import sys

import click

from imgsearch_cnn.search.cli.common import SOME_FAILED, index_option, index_path, store_failed


@click.command()
@index_option
def undo(index) -> None:
    """Revert the last applied clean-up (moves, trash, links; permanent deletes cannot be undone).

    Safe to run again after an interruption: it finishes the way back from wherever things stand."""
    from imgsearch_cnn.indexer.store import Store, StoreError
    from imgsearch_cnn.search.dupes import journal

    try:
        with Store.open(index_path(index), writable=True) as store:
            outcome = journal.undo(store)
    except StoreError as exc:
        store_failed(exc)
    if outcome.journal:
        click.echo(f"restored {outcome.restored} file(s) from {outcome.journal.name}")
    for line in outcome.lost + outcome.problems:
        click.echo(line, err=True)
    if outcome.journal and outcome.problems:
        click.echo("some files are not back yet: fix what is said above and run `imgsearch undo` again", err=True)
    sys.exit(SOME_FAILED if outcome.problems and outcome.journal else 0)
