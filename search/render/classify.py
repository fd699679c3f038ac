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
    console.print(f"head: {model.head.kind}, trained {how}; {outcome.unlabelled:,} unlabelled photos took part")
    if model.validation_accuracy is None:
        console.print("validation: not measured (every class needs 5 photos or more to hold some out)")
    else:
        console.print(f"validation accuracy: {model.validation_accuracy:.3f} on {model.validation_photos} held-out labelled photos")
    console.print(f"saved as {outcome.saved} in {outcome.seconds:.1f} s")


def rows(predictions) -> list[dict]:
    return [{"path": p.path, "label": p.label if p.sure else UNSURE, "best": p.label,
             "probability": round(p.probability, 4), "source": p.source} for p in predictions]


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


def predictions_json(predictions) -> str:
    return json.dumps(rows(predictions), indent=2)


def predictions_csv(predictions) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["path", "label", "best", "probability", "source"])
    writer.writeheader()
    writer.writerows(rows(predictions))
    return out.getvalue()


def print_models(models) -> None:
    if not models:
        console.print("no classifiers in this index: train one with `imgsearch train FOLDER --name NAME`")
        return
    table = Table(show_header=True)
    for column in ("name", "classes", "head", "labelled photos", "validation accuracy", "created"):
        table.add_column(column)
    for model in models:
        accuracy = "" if model.validation_accuracy is None else f"{model.validation_accuracy:.3f}"
        head = model.head.kind + (" + unlabelled" if model.semi_supervised else "")
        shown = ", ".join(model.classes[:4]) + (f", ... ({len(model.classes)})" if len(model.classes) > 4 else "")
        table.add_row(model.name, shown, head, str(len(model.training)), accuracy, model.created)
    console.print(table)
