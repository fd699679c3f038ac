"""The `imgsearch` command: parses options, calls the library, prints. No work of its own.

Exit codes: 0 success, 1 the work ran but some files failed, 2 usage or input error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

INDEX_HELP = "Index folder (default: $IMGSEARCH_INDEX, else the nearest indexes/default)."


def _index_path(index: str | None) -> Path:
    from indexer.store import default_location

    return Path(index) if index else default_location()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imgsearch")
def main() -> None:
    """Search and clean up a photo collection with CNN embeddings (FAISS + LMDB index)."""


@main.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--index", "index", help=INDEX_HELP)
@click.option("--model", default=None, help="efficientnet-lite0 (default), efficientnet-lite1/2, timm:NAME, torchvision:NAME.")
@click.option("--weights", default=None, type=click.Path(exists=True, dir_okay=False), help="Local weights file for --model.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Images per batch (default: 32 on CPU, 256 on CUDA).")
@click.option("--workers", type=click.IntRange(0), default=None, help="Decoding processes (default: 0 on 2 cores, about half the cores beyond two; 0 = in the main process).")
@click.option("--rebuild", is_flag=True, help="Delete the index first and build it again (e.g. for another model).")
def index(folders, index, model, weights, device, batch_size, workers, rebuild) -> None:
    """Index the photos in FOLDERS. Incremental: only new, changed, moved or deleted files cost work."""
    import shutil

    from indexer.store import StoreError
    from indexer.update import IndexOptions, open_for_model, update_index
    from search import report

    path = _index_path(index)
    if rebuild and (path / "meta.lmdb").exists():
        shutil.rmtree(path)
    try:
        store, spec = open_for_model(path, model, weights, writable=True)
    except (StoreError, ValueError, RuntimeError) as exc:
        _fail(str(exc))
    with store, report.progress() as progress:
        try:
            summary = update_index(store, folders, spec, IndexOptions(device, batch_size, workers), progress)
        except (StoreError, RuntimeError) as exc:
            _fail(str(exc))
    report.print_summary(summary, path)
    sys.exit(1 if summary.failed else 0)


@main.command()
@click.argument("queries", nargs=-1, required=True)
@click.option("--index", "index", help=INDEX_HELP)
@click.option("-k", "k", type=click.IntRange(1), default=10, show_default=True, help="Number of matches.")
@click.option("--min-score", type=float, default=-1.0, help="Only matches with cosine similarity at least this.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--features", type=click.Choice(["cnn", "color"]), default="cnn", show_default=True,
              help="cnn: what the photo shows; color: HSV colour histogram.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def similar(queries, index, k, min_score, device, features, as_json) -> None:
    """Photos most similar to QUERIES (several files make one combined query)."""
    from indexer.store import StoreError
    from indexer.update import open_for_model
    from search import report
    from search.similar import QueryError, similar as find

    try:
        store, spec = open_for_model(_index_path(index), None, None, writable=False)
        with store:
            matches = find(store, spec, list(queries), k, min_score, device, features)
    except (StoreError, QueryError) as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps([{"path": m.path, "score": round(m.score, 6)} for m in matches], indent=2))
    else:
        report.print_matches(matches)


@main.command()
@click.option("--index", "index", help=INDEX_HELP)
@click.option("--failures", is_flag=True, help="List the files that could not be read, and why.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(index, failures, as_json) -> None:
    """What is in the index: photos, model, dimensions, size on disk, failures."""
    from indexer.store import Store, StoreError
    from search import report

    try:
        with Store.open(_index_path(index)) as store:
            facts = report.index_facts(store)
            failed = store.failures()
    except StoreError as exc:
        _fail(str(exc))
    if as_json:
        if failures:
            facts["failures"] = failed
        click.echo(json.dumps(facts, indent=2))
    else:
        report.print_info(facts, failed if failures else None)


@main.command()
@click.option("--index", "index", help=INDEX_HELP)
@click.option("--dedupe", is_flag=True, help="Find duplicate groups instead of clusters (see the dedupe options).")
@click.option("--method", type=click.Choice(["kmeans", "dbscan", "hdbscan", "agglomerative"]), default="kmeans", show_default=True)
@click.option("--k", "k", default="auto", show_default=True, help="Number of clusters, or auto (k-means, agglomerative).")
@click.option("--metric", default="cosine", show_default=True, help="cosine, euclidean, manhattan or minkowski:P.")
@click.option("--features", type=click.Choice(["cnn", "color"]), default="cnn", show_default=True)
@click.option("--eps", type=float, default=None, help="DBSCAN radius (default: estimated).")
@click.option("--min-samples", type=click.IntRange(2), default=5, show_default=True, help="DBSCAN/HDBSCAN density.")
@click.option("--fit-limit", type=click.IntRange(100), default=20_000, show_default=True,
              help="DBSCAN/HDBSCAN/agglomerative fit on this many photos; the rest join their nearest.")
@click.option("--k-plot", type=click.Path(dir_okay=False), default=None, help="With --k auto: where to save the criterion plot (PNG).")
@click.option("--preset", type=click.Choice(["exact", "near", "similar"]), default="near", show_default=True,
              help="Dedupe: exact copies only; near-duplicates; or also different shots of one scene.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Dedupe: accept pairs whose CNN cosine similarity is at least this (near=0.95, similar=0.80).")
@click.option("--max-group-size", type=click.IntRange(2), default=100, show_default=True)
@click.option("--keep", "keep_rules", default="resolution,size,oldest,shortest", show_default=True,
              help="Dedupe: keeper rules in order: resolution, size, oldest, newest, format:heic>jpg, path:PREFIX, shortest.")
@click.option("--reference", "references", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Dedupe: a folder whose files always win and are never changed (repeatable).")
@click.option("--move-to", type=click.Path(file_okay=False), default=None, help="Dedupe action: move duplicates here (keeps folder structure).")
@click.option("--trash", "action", flag_value="trash", help="Dedupe action: send duplicates to the OS trash.")
@click.option("--hardlink", "action", flag_value="hardlink", help="Dedupe action: replace identical copies by hard links.")
@click.option("--symlink", "action", flag_value="symlink", help="Dedupe action: replace identical copies by symbolic links.")
@click.option("--delete", "action", flag_value="delete", help="Dedupe action: delete duplicates permanently (needs --yes).")
@click.option("--apply", is_flag=True, help="Dedupe: carry the action out (without it: a dry run that only shows the plan).")
@click.option("--yes", is_flag=True, help="Confirm --delete.")
@click.option("--ignore", "ignore_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Mark these files as not duplicates of each other, for good (repeat for each file).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), default=None, help="Write a CSV file.")
@click.option("--html", "html_out", type=click.Path(), default=None,
              help="Write HTML: a folder of contact sheets (clusters) or one page (--dedupe).")
def groups(index, dedupe, method, k, metric, features, eps, min_samples, fit_limit, k_plot, preset, threshold,
           max_group_size, keep_rules, references, move_to, action, apply, yes, ignore_files, as_json, csv_file,
           html_out) -> None:
    """Cluster the collection (saved in the index), or with --dedupe find duplicate groups and clean up."""
    if dedupe or ignore_files:
        _dedupe(index, preset, threshold, max_group_size, keep_rules, references, move_to, action, apply, yes,
                ignore_files, as_json, csv_file, html_out)
        return
    from indexer.store import StoreError
    from search import grouping, report
    from search.cluster import ClusterOptions

    if k != "auto" and not k.isdigit():
        _fail("--k takes a number or auto")
    options = ClusterOptions(method=method, k=None if k == "auto" else int(k), metric=metric, eps=eps,
                             min_samples=min_samples, fit_limit=fit_limit)
    try:
        outcome = grouping.run(_index_path(index), options, features, k_plot)
    except (StoreError, ValueError) as exc:
        _fail(str(exc))
    _emit(grouping, outcome, csv_file, html_out, as_json, report.print_clusters)


def _emit(job, outcome, csv_file, html_out, as_json, show) -> None:
    """Write the outputs asked for; ``job`` is the module with write_csv, write_html, to_json."""
    if csv_file:
        job.write_csv(outcome, Path(csv_file))
    if html_out:
        click.echo(f"HTML written: {job.write_html(outcome, Path(html_out))}", err=True)
    if as_json:
        click.echo(json.dumps(job.to_json(outcome), indent=2))
    else:
        show(outcome)


def _dedupe(index, preset, threshold, max_group_size, keep_rules, references, move_to, action, apply, yes,
            ignore_files, as_json, csv_file, html_out) -> None:
    import os

    from indexer.store import Store, StoreError
    from search import actions, cleanup, dedupe, keep, report

    path = _index_path(index)
    if ignore_files:
        try:
            with Store.open(path, writable=True) as store:
                added = dedupe.add_ignored(store, [os.path.abspath(f) for f in ignore_files])
        except (StoreError, ValueError) as exc:
            _fail(str(exc))
        click.echo(f"{added} pair(s) marked as not duplicates; they will not be grouped again")
        return
    if move_to and action:
        _fail("choose one action: --move-to, --trash, --hardlink, --symlink or --delete")
    action = "move" if move_to else action or "report"
    if action == "delete" and apply and not yes:
        _fail("--delete is permanent: add --yes to confirm (or use --trash / --move-to, which undo can revert)")
    try:
        options = dedupe.DedupeOptions(preset=preset, threshold=threshold, max_group_size=max_group_size,
                                       keep_rules=keep.parse_rules(keep_rules),
                                       references=[os.path.abspath(r) for r in references])
        outcome = cleanup.run(path, options, action, move_to, apply, yes)
    except (StoreError, ValueError, actions.ActionError) as exc:
        _fail(str(exc))
    _emit(cleanup, outcome, csv_file, html_out, as_json, report.print_dedupe)


@main.command()
@click.option("--index", "index", help=INDEX_HELP)
def undo(index) -> None:
    """Revert the last applied clean-up (moves, trash, links; permanent deletes cannot be undone)."""
    from indexer.store import Store, StoreError
    from search import actions

    try:
        with Store.open(_index_path(index), writable=True) as store:
            outcome = actions.undo(store)
    except StoreError as exc:
        _fail(str(exc))
    if outcome.journal:
        click.echo(f"restored {outcome.restored} file(s) from {outcome.journal.name}")
    for problem in outcome.problems:
        click.echo(problem, err=True)
    sys.exit(1 if outcome.problems and outcome.journal else 0)


@main.command(name="map")
@click.option("--index", "index", help=INDEX_HELP)
@click.option("--out", type=click.Path(dir_okay=False), default="map.png", show_default=True, help="PNG file to write.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), default=None, help="Also write an interactive HTML map.")
@click.option("--sample", type=click.IntRange(10), default=3000, show_default=True, help="Photos drawn on the map at most.")
@click.option("--method", type=click.Choice(["auto", "tsne", "umap"]), default="auto", show_default=True,
              help="auto: UMAP when installed, else t-SNE.")
@click.option("--features", type=click.Choice(["cnn", "color"]), default="cnn", show_default=True)
def map_command(index, out, html_file, sample, method, features) -> None:
    """A 2-D map of the collection with thumbnails, coloured by the saved clusters."""
    from indexer.store import StoreError
    from search import grouping

    try:
        written = grouping.draw_map(_index_path(index), Path(out), Path(html_file) if html_file else None,
                                    sample, method, features)
    except (StoreError, ValueError) as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
