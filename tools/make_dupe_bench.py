"""Build a near-duplicate benchmark with ground truth from real photos.

    python tools/make_dupe_bench.py ../shared/data/caltech101-dev OUT [--originals 300] [--distractors 600] [--enlarge 3]

Picks ``originals`` photos, writes each with three copies made by realistic edits (sixteen kinds,
below), and adds ``distractors``: other photos of the same data set, many of the same classes as
the originals (same subject, different photo: these must NOT be grouped). Source photos that are
already near-copies of each other (Caltech-101 holds some: pHash within 12 bits in any
orientation, or CNN cosine >= 0.95) are left out, so the ground truth is unambiguous.
Writes OUT/truth.json: {"files": {relative path: {"group": id or null, "edit": kind or
"original"/"distractor", "source": the data set photo it was made from (originals and copies)}}}.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np


from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

SUFFIXES = {".jpg", ".jpeg", ".png"}


def _crop_area(image: Image.Image, share: float, rng: random.Random) -> Image.Image:
    w, h = image.size
    side = share ** 0.5
    cw, ch = int(w * side), int(h * side)
    left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return image.crop((left, top, left + cw, top + ch))


def _straighten(image: Image.Image, rng: random.Random) -> Image.Image:
    angle = rng.choice([-8, 8])
    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False)
    w, h = image.size
    margin = 0.12
    return turned.crop((int(w * margin), int(h * margin), int(w * (1 - margin)), int(h * (1 - margin))))


def _caption(image: Image.Image, rng: random.Random) -> Image.Image:
    w, h = image.size
    bar = max(20, h // 6)
    out = Image.new("RGB", (w, h + bar), (255, 255, 255))
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((8, h + bar // 4), rng.choice(["Holiday 2019!", "look at this", "lol", "Best day ever"]), fill=(0, 0, 0))
    return out


def _letterbox(image: Image.Image, rng: random.Random) -> Image.Image:
    side = max(image.size)
    out = Image.new("RGB", (side, side), (0, 0, 0))
    out.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return out


def _noise(image: Image.Image, rng: random.Random) -> Image.Image:
    array = np.asarray(image, dtype=np.float32)
    noisy = array + np.random.default_rng(rng.randint(0, 10**6)).normal(0, 12, array.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _sticker(image: Image.Image, rng: random.Random) -> Image.Image:
    out = image.copy()
    w, h = out.size
    r = int(min(w, h) * 0.15)
    x, y = rng.randint(r, w - r), rng.randint(r, h - r)
    ImageDraw.Draw(out).ellipse((x - r, y - r, x + r, y + r), fill=(255, 220, 0), outline=(0, 0, 0), width=3)
    return out


EDITS = {
    "downscale": lambda im, rng: im.resize((max(16, im.width // 2), max(16, im.height // 2)), Image.Resampling.LANCZOS),
    "crop80": lambda im, rng: _crop_area(im, 0.8, rng),
    "crop60": lambda im, rng: _crop_area(im, 0.6, rng),
    "mirror": lambda im, rng: ImageOps.mirror(im),
    "rotate90": lambda im, rng: im.transpose(rng.choice([Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270])),
    "straighten": _straighten,
    "brightness": lambda im, rng: ImageEnhance.Brightness(im).enhance(rng.choice([0.6, 1.4])),
    "grayscale": lambda im, rng: ImageOps.grayscale(im).convert("RGB"),
    "jpeg15": lambda im, rng: im,  # the edit is the save quality, below
    "caption": _caption,
    "letterbox": _letterbox,
    "blur": lambda im, rng: im.filter(ImageFilter.GaussianBlur(2.5)),
    "squash": lambda im, rng: im.resize((int(im.width * 0.7), im.height), Image.Resampling.BICUBIC),
    "saturation": lambda im, rng: ImageEnhance.Color(im).enhance(rng.choice([0.3, 1.8])),
    "noise": _noise,
    "sticker": _sticker,
}


def photos(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                  and "BACKGROUND" not in str(p))


def distinct(pool: list[Path], count: int) -> list[Path]:
    """The first ``count`` photos of the pool that are not near-copies of one already taken."""
    from imgsearch_cnn.indexer import embed, models
    from imgsearch_cnn.indexer.phash import distance

    spec = models.resolve()
    embedder = embed.Embedder(spec, "cpu")
    taken: list[Path] = []
    vectors, hashes = [], []
    for path in pool:
        item = embed.load(str(path), spec.preprocessing)
        if item.pixels is None:
            continue
        vector = embedder.embed(item.pixels[None])[0]
        if vectors and (float(np.max(np.vstack(vectors) @ vector)) >= 0.95
                        or min(distance(h, item.phash) for h in hashes) <= 12):
            continue
        taken.append(path)
        vectors.append(vector)
        hashes.append(item.phash)
        if len(taken) == count:
            break
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--originals", type=int, default=300)
    parser.add_argument("--distractors", type=int, default=600)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--enlarge", type=float, default=1.0,
                        help="enlarge every source photo this much first (Caltech-101's ~300 px photos x3 "
                             "come near the size of phone photos shared online: timings on larger photos)")
    args = parser.parse_args()

    def load(source: Path) -> Image.Image:
        image = Image.open(source).convert("RGB")
        if args.enlarge == 1.0:
            return image
        size = (round(image.width * args.enlarge), round(image.height * args.enlarge))
        return image.resize(size, Image.Resampling.LANCZOS)

    rng = random.Random(args.seed)
    pool = photos(Path(args.source))
    rng.shuffle(pool)
    pool = distinct(pool, args.originals + args.distractors)
    originals, distractors = pool[: args.originals], pool[args.originals: args.originals + args.distractors]
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    truth: dict[str, dict] = {}
    kinds = list(EDITS)
    for number in range(10):
        (out / "photos" / f"set{number}").mkdir(parents=True, exist_ok=True)
    for number, source in enumerate(originals):
        folder = out / "photos" / f"set{number % 10}"
        image = load(source)
        name = f"{source.parent.name}_{source.stem}"
        original = folder / f"{name}.jpg"
        image.save(original, quality=92)
        truth[str(original.relative_to(out))] = {"group": number, "edit": "original", "source": str(source.resolve())}
        for kind in rng.sample(kinds, args.copies):
            edited = EDITS[kind](image, rng)
            target = out / "photos" / f"set{rng.randrange(10)}" / f"{name}__{kind}.jpg"
            edited.save(target, quality=15 if kind == "jpeg15" else rng.choice([75, 85, 95]))
            truth[str(target.relative_to(out))] = {"group": number, "edit": kind, "source": str(source.resolve())}
    for source in distractors:
        folder = out / "photos" / "other"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{source.parent.name}_{source.stem}.jpg"
        load(source).save(target, quality=90)
        truth[str(target.relative_to(out))] = {"group": None, "edit": "distractor"}
    (out / "truth.json").write_text(json.dumps({"files": truth}, indent=1))
    print(f"wrote {len(truth)} photos ({len(originals)} originals x {args.copies + 1}, {len(distractors)} distractors) to {out}")


if __name__ == "__main__":
    main()
