"""`imgsearch index FOLDER...`"""

from __future__ import annotations

import sys

import click

from imgsearch_cnn.search.cli.common import SOME_FAILED, fail, index_option, index_path, store_failed

DEVICES = click.Choice(["auto", "cpu", "cuda"])


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True))
@index_option
@click.option("--model", default=None, help="efficientnet-lite0 (default), efficientnet-lite1/2, timm:NAME, torchvision:NAME.")
@click.option("--weights", default=None, type=click.Path(exists=True, dir_okay=False), help="Local weights file for --model.")
@click.option("--device", type=DEVICES, default="auto", show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Images per batch (default: 32 on CPU, 256 on CUDA).")
@click.option("--workers", type=click.IntRange(0), default=None,
              help="Decoding processes (default: 0 on 2 cores, about half the cores beyond two, on CUDA all cores but two; 0 = in the main process).")
@click.option("--rebuild", is_flag=True, help="Delete the index first and build it again (e.g. for another model).")
@click.option("--compact", is_flag=True,
              help="Rewrite the index's database with full pages now (done by itself once the photo count has "
                   "grown by a quarter since the last time, from 10,000 photos).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="ray: read, decode and embed on a Ray cluster's workers (pip install 'imgsearch-cnn[ray]'); "
                   "this process still writes the index.")
@click.option("--address", default=None,
              help="With --engine ray: the cluster to join (e.g. ray://head:10001 or auto); default: start a local Ray.")
def index(folders, index, model, weights, device, batch_size, workers, rebuild, compact, engine, address) -> None:
    """Index the photos in FOLDERS. Incremental: only new, changed, moved or deleted files cost work."""
    if address and engine != "ray":
        fail("--address needs --engine ray")
    if engine == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            fail("--engine ray needs Ray: pip install 'imgsearch-cnn[ray]'")
    from imgsearch_cnn.indexer import layout
    from imgsearch_cnn.indexer.store import StoreError
    from imgsearch_cnn.indexer.update import IndexOptions, open_for_model, update_index
    from imgsearch_cnn.search.render import terminal
    from imgsearch_cnn.search.similar import adapt

    path = index_path(index)
    if rebuild and layout.is_index(path):
        layout.remove(path)
    try:
        store, spec = open_for_model(path, model, weights, writable=True, create=True)
    except (StoreError, ValueError, RuntimeError) as exc:
        store_failed(exc)
    with store, terminal.progress() as progress:
        try:
            summary = update_index(store, folders, spec, IndexOptions(device, batch_size, workers, engine, address, compact or None),
                                   progress)
            adapt.current(store)  # learned again here when the collection changed enough, not at query time
        except (StoreError, RuntimeError) as exc:
            store_failed(exc)
    terminal.print_summary(summary, path)
    sys.exit(SOME_FAILED if summary.failed else 0)
