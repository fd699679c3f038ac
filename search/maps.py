"""2-D maps of a collection: t-SNE (or UMAP when installed) with thumbnails and cluster colours.

Large collections are sampled for the picture (``sample`` photos, drawn evenly across clusters
by a seeded random choice); the page and the picture say how many of how many are shown.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.thumbnails import data_uris, thumbnail


@dataclass
class MapPoints:
    paths: list[str]
    xy: np.ndarray  # (n, 2) in [0, 1]
    labels: np.ndarray  # cluster id per point, -1 = none/noise
    total: int  # photos in the collection
    method: str


def layout(paths: list[str], vectors: np.ndarray, labels: np.ndarray | None, sample: int = 3000,
           method: str = "auto", seed: int = 0) -> MapPoints:
    """Project (a sample of) the vectors to 2-D."""
    n = len(paths)
    labels = np.full(n, -1) if labels is None else np.asarray(labels)
    rows = np.arange(n) if n <= sample else np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    data = vectors[rows]
    if len(rows) > 50:
        from sklearn.decomposition import PCA

        data = PCA(50, random_state=seed).fit_transform(data)
    chosen = method
    if method in ("auto", "umap"):
        try:
            import umap

            xy = umap.UMAP(random_state=seed, metric="cosine").fit_transform(data)
            chosen = "umap"
        except ImportError:
            if method == "umap":
                raise
            chosen = "tsne"
    if chosen == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(rows) - 1) / 3)))
        xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine").fit_transform(data)
    xy = (xy - xy.min(axis=0)) / np.maximum(np.ptp(xy, axis=0), 1e-9)
    return MapPoints([paths[i] for i in rows], xy, labels[rows], n, chosen)


def _colours(labels: np.ndarray) -> list[str]:
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return ["#999999" if c < 0 else matplotlib.colors.to_hex(cmap(int(c) % 20)) for c in labels]


def _caption(points: MapPoints) -> str:
    shown = f"{len(points.paths):,} of {points.total:,} photos (random sample)" if len(points.paths) < points.total \
        else f"all {points.total:,} photos"
    return f"{points.method.upper()} map of {shown}"


def write_png(points: MapPoints, out: Path, thumbs: int = 400, thumb_size: int = 40) -> Path:
    """A PNG with dots coloured by cluster and thumbnails for up to ``thumbs`` spread-out points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    fig, ax = plt.subplots(figsize=(16, 16), dpi=100)
    ax.scatter(points.xy[:, 0], points.xy[:, 1], c=_colours(points.labels), s=6)
    for i in _spread(points.xy, thumbs):
        image = thumbnail(points.paths[i], thumb_size)
        box = AnnotationBbox(OffsetImage(np.asarray(image), zoom=1.0), points.xy[i], frameon=True, pad=0.1,
                             bboxprops={"edgecolor": _colours(points.labels[i:i + 1])[0], "linewidth": 2})
        ax.add_artist(box)
    ax.set_title(_caption(points))
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _spread(xy: np.ndarray, count: int) -> list[int]:
    """Indices of up to ``count`` points, at most one per cell of a grid, so thumbnails don't pile up."""
    cells = max(1, int(np.sqrt(count)))
    seen: dict[tuple[int, int], int] = {}
    for i, (x, y) in enumerate(xy):
        seen.setdefault((min(int(x * cells), cells - 1), min(int(y * cells), cells - 1)), i)
    return list(seen.values())


def write_html(points: MapPoints, out: Path, thumb_size: int = 96) -> Path:
    """An interactive map: hovering a point shows its thumbnail and path."""
    data = [{"x": round(float(x), 5), "y": round(float(y), 5), "c": colour, "p": path, "t": uri}
            for (x, y), colour, path, uri in zip(points.xy, _colours(points.labels), points.paths,
                                                  data_uris(points.paths, thumb_size))]
    page = _MAP_PAGE.replace("__TITLE__", html.escape(_caption(points))).replace(
        "__DATA__", json.dumps(data).replace("</", "<\\/"))
    out.write_text(page, encoding="utf-8")
    return out


_MAP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>body{font-family:system-ui,sans-serif;margin:1em} svg{border:1px solid #ccc;background:#fff}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #888;padding:4px;font-size:12px;display:none;max-width:260px;overflow-wrap:anywhere}
circle:hover{stroke:#000;stroke-width:2}</style></head><body><h1 style="font-size:1.2em">__TITLE__</h1>
<svg id="map" width="900" height="900" viewBox="0 0 900 900"></svg><div id="tip"><img id="tipimg"><div id="tippath"></div></div>
<script>
const points = __DATA__;
const svg = document.getElementById("map"), tip = document.getElementById("tip");
points.forEach((p) => {
  const c = document.createElementNS("http://www.w3.org/2000/svg", "circle");
  c.setAttribute("cx", 10 + p.x * 880); c.setAttribute("cy", 10 + (1 - p.y) * 880);
  c.setAttribute("r", 4); c.setAttribute("fill", p.c); c.dataset.path = p.p;
  c.addEventListener("mouseenter", (e) => {
    document.getElementById("tipimg").src = p.t; document.getElementById("tippath").textContent = p.p;
    tip.style.display = "block"; tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px";
  });
  c.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  svg.appendChild(c);
});
</script></body></html>"""
