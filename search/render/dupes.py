"""Output of `imgsearch dupes`: terminal tables, JSON, CSV and one self-contained HTML page."""

from __future__ import annotations

import csv
import html
import os
from collections import Counter
from pathlib import Path

from rich.table import Table

from imgsearch_cnn.search.dupes import keep
from imgsearch_cnn.search.dupes.groups import DUPLICATES, SHOTS
from imgsearch_cnn.search.render.page import page
from imgsearch_cnn.search.render.terminal import console


def _action(outcome, index: int, path: str, short: bool = False) -> str:
    if index == 0:
        return "keep (keeper)" if not short else "keep"
    op = outcome.planned().get(path)
    if op is None:
        return "keep"
    if short and not op.skip:
        said = {"move": "move", "trash": "trash", "delete": "delete", "report": "-"}.get(op.action, op.action)
    else:
        said = op.describe()
    carried = outcome.sidecars_of(path)
    return said + (f" +{carried} sidecar" + ("s" if carried > 1 else "") if carried and not op.skip else "")


def _tier(outcome, tier: str) -> list:
    return [g for g in outcome.result.groups if g.tier == tier]


def accepted_by(outcome) -> dict[str, int]:
    """How many reported duplicates each rule accepted (adds up to the number of duplicates)."""
    counts = Counter(m.reason for g in _tier(outcome, DUPLICATES) for m in g.members[1:])
    return {reason: counts.get(reason, 0) for reason in ("exact", "cosine", "phash", "local")}


def to_json(outcome) -> dict:
    return {
        "groups": [
            {"tier": group.tier, "keeper": group.keeper.path, "keeper_reason": group.keeper_reason, "members": [
                {"path": m.record.path, "keeper": i == 0, "score": round(m.score, 4), "reason": m.reason,
                 "shot": m.shot or None, "width": m.record.width, "height": m.record.height, "bytes": m.record.size,
                 "taken": m.record.taken, "metadata": sorted(keep.metadata_fields(m.record)),
                 "metadata_keeper_lacks": keep.metadata_lost(group.keeper, m.record) if i else [],
                 "action": _action(outcome, i, m.record.path)}
                for i, m in enumerate(group.members)]}
            for group in _tier(outcome, DUPLICATES) + _tier(outcome, SHOTS)],
        "duplicates": sum(len(g.members) - 1 for g in _tier(outcome, DUPLICATES)),
        "similar_shots": sum(len(g.members) - 1 for g in _tier(outcome, SHOTS)),
        "accepted_by": accepted_by(outcome),
        "pairs_checked": outcome.result.pairs_checked,
        "pairs_rejected": outcome.result.stats.get("rejected", 0),
        "seconds": round(outcome.result.seconds, 3),
        "reused": outcome.result.cached,
        "applied": outcome.applied,
        "journal": str(outcome.journal) if outcome.journal else None,
    }


def write_csv(outcome, out: Path) -> Path:
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", "tier", "path", "keeper", "score", "reason", "shot", "width", "height", "bytes",
                         "taken", "action"])
        for number, group in enumerate(to_json(outcome)["groups"], 1):
            for m in group["members"]:
                writer.writerow([number, group["tier"], m["path"], int(m["keeper"]), m["score"], m["reason"],
                                 m["shot"] or "", m["width"], m["height"], m["bytes"], m["taken"] or "", m["action"]])
    return out


def write_html(outcome, out: Path) -> Path:
    """One page: the photos of each group side by side, keeper and planned action marked."""
    from imgsearch_cnn.search.render.thumbnails import data_uris

    data = to_json(outcome)
    paths = [m["path"] for g in data["groups"] for m in g["members"]]
    thumbs = dict(zip(paths, data_uris(paths, 200)))
    sections = []
    for number, group in enumerate(data["groups"], 1):
        figures = "".join(_figure(group, m, thumbs[m["path"]]) for m in group["members"])
        title = f"Group {number}" if group["tier"] == DUPLICATES else f"Similar shots {number}"
        sections.append(f"<section><h2>{title}</h2><div class='row'>{figures}</div></section>")
    mode = "applied" if data["applied"] else "dry run: nothing has been changed"
    shots = len(_tier(outcome, SHOTS))
    out.write_text(page(f"{len(data['groups']) - shots} duplicate groups, {shots} of similar shots ({mode})",
                        "".join(sections)), encoding="utf-8")
    return out


def _figure(group: dict, m: dict, thumb: str) -> str:
    lost = m["metadata_keeper_lacks"]
    return (f"<figure class='wide {'keeper' if m['keeper'] else 'dupe'}'><img src='{thumb}' "
            f"alt='{html.escape(os.path.basename(m['path']))}'><figcaption>"
            f"<b>{'KEEP: ' + html.escape(group['keeper_reason']) if m['keeper'] else html.escape(m['action'])}</b><br>"
            f"score {m['score']:.3f} ({html.escape(m['shot'] or m['reason'])})<br>{m['width']}x{m['height']} px, "
            f"{m['bytes'] / 1e3:,.0f} kB{', ' + html.escape(m['taken']) if m['taken'] else ''}<br>"
            + (f"<b class='warn'>has {html.escape(', '.join(lost))} that the keeper lacks</b><br>" if lost else "")
            + f"{html.escape(m['path'])}</figcaption></figure>")


def print_table(outcome) -> None:
    """One narrow table per group (fits 80 columns): paths below the collection's common folder."""
    groups = _tier(outcome, DUPLICATES) + _tier(outcome, SHOTS)
    every = [m.record.path for g in groups for m in g.members]
    base = os.path.commonpath([os.path.dirname(p) for p in every]) if every else ""
    if groups:
        console.print(f"paths below {base}", highlight=False)
    for number, group in enumerate(groups, 1):
        name = "group" if group.tier == DUPLICATES else "similar shots"
        table = Table(title=f"{name} {number} (keeper: {group.keeper_reason})", title_justify="left", show_header=True,
                      padding=(0, 1))
        for name, justify in (("", "left"), ("score", "right"), ("why", "left"), ("pixels", "right"),
                              ("kB", "right"), ("action", "left"), ("path", "left")):
            table.add_column(name, justify=justify, overflow="fold")
        for i, m in enumerate(group.members):
            rec = m.record
            table.add_row("★" if i == 0 else "", f"{m.score:.3f}", m.shot or m.reason, f"{rec.width}x{rec.height}",
                          f"{rec.size / 1e3:,.0f}", _action(outcome, i, rec.path, short=True),
                          os.path.relpath(rec.path, base) if base else rec.path)
        console.print(table)
        for m in group.members[1:]:
            lost = keep.metadata_lost(group.keeper, m.record)
            if lost:
                console.print(f"  note: {os.path.relpath(m.record.path, base) if base else m.record.path} has "
                              f"{', '.join(lost)} that the keeper lacks", highlight=False)
    _print_totals(outcome)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _print_totals(outcome) -> None:
    result = outcome.result
    copies, shots = _tier(outcome, DUPLICATES), _tier(outcome, SHOTS)
    duplicates = sum(len(g.members) - 1 for g in copies)
    rules = ", ".join(f"{rule} {count}" for rule, count in accepted_by(outcome).items() if count)
    console.print(f"{_count(len(copies), 'group')}, {_count(duplicates, 'duplicate')}"
                  + (f" (accepted by {rules})" if rules else "")
                  + (f"; {_count(len(shots), 'group')} of similar shots ({sum(len(g.members) - 1 for g in shots)} "
                     + ("included in the action)" if outcome.include_similar_shots else
                        "other shots: left alone unless --include-similar-shots)") if shots else "")
                  + (f"; {result.pairs_checked:,} candidate pairs checked in {result.seconds:.1f} s" if not result.cached
                     else "; the last run's result, reused: nothing changed since"), highlight=False)
    acting = [op for op in outcome.operations if not op.skip and op.action != "report"]
    left = [op for op in outcome.operations if op.skip]
    if left:
        console.print(f"{len(left)} duplicate(s) left alone; the action column says why", highlight=False)
    if outcome.move_to and acting:
        console.print(f"moves go to {outcome.move_to}, keeping the folder structure", highlight=False)
    if outcome.applied:
        console.print(f"applied to {len(acting)} files; journal {outcome.journal}; `imgsearch undo` reverts it",
                      highlight=False)
    elif outcome.operations and outcome.operations[0].action != "report":
        console.print(f"dry run: {len(acting)} files would change. Add --apply to do it.")
