"""`imgsearch index FOLDER...`"""

from __future__ import annotations

import sys

import click

from imgsearch_cnn.search.cli.common import SOME_FAILED, index_option, index_path, store_failed

DEVICES = click.Choice(["auto", "cpu", "cuda"])


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True))
@index_option
@click.option("--model", default=None, help="efficientnet-lite0 (default), efficientnet-lite1/2, timm:NAME, torchvision:NAME.")
@click.option("--weights", default=None, type=click.Path(exists=True, dir_okay=False), help="Local weights file for --model.")
@click.option("--device", type=DEVICES, default="auto", show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Images per batch (default: 32 on CPU, 256 on CUDA).")
@click.option("--workers", type=click.IntRange(0), default=None,
              help="Decoding processes (default: 0 on 2 cores, about half the cores beyond two; 0 = in the main process).")
@click.option("--rebuild", is_flag=True, help="Delete the index first and build it again (e.g. for another model).")
def index(folders, index, model, weights, device, batch_size, workers, rebuild) -> None:
    """Index the photos in FOLDERS. Incremental: only new, changed, moved or deleted files cost work."""
    from imgsearch_cnn.indexer import layout
    from imgsearch_cnn.indexer.store import StoreError
    from imgsearch_cnn.indexer.update import IndexOptions, open_for_model, update_index
    from imgsearch_cnn.search.render import terminal

    path = index_path(index)
    if rebuild and layout.is_index(path):
        layout.remove(path)
    try:
        store, spec = open_for_model(path, model, weights, writable=True, create=True)
    except (StoreError, ValueError, RuntimeError) as exc:
        store_failed(exc)
    with store, terminal.progress() as progress:
        try:
            summary = update_index(store, folders, spec, IndexOptions(device, batch_size, workers), progress)
        except (StoreError, RuntimeError) as exc:
            store_failed(exc)
    terminal.print_summary(summary, path)
    sys.exit(SOME_FAILED if summary.failed else 0)
