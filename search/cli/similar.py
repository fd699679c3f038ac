"""`imgsearch similar QUERY...`"""

from __future__ import annotations

import json

import click

from imgsearch_cnn.search.cli.common import FiniteFloat, index_option, index_path, store_failed
from imgsearch_cnn.search.cli.index import DEVICES


@click.command()
@click.argument("queries", nargs=-1, required=True)
@index_option
@click.option("-k", "k", type=click.IntRange(1), default=10, show_default=True, help="Number of matches.")
@click.option("--min-score", type=FiniteFloat(-1, 1), default=-1.0, help="Only matches with cosine similarity at least this.")
@click.option("--device", type=DEVICES, default="auto", show_default=True)
@click.option("--features", type=click.Choice(["cnn", "color"]), default="cnn", show_default=True,
              help="cnn: what the photo shows; color: HSV colour histogram.")
@click.option("--expand", type=click.IntRange(0), default=3, show_default=True,
              help="Query expansion: the query's N nearest photos join it first (better matches; 0 = off; CNN features).")
@click.option("--adapt/--no-adapt", default=True, show_default=True,
              help="Re-rank the best matches in a space learned from the collection (CNN features, 1,000 photos or more).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def similar(queries, index, k, min_score, device, features, expand, adapt, as_json) -> None:
    """Photos most similar to QUERIES (several files make one combined query)."""
    from imgsearch_cnn.indexer.embed import Embedder
    from imgsearch_cnn.indexer.store import StoreError
    from imgsearch_cnn.indexer.update import open_for_model
    from imgsearch_cnn.search.render import terminal
    from imgsearch_cnn.search.similar.query import QueryError, similar as find

    try:
        store, spec = open_for_model(index_path(index), None, None, writable=False)
        with store:
            matches = find(store, list(queries), lambda: Embedder(spec, device), spec.preprocessing, k,
                           min_score, features, expand, adapt)
    except (StoreError, QueryError) as exc:
        store_failed(exc)
    if as_json:
        click.echo(json.dumps([{"path": m.path, "score": round(m.score, 6)} for m in matches], indent=2))
    else:
        terminal.print_matches(matches)
