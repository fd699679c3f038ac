"""Score duplicate finders on a benchmark from tools/make_dupe_bench.py, all in one run.

    python tools/eval_dedupe.py BENCH_DIR [--preset near] [--no-peers] [--show-errors 10] [--index IDX]

Pairwise precision / recall / F1 (a predicted pair is two photos in one predicted group; a true
pair, two photos made from one original), recall per edit type (original <-> edited copy), and
wall time. Peers on the same photos: imagededup PHash, DHash and CNN (given the same
EfficientNet-Lite0 network through its CustomModel hook), and findimagedupes when installed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path



def truth_pairs(bench: Path) -> tuple[set, dict]:
    files = json.loads((bench / "truth.json").read_text())["files"]
    groups: dict[int, list[str]] = {}
    for rel, info in files.items():
        if info["group"] is not None:
            groups.setdefault(info["group"], []).append(str((bench / rel).resolve()))
    pairs = {frozenset(p) for members in groups.values() for p in itertools.combinations(members, 2)}
    return pairs, {str((bench / rel).resolve()): info for rel, info in files.items()}


def pairs_of_groups(groups) -> set:
    return {frozenset(p) for members in groups for p in itertools.combinations(sorted(set(members)), 2)}


def score(name: str, predicted: set, truth: set, info: dict, seconds: float) -> dict:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_edit: dict[str, list[int]] = {}
    originals = {v["group"]: k for k, v in info.items() if v["edit"] == "original"}
    for path, meta in info.items():
        if meta["edit"] in ("original", "distractor"):
            continue
        found = frozenset((path, originals[meta["group"]])) in predicted
        per_edit.setdefault(meta["edit"], []).append(int(found))
    return {"tool": name, "precision": precision, "recall": recall, "f1": f1, "seconds": seconds,
            "pairs": len(predicted), "per_edit": {k: sum(v) / len(v) for k, v in sorted(per_edit.items())}}


def keeper_is_original(groups, info: dict) -> tuple[int, int]:
    """(groups whose keeper is the original photo, groups that contain an original)."""
    right = total = 0
    for group in groups:
        edits = {p: info.get(p, {}).get("edit") for p in group.paths}
        if "original" in edits.values():
            total += 1
            right += edits[group.keeper.path] == "original"
    return right, total


def run_imgsearch(bench: Path, preset: str, index: Path) -> tuple[set, float, object]:
    from imgsearch_cnn.indexer import models
    from imgsearch_cnn.indexer.store import Store
    from imgsearch_cnn.indexer.update import IndexOptions, update_index
    from imgsearch_cnn.search.dupes import groups

    started = time.perf_counter()
    with Store.open(index, writable=True, create=True) as store:
        update_index(store, [bench / "photos"], models.resolve(), IndexOptions(device="cpu"))
        indexed = time.perf_counter()
        result = groups.find_groups(store, groups.DedupeOptions(preset=preset))
    seconds = time.perf_counter() - started
    copies = [g for g in result.groups if g.tier == groups.DUPLICATES]
    print(f"imgsearch: index {indexed - started:.1f} s, groups {time.perf_counter() - indexed:.1f} s, "
          f"accepted by {result.stats}; {len(copies)} duplicate groups, "
          f"{len(result.groups) - len(copies)} similar-shots groups (not scored)", flush=True)
    result.groups = copies
    return pairs_of_groups(g.paths for g in copies), seconds, result


def run_imagededup(bench: Path, method: str) -> tuple[set, float]:
    from imagededup import methods

    started = time.perf_counter()
    photos = str(bench / "photos")
    if method == "CNN":
        from imagededup.utils import CustomModel
        from torchvision import transforms

        from imgsearch_cnn.indexer import models

        network = models.build(models.resolve())
        transform = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                                        transforms.Normalize([0.5] * 3, [0.5] * 3)])
        finder = methods.CNN(verbose=False, model_config=CustomModel(name="lite0", model=network, transform=transform))
    else:
        finder = getattr(methods, method)(verbose=False)
    found = finder.find_duplicates(image_dir=photos, recursive=True)
    seconds = time.perf_counter() - started
    pairs = set()
    for key, dupes in found.items():
        for other in dupes:
            pairs.add(frozenset((str((bench / "photos" / key).resolve()), str((bench / "photos" / other).resolve()))))
    return pairs, seconds


def run_findimagedupes(bench: Path) -> tuple[set, float] | None:
    if not shutil.which("findimagedupes"):
        return None
    started = time.perf_counter()
    out = subprocess.run(["findimagedupes", "-R", "-q", str(bench / "photos")], capture_output=True, text=True)
    groups = [line.split() for line in out.stdout.splitlines() if line.strip()]
    return pairs_of_groups([[str(Path(p).resolve()) for p in g] for g in groups]), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench")
    parser.add_argument("--preset", default="near")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--show-errors", type=int, default=0)
    parser.add_argument("--index", help="index folder to use (kept; an existing one is only brought up to date)")
    args = parser.parse_args()
    bench = Path(args.bench).resolve()
    truth, info = truth_pairs(bench)
    print(f"benchmark: {bench} ({len(info)} photos, {len(truth)} true pairs), {os.cpu_count()} cores")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        predicted, seconds, result = run_imgsearch(bench, args.preset, Path(args.index or Path(tmp) / "idx"))
    rows.append(score(f"imgsearch ({args.preset})", predicted, truth, info, seconds))
    right, total = keeper_is_original(result.groups, info)
    print(f"imgsearch keeper is the original in {right} of {total} groups ({right / max(total, 1):.2f})")
    if args.show_errors:
        for pair in list(predicted - truth)[: args.show_errors]:
            print("false positive:", *sorted(pair))
        for pair in list(truth - predicted)[: args.show_errors]:
            print("missed:", *sorted(pair))
    if not args.no_peers:
        for method in ("PHash", "DHash", "CNN"):
            pairs, secs = run_imagededup(bench, method)
            rows.append(score(f"imagededup {method}", pairs, truth, info, secs))
        peer = run_findimagedupes(bench)
        if peer:
            rows.append(score("findimagedupes", *peer[:1], truth, info, peer[1]))
    print("\n| tool | precision | recall | F1 | pairs | time (s) |\n|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['tool']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['pairs']} | {row['seconds']:.1f} |")
    edits = list(rows[0]["per_edit"])
    print("\nrecall per edit type\n\n| edit | " + " | ".join(r["tool"] for r in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for edit in edits:
        print(f"| {edit} | " + " | ".join(f"{r['per_edit'].get(edit, 0):.2f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
