"""The `imgsearch` command: parses options, calls the library, prints. No work of its own.

Exit codes: 0 success, 1 the work ran but some files failed (or undo left some behind), 2 usage or
input error (nothing was touched), 3 environment failure (disk full, read-only or forbidden
folder, index locked by another writer).
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


USAGE_ERROR, ENVIRONMENT_ERROR = 2, 3


def _fail(message: str, code: int = USAGE_ERROR) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _store_failed(exc: Exception) -> None:
    """A StoreError or a refused query or option: one line, exit 3 if the machine is the cause."""
    _fail(str(exc), ENVIRONMENT_ERROR if getattr(exc, "environment", False) else USAGE_ERROR)


class FiniteFloat(click.ParamType):
    """A float in [low, high]; NaN and infinities are refused."""

    name = "number"

    def __init__(self, low: float, high: float):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        import math

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{value} is not a number between {self.low:g} and {self.high:g}", param, ctx)
        return number


def _check_outputs(*files: str | None) -> None:
    """Refuse output files whose folder is missing or not writable, before any work starts."""
    import os

    for name in files:
        if not name:
            continue
        folder = os.path.dirname(os.path.abspath(name))
        if not os.path.isdir(folder):
            _fail(f"cannot write {name}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            _fail(f"cannot write {name}: folder {folder} is not writable", ENVIRONMENT_ERROR)


class _Group(click.Group):
    """One line for every error: usage errors exit 2, failures of the machine (full disk,
    permissions) exit 3, never a traceback for either."""

    def main(self, args=None, prog_name=None, **extra):
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
            _fail(exc.format_message() + hint)
        except click.ClickException as exc:
            _fail(exc.format_message())
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not isinstance(exc, OSError) and type(exc).__module__ != "lmdb":
                raise
            from indexer.store import explain

            _fail(explain(exc, getattr(exc, "filename", None) or _index_from_argv()), ENVIRONMENT_ERROR)


def _index_from_argv() -> Path:
    args = sys.argv
    for i, arg in enumerate(args):
        if arg == "--index" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--index="):
            return Path(arg.split("=", 1)[1])
    return _index_path(None)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
        store, spec = open_for_model(path, model, weights, writable=True, create=True)
    except (StoreError, ValueError, RuntimeError) as exc:
        _store_failed(exc)
    with store, report.progress() as progress:
        try:
            summary = update_index(store, folders, spec, IndexOptions(device, batch_size, workers), progress)
        except (StoreError, RuntimeError) as exc:
            _store_failed(exc)
    report.print_summary(summary, path)
    sys.exit(1 if summary.failed else 0)


@main.command()
@click.argument("queries", nargs=-1, required=True)
@click.option("--index", "index", help=INDEX_HELP)
@click.option("-k", "k", type=click.IntRange(1), default=10, show_default=True, help="Number of matches.")
@click.option("--min-score", type=FiniteFloat(-1, 1), default=-1.0, help="Only matches with cosine similarity at least this.")
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
        _store_failed(exc)
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
        _store_failed(exc)
    if as_json:
        if failures:
            facts["failures"] = failed
        click.echo(json.dumps(facts, indent=2))
    else:
        report.print_info(facts, failed if failures else None)


_DEDUPE_ONLY = ("preset", "threshold", "max_group_size", "keep_rules", "references", "move_to", "trash",
                "hardlink", "symlink", "delete", "apply", "yes")
_CLUSTER_ONLY = ("method", "k", "metric", "features", "eps", "min_samples", "fit_limit", "k_plot")


@main.command()
@click.option("--index", "index", help=INDEX_HELP)
@click.option("--dedupe", is_flag=True, help="Find duplicate groups instead of clusters (see the dedupe options).")
@click.option("--method", type=click.Choice(["kmeans", "dbscan", "hdbscan", "agglomerative"]), default="kmeans", show_default=True)
@click.option("--k", "k", default="auto", show_default=True, help="Number of clusters (1 or more), or auto (k-means, agglomerative).")
@click.option("--metric", default="cosine", show_default=True, help="cosine, euclidean, manhattan or minkowski:P.")
@click.option("--features", type=click.Choice(["cnn", "color"]), default="cnn", show_default=True)
@click.option("--eps", type=FiniteFloat(1e-9, 1e9), default=None, help="DBSCAN radius (default: estimated).")
@click.option("--min-samples", type=click.IntRange(2), default=5, show_default=True, help="DBSCAN/HDBSCAN density.")
@click.option("--fit-limit", type=click.IntRange(100), default=20_000, show_default=True,
              help="DBSCAN/HDBSCAN/agglomerative fit on this many photos; the rest join their nearest.")
@click.option("--k-plot", type=click.Path(dir_okay=False), default=None, help="With --k auto: where to save the criterion plot (PNG).")
@click.option("--preset", type=click.Choice(["exact", "near", "similar"]), default="near", show_default=True,
              help="Dedupe: exact copies only; near-duplicates; or also different shots of one scene.")
@click.option("--threshold", type=FiniteFloat(0, 1), default=None,
              help="Dedupe: accept pairs whose CNN cosine similarity is at least this (near=0.95, similar=0.80).")
@click.option("--max-group-size", type=click.IntRange(2), default=100, show_default=True)
@click.option("--keep", "keep_rules", default="resolution,size,oldest,shortest", show_default=True,
              help="Dedupe: keeper rules in order: resolution, size, oldest, newest, format:heic>jpg, path:PREFIX, shortest.")
@click.option("--reference", "references", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Dedupe: a folder whose files always win and are never changed (repeatable).")
@click.option("--move-to", type=click.Path(file_okay=False), default=None,
              help="Dedupe action: move duplicates to this folder, outside the indexed folders (keeps folder structure).")
@click.option("--trash", is_flag=True, help="Dedupe action: send duplicates to the OS trash.")
@click.option("--hardlink", is_flag=True, help="Dedupe action: replace byte-identical copies by hard links.")
@click.option("--symlink", is_flag=True, help="Dedupe action: replace byte-identical copies by symbolic links.")
@click.option("--delete", is_flag=True, help="Dedupe action: delete byte-identical copies permanently (needs --yes).")
@click.option("--apply", is_flag=True, help="Dedupe: carry the action out (without it: a dry run that only shows the plan).")
@click.option("--yes", is_flag=True, help="Confirm --delete.")
@click.option("--ignore", "ignore_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Mark these files as not duplicates of each other, for good (repeat for each file).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), default=None, help="Write a CSV file.")
@click.option("--html", "html_out", type=click.Path(), default=None,
              help="Write HTML: a folder of contact sheets (clusters) or one page (--dedupe).")
@click.pass_context
def groups(ctx, index, dedupe, method, k, metric, features, eps, min_samples, fit_limit, k_plot, preset, threshold,
           max_group_size, keep_rules, references, move_to, trash, hardlink, symlink, delete, apply, yes,
           ignore_files, as_json, csv_file, html_out) -> None:
    """Cluster the collection (saved in the index), or with --dedupe find duplicate groups and clean up."""
    given = {name for name in ctx.params
             if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT}
    if ignore_files:
        _ignore(index, ignore_files)
        return
    if dedupe:
        wrong = sorted(given & set(_CLUSTER_ONLY))
        if wrong:
            _fail(f"--{wrong[0].replace('_', '-')} is a clustering option; it does nothing with --dedupe")
        chosen = [name for name, on in (("move", bool(move_to)), ("trash", trash), ("hardlink", hardlink),
                                        ("symlink", symlink), ("delete", delete)) if on]
        _dedupe(index, preset, threshold, max_group_size, keep_rules, references, move_to, chosen, apply, yes,
                as_json, csv_file, html_out)
        return
    wrong = sorted(given & set(_DEDUPE_ONLY))
    if wrong:
        _fail(f"--{wrong[0].replace('_', '-')} is a duplicate-finding option: add --dedupe")
    from indexer.store import StoreError
    from search import grouping, report
    from search.cluster import ClusterOptions

    if k != "auto" and not (k.isdigit() and int(k) >= 1):
        _fail("--k takes a number of clusters (1 or more) or auto")
    _check_outputs(csv_file, k_plot, html_out)
    options = ClusterOptions(method=method, k=None if k == "auto" else int(k), metric=metric, eps=eps,
                             min_samples=min_samples, fit_limit=fit_limit)
    try:
        outcome = grouping.run(_index_path(index), options, features, k_plot)
    except (StoreError, ValueError) as exc:
        _store_failed(exc)
    _emit(grouping, outcome, csv_file, html_out, as_json, report.print_clusters)


def _emit(job, outcome, csv_file, html_out, as_json, show) -> None:
    """Print the result, then write the outputs asked for; ``job`` is the module with write_csv,
    write_html, to_json. The result is printed first, so that what was done is always reported."""
    if as_json:
        click.echo(json.dumps(job.to_json(outcome), indent=2))
    else:
        show(outcome)
    if csv_file:
        job.write_csv(outcome, Path(csv_file))
    if html_out:
        click.echo(f"HTML written: {job.write_html(outcome, Path(html_out))}", err=True)


def _ignore(index, files) -> None:
    import os

    from indexer.store import Store, StoreError
    from search import dedupe

    try:
        with Store.open(_index_path(index), writable=True) as store:
            added = dedupe.add_ignored(store, [os.path.realpath(f) for f in files])
    except (StoreError, ValueError) as exc:
        _store_failed(exc)
    click.echo(f"{added} pair(s) marked as not duplicates; they will not be grouped again")


def _dedupe(index, preset, threshold, max_group_size, keep_rules, references, move_to, chosen, apply, yes,
            as_json, csv_file, html_out) -> None:
    import os

    from indexer.store import StoreError
    from search import actions, cleanup, dedupe, keep, report

    if len(chosen) > 1:
        _fail(f"choose one action, not {' and '.join('--' + c.replace('move', 'move-to') for c in chosen)}")
    action = chosen[0] if chosen else "report"
    if apply and action == "report":
        _fail("--apply needs an action: --move-to DIR, --trash, --hardlink, --symlink or --delete")
    if action == "delete" and apply and not yes:
        _fail("--delete is permanent: add --yes to confirm (or use --trash / --move-to, which undo can revert)")
    _check_outputs(csv_file, html_out)
    try:
        options = dedupe.DedupeOptions(preset=preset, threshold=threshold, max_group_size=max_group_size,
                                       keep_rules=keep.parse_rules(keep_rules),
                                       references=[os.path.realpath(r) for r in references])
        outcome = cleanup.run(_index_path(index), options, action, move_to, apply, yes)
    except (StoreError, ValueError, actions.ActionError) as exc:
        _store_failed(exc)
    _emit(cleanup, outcome, csv_file, html_out, as_json, report.print_dedupe)


@main.command()
@click.option("--index", "index", help=INDEX_HELP)
def undo(index) -> None:
    """Revert the last applied clean-up (moves, trash, links; permanent deletes cannot be undone).

    Safe to run again after an interruption: it finishes the way back from wherever things stand."""
    from indexer.store import Store, StoreError
    from search import journal

    try:
        with Store.open(_index_path(index), writable=True) as store:
            outcome = journal.undo(store)
    except StoreError as exc:
        _store_failed(exc)
    if outcome.journal:
        click.echo(f"restored {outcome.restored} file(s) from {outcome.journal.name}")
    for line in outcome.lost:
        click.echo(line, err=True)
    for problem in outcome.problems:
        click.echo(problem, err=True)
    if outcome.journal and outcome.problems:
        click.echo("some files are not back yet: fix what is said above and run `imgsearch undo` again", err=True)
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

    _check_outputs(out, html_file)
    try:
        written = grouping.draw_map(_index_path(index), Path(out), Path(html_file) if html_file else None,
                                    sample, method, features)
    except (StoreError, ValueError) as exc:
        _store_failed(exc)
    for path in written:
        click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
