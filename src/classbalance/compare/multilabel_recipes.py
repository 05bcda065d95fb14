"""The multi-label remedies ``compare`` tries, under the single-label rules.

Every recipe trains the same model with one logit per label for exactly
``epochs * ceil(n_train / batch_size)`` optimizer steps at the same batch
size, with binary cross-entropy from logits unless the recipe changes the
loss, and keeps its epoch with the best **validation mAP** (restore best).
On top of each, per-label decision thresholds are tuned on the validation
split only (:func:`classbalance.tune_thresholds`, F1) and applied to the test
set, next to the plain 0.5 threshold.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

import classbalance as cb
from classbalance.compare.recipes import Recipe, RunContext
from classbalance.compare.stats import weighted_average_precision

__all__ = ["ML_RECIPES", "MultiLabelRunContext", "run_one_multilabel"]


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities of logits, without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logits, dtype=np.float64)))


def mean_average_precision(Y: np.ndarray, scores: np.ndarray) -> float:
    """mAP over the labels with positives (scikit-learn's AP per label).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.multilabel_recipes import mean_average_precision
    >>> mean_average_precision(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    1.0
    """
    ap = weighted_average_precision(Y, scores, np.ones((1, len(Y)), dtype=np.float32))[0]
    return float(np.nanmean(ap)) if np.isfinite(ap).any() else 0.0


class MultiLabelRunContext(RunContext):
    """A :class:`RunContext` whose loss is binary cross-entropy and whose selection is val mAP."""

    def compile(self, model: Any, loss: Any = None) -> None:
        import keras

        model.compile(
            optimizer=keras.optimizers.Adam(self.cfg.learning_rate),
            loss=loss or keras.losses.BinaryCrossentropy(from_logits=True),
            jit_compile=False,
        )

    def val_score(self, model: Any, scores: Any = None) -> float:
        """Validation mAP (labels without validation positives left out)."""
        out = self.logits(model, self.data.x_val)
        return mean_average_precision(self.data.y_val, out if scores is None else scores(out))


def _plain(ctx: RunContext) -> Any:
    model = ctx.fit(ctx.model())
    return lambda x: ctx.logits(model, x)


def _pos_weight(ctx: RunContext) -> Any:
    from classbalance.keras.losses import WeightedBinaryCrossentropy

    with warnings.catch_warnings():  # labels without positives: weight 1, reported in the notes
        warnings.simplefilter("ignore")
        weights = cb.pos_weight(ctx.data.y_train)
    ctx.info["pos_weight"] = [round(float(w), 4) for w in weights]
    model = ctx.fit(ctx.model(WeightedBinaryCrossentropy(weights, from_logits=True)))
    return lambda x: ctx.logits(model, x)


def _class_aware(ctx: RunContext) -> Any:
    with warnings.catch_warnings():  # labels without positives are never drawn (in the notes)
        warnings.simplefilter("ignore")
        model = ctx.fit(ctx.model(), sampling={"multilabel": True})
    return lambda x: ctx.logits(model, x)


def _asymmetric(ctx: RunContext) -> Any:
    from classbalance.keras.losses import AsymmetricLoss

    model = ctx.fit(ctx.model(AsymmetricLoss(from_logits=True)))
    return lambda x: ctx.logits(model, x)


ML_RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe("none", "plain binary cross-entropy from logits, shuffled batches", _plain),
        Recipe(
            "pos_weight",
            "WeightedBinaryCrossentropy(cb.pos_weight(Y_train)): each label's positives "
            "weighted by its negatives / positives",
            _pos_weight,
        ),
        Recipe(
            "class_aware",
            "class-aware sampling: BalancedPyDataset(multilabel=True, epoch_size=n_train), "
            "a label drawn uniformly, then one of its positives (rows without labels are "
            "never drawn)",
            _class_aware,
        ),
        Recipe(
            "asymmetric_loss",
            "AsymmetricLoss() defaults (gamma_neg=4, gamma_pos=1, clip=0.05; Ridnik et al. "
            "2021, mean-reduced)",
            _asymmetric,
        ),
    ]
}


def run_one_multilabel(
    data: Any,
    cfg: Any,
    strategy: str,
    seed: int,
    model: Any = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train one multi-label recipe and seed, tune thresholds on validation, score the test set.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, load_data
    >>> from classbalance.compare.multilabel_recipes import run_one_multilabel
    >>> cfg = CompareConfig(data="multilabel-demo", epochs=1).resolved("features", multilabel=True)
    >>> row = run_one_multilabel(load_data(cfg), cfg, "none", 0)
    >>> row["steps"] == row["budget_steps"] == 63, 0 < row["mAP"] <= 1
    (True, True)
    """
    from classbalance.compare.runner import import_keras_quietly, prepare_worker
    from classbalance.metrics import multilabel_report
    from classbalance.thresholds import tune_thresholds

    prepare_worker(threads)
    keras = import_keras_quietly()
    ctx = MultiLabelRunContext(data, cfg, seed, model_fn=model)
    start = time.perf_counter()
    predict = ML_RECIPES[strategy].train(ctx)
    seconds = time.perf_counter() - start
    val_scores = sigmoid(predict(data.x_val))
    test_scores = sigmoid(predict(data.x_test))
    with warnings.catch_warnings():  # labels without validation positives keep 0.5 (in the notes)
        warnings.simplefilter("ignore")
        tuned = tune_thresholds(data.y_val, val_scores, "f1", default=0.5)
    counts = data.train_counts
    plain = multilabel_report(data.y_test, test_scores, train_counts=counts, thresholds=0.5)
    at_tuned = multilabel_report(data.y_test, test_scores, train_counts=counts, thresholds=tuned)
    groups = plain.to_dict()
    return {
        "strategy": strategy,
        "seed": seed,
        "mAP": plain.mAP,
        "macro_f1": plain.macro_f1,
        "macro_f1_tuned": at_tuned.macro_f1,
        "micro_f1": plain.micro_f1,
        "micro_f1_tuned": at_tuned.micro_f1,
        **{f"{g}_mAP": groups.get(f"{g}_mAP") for g in ("head", "medium", "tail")},
        "val_mAP": mean_average_precision(data.y_val, val_scores),
        "steps": ctx.steps,
        "budget_steps": ctx.budget,
        "best_epochs": list(ctx.best_epochs),
        "train_seconds": seconds,
        "details": {**ctx.info, "thresholds": [round(float(t), 4) for t in tuned.thresholds]},
        "backend": keras.backend.backend(),
        "_scores": test_scores.astype(np.float32),
        "_thresholds": tuned.thresholds,
    }
