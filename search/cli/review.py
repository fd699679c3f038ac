"""`imgsearch review`: the local web app to look at, decide on and clean up duplicates and clusters."""

from __future__ import annotations

import click

from imgsearch_cnn.search.cli.common import (ENVIRONMENT_ERROR, fail, given_options, index_option, index_path,
                                             store_failed, with_options)
from imgsearch_cnn.search.cli.dupes import FIND_OPTIONS, dedupe_options


@click.command()
@index_option
@with_options(FIND_OPTIONS)
@click.option("--move-to", type=click.Path(file_okay=False), default=None,
              help="Deciding a group moves its duplicates to this folder (outside the indexed folders).")
@click.option("--trash", "action", flag_value="trash", default=True,
              help="Deciding a group sends its duplicates to the OS trash (the default).")
@click.option("--hardlink", "action", flag_value="hardlink", help="Deciding a group replaces byte-identical copies by hard links.")
@click.option("--symlink", "action", flag_value="symlink", help="Deciding a group replaces byte-identical copies by symbolic links.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; only print the address.")
@click.pass_context
def review(ctx, index, preset, threshold, max_group_size, keep_rules, references, move_to, action, port, no_browser) -> None:
    """Review duplicates and clusters in your browser, and clean up as you decide.

    Starts a local web app (on 127.0.0.1 only; the printed address carries a secret token) with
    the duplicate groups of `imgsearch dupes` (same options), the clusters saved by `imgsearch
    clusters` and similar photos. Each decision acts at once through the same engine as `dupes`
    (journaled; `imgsearch undo` or the Undo button reverts it); "not duplicates" is remembered.
    Nothing is ever deleted permanently from the browser. Stop it with Ctrl-C."""
    if move_to and "action" in given_options(ctx):
        fail(f"choose one action, not --move-to and --{action}")
    from imgsearch_cnn.indexer.store import StoreError
    from imgsearch_cnn.search.dupes.actions import ActionError
    from imgsearch_cnn.search.render import terminal
    from imgsearch_cnn.search.review import server
    from imgsearch_cnn.search.review.state import Review, ReviewError, ReviewOptions

    try:
        sock = server.bind(port)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", ENVIRONMENT_ERROR)
    try:
        options = ReviewOptions(dedupe_options(preset, threshold, max_group_size, keep_rules, references),
                                "move" if move_to else action, move_to)
        with terminal.progress() as progress:
            state = Review(index_path(index), options, progress)
    except (StoreError, ValueError, ActionError, ReviewError) as exc:
        sock.close()
        store_failed(exc)
    click.echo(f"{len(state.groups)} group(s) to review; deciding a group will {state.action_words()}", err=True)
    server.serve(state, sock, not no_browser,
                 lambda url: click.echo(f"imgsearch review is running at {url}  (Ctrl-C stops it)"))
