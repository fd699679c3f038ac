"""`imgsearch groups` and `imgsearch groups --dedupe`: the original spellings of `clusters` and
`dupes`, kept as aliases that behave as they always did."""

from __future__ import annotations

import click

from imgsearch_cnn.search.cli import clusters, dupes
from imgsearch_cnn.search.cli.common import fail, given_options, index_option, output_options, with_options

_SHARED = {"as_json", "csv_file", "html_out"}


@click.command()
@index_option
@click.option("--dedupe", is_flag=True, help="Find duplicate groups (as `imgsearch dupes`) instead of clusters.")
@with_options(clusters.OPTIONS + dupes.OPTIONS)
@with_options(output_options("Write HTML: a folder of contact sheets (clusters) or one page (--dedupe).", click.Path()))
@click.pass_context
def groups(ctx, index, dedupe, **options) -> None:
    """Alias: `groups` = `imgsearch clusters`, `groups --dedupe` = `imgsearch dupes`."""
    given = given_options(ctx)
    if dedupe or options["ignore_files"]:
        wrong = sorted(given & (set(clusters.NAMES) - _SHARED))
        if wrong:
            fail(f"--{wrong[0].replace('_', '-')} is a clustering option; it does nothing with --dedupe")
        dupes.run(index, **{name: options[name] for name in dupes.NAMES})
        return
    wrong = sorted(given & (set(dupes.NAMES) - _SHARED))
    if wrong:
        fail(f"--{wrong[0].replace('_', '-')} is a duplicate-finding option: add --dedupe (or use imgsearch dupes)")
    clusters.run(index, **{name: options[name] for name in clusters.NAMES})
