"""The remedies ``compare`` tries, each built only from classbalance's public API.

One registry, keyed by task (:mod:`classbalance.compare.task`): ``RECIPES
["single-label"]`` and ``RECIPES["multi-label"]``. A recipe is named after
what it runs, and every one trains under the rules of
:mod:`classbalance.compare.training`: the same optimizer steps at the same
batch size, the best epoch on validation, nothing sees the test set.
Multi-label recipes train one logit per label with binary cross-entropy
unless they change the loss; on top of each, per-label thresholds are tuned
on validation (the task's prediction transform).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import classbalance as cb
from classbalance.compare.config import CompareError
from classbalance.compare.training import RunContext, Scores

__all__ = ["MIN_VAL_PER_CLASS_FOR_TAU", "RECIPES", "TAU_GRID", "Recipe", "check_strategy_names"]

TAU_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
MIN_VAL_PER_CLASS_FOR_TAU = 20  # tune post-hoc tau only when every class has this many
ENSEMBLE_MEMBERS = 5
CRT_SHARE = 0.2  # share of the epochs cRT spends re-training the classifier


@dataclass(frozen=True)
class Recipe:
    """A named remedy: how to train it, and what it is.

    ``train(ctx)`` returns a function from inputs to scores (logits, or
    adjusted logits / log-probabilities): the task turns them into
    predictions (argmax, or sigmoid and thresholds).
    """

    name: str
    description: str
    train: Callable[[RunContext], Callable[[np.ndarray], np.ndarray]]
    images_only: bool = False


# --------------------------------------------------------------------------- single-label
def _predictor(ctx: RunContext, model: Any, scores: Scores | None = None) -> Any:
    if scores is None:
        return lambda x: ctx.logits(model, x)
    return lambda x: scores(ctx.logits(model, x))


def _plain(ctx: RunContext) -> Any:
    return _predictor(ctx, ctx.fit(ctx.model()))


def _weighted(strategy: str) -> Any:
    def train(ctx: RunContext) -> Any:
        weights = cb.class_weights(ctx.data.y_train, strategy, classes=range(ctx.data.n_classes))
        return _predictor(ctx, ctx.fit(ctx.model(), class_weight=weights))

    return train


def _sampled(augment: bool = False, **sampling: Any) -> Any:
    def train(ctx: RunContext) -> Any:
        return _predictor(ctx, ctx.fit(ctx.model(augment=augment), sampling=sampling))

    return train


def _undersample(ctx: RunContext) -> Any:
    # Classic random undersampling: one subset, every class cut to the rarest one's
    # count; the rest of the data is not used. Same steps as every other recipe.
    rows = cb.BalancedSampler(ctx.data.y_train, "undersample", seed=ctx.seed).plan(0)
    ctx.info["rows_used"] = len(rows)
    return _predictor(ctx, ctx.fit(ctx.model(), rows=np.sort(rows)))


def _counts(ctx: RunContext) -> np.ndarray:
    return np.maximum(ctx.data.train_counts, 1)


def _with_loss(make_loss: Callable[[RunContext], Any]) -> Any:
    def train(ctx: RunContext) -> Any:
        return _predictor(ctx, ctx.fit(ctx.model(make_loss(ctx))))

    return train


def _focal(ctx: RunContext) -> Any:
    from classbalance.keras.losses import SparseFocalLoss

    return SparseFocalLoss(gamma=2.0, from_logits=True)


def _class_balanced(ctx: RunContext) -> Any:
    from classbalance.keras.losses import ClassBalancedLoss

    return ClassBalancedLoss(_counts(ctx), beta=0.999, loss="focal", gamma=1.0, from_logits=True)


def _logit_adjusted(ctx: RunContext) -> Any:
    from classbalance.keras.losses import LogitAdjustedLoss

    return LogitAdjustedLoss(_counts(ctx), tau=1.0, from_logits=True)


def _posthoc(ctx: RunContext) -> Any:
    counts = _counts(ctx)

    def adjusted(tau: float) -> Scores:
        return lambda logits: cb.adjust_logits(logits, counts, tau=tau)

    # Epochs are selected with the theory-backed tau = 1 (Bayes-optimal for the
    # balanced error); tau is tuned only where validation can support it.
    model = ctx.fit(ctx.model(), scores=adjusted(1.0))
    tau = 1.0
    if int(ctx.data.val_counts.min()) >= MIN_VAL_PER_CLASS_FOR_TAU:
        scores = [ctx.val_score(model, adjusted(t)) for t in TAU_GRID]
        tau = TAU_GRID[int(np.argmax(scores))]
        ctx.info["tau_rule"] = "tuned on validation"
    else:
        ctx.info["tau_rule"] = (
            f"default (a class has fewer than {MIN_VAL_PER_CLASS_FOR_TAU} validation samples)"
        )
    ctx.info["tau"] = tau
    return _predictor(ctx, model, adjusted(tau))


def _ldam_drw(ctx: RunContext) -> Any:
    from classbalance.keras.losses import DeferredReweighting, LDAMLoss

    # Cao et al. 2019 defer re-weighting to the last 20% of training (160 of 200 epochs);
    # the model's logits come from an ordinary Dense layer, hence scale=1 (see LDAMLoss).
    loss = LDAMLoss(_counts(ctx), max_margin=0.5, scale=1.0, from_logits=True)
    start = max(1, math.ceil(0.8 * ctx.cfg.epochs)) if ctx.cfg.epochs > 1 else 0
    drw = DeferredReweighting(loss, start_epoch=start, beta=0.9999)
    ctx.info["drw_start_epoch"] = start
    return _predictor(ctx, ctx.fit(ctx.model(loss), callbacks=[drw]))


def _classifier_layer(model: Any) -> Any:
    """The last layer with trainable weights, looking inside nested models."""

    def flatten(layer: Any) -> list[Any]:
        inner = getattr(layer, "layers", None)
        if inner is None:
            return [layer]
        return [leaf for child in inner for leaf in flatten(child)]

    layers = [layer for layer in flatten(model) if layer.trainable_weights]
    return layers[-1]


def _crt(ctx: RunContext) -> Any:
    # Kang et al. 2020 (decoupling): learn the representation with plain
    # instance-balanced training, then re-train only the classifier with
    # class-balanced sampling. The epochs are split, not added. Kang et al.
    # re-initialize the classifier and give it 10 epochs of its own; within an
    # equal budget a fresh classifier gets too few steps (measured once on the
    # digits, 10 epochs, seed 0, the earlier 64-unit MLP: balanced accuracy 0.34
    # re-initialized against 0.73 fine-tuned), so it is fine-tuned from the first
    # stage's weights instead.
    second = max(1, round(CRT_SHARE * ctx.cfg.epochs)) if ctx.cfg.epochs > 1 else 0
    model = ctx.fit(ctx.model(), epochs=ctx.cfg.epochs - second)
    if second == 0:
        ctx.info["crt"] = "1 epoch: no classifier re-training"
        return _predictor(ctx, model)
    head = _classifier_layer(model)

    def freeze(layer: Any) -> None:
        for child in getattr(layer, "layers", []) or []:
            freeze(child)
        if layer is not model and layer is not head and not getattr(layer, "layers", None):
            layer.trainable = False

    freeze(model)
    ctx.compile(model)
    ctx.info["crt_epochs"] = [ctx.cfg.epochs - second, second]
    return _predictor(ctx, ctx.fit(model, epochs=second, sampling={"strategy": "balanced"}))


def _ensemble(ctx: RunContext) -> Any:
    # EasyEnsemble-style: members on different undersampled subsets (the sampler's
    # plans of epochs 0..M-1 walk the frequent classes without repeats), averaged
    # probabilities. The epochs are split among the members, not multiplied: a
    # member's epoch is n_train samples drawn class-balanced from its subset, as
    # in `undersample`, so every member has whole epochs to select its best from.
    sampler = cb.BalancedSampler(ctx.data.y_train, "undersample", seed=ctx.seed)
    epochs = ctx.cfg.epochs
    members = max(1, min(ENSEMBLE_MEMBERS, epochs))
    split = [epochs // members + (1 if m < epochs % members else 0) for m in range(members)]
    # One compiled model trains every member in turn (a fresh model would be traced
    # again, seconds each): it takes member m's initial weights (those of a model
    # built with seed (seed, m)) and a fresh optimizer state before member m trains.
    import keras

    model = ctx.model(member=0)
    model.optimizer.build(model.trainable_variables)
    fresh = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
    members_weights = []
    for m, own in enumerate(split):
        if m:
            model.set_weights(ctx.model(member=m).get_weights())
            _restart_optimizer(model, fresh)
        ctx.fit(model, epochs=own, rows=np.sort(sampler.plan(m)))
        members_weights.append(model.get_weights())
    ctx.info.update(members=members, member_epochs=split)

    def predict(x: np.ndarray) -> np.ndarray:
        probs = []
        for weights in members_weights:
            model.set_weights(weights)
            probs.append(_softmax(ctx.logits(model, x)))
        return np.log(np.clip(np.mean(probs, axis=0), 1e-12, None))

    return predict


def _restart_optimizer(model: Any, fresh: list[np.ndarray]) -> None:
    """Put the optimizer's variables (step count, moments) back to their values before training."""
    for variable, value in zip(model.optimizer.variables, fresh, strict=True):
        variable.assign(value)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- multi-label
# Labels without positives are reported once, in the data's notes: pos_weight gives them
# weight 1 and the class-aware sampler never draws them.
_NO_POSITIVE = r"Labels .* have no positive sample; their pos_weight is set to 1"
_NEVER_DRAWN = r"\d+ label\(s\) have no positive sample and are never drawn"


def _ml_pos_weight(ctx: RunContext) -> Any:
    from classbalance.keras.losses import WeightedBinaryCrossentropy

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _NO_POSITIVE, UserWarning)
        weights = cb.pos_weight(ctx.data.y_train)
    ctx.info["pos_weight"] = [round(float(w), 4) for w in weights]
    model = ctx.fit(ctx.model(WeightedBinaryCrossentropy(weights, from_logits=True)))
    return lambda x: ctx.logits(model, x)


def _ml_class_aware(ctx: RunContext) -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _NEVER_DRAWN, UserWarning)
        model = ctx.fit(ctx.model(), sampling={"multilabel": True})
    return lambda x: ctx.logits(model, x)


def _ml_asymmetric(ctx: RunContext) -> Any:
    from classbalance.keras.losses import AsymmetricLoss

    model = ctx.fit(ctx.model(AsymmetricLoss(from_logits=True)))
    return lambda x: ctx.logits(model, x)


RECIPES: dict[str, dict[str, Recipe]] = {
    "single-label": {
        r.name: r
        for r in [
            Recipe("none", "plain cross-entropy, shuffled batches (the baseline)", _plain),
            Recipe(
                "class_weight",
                "fit(class_weight=cb.class_weights(y)) — 'balanced'",
                _weighted("balanced"),
            ),
            Recipe(
                "class_weight_effective",
                "class weights from effective numbers (Cui et al. 2019, beta=0.999)",
                _weighted("effective"),
            ),
            Recipe(
                "balanced_sampling",
                "class-balanced sampling: BalancedPyDataset(strategy='balanced', "
                "epoch_size=n_train), every class equally often, rare samples repeated",
                _sampled(strategy="balanced"),
            ),
            Recipe(
                "undersample",
                "random undersampling: one subset with every class cut to the rarest "
                "class's count (the rest of the data unused), trained for the same steps",
                _undersample,
            ),
            Recipe(
                "sqrt_sampling",
                "BalancedPyDataset(alpha=0.5, epoch_size=n_train): p(class) ∝ sqrt(n_class)",
                _sampled(alpha=0.5),
            ),
            Recipe("focal", "SparseFocalLoss(gamma=2) (Lin et al. 2017)", _with_loss(_focal)),
            Recipe(
                "class_balanced_loss",
                "ClassBalancedLoss(counts, beta=0.999, focal gamma=1) (Cui et al. 2019)",
                _with_loss(_class_balanced),
            ),
            Recipe(
                "logit_adjusted_loss",
                "LogitAdjustedLoss(counts, tau=1) — Balanced Softmax (Menon et al. 2021)",
                _with_loss(_logit_adjusted),
            ),
            Recipe(
                "posthoc_adjust",
                "plain training, then adjust_logits(tau): tau = 1, tuned on validation only "
                f"when every class has >= {MIN_VAL_PER_CLASS_FOR_TAU} validation samples",
                _posthoc,
            ),
            Recipe(
                "ldam_drw",
                "LDAMLoss with deferred re-weighting from 80% of the epochs (Cao et al. 2019)",
                _ldam_drw,
            ),
            Recipe(
                "crt",
                "classifier re-training: plain training, then only the last layer re-trained "
                "with class-balanced sampling for 20% of the epochs (Kang et al. 2020; "
                "fine-tuned, not re-initialized, within the equal budget)",
                _crt,
            ),
            Recipe(
                "ensemble",
                f"{ENSEMBLE_MEMBERS} models on different undersampled subsets, probabilities "
                "averaged (EasyEnsemble-style); the epochs are split among the members (each "
                "epoch n_train samples drawn class-balanced from the member's subset)",
                _ensemble,
            ),
            Recipe(
                "balanced_sampling_augment",
                "class-balanced sampling with augmentation (random shifts, rotations, zoom: "
                "Keras preprocessing layers), as the seed Oversampler advises",
                _sampled(augment=True, strategy="balanced"),
                images_only=True,
            ),
        ]
    },
    "multi-label": {
        r.name: r
        for r in [
            Recipe("none", "plain binary cross-entropy from logits, shuffled batches", _plain),
            Recipe(
                "pos_weight",
                "WeightedBinaryCrossentropy(cb.pos_weight(Y_train)): each label's positives "
                "weighted by its negatives / positives",
                _ml_pos_weight,
            ),
            Recipe(
                "class_aware",
                "class-aware sampling: the engine's balanced strategy for multi-hot labels, "
                "BalancedPyDataset(multilabel=True, epoch_size=n_train): a label drawn "
                "uniformly, then one of its positives (rows without labels are never drawn)",
                _ml_class_aware,
            ),
            Recipe(
                "asymmetric_loss",
                "AsymmetricLoss() defaults (gamma_neg=4, gamma_pos=1, clip=0.05; Ridnik et al. "
                "2021, mean-reduced)",
                _ml_asymmetric,
            ),
        ]
    },
}


def check_strategy_names(names: Sequence[str] | None) -> None:
    """Refuse names that no task has a recipe for, before the data (and their task) are known.

    Examples
    --------
    >>> from classbalance.compare.recipes import check_strategy_names
    >>> check_strategy_names(["none", "pos_weight", "focal"])
    >>> check_strategy_names(["smote"])
    Traceback (most recent call last):
    ...
    classbalance.compare.config.CompareError: Unknown strategies ['smote']; choose from: ...
    """
    known = {n: None for recipes in RECIPES.values() for n in recipes}
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise CompareError(f"Unknown strategies {unknown}; choose from: {', '.join(known)}.")
