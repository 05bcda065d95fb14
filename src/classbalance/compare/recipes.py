"""The remedies ``compare`` tries, each built only from classbalance's public API.

Fair by construction:

- **Equal budget.** Every recipe takes exactly ``epochs * ceil(n_train /
  batch_size)`` optimizer steps at the same batch size. An epoch is
  ``n_train`` samples for every recipe: sampled recipes draw
  ``epoch_size=n_train`` samples per epoch, the ensemble splits the steps
  among its members, cRT splits them between its two stages. A callback
  counts the steps each run really took (``RunContext.steps``).
- **Model selection on validation only.** Each training keeps the weights of
  its best epoch on the validation split's balanced accuracy (of the
  predictor as it will be used, e.g. after post-hoc adjustment) and restores
  them at the end.
- **Nothing sees the test set** but the final scoring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import classbalance as cb
from classbalance.compare.models import build_model
from classbalance.metrics import balanced_accuracy

__all__ = ["MIN_VAL_PER_CLASS_FOR_TAU", "RECIPES", "TAU_GRID", "Recipe", "RunContext"]

TAU_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
MIN_VAL_PER_CLASS_FOR_TAU = 20  # tune post-hoc tau only when every class has this many
ENSEMBLE_MEMBERS = 5
CRT_SHARE = 0.2  # share of the epochs cRT spends re-training the classifier


Scores = Callable[[np.ndarray], np.ndarray]  # logits -> scores whose argmax is the prediction


@dataclass
class RunContext:
    """One (strategy, seed) run: the data, the budget, and the helpers recipes share."""

    data: Any
    cfg: Any
    seed: int
    model_fn: Any = None
    steps: int = 0
    best_epochs: list[int] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ budget
    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.data.n_train / self.cfg.batch_size)

    @property
    def budget(self) -> int:
        """Optimizer steps every recipe takes."""
        return self.cfg.epochs * self.steps_per_epoch

    # ------------------------------------------------------------------ models
    def model(self, loss: Any = None, *, augment: bool = False, member: int = 0) -> Any:
        """A fresh compiled logits model, seeded by ``(seed, member)``."""
        import keras

        keras.utils.set_random_seed(
            int(np.random.SeedSequence([self.seed, member]).generate_state(1)[0])
        )
        model = build_model(self.model_fn, self.data)
        if augment:
            inputs = keras.Input(self.data.input_shape)
            x = keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(inputs)
            x = keras.layers.RandomRotation(0.04, fill_mode="constant")(x)
            x = keras.layers.RandomZoom(0.1, fill_mode="constant")(x)
            model = keras.Model(inputs, model(x), name="augmented")
        self.compile(model, loss)
        return model

    def compile(self, model: Any, loss: Any = None) -> None:
        import keras

        model.compile(
            optimizer=keras.optimizers.Adam(self.cfg.learning_rate),
            loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=False,
        )

    def logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Logits of ``x``, by direct calls in chunks (``predict`` would trace per model)."""
        import keras

        chunks = [
            keras.ops.convert_to_numpy(
                model(np.asarray(x[i : i + 1024], dtype=np.float32), training=False)
            )
            for i in range(0, len(x), 1024)
        ]
        return np.concatenate(chunks).astype(np.float64)

    def val_score(self, model: Any, scores: Scores | None = None) -> float:
        """Validation balanced accuracy of the model's predictions."""
        out = self.logits(model, self.data.x_val)
        if scores is not None:
            out = scores(out)
        return balanced_accuracy(self.data.y_val, out.argmax(axis=1))

    # ------------------------------------------------------------------ training
    def fit(
        self,
        model: Any,
        *,
        epochs: int | None = None,
        sampling: dict[str, Any] | None = None,
        rows: np.ndarray | None = None,
        class_weight: dict[int, float] | None = None,
        scores: Scores | None = None,
        callbacks: list[Any] | None = None,
    ) -> Any:
        """Train for ``epochs`` epochs of ``n_train`` samples; restore the best epoch on validation.

        ``sampling`` (keyword arguments of ``BalancedPyDataset``) draws each
        epoch's ``n_train`` samples from a plan; without it the training rows
        are shuffled, as plain ``fit`` does. ``rows`` restricts training to a
        subset of the training rows (still ``n_train`` samples per epoch).
        """
        import keras

        from classbalance.keras import BalancedPyDataset

        d = self.data
        epochs = self.cfg.epochs if epochs is None else epochs
        x, y = d.x_train, d.y_train
        if rows is not None:
            x, y = x[rows], y[rows]
            sampling = sampling or {"strategy": "balanced"}
        select = _restore_best(self, scores)
        counter = _step_counter(self)
        kwargs: dict[str, Any] = {"epochs": epochs, "verbose": 0}
        kwargs["callbacks"] = [counter, select, *(callbacks or [])]
        if sampling is None:
            kwargs.update(x=x, y=y, batch_size=self.cfg.batch_size, shuffle=True)
            if class_weight is not None:
                kwargs["class_weight"] = class_weight
        else:
            kwargs["x"] = BalancedPyDataset(
                x, y, self.cfg.batch_size, epoch_size=d.n_train, seed=self.seed, **sampling
            )
        keras.utils.set_random_seed(self.seed)  # the shuffling of fit(), and augmentation
        model.fit(**kwargs)
        self.best_epochs.append(select.best_epoch)
        return model


def _step_counter(ctx: RunContext) -> Any:
    """A callback counting the optimizer steps (train batches) of a run into ``ctx.steps``.

    Keras is imported only when a run starts, so the callback classes are made here.
    """
    import keras

    class StepCounter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            ctx.steps += 1

    return StepCounter()


def _restore_best(ctx: RunContext, scores: Scores | None) -> Any:
    """A callback keeping the weights of the epoch with the best validation balanced accuracy."""
    import keras

    class RestoreBest(keras.callbacks.Callback):
        best_score = -1.0
        best_epoch = -1
        best_weights: list[np.ndarray] | None = None

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            score = ctx.val_score(self.model, scores)
            if score >= self.best_score:  # ties: the later epoch (trained longer)
                self.best_score, self.best_epoch = score, epoch
                self.best_weights = [np.array(w) for w in self.model.get_weights()]

        def on_train_end(self, logs: Any = None) -> None:
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return RestoreBest()


@dataclass(frozen=True)
class Recipe:
    """A named remedy: how to train it, and what it is.

    ``train(ctx)`` returns a function from inputs to class scores whose
    ``argmax`` is the prediction.
    """

    name: str
    description: str
    train: Callable[[RunContext], Callable[[np.ndarray], np.ndarray]]
    images_only: bool = False


# --------------------------------------------------------------------------- recipes
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
    # probabilities. The steps are split among members, not multiplied.
    sampler = cb.BalancedSampler(ctx.data.y_train, "undersample", seed=ctx.seed)
    members = max(1, min(ENSEMBLE_MEMBERS, ctx.budget))
    total, models = ctx.budget, []
    for m in range(members):
        steps = total // members + (1 if m < total % members else 0)
        rows = np.sort(sampler.plan(m))
        model = ctx.model(member=m)
        # steps = epochs * ceil(n / batch): the member's epochs hold `steps // epochs`
        # batches, with the remainder in a last epoch of its own.
        per_epoch, extra = divmod(steps, ctx.cfg.epochs)
        _fit_steps(ctx, model, rows, per_epoch, extra)
        models.append(model)
    ctx.info["members"] = members

    def predict(x: np.ndarray) -> np.ndarray:
        probs = [_softmax(ctx.logits(model, x)) for model in models]
        return np.log(np.clip(np.mean(probs, axis=0), 1e-12, None))

    return predict


def _fit_steps(ctx: RunContext, model: Any, rows: np.ndarray, per_epoch: int, extra: int) -> None:
    """Train a member for ``epochs * per_epoch + extra`` steps on ``rows`` (balanced)."""
    import keras

    from classbalance.keras import BalancedPyDataset

    b = ctx.cfg.batch_size
    x, y = ctx.data.x_train[rows], ctx.data.y_train[rows]
    select = _restore_best(ctx, None)
    counter = _step_counter(ctx)
    keras.utils.set_random_seed(ctx.seed)
    for steps, epochs in ((per_epoch, ctx.cfg.epochs), (extra, 1)):
        if steps == 0:
            continue
        data = BalancedPyDataset(x, y, b, strategy="balanced", epoch_size=steps * b, seed=ctx.seed)
        model.fit(data, epochs=epochs, verbose=0, callbacks=[counter, select])
    ctx.best_epochs.append(select.best_epoch)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


RECIPES: dict[str, Recipe] = {
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
            "oversample",
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
            "averaged (EasyEnsemble-style); the steps are split among the members",
            _ensemble,
        ),
        Recipe(
            "oversample_augment",
            "class-balanced sampling with augmentation (random shifts, rotations, zoom: "
            "Keras preprocessing layers), as the seed Oversampler advises",
            _sampled(augment=True, strategy="balanced"),
            images_only=True,
        ),
    ]
}
