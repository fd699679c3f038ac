"""How fast `imgsearch review` answers on a large index.

    python tools/bench_review.py [--photos 100000] [--groups 20000] [--real 200] [--real-size 3000 2000] [--pages 30]

Builds, through the real store API, an index of PHOTOS synthetic entries (random unit vectors of
the bundled network's size) whose duplicate result holds GROUPS groups (kept as the `dupes`
result, as `imgsearch dupes` leaves it); the members of the first groups are REAL generated JPEG
files of a camera's size, so their thumbnails are really decoded, the others stand in for photos on a slow disk
(their thumbnails are the grey placeholder). Then starts `imgsearch review --no-browser` as a
user would and reports:

* start: from the command to the printed address (loading the groups and the photo ids);
* first page in a real browser (Chromium, when installed): from opening the address to every
  thumbnail of the first page decoded, with thumbnails made on demand (cold cache);
* per-page latency of the groups API over PAGES pages, and of one page's thumbnails cold and warm;
* the server's memory: peak resident (with the index pages LMDB maps) and its own.
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from imgsearch_cnn.indexer.store import Record, Store
from imgsearch_cnn.search.dupes import cache
from imgsearch_cnn.search.dupes.groups import DUPLICATES, DedupeOptions, DedupeResult, Group, Member

DIMS = 1280  # the bundled network's vectors
PAGE = 20  # groups per page, as the app asks


def fake_photo(path: Path, seed: int, size: tuple[int, int]) -> None:
    """A JPEG of a camera's size: smooth colours under fine noise (so it does not compress to nothing)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = np.asarray(Image.fromarray(small).resize(size, Image.Resampling.BICUBIC), np.int16)
    noisy = np.clip(image + rng.integers(-12, 13, image.shape, dtype=np.int16), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(path, quality=90)


def build(folder: Path, photos: int, groups: int, real: int, real_size: tuple[int, int]) -> Path:
    """The index (see module doc); returns its folder."""
    rng = np.random.default_rng(0)
    sizes = [2 + (g % 3 == 0) for g in range(groups)]  # 2 or 3 photos a group: ~2.3 on average
    grouped = sum(sizes)
    if grouped > photos:
        raise SystemExit(f"{groups} groups need {grouped} photos, more than {photos}")
    photo_dir = folder / "photos"
    photo_dir.mkdir(parents=True)
    records = []
    with Store.open(folder / "idx", writable=True, create=True) as store:
        with store.transaction() as writer:
            writer.set_meta("model", {"model_id": "synthetic", "weights": "none", "preprocessing": {}, "dims": DIMS})
            writer.set_meta("roots", [str(photo_dir)])
            for n in range(photos):
                path = photo_dir / f"{n // 1000:04d}" / f"IMG_{n:07d}.jpg"
                size, mtime = 2_000_000 + n, 1_600_000_000_000_000_000 + n
                if n < real:
                    path.parent.mkdir(exist_ok=True)
                    fake_photo(path, n, real_size)
                    info = path.stat()
                    size, mtime = info.st_size, info.st_mtime_ns
                vector = rng.standard_normal(DIMS).astype(np.float32)
                record = Record(str(path), size, mtime, f"{n:032x}", 4000, 3000, "JPEG", "2024-05-01T10:00:00")
                writer.put_features(record.hash, cnn=vector / np.linalg.norm(vector))
                writer.put_record(record)
                records.append(record)
        found, start = [], 0
        for size in sizes:
            members = [Member(records[start], 1.0, "keeper")] + \
                [Member(r, 0.97, "cosine") for r in records[start + 1:start + size]]
            found.append(Group(records[start], members, "resolution", DUPLICATES))
            start += size
        cache.save(store, DedupeOptions(), DedupeResult(found, 0, 0.0, {}))
    return folder / "idx"


class Client:
    def __init__(self, port: int, token: str):
        self.port = port
        status, _, headers = self.get(f"/?token={token}", {})
        self.cookie = {"Cookie": headers["set-cookie"].split(";")[0]}

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("GET", path, headers={**(headers if headers is not None else self.cookie)})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body, dict(response.getheaders())

    def timed(self, path: str) -> tuple[float, bytes]:
        started = time.perf_counter()
        status, body, _ = self.get(path)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
        return time.perf_counter() - started, body


def thumbnails_of_page(client: Client, number: int) -> float:
    """Seconds to fetch every thumbnail of one page, one after another, as a browser would on one connection."""
    import json

    page = json.loads(client.get(f"/api/groups?page={number}&size={PAGE}")[1])
    ids = [m["id"] for g in page["groups"] for m in g["members"]]
    started = time.perf_counter()
    for pid in ids:
        client.timed(f"/thumb/{pid}")
    return time.perf_counter() - started


def browser_first_page(url: str) -> float | None:
    """Seconds from opening the address to every thumbnail of the first page decoded."""
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        return None
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=flags)
        tab = browser.new_page(viewport={"width": 1300, "height": 900})
        started = time.perf_counter()
        tab.goto(url)
        tab.wait_for_selector("section.group")
        tab.wait_for_function("() => [...document.images].filter(i => i.loading !== 'lazy' || "
                              "i.getBoundingClientRect().top < innerHeight).every(i => i.complete && i.naturalWidth > 0)")
        seconds = time.perf_counter() - started
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=20_000)
    parser.add_argument("--real", type=int, default=200, help="how many photos are real JPEG files (the first groups')")
    parser.add_argument("--real-size", type=int, nargs=2, default=(3000, 2000), metavar=("W", "H"),
                        help="pixels of the real JPEG files (default: 6 megapixels)")
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index = build(Path(tmp), args.photos, args.groups, args.real, tuple(args.real_size))
        print(f"index of {args.photos:,} photos and {args.groups:,} groups built in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "imgsearch_cnn.search.cli", "review", "--no-browser",
                                   "--index", str(index)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = server.stdout.readline()
            start = time.perf_counter() - started
            url = re.search(r"http://\S+", line).group(0)
            port, token = int(re.search(r":(\d+)/", url).group(1)), url.split("token=")[1]
            first = browser_first_page(url)
            client = Client(port, token)
            api = [client.timed(f"/api/groups?page={n}&size={PAGE}")[0] for n in range(2, args.pages + 2)]
            far = [client.timed(f"/api/groups?page={n}&size={PAGE}")[0]
                   for n in range(args.groups // PAGE - args.pages, args.groups // PAGE)]
            real_pages = max(2, int(args.real / (PAGE * 2.4)))  # a page whose photos are all real files
            cold = thumbnails_of_page(client, real_pages)
            warm = thumbnails_of_page(client, real_pages)
            peak, anon = _memory(server.pid, "VmHWM"), _memory(server.pid, "RssAnon")
        finally:
            server.terminate()
            server.wait(10)
    print(f"| photos | groups | start (command to address) | first page in Chromium, thumbnails cold | "
          f"groups API per page, median / p95 (first pages) | same, last pages | one page's {PAGE * 2}+ thumbnails "
          f"cold / cached | server memory: peak resident / own (anonymous) |")
    print("|---|---|---|---|---|---|---|---|")
    shown = f"{first:.2f} s" if first is not None else "no Chromium"
    print(f"| {args.photos:,} | {args.groups:,} | {start:.2f} s | {shown} | "
          f"{1000 * statistics.median(api):.0f} / {1000 * _p95(api):.0f} ms | "
          f"{1000 * statistics.median(far):.0f} / {1000 * _p95(far):.0f} ms | "
          f"{cold:.2f} / {warm:.2f} s | {peak / 1024:.0f} / {anon / 1024:.0f} MB |")


def _p95(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def _memory(pid: int, field: str) -> int:
    """A memory figure of a process from /proc, in kB (Linux). VmHWM, the peak resident size,
    counts the index pages LMDB maps from the file (the kernel's to reclaim); RssAnon is the
    process's own memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
