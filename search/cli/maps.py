"""`imgsearch map`"""

from __future__ import annotations

from pathlib import Path

import click

from imgsearch_cnn.search.cli.common import check_outputs, index_option, index_path, store_failed


@click.command(name="map")
@index_option
@click.option("--out", type=click.Path(dir_okay=False), default="map.png", show_default=True, help="PNG file to write.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), default=None, help="Also write an interactive HTML map.")
@click.option("--sample", type=click.IntRange(10), default=3000, show_default=True, help="Photos drawn on the map at most.")
@click.option("--method", type=click.Choice(["auto", "tsne", "umap"]), default="auto", show_default=True,
              help="auto: UMAP when installed, else t-SNE.")
@click.option("--features", type=click.Choice(["cnn", "color"]), default="cnn", show_default=True)
def map_command(index, out, html_file, sample, method, features) -> None:
    """A 2-D map of the collection with thumbnails, coloured by the saved clusters."""
    from imgsearch_cnn.indexer.store import Store, StoreError
    from imgsearch_cnn.search.clusters import job
    from imgsearch_cnn.search.render import maps

    check_outputs(out, html_file)
    try:
        with Store.open(index_path(index)) as store:
            points = job.map_points(store, sample, method, features)
    except (StoreError, ValueError) as exc:
        store_failed(exc)
    click.echo(f"wrote {maps.write_png(points, Path(out))}")
    if html_file:
        click.echo(f"wrote {maps.write_html(points, Path(html_file))}")
