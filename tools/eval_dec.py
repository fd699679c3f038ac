"""Deep embedded clustering (DEC) and its variant with reconstruction (IDEC), a variational
autoencoder with a Gaussian-mixture prior (VaDE) and hierarchical clustering in the learned
embedding, as the seed articles describe them, on the index's CNN vectors, against k-means.

    python tools/eval_dec.py --index IDX DATA_DIR [--seeds 3] [--epochs 30] [--refine 20]

An autoencoder (1280 -> 512 -> 64 -> 512 -> 1280, ReLU, mean squared error) is trained on the
unit vectors; k-means in its 64-d latent space gives "AE + k-means"; DEC then trains the encoder
and the cluster centres together to sharpen the soft assignments (Student's t kernel) towards
their own squared, frequency-normalised targets (KL divergence, targets renewed every epoch);
IDEC keeps the reconstruction loss too (weight 0.1) so the latent space does not drift.
"AE + agglomerative" is the articles' deep hierarchical clustering: average-linkage (cosine)
clustering in the autoencoder's latent space. "VAE, mixture prior" (VaDE): the encoder gives a
mean and a variance, the prior is a mixture of k Gaussians (started from a Gaussian mixture fitted
in the autoencoder's latent space, the encoder and decoder from the autoencoder), trained on
the evidence lower bound; a photo's cluster is the mixture component most responsible for it. Scored
by clustering accuracy against the class folders; k = number of classes. Prints a markdown
table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from eval_clustering import accuracy, experiment_parser, labelled_vectors  # tools/ is the script's folder


def soft(latent, centres):
    """Student's t soft assignment of each row to each centre (DEC's q)."""
    import torch

    q = 1.0 / (1.0 + torch.cdist(latent, centres) ** 2)
    return q / q.sum(dim=1, keepdim=True)


def train_autoencoder(encoder, decoder, x, epochs: int, batch: int) -> None:
    """Trains both on reconstructing ``x`` (mean squared error, Adam at 1e-3, shuffled batches).
    Shared with tools/eval_pixel_features.py."""
    import torch
    from torch import nn

    optimiser = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], 1e-3)
    for _ in range(epochs):
        for rows in torch.randperm(len(x)).split(batch):
            loss = nn.functional.mse_loss(decoder(encoder(x[rows])), x[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()


def run(data: np.ndarray, k: int, seed: int, epochs: int, refine: int) -> dict[str, np.ndarray]:
    import torch
    from sklearn.cluster import KMeans
    from torch import nn

    torch.manual_seed(seed)
    x = torch.from_numpy(data)
    encoder = nn.Sequential(nn.Linear(x.shape[1], 512), nn.ReLU(), nn.Linear(512, 64))
    decoder = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, x.shape[1]))
    train_autoencoder(encoder, decoder, x, epochs, 256)
    with torch.no_grad():
        latent = encoder(x).numpy()
    start = KMeans(k, n_init=5, random_state=seed).fit(latent)
    out = {"AE + k-means": start.labels_}
    from sklearn.cluster import AgglomerativeClustering

    out["AE + agglomerative"] = AgglomerativeClustering(k, metric="cosine", linkage="average").fit_predict(latent)
    out["VAE, mixture prior"] = vade(x, encoder, decoder, latent, k, seed, refine)
    state = {name: tensor.clone() for name, tensor in encoder.state_dict().items()}
    for name, weight in (("DEC", 0.0), ("IDEC", 0.1)):
        encoder.load_state_dict(state)
        centres = nn.Parameter(torch.tensor(start.cluster_centers_, dtype=torch.float32))
        optimiser = torch.optim.Adam([*encoder.parameters(), centres, *decoder.parameters()], 1e-4)
        for _ in range(refine):
            with torch.no_grad():
                q = soft(encoder(x), centres)
                target = q ** 2 / q.sum(dim=0)
                target = target / target.sum(dim=1, keepdim=True)
            for rows in torch.randperm(len(x)).split(256):
                latent = encoder(x[rows])
                loss = nn.functional.kl_div(soft(latent, centres).log(), target[rows], reduction="batchmean")
                if weight:
                    loss = loss + weight * nn.functional.mse_loss(decoder(latent), x[rows])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        with torch.no_grad():
            out[name] = soft(encoder(x), centres).argmax(dim=1).numpy()
    return out


def vade(x, encoder, decoder, latent: np.ndarray, k: int, seed: int, epochs: int,
         reconstruction_weight: float = 1000.0) -> np.ndarray:
    """VaDE on top of the trained autoencoder (copied, not changed); returns each row's component."""
    import copy

    import torch
    from sklearn.mixture import GaussianMixture
    from torch import nn

    torch.manual_seed(seed)
    body = copy.deepcopy(encoder[:-1])  # 1280 -> 512, ReLU
    mean_head, log_var_head = copy.deepcopy(encoder[-1]), nn.Linear(512, latent.shape[1])
    nn.init.zeros_(log_var_head.weight)
    nn.init.constant_(log_var_head.bias, -4.0)
    decode = copy.deepcopy(decoder)
    mixture = GaussianMixture(k, covariance_type="diag", random_state=seed, reg_covar=1e-4).fit(latent)
    log_weights = nn.Parameter(torch.tensor(np.log(mixture.weights_), dtype=torch.float32))
    centres = nn.Parameter(torch.tensor(mixture.means_, dtype=torch.float32))
    log_vars = nn.Parameter(torch.tensor(np.log(mixture.covariances_), dtype=torch.float32))
    parameters = [*body.parameters(), *mean_head.parameters(), *log_var_head.parameters(), *decode.parameters(),
                  log_weights, centres, log_vars]
    optimiser = torch.optim.Adam(parameters, 1e-4)

    def responsibilities(z):
        log_p = -0.5 * (log_vars + (z[:, None, :] - centres) ** 2 / log_vars.exp()).sum(dim=2)
        return torch.softmax(torch.log_softmax(log_weights, 0) + log_p, dim=1)

    for _ in range(epochs):
        for rows in torch.randperm(len(x)).split(256):
            hidden = body(x[rows])
            mu, log_var = mean_head(hidden), log_var_head(hidden)
            z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
            gamma = responsibilities(z)
            reconstruction = nn.functional.mse_loss(decode(z), x[rows])
            kl_z = 0.5 * (gamma[:, :, None] * (log_vars + log_var[:, None, :].exp() / log_vars.exp()
                                               + (mu[:, None, :] - centres) ** 2 / log_vars.exp())).sum(dim=(1, 2))
            kl_c = (gamma * (gamma.clamp_min(1e-10).log() - torch.log_softmax(log_weights, 0))).sum(dim=1)
            loss = reconstruction_weight * reconstruction + (kl_z + kl_c - 0.5 * (1 + log_var).sum(dim=1)).mean() / x.shape[1]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        return responsibilities(mean_head(body(x))).argmax(dim=1).numpy()


def main() -> None:
    parser = experiment_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=30, help="autoencoder epochs")
    parser.add_argument("--refine", type=int, default=20, help="DEC/IDEC epochs")
    args = parser.parse_args()
    root = os.path.abspath(args.data_dir)
    vectors, truth = labelled_vectors(args.index, root, args.exclude)
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    k = len(set(truth))
    print(f"machine: {os.cpu_count()} cores; data: {Path(root).name}, {len(truth):,} photos, k = {k}")
    scores: dict[str, list[float]] = {}
    seconds = []
    for seed in range(args.seeds):
        started = time.perf_counter()
        for name, labels in run(data, k, seed, args.epochs, args.refine).items():
            scores.setdefault(name, []).append(accuracy(truth, labels))
        seconds.append(time.perf_counter() - started)
    print(f"\n| method | ACC mean | min - max |\n|---|---|---|")
    for name, values in scores.items():
        print(f"| {name} | {np.mean(values):.3f} | {min(values):.3f} - {max(values):.3f} |")
    print(f"\n{np.mean(seconds):.0f} s a seed for all five (autoencoder {args.epochs} epochs, refinement {args.refine})")


if __name__ == "__main__":
    main()
