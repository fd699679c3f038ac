"""Self-contained HTML contact sheets of clusters: an overview page and one page per cluster."""

from __future__ import annotations

import html
import os
from pathlib import Path

from search.thumbnails import data_uris

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin:1.2em 0 .4em}
.sheet{display:flex;flex-wrap:wrap;gap:6px}
figure{margin:0;width:164px;background:#fff;border:1px solid #ddd;padding:2px}
figure img{display:block;max-width:160px;max-height:160px;margin:auto}
figcaption{font-size:11px;overflow-wrap:anywhere;color:#555}
.note{color:#666;font-size:.9em}
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def _figures(paths: list[str], size: int = 160) -> str:
    return "".join(
        f"<figure><img src='{uri}' alt='{html.escape(os.path.basename(p))}'>"
        f"<figcaption title='{html.escape(p)}'>{html.escape(os.path.basename(p))}</figcaption></figure>"
        for p, uri in zip(paths, data_uris(paths, size))
    )


def write_cluster_pages(out_dir: Path, clusters: dict[int, list[str]], title: str, notes: list[str],
                        per_overview: int = 6, per_page: int = 400) -> Path:
    """Write index.html (a few photos per cluster) and cluster_N.html pages; returns index.html.

    ``clusters`` maps a cluster id (-1 = noise) to its member paths, representative first.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    order = sorted(clusters, key=lambda c: (c == -1, -len(clusters[c])))
    sections = []
    for cid in order:
        members = clusters[cid]
        name = "noise" if cid == -1 else f"cluster {cid}"
        page = f"cluster_{cid}.html" if cid != -1 else "noise.html"
        shown = members[:per_page]
        more = f"<p class='note'>showing {len(shown):,} of {len(members):,} photos</p>" if len(members) > per_page else ""
        (out_dir / page).write_text(
            _page(f"{title}: {name} ({len(members):,} photos)", more + f"<div class='sheet'>{_figures(shown)}</div>"),
            encoding="utf-8")
        sections.append(f"<section><h2><a href='{page}'>{name}</a> &middot; {len(members):,} photos</h2>"
                        f"<div class='sheet'>{_figures(members[:per_overview], 120)}</div></section>")
    note_html = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in notes)
    index = out_dir / "index.html"
    index.write_text(_page(title, note_html + "".join(sections)), encoding="utf-8")
    return index
