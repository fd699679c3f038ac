"""Output of `imgsearch clusters`: terminal table, JSON, CSV, contact-sheet pages, the k plot."""

from __future__ import annotations

import csv
import html
import os
from pathlib import Path

from rich.table import Table

from imgsearch_cnn.search.render.page import page
from imgsearch_cnn.search.render.terminal import console


def to_json(outcome, k_plot: Path | None = None) -> dict:
    members = outcome.members()
    return {
        "method": outcome.result.method, "metric": outcome.result.metric, "k": outcome.result.k,
        "features": outcome.features, "noise": outcome.result.noise, "seconds": round(outcome.result.seconds, 3),
        "notes": outcome.result.notes, "k_plot": str(k_plot) if k_plot else None,
        "clusters": [{"id": cid, "size": len(paths), "representative": outcome.representatives.get(cid),
                      "paths": paths} for cid, paths in sorted(members.items())],
        # soft methods: each photo's probability of its cluster ("how sure is this")
        "confidence": None if outcome.result.confidence is None else
        {p: round(float(c), 4) for p, c in zip(outcome.paths, outcome.result.confidence)},
    }


def write_csv(outcome, out: Path) -> Path:
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        soft = outcome.result.confidence
        writer.writerow(["path", "cluster", "representative"] + (["confidence"] if soft is not None else []))
        for row, (path, label) in enumerate(zip(outcome.paths, outcome.result.labels.tolist())):
            writer.writerow([path, label, int(outcome.representatives.get(label) == path)]
                            + ([round(float(soft[row]), 4)] if soft is not None else []))
    return out


def _figures(paths: list[str], size: int = 160, sure: dict[str, float] | None = None) -> str:
    """Thumbnails with their file names (and, for soft methods, the probability of the cluster)."""
    from imgsearch_cnn.search.render.thumbnails import data_uris

    sure = sure or {}
    return "".join(
        f"<figure><img src='{uri}' alt='{html.escape(os.path.basename(p))}'>"
        f"<figcaption title='{html.escape(p)}'>{html.escape(os.path.basename(p))}"
        + (f" <span class='confidence'>{sure[p]:.0%}</span>" if p in sure else "") + "</figcaption></figure>"
        for p, uri in zip(paths, data_uris(paths, size))
    )


def write_html(outcome, out_dir: Path, per_overview: int = 6, per_page: int = 400) -> Path:
    """Contact sheets: index.html (a few photos per cluster) and one page per cluster (at most
    ``per_page`` photos each); returns index.html."""
    title = f"{outcome.result.method} clusters ({outcome.result.k}, {outcome.features} features)"
    clusters = outcome.members()
    sure = outcome.confidence()
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = []
    for cid in sorted(clusters, key=lambda c: (c == -1, -len(clusters[c]))):
        members = clusters[cid]
        name = "noise" if cid == -1 else f"cluster {cid}"
        sheet = f"cluster_{cid}.html" if cid != -1 else "noise.html"
        shown = members[:per_page]
        more = f"<p class='note'>showing {len(shown):,} of {len(members):,} photos</p>" if len(members) > per_page else ""
        if sure:
            more += "<p class='note'>each photo's probability of this cluster; the least sure come last</p>"
        (out_dir / sheet).write_text(
            page(f"{title}: {name} ({len(members):,} photos)", more + f"<div class='sheet'>{_figures(shown, 160, sure)}</div>"),
            encoding="utf-8")
        sections.append(f"<section><h2><a href='{sheet}'>{name}</a> &middot; {len(members):,} photos</h2>"
                        f"<div class='sheet'>{_figures(members[:per_overview], 120)}</div></section>")
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in outcome.result.notes)
    index = out_dir / "index.html"
    index.write_text(page(title, notes + "".join(sections)), encoding="utf-8")
    return index


def plot_k_choice(choice, out: Path) -> Path:
    """The criterion and the k-means loss (the articles' elbow plot) against k, the chosen k marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, left = plt.subplots(figsize=(8, 4.5), dpi=100)
    left.plot(choice.ks, choice.scores, "o-", color="tab:blue", label=choice.criterion)
    left.axvline(choice.best, color="tab:red", linestyle="--", label=f"chosen k = {choice.best}")
    left.set_xscale("log")
    left.set_xlabel("k (number of clusters)")
    left.set_ylabel("criterion", color="tab:blue")
    right = left.twinx()
    right.plot(choice.ks, choice.inertias, "s-", color="tab:gray", alpha=0.5, label="k-means loss (elbow)")
    right.set_ylabel("k-means loss", color="tab:gray")
    left.legend(loc="lower right", fontsize=8)
    left.set_title("Choosing k")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def print_table(outcome, k_plot: Path | None = None, show: int = 30) -> None:
    """Cluster sizes and a representative photo per cluster, largest first."""
    result = outcome.result
    sizes = result.sizes()
    console.print(f"[bold]{result.method}[/] ({result.metric}, {outcome.features} features): "
                  f"{result.k} clusters, {result.noise:,} noise photos, {result.seconds:.1f} s")
    for note in result.notes:
        console.print(f"  {note}", highlight=False)
    if k_plot:
        console.print(f"  criterion plot: {k_plot}", highlight=False)
    table = Table(show_header=True)
    table.add_column("cluster", justify="right")
    table.add_column("photos", justify="right")
    table.add_column("representative", overflow="fold")
    for cid, size in sorted(sizes.items(), key=lambda item: -item[1])[:show]:
        table.add_row(str(cid), f"{size:,}", outcome.representatives.get(cid, ""))
    console.print(table)
    if len(sizes) > show:
        console.print(f"... {len(sizes) - show} smaller clusters not shown (use --json, --csv or --html)")
