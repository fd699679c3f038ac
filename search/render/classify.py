"""Output of `imgsearch train`, `classify` and `models`: terminal tables, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json

from rich.table import Table

from imgsearch_cnn.search.render.terminal import console

UNSURE = "unsure"


def print_trained(outcome) -> None:
    model = outcome.classifier
    table = Table(show_header=True, title=f"classifier {model.name!r}: {len(model.classes)} classes")
    table.add_column("class")
    table.add_column("labelled photos", justify="right")
    for name, count in outcome.per_class.items():
        table.add_row(name, str(count))
    console.print(table)
    how = "with the index's other photos (semi-supervised)" if model.semi_supervised else "on the labelled photos only"
    if model.finetuned:
        how = (f"on a fine-tuned network ({len(model.epoch_seconds)} epochs, "
               f"{sum(model.epoch_seconds) / len(model.epoch_seconds):.0f} s each)")
    console.print(f"head: {model.head.kind}, trained {how}; {outcome.unlabelled:,} unlabelled photos took part")
    if model.validation_accuracy is None:
        console.print("validation: not measured (every class needs 5 photos or more to hold some out)")
    else:
        console.print(f"validation accuracy: {model.validation_accuracy:.3f} on {model.validation_photos} held-out labelled photos")
    console.print(f"saved as {outcome.saved} in {outcome.seconds:.1f} s")


def rows(predictions, operations=None) -> list[dict]:
    """One row a photo; with a sorting plan, where it goes ("move_to") or why it stays ("stays")."""
    planned = {op.path: op for op in operations or [] if not op.sidecar_of}
    out = []
    for p in predictions:
        row = {"path": p.path, "label": p.label if p.sure else UNSURE, "best": p.label,
               "probability": round(p.probability, 4), "source": p.source}
        if operations is not None:
            op = planned.get(p.path)
            row["move_to"] = op.target if op and not op.skip else None
            row["stays"] = op.skip if op and op.skip else None
        out.append(row)
    return out


def print_predictions(predictions) -> None:
    table = Table(show_header=True)
    table.add_column("label")
    table.add_column("probability", justify="right")
    table.add_column("path", overflow="fold")
    for row in rows(predictions):
        label = row["label"] if row["label"] != UNSURE else f"unsure ({row['best']}?)"
        table.add_row(label, f"{row['probability']:.3f}", row["path"])
    console.print(table)
    counts: dict[str, int] = {}
    for row in rows(predictions):
        counts[row["label"]] = counts.get(row["label"], 0) + 1
    console.print(", ".join(f"{name} {count}" for name, count in sorted(counts.items())))


def predictions_json(predictions, operations=None) -> str:
    return json.dumps(rows(predictions, operations), indent=2)


def predictions_csv(predictions, operations=None) -> str:
    table = rows(predictions, operations)
    out = io.StringIO()
    fields = ["path", "label", "best", "probability", "source"] + (["move_to", "stays"] if operations is not None else [])
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


def print_sort(operations, applied: bool, journal) -> None:
    """What sorting into folders did (or, in a dry run, would do)."""
    photos = [op for op in operations if not op.sidecar_of]
    moving = [op for op in photos if not op.skip]
    sidecars = sum(1 for op in operations if op.sidecar_of and not op.skip)
    reasons: dict[str, int] = {}
    for op in photos:
        if op.skip:
            reasons[op.skip] = reasons.get(op.skip, 0) + 1
    verb = "moved" if applied else "would move"
    extra = f" (+{sidecars} sidecar files)" if sidecars else ""
    console.print(f"{verb} {len(moving)} photos{extra} into one folder per class; "
                  + (", ".join(f"{n} stay: {why}" for why, n in sorted(reasons.items())) or "none stay"))
    if applied and journal:
        console.print(f"journal: {journal} (`imgsearch undo` puts them back; `imgsearch index` the new folders "
                      "to find them there)")
    elif not applied and moving:
        console.print("dry run: nothing was moved; add --apply to sort them")


def print_models(models) -> None:
    if not models:
        console.print("no classifiers in this index: train one with `imgsearch train FOLDER --name NAME`")
        return
    table = Table(show_header=True)
    for column in ("name", "classes", "head", "labelled photos", "validation accuracy", "created"):
        table.add_column(column)
    for model in models:
        accuracy = "" if model.validation_accuracy is None else f"{model.validation_accuracy:.3f}"
        head = model.head.kind + (" + unlabelled" if model.semi_supervised else "") + (" + fine-tuned" if model.finetuned else "")
        shown = ", ".join(model.classes[:4]) + (f", ... ({len(model.classes)})" if len(model.classes) > 4 else "")
        table.add_row(model.name, shown, head, str(len(model.training)), accuracy, model.created)
    console.print(table)
