"""`imgsearch train` then `imgsearch classify`, end to end through the command line, on a split of a
folder of class folders: the check the classification issue runs on held-out photos.

    python tools/eval_train_split.py DATA_DIR [--share 0.8] [--seed 0] [--exclude BACKGROUND_Google]
    python tools/eval_train_split.py DATA_DIR --per-class 10 --pool 5000 [--seed 0]

Copies ``--share`` of each class's photos to WORK/train/<class>/ and the rest to WORK/test/<class>/
(a temporary folder); or, with ``--per-class N``, draws ``--pool`` photos, copies N of each class
to WORK/train/<class>/ and the others to WORK/test/ (few labels, many unlabelled photos). Then
indexes both into one new index, trains the default classifier on train/
(the test photos are the index's unlabelled photos, as in a user's index), classifies every
photo with `classify --all --json`, and prints the accuracy on the test photos (label "unsure"
would count as wrong; none is given by default), how well the probabilities are calibrated, and
each command's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def split(data: Path, work: Path, share: float, seed: int, exclude: list[str]) -> dict[str, str]:
    """Copies the photos into work/train and work/test; returns test path -> class."""
    rng = np.random.default_rng(seed)
    truth = {}
    for folder in sorted(p for p in data.iterdir() if p.is_dir() and p.name not in exclude):
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        chosen = set(rng.choice(len(photos), max(1, int(len(photos) * share)), replace=False).tolist())
        for i, photo in enumerate(photos):
            part = "train" if i in chosen else "test"
            target = work / part / folder.name / photo.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(photo, target)
            if part == "test":
                truth[os.path.realpath(target)] = folder.name
    return truth


def few(data: Path, work: Path, per_class: int, pool: int, seed: int, exclude: list[str]) -> dict[str, str]:
    """``pool`` photos drawn at random, ``per_class`` of each class copied to work/train/<class>,
    the rest to work/test (no class folders); returns test path -> class."""
    rng = np.random.default_rng(seed)
    photos = sorted(p for folder in data.iterdir() if folder.is_dir() and folder.name not in exclude
                    for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    drawn = [photos[i] for i in rng.choice(len(photos), min(pool, len(photos)), replace=False)]
    taken: dict[str, int] = {}
    truth = {}
    for photo in drawn:
        name = photo.parent.name
        labelled = taken.get(name, 0) < per_class
        taken[name] = taken.get(name, 0) + labelled
        target = work / "train" / name / photo.name if labelled else work / "test" / f"{name}_{photo.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, target)
        if not labelled:
            truth[os.path.realpath(target)] = name
    return truth


def imgsearch(*args: str) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "imgsearch_cnn.search.cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"imgsearch {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--share", type=float, default=0.8, help="share of each class used for training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exclude", action="append", default=[], metavar="CLASS")
    parser.add_argument("--per-class", type=int, default=0, help="few labels: this many labelled photos a class")
    parser.add_argument("--pool", type=int, default=5000, help="with --per-class: photos drawn in all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="train_split_") as tmp:
        work = Path(tmp)
        if args.per_class:
            truth = few(args.data_dir, work, args.per_class, args.pool, args.seed, args.exclude)
        else:
            truth = split(args.data_dir, work, args.share, args.seed, args.exclude)
        index = str(work / "idx")
        _, index_time = imgsearch("index", str(work / "train"), str(work / "test"), "--index", index)
        trained, train_time = imgsearch("train", str(work / "train"), "--index", index, "--name", "split")
        answer, classify_time = imgsearch("classify", "--all", "--json", "--index", index, "--name", "split")
        rows = {row["path"]: row for row in json.loads(answer)}
        labels = np.array([rows[path]["label"] == name for path, name in truth.items()])
        probability = np.array([rows[path]["probability"] for path in truth])
    labelled = f"{args.per_class} labelled a class among {args.pool:,}" if args.per_class else \
        f"{args.share:.0%} of each class for training"
    print(f"data: {args.data_dir} ({', '.join(args.exclude) or 'no class'} left out), {labelled}, "
          f"seed {args.seed}: {len(truth):,} test photos")
    sure = probability >= 0.5
    print(f"accuracy on the test photos (the label `classify` gives by default): {labels.mean():.4f}")
    print(f"calibration: mean probability {probability.mean():.4f}; {sure.mean():.1%} of the photos at 0.5 or more, "
          f"right {labels[sure].mean():.4f} of the time; the rest right {labels[~sure].mean() if (~sure).any() else 0:.4f}")
    print(f"wall time: index {index_time:.0f} s, train {train_time:.1f} s, classify --all {classify_time:.1f} s")
    print("train said: " + " / ".join(line.strip() for line in trained.strip().splitlines()[-4:]))


if __name__ == "__main__":
    main()
