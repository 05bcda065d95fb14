"""Evidence: logit adjustment (as a loss, or post hoc) beats plain cross-entropy on a long tail.

Long-tailed digits (imbalance ratio 100: 124 images of digit 0 down to 1 of
digit 9), balanced test set of 50 per digit; a 64-32-10 MLP, 20 epochs,
3 seeds. Run with ``-s`` to see the numbers (recorded in docs/guide/weights_losses.md):

    PYTHONPATH=src python -m pytest -q -s tests/keras/test_evidence_long_tail.py
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from sklearn.metrics import balanced_accuracy_score  # noqa: E402

import classbalance as cb  # noqa: E402
from classbalance.datasets import long_tailed_digits  # noqa: E402
from classbalance.keras.losses import LogitAdjustedLoss  # noqa: E402

SEEDS = (0, 1, 2)


def _train(x, y, loss, seed: int):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(keras.optimizers.Adam(0.01), loss)
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    return model


@pytest.mark.slow
def test_logit_adjustment_improves_balanced_accuracy():
    """Mean balanced accuracy over 3 seeds: LogitAdjustedLoss and adjust_logits each beat CE."""
    scores = []
    for seed in SEEDS:
        x_train, y_train, x_test, y_test = long_tailed_digits(100, seed=seed)
        counts = np.bincount(y_train, minlength=10)
        plain = _train(
            x_train, y_train, keras.losses.SparseCategoricalCrossentropy(from_logits=True), seed
        )
        logits = plain.predict(x_test, verbose=0)
        adjusted = _train(x_train, y_train, LogitAdjustedLoss(counts, from_logits=True), seed)
        scores.append(
            [
                balanced_accuracy_score(y_test, logits.argmax(1)),
                balanced_accuracy_score(y_test, cb.adjust_logits(logits, counts).argmax(1)),
                balanced_accuracy_score(y_test, adjusted.predict(x_test, verbose=0).argmax(1)),
            ]
        )
    ce, posthoc, la_loss = np.mean(scores, axis=0)
    print(
        f"\nbalanced accuracy, mean of seeds {SEEDS} (per seed {np.round(scores, 3).tolist()}): "
        f"cross-entropy {ce:.3f} | adjust_logits {posthoc:.3f} | LogitAdjustedLoss {la_loss:.3f}"
    )
    assert posthoc > ce + 0.03
    assert la_loss > ce + 0.03
