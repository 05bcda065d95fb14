"""Loading back: an exported image folder trains a Keras model through balanced batches."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")
Image = pytest.importorskip("PIL.Image")

from sklearn.datasets import load_digits  # noqa: E402

import classbalance as cb  # noqa: E402
from classbalance.folders import export, oversample, scan  # noqa: E402
from classbalance.keras import BalancedPyDataset  # noqa: E402

pytestmark = pytest.mark.backend

COUNTS = [150, 60, 25, 10, 5]  # long-tailed digits 0..4


def pil_loader(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img, dtype="float32")[..., None] / 255.0


@pytest.fixture
def digits_folder(tmp_path):
    """Digits 0..4 as 8x8 grayscale PNGs in class folders, long-tailed; returns (root, images)."""
    digits = load_digits()
    root = tmp_path / "digits"
    originals = {}
    for label, n in enumerate(COUNTS):
        folder = root / f"digit {label}"
        folder.mkdir(parents=True)
        for i, k in enumerate(np.flatnonzero(digits.target == label)[:n]):
            pixels = (digits.images[k] * (255 / 16)).round().astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(folder / f"{i:03d}.png")
            originals[f"digit {label}/{i:03d}.png"] = pixels
    return root, originals


def test_exported_folder_trains_with_balanced_batches(digits_folder, tmp_path):
    """scan -> oversample -> export -> labels.csv -> BalancedPyDataset(loader=Pillow) -> fit."""
    root, originals = digits_folder
    plan = oversample(scan(root), valid_pct=0.2, strategy="oversample", seed=0)
    out = tmp_path / "balanced"
    export(plan, out)
    table = pd.read_csv(out / "labels.csv")
    paths = np.array([f"{out}{os.sep}{name}" for name in table["name"]])
    for name, path in zip(table["name"][:20], paths[:20]):  # pixels survive the round trip
        np.testing.assert_array_equal(pil_loader(path)[..., 0] * 255, originals[name])
    train = ~table["is_valid"].to_numpy()
    assert table.loc[train, "label"].value_counts().nunique() == 1  # rows oversampled to equal

    # The exported rows are balanced already; BalancedBatches balances the raw rows as well.
    batches = cb.BalancedBatches(
        paths[train], table.loc[train, "label"].to_numpy(), 25, exact=True,
        loader=pil_loader, y_format="sparse", seed=0,
    )  # fmt: skip
    xb, yb = batches[0]
    assert xb.shape == (25, 8, 8, 1)
    assert np.bincount(yb, minlength=5).tolist() == [5] * 5

    data = BalancedPyDataset(
        paths[train], table.loc[train, "label"].to_numpy(), 32,
        loader=pil_loader, y_format="sparse", seed=0,
    )  # fmt: skip
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(5, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(data, epochs=6, verbose=0)

    valid = table["is_valid"].to_numpy()
    x_val = np.stack([pil_loader(p) for p in paths[valid]])
    classes = np.array(sorted(table["label"].unique()))
    y_val = np.searchsorted(classes, table.loc[valid, "label"].to_numpy())
    pred = model.predict(x_val, verbose=0).argmax(axis=1)
    recall = [np.mean(pred[y_val == c] == c) for c in range(5)]
    assert np.mean(recall) > 0.6  # balanced accuracy, chance is 0.2
