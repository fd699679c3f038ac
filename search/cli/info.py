"""`imgsearch info`"""

from __future__ import annotations

import json

import click

from imgsearch_cnn.search.cli.common import index_option, index_path, store_failed


@click.command()
@index_option
@click.option("--failures", is_flag=True, help="List the files that could not be read, and why.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(index, failures, as_json) -> None:
    """What is in the index: photos, model, dimensions, size on disk, failures."""
    from imgsearch_cnn.indexer.store import Store, StoreError
    from imgsearch_cnn.search.render import terminal

    try:
        with Store.open(index_path(index)) as store:
            facts = store.facts()
            failed = store.failures()
    except StoreError as exc:
        store_failed(exc)
    if as_json:
        if failures:
            facts["failures"] = failed
        click.echo(json.dumps(facts, indent=2))
    else:
        terminal.print_info(facts, failed if failures else None)
