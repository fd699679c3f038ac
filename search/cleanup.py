"""The `imgsearch groups --dedupe` job: find duplicate groups, plan an action, apply it if asked,
and write the report in the formats asked for."""

from __future__ import annotations

import csv
import html
import os
from dataclasses import dataclass
from pathlib import Path

from indexer.store import Store
from search import actions, dedupe


@dataclass
class CleanupOutcome:
    result: dedupe.DedupeResult
    operations: list[actions.Operation]
    journal: Path | None
    applied: bool


def run(index: Path, options: dedupe.DedupeOptions, action: str = "report", move_to: str | None = None,
        apply: bool = False, confirm_delete: bool = False) -> CleanupOutcome:
    """Find groups and plan ``action``; carry it out only with ``apply`` (dry run otherwise)."""
    with Store.open(index, writable=apply and action != "report") as store:
        if move_to:
            actions.check_move_to(store, move_to, options.references)
        result = dedupe.find_groups(store, options)
        root = actions.common_root(store) if action == "move" else "/"
        operations = actions.plan(result.groups, action, options.references, move_to, root)
        journal = None
        if apply and action != "report":
            journal = actions.apply(store, operations, confirm_delete, options.references)
    return CleanupOutcome(result, operations, journal, apply and action != "report")


def planned(outcome: CleanupOutcome) -> dict[str, actions.Operation]:
    return {op.path: op for op in outcome.operations}


def to_json(outcome: CleanupOutcome) -> dict:
    ops = planned(outcome)
    return {
        "groups": [
            {"keeper": group.keeper.path, "members": [
                {"path": m.record.path, "keeper": i == 0, "score": round(m.score, 4), "reason": m.reason,
                 "width": m.record.width, "height": m.record.height, "size": m.record.size, "taken": m.record.taken,
                 "action": "keep" if i == 0 else ops[m.record.path].describe() if m.record.path in ops else "keep"}
                for i, m in enumerate(group.members)]}
            for group in outcome.result.groups],
        "pairs_checked": outcome.result.pairs_checked,
        "accepted_by": outcome.result.stats,
        "seconds": round(outcome.result.seconds, 3),
        "applied": outcome.applied,
        "journal": str(outcome.journal) if outcome.journal else None,
    }


def write_csv(outcome: CleanupOutcome, out: Path) -> None:
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", "path", "keeper", "score", "reason", "width", "height", "size", "taken", "action"])
        for number, group in enumerate(to_json(outcome)["groups"], 1):
            for m in group["members"]:
                writer.writerow([number, m["path"], int(m["keeper"]), m["score"], m["reason"], m["width"],
                                 m["height"], m["size"], m["taken"] or "", m["action"]])


_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
section{background:#fff;border:1px solid #ddd;margin:0 0 1em;padding:.6em}
.row{display:flex;flex-wrap:wrap;gap:8px} figure{margin:0;width:210px;font-size:12px}
figure img{display:block;max-width:200px;max-height:200px} .keeper{outline:3px solid #2a2}
.keeper figcaption b{color:#2a2} figcaption{overflow-wrap:anywhere;color:#444}"""


def write_html(outcome: CleanupOutcome, out: Path) -> Path:
    """One self-contained page: the photos of each group side by side, keeper and plan marked."""
    from search.thumbnails import data_uris

    data = to_json(outcome)
    paths = [m["path"] for g in data["groups"] for m in g["members"]]
    thumbs = dict(zip(paths, data_uris(paths, 200)))
    sections = []
    for number, group in enumerate(data["groups"], 1):
        figures = "".join(
            f"<figure class='{'keeper' if m['keeper'] else 'dupe'}'><img src='{thumbs[m['path']]}' "
            f"alt='{html.escape(os.path.basename(m['path']))}'><figcaption>"
            f"<b>{'KEEP' if m['keeper'] else html.escape(m['action'])}</b><br>"
            f"score {m['score']:.3f} ({html.escape(m['reason'])})<br>{m['width']}x{m['height']}, "
            f"{m['size'] / 1e3:,.0f} kB{', ' + html.escape(m['taken']) if m['taken'] else ''}<br>"
            f"{html.escape(m['path'])}</figcaption></figure>" for m in group["members"])
        sections.append(f"<section><h2>Group {number}</h2><div class='row'>{figures}</div></section>")
    mode = "applied" if data["applied"] else "dry run: nothing has been changed"
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Duplicate groups</title>"
            f"<style>{_STYLE}</style></head><body><h1>{len(data['groups'])} duplicate groups ({mode})</h1>"
            f"{''.join(sections)}</body></html>")
    out.write_text(page, encoding="utf-8")
    return out
