"""Drawing a 2-D map of the collection: a PNG with thumbnails, and an interactive HTML page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from imgsearch_cnn.search.clusters.maps import MapPoints
from imgsearch_cnn.search.render.page import page
from imgsearch_cnn.search.render.thumbnails import data_uris, thumbnail


def colours(labels: np.ndarray) -> list[str]:
    """One colour per cluster id (grey for noise / no cluster)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return ["#999999" if c < 0 else matplotlib.colors.to_hex(cmap(int(c) % 20)) for c in labels]


def caption(points: MapPoints) -> str:
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
    ax.scatter(points.xy[:, 0], points.xy[:, 1], c=colours(points.labels), s=6)
    for i in spread(points.xy, thumbs):
        image = thumbnail(points.paths[i], thumb_size)
        box = AnnotationBbox(OffsetImage(np.asarray(image), zoom=1.0), points.xy[i], frameon=True, pad=0.1,
                             bboxprops={"edgecolor": colours(points.labels[i:i + 1])[0], "linewidth": 2})
        ax.add_artist(box)
    ax.set_title(caption(points))
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def spread(xy: np.ndarray, count: int) -> list[int]:
    """Indices of up to ``count`` points, at most one per cell of a grid, so thumbnails don't pile up."""
    cells = max(1, int(np.sqrt(count)))
    seen: dict[tuple[int, int], int] = {}
    for i, (x, y) in enumerate(xy):
        seen.setdefault((min(int(x * cells), cells - 1), min(int(y * cells), cells - 1)), i)
    return list(seen.values())


def write_html(points: MapPoints, out: Path, thumb_size: int = 96) -> Path:
    """An interactive map: hovering a point shows its thumbnail and path."""
    data = [{"x": round(float(x), 5), "y": round(float(y), 5), "c": colour, "p": path, "t": uri}
            for (x, y), colour, path, uri in zip(points.xy, colours(points.labels), points.paths,
                                                  data_uris(points.paths, thumb_size))]
    body = ('<svg id="map" width="900" height="900" viewBox="0 0 900 900"></svg>'
            '<div id="tip"><img id="tipimg"><div id="tippath"></div></div>')
    script = _SCRIPT.replace("__DATA__", json.dumps(data).replace("</", "<\\/"))
    out.write_text(page(caption(points), body, script), encoding="utf-8")
    return out


_SCRIPT = """
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
"""
