"""`imgsearch train`, `imgsearch classify` and `imgsearch models`."""

from __future__ import annotations

import sys

import click

from imgsearch_cnn.search.cli.common import (SOME_FAILED, FiniteFloat, check_outputs, fail, index_option, index_path,
                                             store_failed)
from imgsearch_cnn.search.cli.index import DEVICES

NAME_HELP = "Name of the classifier in the index."


@click.command()
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False))
@index_option
@click.option("--name", default="default", show_default=True, help=NAME_HELP)
@click.option("--head", type=click.Choice(["logistic", "prototype"]), default="logistic", show_default=True,
              help="logistic: logistic regression; prototype: nearest class mean.")
@click.option("--labelled-only", is_flag=True, help="Do not let the index's other photos help (no semi-supervised step).")
@click.option("--from-clusters", is_flag=True,
              help="Learn from the last `imgsearch clusters` run instead of FOLDER (its most central members).")
@click.option("--names", metavar="N=NAME,...", help='With --from-clusters: names for clusters, e.g. "0=beach,3=cats".')
@click.option("--finetune", is_flag=True,
              help="Also train the network's last stage on the photos, with augmentation (slow on a CPU: minutes an epoch).")
@click.option("--epochs", type=click.IntRange(1), default=3, show_default=True, help="Epochs of --finetune.")
@click.option("--device", type=DEVICES, default="auto", show_default=True)
def train(folder, index, name, head, labelled_only, from_clusters, names, finetune, epochs, device) -> None:
    """Train a classifier from FOLDER: one sub-folder per class, named after it. Photos not yet in the
    index are indexed first; the index's other photos help (semi-supervised) where that measures better.
    With --from-clusters, the classes are the clusters of the last `imgsearch clusters` run."""
    if bool(folder) == from_clusters:
        fail("give a FOLDER of class sub-folders, or --from-clusters (not both)")
    if names and not from_clusters:
        fail("--names goes with --from-clusters")
    cluster_names = _cluster_names(names)
    from imgsearch_cnn.indexer.store import StoreError
    from imgsearch_cnn.indexer.update import IndexOptions, open_for_model, update_index
    from imgsearch_cnn.search.classify import train as training
    from imgsearch_cnn.search.classify.heads import HeadOptions
    from imgsearch_cnn.search.classify.model import check_name
    from imgsearch_cnn.search.render import classify as render, terminal

    from imgsearch_cnn.search.classify.finetune import FinetuneOptions

    options = training.TrainOptions(name, HeadOptions(head=head, semi_supervised=not labelled_only),
                                    finetune=FinetuneOptions(epochs=epochs, device=device) if finetune else None)
    failed = 0
    try:
        check_name(name)
        if folder:
            training.check_folder(folder)
        store, spec = open_for_model(index_path(index), None, None, writable=True, create=bool(folder))
        with store:
            if from_clusters:
                with terminal.progress() as progress:
                    outcome = training.train_on(store, training.from_clusters(store, cluster_names), options,
                                                "the saved clusters", spec, progress)
            else:
                with terminal.progress() as progress:
                    failed = update_index(store, [folder], spec, IndexOptions(device, None, None), progress).failed
                    outcome = training.train_on(store, training.labelled_photos(store, folder), options, folder,
                                                spec, progress)
    except (StoreError, ValueError, RuntimeError) as exc:
        store_failed(exc)
    render.print_trained(outcome)
    sys.exit(SOME_FAILED if failed else 0)


def _cluster_names(text: str | None) -> dict[int, str]:
    """ "0=beach,3=cats" -> {0: "beach", 3: "cats"}; exits 2 on anything else."""
    names: dict[int, str] = {}
    for part in filter(None, (text or "").split(",")):
        number, _, label = part.partition("=")
        if not number.strip().isdigit() or not label.strip():
            fail(f"--names: {part!r} is not N=NAME (e.g. \"0=beach,3=cats\")")
        names[int(number)] = label.strip()
    return names


@click.command()
@click.argument("files", nargs=-1)
@index_option
@click.option("--all", "every", is_flag=True, help="Classify every photo of the index.")
@click.option("--name", default="default", show_default=True, help=NAME_HELP)
@click.option("--min-confidence", type=FiniteFloat(0, 1), default=0.0, show_default=True,
              help="Photos whose best class is less probable than this are labelled 'unsure' (and stay put with "
                   "--move-to); 0: every photo gets its best class.")
@click.option("--device", type=DEVICES, default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Also write a CSV file.")
@click.option("--move-to", type=click.Path(file_okay=False),
              help="Sort the photos into MOVE_TO/<label>/ (a dry run: add --apply; `imgsearch undo` reverts).")
@click.option("--apply", is_flag=True, help="Carry out --move-to (otherwise only show what it would do).")
def classify(files, index, every, name, min_confidence, device, as_json, csv_file, move_to, apply) -> None:
    """A class and its probability for FILES (or --all photos of the index), by a trained classifier;
    with --move-to, sorted into one folder per class."""
    if bool(files) == every:
        fail("give photo files or --all (not both)")
    if apply and not move_to:
        fail("--apply needs --move-to DIR")
    check_outputs(csv_file)
    from imgsearch_cnn.indexer.store import StoreError
    from imgsearch_cnn.indexer.update import open_for_model
    from imgsearch_cnn.search.classify import model as models, sort
    from imgsearch_cnn.search.classify.predict import ClassifyError, classify as run, embedder_for
    from imgsearch_cnn.search.dupes.actions import ActionError
    from imgsearch_cnn.search.render import classify as render

    operations, journal = None, None
    try:
        store, spec = open_for_model(index_path(index), None, None, writable=apply)
        with store:
            model = models.load(store.path, name)
            if move_to:
                sort.check_move_to(store, move_to)  # before any work: a bad destination is one line
            predictions = run(store, model, None if every else list(files),
                              embedder_for(store.path, model, spec, device), spec.preprocessing, min_confidence)
            if move_to:
                operations = sort.plan(store, predictions, move_to)
                journal = sort.apply(store, operations) if apply else None
    except (StoreError, ClassifyError, models.ModelError, ActionError) as exc:
        store_failed(exc)
    if csv_file:
        with open(csv_file, "w", encoding="utf-8", newline="") as handle:
            handle.write(render.predictions_csv(predictions, operations))
    if as_json:
        click.echo(render.predictions_json(predictions, operations))
    else:
        render.print_predictions(predictions)
        if operations is not None:
            render.print_sort(operations, apply, journal)


@click.command()
@index_option
@click.option("--delete", "to_delete", metavar="NAME", help="Delete this classifier.")
def models(index, to_delete) -> None:
    """The classifiers trained in the index (imgsearch train)."""
    from imgsearch_cnn.search.classify import model as stored
    from imgsearch_cnn.search.render import classify as render

    path = index_path(index)
    try:
        if to_delete:
            stored.delete(path, to_delete)
            click.echo(f"deleted classifier {to_delete!r}")
            return
        render.print_models([stored.load(path, name) for name in stored.names(path)])
    except stored.ModelError as exc:
        store_failed(exc)
