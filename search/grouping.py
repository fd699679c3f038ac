"""The `imgsearch groups` and `imgsearch map` jobs: vectors from the index -> clusters -> outputs.

Cluster assignments are saved in the index (``extra/clusters``) so that later commands (the
map, reports) can use them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.store import Store, StoreError
from search import cluster as clustering
from search.cluster import ClusterOptions, ClusterResult, KChoice


@dataclass
class GroupsOutcome:
    paths: list[str]
    result: ClusterResult
    representatives: dict[int, str]  # cluster id -> the member closest to the cluster's mean
    k_choice: KChoice | None
    k_plot: Path | None
    features: str

    def members(self) -> dict[int, list[str]]:
        """Cluster id -> member paths, representative first, the rest by path."""
        out: dict[int, list[str]] = {}
        for path, label in zip(self.paths, self.result.labels.tolist()):
            out.setdefault(label, []).append(path)
        for label, paths in out.items():
            rep = self.representatives.get(label)
            if rep:
                paths.sort(key=lambda p: (p != rep, p))
        return out


def load_vectors(store: Store, features: str) -> tuple[list[str], np.ndarray]:
    paths, vectors = store.all_vectors(features)
    if not paths:
        raise StoreError(f"index {store.path} holds no {features} vectors: run `imgsearch index FOLDER` first")
    return paths, vectors


def representatives(vectors: np.ndarray, labels: np.ndarray, paths: list[str]) -> dict[int, str]:
    """Per cluster, the member most similar to the cluster's mean vector."""
    reps = {}
    for label in np.unique(labels):
        if label == clustering.NOISE:
            continue
        rows = np.flatnonzero(labels == label)
        centre = vectors[rows].mean(axis=0)
        reps[int(label)] = paths[rows[int(np.argmax(vectors[rows] @ centre))]]
    return reps


def run(index: Path, options: ClusterOptions, features: str = "cnn", k_plot: str | None = None) -> GroupsOutcome:
    """Cluster the index's photos and save the assignment in the index."""
    with Store.open(index) as store:
        paths, vectors = load_vectors(store, features)
    if len(paths) < 2:
        raise ValueError(f"clustering needs at least 2 photos; the index holds {len(paths)}")
    if options.k is not None and options.k > len(paths):
        raise ValueError(f"--k {options.k} asks for more clusters than the {len(paths)} photos in the index")
    choice = None
    if options.k is None and options.method in ("kmeans", "agglomerative"):
        data = vectors if options.method == "kmeans" else clustering.reduce(vectors, options.pca_dims, options.seed)
        choice = clustering.choose_k(data, options.seed)
        options = ClusterOptions(**{**options.__dict__, "k": choice.best})
    result = clustering.cluster(vectors, options)
    if choice:
        result.notes.insert(0, f"k={choice.best} chosen by {choice.criterion} over k in {choice.ks[0]}..{choice.ks[-1]}")
    plot = None
    if choice:
        plot = Path(k_plot) if k_plot else Path(index) / "k_choice.png"
        plot_k_choice(choice, plot)
    outcome = GroupsOutcome(paths, result, representatives(vectors, result.labels, paths), choice, plot, features)
    with Store.open(index, writable=True) as store:
        store.set_extra("clusters", {
            "method": result.method, "metric": result.metric, "k": result.k, "features": features,
            "labels": dict(zip(paths, result.labels.tolist())),
        })
    return outcome


def plot_k_choice(choice: KChoice, out: Path) -> Path:
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


def to_json(outcome: GroupsOutcome) -> dict:
    members = outcome.members()
    return {
        "method": outcome.result.method, "metric": outcome.result.metric, "k": outcome.result.k,
        "features": outcome.features, "noise": outcome.result.noise, "seconds": round(outcome.result.seconds, 3),
        "notes": outcome.result.notes, "k_plot": str(outcome.k_plot) if outcome.k_plot else None,
        "clusters": [{"id": cid, "size": len(paths), "representative": outcome.representatives.get(cid),
                      "paths": paths} for cid, paths in sorted(members.items())],
    }


def write_csv(outcome: GroupsOutcome, out: Path) -> None:
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "cluster", "representative"])
        for path, label in zip(outcome.paths, outcome.result.labels.tolist()):
            writer.writerow([path, label, int(outcome.representatives.get(label) == path)])


def write_html(outcome: GroupsOutcome, out_dir: Path) -> Path:
    from search.html import write_cluster_pages

    title = f"{outcome.result.method} clusters ({outcome.result.k}, {outcome.features} features)"
    return write_cluster_pages(out_dir, outcome.members(), title, outcome.result.notes)


def draw_map(index: Path, out: Path, html_out: Path | None, sample: int, method: str, features: str) -> list[Path]:
    """Write the map PNG (and HTML), coloured by the clusters saved by `imgsearch groups`."""
    from search import maps

    with Store.open(index) as store:
        paths, vectors = load_vectors(store, features)
        saved = store.get_extra("clusters") or {"labels": {}}
    labels = np.array([saved["labels"].get(p, -1) for p in paths])
    points = maps.layout(paths, vectors, labels, sample, method)
    written = [maps.write_png(points, out)]
    if html_out:
        written.append(maps.write_html(points, html_out))
    return written
