"""A calibrated static int8 (QDQ) network against the float one: speed and retrieval accuracy.

    python tools/eval_int8.py DATA_DIR [--photos 3000] [--calibrate 200] [--exclude BACKGROUND_Google]

DATA_DIR holds one folder per class (caltech101-dev, cifar10-test). The bundled network's ONNX
export is quantised with onnxruntime's quantize_static (QDQ format, per-channel int8 weights,
uint8 activations), calibrated on ``--calibrate`` photos of the set; then both networks embed the
same ``--photos`` photos (an even sample over the classes), with the indexer's own preprocessing,
on this machine's onnxruntime CPU threads. Prints network-only photos/s (batches of 32), the
cosine between the two networks' vectors, and mean precision@10 of each (a neighbour counts when
it lies in the query's class folder).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from imgsearch_cnn.indexer import embed, models
from imgsearch_cnn.indexer.scan import walk

BATCH = 32


def photos_of(root: str, count: int, exclude: list[str]) -> tuple[list[str], np.ndarray]:
    files = sorted(f.path for f in walk([root]).files)
    files = [p for p in files if os.path.relpath(p, root).split(os.sep)[0] not in exclude]
    chosen = [files[int(i)] for i in np.linspace(0, len(files) - 1, min(count, len(files)))]
    return chosen, np.array([os.path.relpath(p, root).split(os.sep)[0] for p in chosen])


def precision_at_10(vectors: np.ndarray, labels: np.ndarray) -> float:
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -np.inf)
    nearest = np.argsort(-scores, axis=1)[:, :10]
    return float(np.mean(labels[nearest] == labels[:, None]))


def embed_all(embedder: embed.Embedder, pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """Vectors of every photo and network-only photos/s."""
    started = time.perf_counter()
    vectors = np.vstack([embedder.embed(pixels[s:s + BATCH]) for s in range(0, len(pixels), BATCH)])
    return vectors, len(pixels) / (time.perf_counter() - started)


def quantise(float_model: Path, calibration: np.ndarray, normalise, out: Path) -> Path:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quant_pre_process, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(normalise(calibration[s:s + 8]) for s in range(0, len(calibration), 8))

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {"images": batch}

    prepared = out.with_name("prepared.onnx")
    quant_pre_process(str(float_model), str(prepared))
    quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)
    return out


def main() -> None:
    import onnxruntime as ort

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--photos", type=int, default=3000)
    parser.add_argument("--calibrate", type=int, default=200)
    parser.add_argument("--exclude", action="append", default=["BACKGROUND_Google"])
    args = parser.parse_args()
    root = os.path.abspath(args.data_dir)
    paths, labels = photos_of(root, args.photos, args.exclude)
    float_net = embed.Embedder(models.resolve(), "cpu")
    prep = float_net.spec.preprocessing
    pixels = np.stack([embed.load(p, prep).pixels for p in paths])
    calibration = pixels[np.random.default_rng(0).choice(len(pixels), args.calibrate, replace=False)]
    with tempfile.TemporaryDirectory() as tmp:
        float_file = models.export_onnx(float_net.spec, Path(tmp))
        int8_file = quantise(float_file, calibration, float_net._normalise, Path(tmp) / "int8.onnx")
        int8_net = embed.Embedder(models.resolve(), "cpu")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        int8_net._session = ort.InferenceSession(str(int8_file), options, providers=["CPUExecutionProvider"])
        float_vectors, float_speed = embed_all(float_net, pixels)
        int8_vectors, int8_speed = embed_all(int8_net, pixels)
    agreement = np.einsum("ij,ij->i", float_vectors, int8_vectors)
    print(f"{len(paths)} photos of {len(set(labels))} classes from {root}; calibrated on {args.calibrate}; "
          f"{os.cpu_count()} cores")
    print("| network | photos/s (network only, batches of 32) | P@10 | cosine to float (min / median) |")
    print("|---|---|---|---|")
    print(f"| float32 | {float_speed:.1f} | {precision_at_10(float_vectors, labels):.4f} | 1 / 1 |")
    print(f"| int8 QDQ, calibrated | {int8_speed:.1f} | {precision_at_10(int8_vectors, labels):.4f} | "
          f"{agreement.min():.3f} / {np.median(agreement):.3f} |")


if __name__ == "__main__":
    main()
