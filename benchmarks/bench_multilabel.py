"""Multi-label remedies against plain binary cross-entropy on long-tailed generated data.

Data: ``classbalance.datasets.make_long_tailed_multilabel`` (10 labels, training rates
falling from 0.4 to 0.004, imbalance ratio 100; 4,000 training, 1,000 validation and 4,000 test
samples; every label at rate 0.2 in the test set). Model: a Keras MLP (64 ReLU units, one logit
per label), Adam 1e-3, batch 64, the same number of epochs for every loss. Scores: test mAP per
head (> 300 training positives) / medium / tail (< 50) group, and macro-F1 with thresholds at 0
(p = 0.5) or tuned per label on the validation split.

Remedies: plain BCE; BCE with ``pos_weight`` (negatives / positives) and with its square root;
AsymmetricLoss at its defaults (gamma_neg=4, gamma_pos=1, clip=0.05); plain BCE on class-aware
batches (``BalancedPyDataset(..., multilabel=True)``, each label drawn equally often). Every
remedy takes the same optimizer steps: the class-aware epochs hold n_train draws.

Run: ``.venv/bin/python benchmarks/bench_multilabel.py [--seeds 5] [--epochs 15 40]``
(KERAS_BACKEND selects the backend; TensorFlow by default).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd

GROUP_BOUNDS = (50, 300)


def train_scores(
    loss, data, epochs: int, seed: int, class_aware: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validation and test logits of an MLP trained with ``loss`` (on class-aware batches)."""
    import keras

    from classbalance.keras import BalancedPyDataset

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((data.x_train.shape[1],)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(data.Y_train.shape[1]),
        ]
    )
    model.compile(keras.optimizers.Adam(1e-3), loss)
    Y = data.Y_train.astype("float32")
    if class_aware:
        batches = BalancedPyDataset(data.x_train, Y, 64, multilabel=True, seed=seed)
        assert len(batches) == -(-len(Y) // 64)  # the same steps per epoch as plain fit
        model.fit(batches, epochs=epochs, verbose=0)
    else:
        model.fit(data.x_train, Y, epochs=epochs, batch_size=64, verbose=0)
    return (
        model.predict(data.x_val, batch_size=1024, verbose=0),
        model.predict(data.x_test, batch_size=1024, verbose=0),
    )


def losses(Y_train: np.ndarray) -> dict:
    import keras

    from classbalance.keras.losses import AsymmetricLoss, WeightedBinaryCrossentropy
    from classbalance.weights import pos_weight

    weights = pos_weight(Y_train)
    return {
        "bce": keras.losses.BinaryCrossentropy(from_logits=True),
        "bce_pos_weight": WeightedBinaryCrossentropy(weights, from_logits=True),
        "bce_sqrt_pos_weight": WeightedBinaryCrossentropy(np.sqrt(weights), from_logits=True),
        "asymmetric": AsymmetricLoss(),
        "bce_class_aware": keras.losses.BinaryCrossentropy(from_logits=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, nargs="+", default=[15, 40])
    args = parser.parse_args()

    import keras

    from classbalance.datasets import make_long_tailed_multilabel
    from classbalance.metrics import multilabel_report
    from classbalance.thresholds import tune_thresholds

    rows = []
    start = time.perf_counter()
    for seed in range(args.seeds):
        data = make_long_tailed_multilabel(4000, n_labels=10, seed=seed)
        counts = data.Y_train.sum(axis=0)
        for epochs in args.epochs:
            for name, loss in losses(data.Y_train).items():
                val, test = train_scores(
                    loss, data, epochs, seed, class_aware=name.endswith("class_aware")
                )
                report = multilabel_report(
                    data.Y_test,
                    test,
                    train_counts=counts,
                    thresholds=0.0,
                    group_bounds=GROUP_BOUNDS,
                )
                tuned = multilabel_report(
                    data.Y_test,
                    test,
                    train_counts=counts,
                    thresholds=tune_thresholds(data.Y_val, val, default=0.0),
                    group_bounds=GROUP_BOUNDS,
                )
                groups = report.groups["mAP"]
                rows.append(
                    {
                        "seed": seed,
                        "epochs": epochs,
                        "loss": name,
                        "mAP": report.mAP,
                        "head_mAP": groups["head"],
                        "medium_mAP": groups["medium"],
                        "tail_mAP": groups["tail"],
                        "macro_f1@0": report.macro_f1,
                        "macro_f1_tuned": tuned.macro_f1,
                    }
                )
                print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    print(
        f"\nbackend {keras.backend.backend()}, {args.seeds} seeds, "
        f"{time.perf_counter() - start:.0f} s; label counts (seed 0): "
        f"{make_long_tailed_multilabel(4000, n_labels=10, seed=0).Y_train.sum(0).tolist()}"
    )
    summary = (
        frame.groupby(["epochs", "loss"], sort=False).agg(["mean", "std"]).drop(columns="seed")
    )
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(summary.round(3))
    base = frame[frame["loss"] == "bce"].set_index(["seed", "epochs"])["tail_mAP"]
    print("\npaired tail-mAP difference vs bce (mean, min over seeds):")
    for (epochs, name), part in frame.groupby(["epochs", "loss"], sort=False):
        if name == "bce":
            continue
        diff = part.set_index(["seed", "epochs"])["tail_mAP"] - base
        print(f"  {epochs:>3} epochs  {name:<20} {diff.mean():+.3f}  (min {diff.min():+.3f})")


if __name__ == "__main__":
    main()
