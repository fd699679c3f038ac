"""The one HTML page skeleton and stylesheet every report page uses (self-contained: no CDN)."""

from __future__ import annotations

import html

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin:1.2em 0 .4em}
section{background:#fff;border:1px solid #ddd;margin:0 0 1em;padding:.6em}
.sheet,.row{display:flex;flex-wrap:wrap;gap:6px}
figure{margin:0;width:164px;background:#fff;border:1px solid #ddd;padding:2px;font-size:11px}
figure img{display:block;max-width:160px;max-height:160px;margin:auto}
figure.wide{width:210px} figure.wide img{max-width:200px;max-height:200px}
figcaption{overflow-wrap:anywhere;color:#555}
.keeper{outline:3px solid #2a2} .keeper figcaption b{color:#2a2}
.note{color:#666;font-size:.9em}
svg{border:1px solid #ccc;background:#fff}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #888;padding:4px;font-size:12px;
display:none;max-width:260px;overflow-wrap:anywhere}
circle:hover{stroke:#000;stroke-width:2}
"""


def page(title: str, body: str, script: str = "") -> str:
    """A complete page: ``body`` and ``script`` are trusted HTML/JS made by the render modules."""
    tail = f"<script>{script}</script>" if script else ""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}{tail}</body></html>")
