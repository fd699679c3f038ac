"""`imgsearch dupes` (also `imgsearch dedupe`): duplicate groups, a keeper each, safe clean-up."""

from __future__ import annotations

import click

from imgsearch_cnn.search.cli.common import (FiniteFloat, check_outputs, emit, fail, index_option, index_path,
                                             output_options, store_failed, with_options)

ACTION_FLAGS = ("trash", "hardlink", "symlink", "delete")

# How groups are found: shared with `imgsearch review`.
FIND_OPTIONS = [
    click.option("--preset", type=click.Choice(["exact", "near", "similar"]), default="near", show_default=True,
                 help="exact: byte-identical copies only; near: edited copies; similar: looser, more similar shots found."),
    click.option("--threshold", type=FiniteFloat(0, 1), default=None,
                 help="Accept pairs whose CNN cosine similarity is at least this (near=0.95, similar=0.80)."),
    click.option("--max-group-size", type=click.IntRange(2), default=100, show_default=True),
    click.option("--keep", "keep_rules", default="original,earliest,resolution,size,oldest,shortest", show_default=True,
                 help="Keeper rules in order: original, earliest, resolution, size, metadata, oldest, newest, format:raw>jpg, "
                      "path:PREFIX, shortest."),
    click.option("--reference", "references", multiple=True, type=click.Path(exists=True, file_okay=False),
                 help="A folder whose files always win and are never changed (repeatable)."),
]
OPTIONS = FIND_OPTIONS + [
    click.option("--move-to", type=click.Path(file_okay=False), default=None,
                 help="Action: move duplicates to this folder, outside the indexed folders (keeps folder structure)."),
    click.option("--trash", is_flag=True, help="Action: send duplicates to the OS trash."),
    click.option("--hardlink", is_flag=True, help="Action: replace byte-identical copies by hard links."),
    click.option("--symlink", is_flag=True, help="Action: replace byte-identical copies by symbolic links."),
    click.option("--delete", is_flag=True, help="Action: delete byte-identical copies permanently (needs --yes)."),
    click.option("--include-similar-shots", is_flag=True,
                 help="Let the action touch similar shots too (bursts, series: other captures of one scene), "
                      "not only duplicates."),
    click.option("--apply", is_flag=True, help="Carry the action out (without it: a dry run that only shows the plan)."),
    click.option("--yes", is_flag=True, help="Confirm --delete."),
    click.option("--ignore", "ignore_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                 help="Remember that these files are NOT duplicates of each other (repeat once per file): they "
                      "are never grouped together again. Does nothing else."),
]
OUTPUTS = output_options("Write one self-contained HTML page with the photos of each group.", click.Path(dir_okay=False))
NAMES = ("preset", "threshold", "max_group_size", "keep_rules", "references", "move_to", *ACTION_FLAGS,
         "include_similar_shots", "apply",
         "yes", "ignore_files", "as_json", "csv_file", "html_out")


def run(index, preset, threshold, max_group_size, keep_rules, references, move_to, trash, hardlink, symlink,
        delete, include_similar_shots, apply, yes, ignore_files, as_json, csv_file, html_out) -> None:
    """Check every option, then find groups, plan, apply if asked, and print/write the report."""
    if ignore_files:
        _ignore(index, ignore_files)
        return
    chosen = [name for name, on in (("move-to", bool(move_to)), ("trash", trash), ("hardlink", hardlink),
                                    ("symlink", symlink), ("delete", delete)) if on]
    if len(chosen) > 1:
        fail(f"choose one action, not {' and '.join('--' + c for c in chosen)}")
    action = {"move-to": "move"}.get(chosen[0], chosen[0]) if chosen else "report"
    if include_similar_shots and action == "report":
        fail("--include-similar-shots needs an action: --move-to DIR, --trash, --hardlink, --symlink or --delete")
    if apply and action == "report":
        fail("--apply needs an action: --move-to DIR, --trash, --hardlink, --symlink or --delete")
    if action == "delete" and apply and not yes:
        fail("--delete is permanent: add --yes to confirm (or use --trash / --move-to, which undo can revert)")
    check_outputs(csv_file, html_out)
    from imgsearch_cnn.indexer.store import Store, StoreError
    from imgsearch_cnn.search.dupes import actions, job
    from imgsearch_cnn.search.render import dupes as render
    from imgsearch_cnn.search.render import terminal

    try:
        options = dedupe_options(preset, threshold, max_group_size, keep_rules, references)
        with Store.open(index_path(index), writable=apply and action != "report") as store, \
                terminal.progress() as progress:
            outcome = job.run(store, options, action, move_to, apply, yes, progress, include_similar_shots)
    except (StoreError, ValueError, actions.ActionError) as exc:
        store_failed(exc)
    emit(render, outcome, csv_file, html_out, as_json)


def dedupe_options(preset, threshold, max_group_size, keep_rules, references):
    """The library's options from FIND_OPTIONS (ValueError for bad keep rules)."""
    import os

    from imgsearch_cnn.search.dupes import groups, keep

    return groups.DedupeOptions(preset=preset, threshold=threshold, max_group_size=max_group_size,
                                keep_rules=keep.parse_rules(keep_rules),
                                references=[os.path.realpath(r) for r in references])


def _ignore(index, files) -> None:
    import os

    from imgsearch_cnn.indexer.store import Store, StoreError
    from imgsearch_cnn.search.dupes import ignore

    try:
        with Store.open(index_path(index), writable=True) as store:
            added = ignore.add_ignored(store, [os.path.realpath(f) for f in files])
    except (StoreError, ValueError) as exc:
        store_failed(exc)
    click.echo(f"{added} pair(s) marked as not duplicates; they will not be grouped again")


def _command(name: str, summary: str) -> click.Command:
    @click.command(name=name, help=summary + """

    Exact copies are found by content hash; near-duplicates by CNN neighbours checked by
    perceptual hashes and keypoint matching. Two tiers: duplicates (one capture, edited or
    re-encoded) and similar shots (bursts, series: told apart by capture times, camera file
    numbers and the pixels), reported apart; actions touch duplicates only unless
    --include-similar-shots. Each group has a keeper (see --keep). Nothing is changed without an
    action and --apply; `imgsearch undo` reverts the last clean-up.""")
    @index_option
    @with_options(OPTIONS + OUTPUTS)
    def command(index, **options) -> None:
        run(index, **options)

    return command


dupes = _command("dupes", "Find duplicate photos, choose a keeper in each group, and clean up safely.")
dedupe = _command("dedupe", "Same as `imgsearch dupes`.")
