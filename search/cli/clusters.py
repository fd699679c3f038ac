"""`imgsearch clusters`: group the collection by what the photos show (or their colours)."""

from __future__ import annotations

from pathlib import Path

import click

from imgsearch_cnn.search.cli.common import (FiniteFloat, check_outputs, emit, fail, index_option, index_path,
                                             output_options, store_failed, with_options)

OPTIONS = [
    click.option("--method", type=click.Choice(["kmeans", "dbscan", "hdbscan", "agglomerative", "gmm", "auto",
                                                "deep"]),
                 default="auto", show_default=True,
                 help="auto: k-means, k-means on whitened vectors or agglomerative, whichever keeps most of each "
                      "photo's nearest neighbours together (says why; about three times the time of kmeans); "
                      "gmm: a Gaussian mixture, deep: clustering heads trained from auto's clusters, each with "
                      "each photo's probability of its cluster."),
    click.option("--k", "k", default="auto", show_default=True,
                 help="Number of clusters (1 or more), or auto (k-means, agglomerative, gmm, auto, deep)."),
    click.option("--metric", default="cosine", show_default=True, help="cosine, euclidean, manhattan or minkowski:P."),
    click.option("--features", type=click.Choice(["cnn", "color"]), default="cnn", show_default=True),
    click.option("--eps", type=FiniteFloat(1e-9, 1e9), default=None, help="DBSCAN radius (default: estimated)."),
    click.option("--min-samples", type=click.IntRange(2), default=5, show_default=True, help="DBSCAN/HDBSCAN density."),
    click.option("--fit-limit", type=click.IntRange(100), default=None,
                 help="DBSCAN/HDBSCAN/gmm/agglomerative fit on this many photos; the rest join their nearest. "
                      "Default: 20,000; agglomerative 10,000 (it holds every pairwise distance: 1.2 GB at 10,000)."),
    click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
                 help="Random seed of sampling, k-means starts and deep's training: the same seed, the same clusters."),
    click.option("--k-plot", type=click.Path(dir_okay=False), default=None,
                 help="With --k auto: where to save the criterion plot (PNG; default: in the index folder)."),
]
OUTPUTS = output_options("Write a folder of contact sheets: an overview page and one page per cluster.", click.Path())
NAMES = ("method", "k", "metric", "features", "eps", "min_samples", "fit_limit", "seed", "k_plot", "as_json",
         "csv_file", "html_out")


def run(index, method, k, metric, features, eps, min_samples, fit_limit, seed, k_plot, as_json, csv_file,
        html_out) -> None:
    """Check every option, cluster, save the clusters in the index, print/write the report."""
    if k != "auto" and not (k.isdigit() and int(k) >= 1):
        fail("--k takes a number of clusters (1 or more) or auto")
    check_outputs(csv_file, k_plot, html_out)
    from imgsearch_cnn.indexer import layout
    from imgsearch_cnn.indexer.store import Store, StoreError
    from imgsearch_cnn.search.clusters import job
    from imgsearch_cnn.search.clusters.methods import ClusterOptions
    from imgsearch_cnn.search.render import clusters as render
    from imgsearch_cnn.search.render import terminal

    options = ClusterOptions(method=method, k=None if k == "auto" else int(k), metric=metric, eps=eps,
                             min_samples=min_samples, fit_limit=fit_limit, seed=seed)
    path = index_path(index)
    try:
        with Store.open(path) as store, terminal.progress() as progress:  # read-only: works while an index run writes
            outcome = job.run(store, options, features, progress)
    except (StoreError, ValueError) as exc:
        store_failed(exc)
    try:
        with Store.open(path, writable=True) as store:
            job.save(store, outcome)
    except StoreError as exc:
        click.echo(f"warning: clusters not saved in the index ({exc}); `imgsearch map` will not colour them",
                   err=True)
    plot = None
    if outcome.k_choice:
        plot = render.plot_k_choice(outcome.k_choice, Path(k_plot) if k_plot else path / layout.K_PLOT)
    emit(render, outcome, csv_file, html_out, as_json, k_plot=plot)


@click.command()
@index_option
@with_options(OPTIONS + OUTPUTS)
def clusters(index, **options) -> None:
    """Group the collection into clusters of similar photos (saved in the index for `imgsearch map`).

    By default the best of k-means, k-means on whitened vectors and agglomerative clustering
    (k chosen automatically unless --k); or one of them, DBSCAN, HDBSCAN, a Gaussian mixture or
    trained clustering heads; on the CNN vectors (or colour histograms with --features color)."""
    run(index, **options)
