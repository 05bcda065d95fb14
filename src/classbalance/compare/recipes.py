"""The remedies ``compare`` tries, each built only from classbalance's public API.

One registry, keyed by task (:mod:`classbalance.compare.task`): ``RECIPES
["single-label"]`` and ``RECIPES["multi-label"]``. A recipe is named after
what it runs, and every one trains under the rules of
:mod:`classbalance.compare.training`: the same optimizer steps at the same
batch size, the best epoch on validation, nothing sees the test set.
Multi-label recipes train one logit per label with binary cross-entropy
unless they change the loss; on top of each, per-label thresholds are tuned
on validation (the task's prediction transform).

Some recipes start from another run's trained model, that of the same seed
(``Recipe.base``: ``none``), instead of training one of their own:
post-hoc ones (``posthoc_adjust``, ``tau_norm``) transform its logits or
classifier weights and train nothing; second-stage ones (``crt``, ``lws``)
start from its weights after its first ``epochs - s`` epochs (the best of
them on validation: the same training as a first stage of their own) and
train a second stage of ``s`` epochs
(:func:`~classbalance.compare.training.second_stage_epochs`: 20%) with
everything but the classifier (or one scale per class) frozen. So every
prediction has ``epochs`` epochs of training behind it, as every other
run's; a run's own steps are those it adds, the base's are counted once,
in its run. The runner trains the base first for each seed (also when it
was not asked for, then without reporting it): :func:`groups`.
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
from classbalance.compare.training import (
    SECOND_STAGE_SHARE,
    RunContext,
    Scores,
    leaf_layers,
    second_stage_epochs,
)

__all__ = [
    "MIN_VAL_PER_CLASS_FOR_TAU",
    "RECIPES",
    "TAU_GRID",
    "Recipe",
    "check_strategy_names",
    "groups",
]

TAU_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
MIN_VAL_PER_CLASS_FOR_TAU = 20  # tune post-hoc tau only when every class has this many
ENSEMBLE_MEMBERS = 5
LWS_LEARNING_RATE_FACTOR = 10.0  # LWS's scales learn at 10x the learning rate (see _lws)


@dataclass(frozen=True)
class Recipe:
    """A named remedy: how to train it, and what it is.

    ``train(ctx)`` returns a function from inputs to scores (logits, or
    adjusted logits / log-probabilities): the task turns them into
    predictions (argmax, or sigmoid and thresholds). ``base`` names the
    recipe whose trained model (same seed) this one starts from
    (``ctx.base_model()``); ``second_stage`` says that it starts from the
    base's first stage and trains a second stage of
    :func:`~classbalance.compare.training.second_stage_epochs` of its own
    (otherwise it trains nothing).

    Examples
    --------
    >>> from classbalance.compare import STRATEGIES
    >>> crt = STRATEGIES["single-label"]["crt"]
    >>> crt.base, crt.second_stage, crt.own_epochs(30)  # the last 20% on top of `none`
    ('none', True, 6)
    >>> STRATEGIES["single-label"]["posthoc_adjust"].own_epochs(30)  # trains nothing
    0
    """

    name: str
    description: str
    train: Callable[[RunContext], Callable[[np.ndarray], np.ndarray]]
    images_only: bool = False
    base: str | None = None
    second_stage: bool = False

    def own_epochs(self, epochs: int) -> int:
        """The epochs this recipe trains itself: all, its second stage, or 0 (post-hoc)."""
        if self.base is None:
            return epochs
        return second_stage_epochs(epochs) if self.second_stage else 0


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


def _tau_rule(ctx: RunContext, val_scores: Callable[[float], float], default: float) -> float:
    """``default``, or the tau of :data:`TAU_GRID` with the best validation score if it can tell."""
    if int(ctx.data.val_counts.min()) < MIN_VAL_PER_CLASS_FOR_TAU:
        ctx.info["tau_rule"] = (
            f"default (a class has fewer than {MIN_VAL_PER_CLASS_FOR_TAU} validation samples)"
        )
        return default
    scores = [val_scores(t) for t in TAU_GRID]
    ctx.info["tau_rule"] = "tuned on validation"
    return TAU_GRID[int(np.argmax(scores))]


def _posthoc(ctx: RunContext) -> Any:
    # The none model of the same seed, its logits adjusted: no training of its own.
    # tau = 1 is Bayes-optimal for the balanced error; tuned where validation can tell.
    counts = _counts(ctx)
    model = ctx.base_model(copy=False)
    val_logits = ctx.logits(model, ctx.data.x_val)

    def val_score(tau: float) -> float:
        return ctx.data.task.val_score(
            ctx.data.y_val, cb.adjust_logits(val_logits, counts, tau=tau)
        )

    tau = _tau_rule(ctx, val_score, default=1.0)
    ctx.info["tau"] = tau
    return _predictor(ctx, model, lambda logits: cb.adjust_logits(logits, counts, tau=tau))


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
    return [layer for layer in leaf_layers(model) if layer.trainable_weights][-1]


def _dense_head(ctx: RunContext, model: Any, recipe: str) -> Any:
    """The classifier: a Dense layer with one unit per class and no activation, or an error."""
    import keras

    head = _classifier_layer(model)
    linear = getattr(head, "activation", None) in (None, keras.activations.linear)
    if not (isinstance(head, keras.layers.Dense) and head.units == ctx.data.n_classes and linear):
        raise CompareError(
            f"`{recipe}` rescales the classifier's weights: the model's last layer with weights "
            f"must be a Dense layer with {ctx.data.n_classes} units and no activation. "
            f"Received: {type(head).__name__} {head.name!r}. Leave `{recipe}` out of --strategies."
        )
    return head


def _freeze_all_but(model: Any, keep: Any) -> None:
    for layer in leaf_layers(model):
        if layer is not keep:
            layer.trainable = False  # batch normalization then runs in inference mode


def _crt(ctx: RunContext) -> Any:
    # Kang et al. 2020 (decoupling): the representation of plain instance-balanced
    # training, then only the classifier re-trained with class-balanced sampling.
    # The first stage is the none run of the same seed up to its first
    # epochs - s epochs (not repeated); the second stage takes the other s, so the
    # steps add up to every run's. Kang et al. re-initialize the classifier; within
    # an equal budget a fresh classifier gets too few steps (measured once on the
    # digits, 10 epochs, seed 0, the earlier 64-unit MLP: balanced accuracy 0.34
    # re-initialized against 0.73 fine-tuned), so it is fine-tuned instead.
    model = ctx.base_model(first_stage=True)
    epochs = second_stage_epochs(ctx.cfg.epochs)
    ctx.info["crt_epochs"] = [ctx.cfg.epochs - epochs, epochs]
    if epochs == 0:
        ctx.info["crt"] = "1 epoch: no classifier re-training"
        return _predictor(ctx, model)
    head = _classifier_layer(model)
    _freeze_all_but(model, head)
    ctx.compile(model)
    return _predictor(ctx, ctx.fit(model, epochs=epochs, sampling={"strategy": "balanced"}))


def _tau_norm(ctx: RunContext) -> Any:
    # Kang et al. 2020: each class's classifier weights divided by their norm ** tau,
    # the none model of the same seed otherwise unchanged; no training. The bias is
    # divided alike (Kang et al.'s code drops it), so that tau = 0 is the plain model
    # and the logits are the plain ones divided by norm ** tau: tau is chosen on them.
    model = ctx.base_model()
    head = _dense_head(ctx, model, "tau_norm")
    weights = head.get_weights()
    norms = np.maximum(np.linalg.norm(weights[0], axis=0), 1e-12)
    val_logits = ctx.logits(model, ctx.data.x_val)

    def val_score(tau: float) -> float:
        return ctx.data.task.val_score(ctx.data.y_val, val_logits / norms**tau)

    tau = _tau_rule(ctx, val_score, default=1.0)
    head.set_weights([w / norms**tau for w in weights])
    ctx.info["tau"] = tau
    return _predictor(ctx, model)


def _lws(ctx: RunContext) -> Any:
    # Learnable weight scaling (Kang et al. 2020): one scale per class multiplies the
    # logits of the none model's first stage (as cRT's), learned with class-balanced
    # sampling for the second stage; everything else frozen.
    import keras

    base = ctx.base_model(first_stage=True)
    epochs = second_stage_epochs(ctx.cfg.epochs)
    if epochs == 0:
        ctx.info["lws"] = "1 epoch: no scales learned"
        return _predictor(ctx, base)
    base.trainable = False
    inputs = keras.Input(ctx.data.input_shape)
    model = keras.Model(inputs, _class_scale(ctx.data.n_classes)(base(inputs)), name="lws")
    # The scales start at 1 and Adam moves each by about the learning rate per step: at the
    # base rate a short stage leaves them near 1. Measured on the digits (none's first stage,
    # TensorFlow): 5 epochs, seeds 0 / 1: balanced accuracy 0.534 / 0.568 at 1x, 0.564 / 0.604
    # at 10x; 20 epochs, seed 0: 0.774 at 1x, 0.790 at 10x and 30x.
    ctx.compile(model, learning_rate=LWS_LEARNING_RATE_FACTOR * ctx.cfg.learning_rate)
    ctx.fit(model, epochs=epochs, sampling={"strategy": "balanced"})
    scales = keras.ops.convert_to_numpy(model.get_layer("class_scale").scale)
    ctx.info.update(lws_epochs=epochs, scales=[round(float(v), 4) for v in scales])
    return _predictor(ctx, model)


def _class_scale(n_classes: int) -> Any:
    """A layer multiplying each logit by a learned scale (initially 1)."""
    import keras

    class ClassScale(keras.layers.Layer):
        def build(self, input_shape: Any) -> None:
            self.scale = self.add_weight(shape=(n_classes,), initializer="ones", name="scale")

        def call(self, logits: Any) -> Any:
            return logits * self.scale

    return ClassScale(name="class_scale")


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
                "the `none` model of the same seed, its logits adjusted: adjust_logits(tau), "
                f"tau = 1, tuned on validation only when every class has >= "
                f"{MIN_VAL_PER_CLASS_FOR_TAU} validation samples (Menon et al. 2021); no "
                "training of its own",
                _posthoc,
                base="none",
            ),
            Recipe(
                "ldam_drw",
                "LDAMLoss with deferred re-weighting from 80% of the epochs (Cao et al. 2019)",
                _ldam_drw,
            ),
            Recipe(
                "crt",
                "classifier re-training (Kang et al. 2020): the `none` run of the same seed "
                f"after its first {1 - SECOND_STAGE_SHARE:.0%} of the epochs, then only its last "
                "layer re-trained with class-balanced sampling for the other "
                f"{SECOND_STAGE_SHARE:.0%} (fine-tuned, not re-initialized)",
                _crt,
                base="none",
                second_stage=True,
            ),
            Recipe(
                "tau_norm",
                "tau-normalized classifier (Kang et al. 2020): the `none` model of the same seed, "
                "each class's classifier weights (and bias) divided by their norm ** tau; tau "
                "chosen as posthoc_adjust's; no training of its own",
                _tau_norm,
                base="none",
            ),
            Recipe(
                "lws",
                "learnable weight scaling (Kang et al. 2020): the `none` run of the same seed "
                f"after its first {1 - SECOND_STAGE_SHARE:.0%} of the epochs, frozen, one scale "
                "per class on its logits learned with class-balanced sampling for the other "
                f"{SECOND_STAGE_SHARE:.0%} (at {LWS_LEARNING_RATE_FACTOR:g}x the learning rate)",
                _lws,
                base="none",
                second_stage=True,
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


def groups(names: Sequence[str], registry: dict[str, Recipe]) -> list[list[str]]:
    """The strategies to run together for a seed: each with the recipes that reuse its model.

    A recipe with a ``base`` joins the group of its base, which keeps the
    position of the first of them; the base itself is in the group only if
    it is in ``names`` (the runner trains it anyway, without reporting it).

    Examples
    --------
    >>> from classbalance.compare.recipes import RECIPES, groups
    >>> groups(["none", "focal", "crt", "posthoc_adjust"], RECIPES["single-label"])
    [['none', 'crt', 'posthoc_adjust'], ['focal']]
    >>> groups(["focal", "tau_norm"], RECIPES["single-label"])
    [['focal'], ['tau_norm']]
    """
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(registry[name].base or name, []).append(name)
    return list(out.values())


def job_groups(
    pairs: Sequence[tuple[str, int]], registry: dict[str, Recipe]
) -> list[tuple[list[str], int]]:
    """``(strategy, seed)`` pairs as jobs: the :func:`groups` of each seed, in the pairs' order.

    Examples
    --------
    >>> from classbalance.compare.recipes import RECIPES, job_groups
    >>> pairs = [("none", 0), ("focal", 0), ("crt", 0), ("none", 1), ("crt", 1)]
    >>> job_groups(pairs, RECIPES["single-label"])
    [(['none', 'crt'], 0), (['focal'], 0), (['none', 'crt'], 1)]
    """
    jobs: dict[tuple[str, int], list[str]] = {}
    for name, seed in pairs:
        jobs.setdefault((registry[name].base or name, seed), []).append(name)
    return [(names, seed) for (_, seed), names in jobs.items()]


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
