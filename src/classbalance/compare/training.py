"""One run of ``compare``: the budget, fresh models, training with selection on validation.

Fair by construction:

- **Equal budget.** Every recipe takes exactly ``epochs * ceil(n_train /
  batch_size)`` optimizer steps at the same batch size. An epoch is
  ``n_train`` samples for every recipe: sampled recipes draw
  ``epoch_size=n_train`` samples per epoch, the ensemble splits the epochs
  among its members, cRT splits them between its two stages. A callback
  counts the steps each run really took (``RunContext.steps``).
- **Model selection on validation only.** Each training keeps the weights of
  its best epoch on the validation split's score (the task's: balanced
  accuracy, or mAP for multi-label data; of the predictor as it will be used,
  e.g. after post-hoc adjustment) and restores them at the end.
- **Nothing sees the test set** but the final scoring.
- **Batch-normalization statistics are measured, not left to their start.**
  Keras' moving averages (momentum 0.99) start at mean 0 and variance 1 and
  still hold ``0.99 ** steps`` of that start: after a few hundred steps (an
  ensemble member, ``--quick``, the first epochs) inference-mode predictions
  can be at chance. So at the end of every epoch, while some trainable
  ``BatchNormalization`` layer keeps more than :data:`BN_START_WEIGHT` of its
  start (``momentum ** steps``), its moving mean and variance are recomputed
  from up to :data:`BN_SAMPLES` samples drawn as the run draws its training
  batches (:func:`reestimate_batch_norm`), before the validation score; the
  kept weights (and the final predictions) hold those statistics. Later
  epochs use Keras' own moving averages, which then reflect training alone.

A run seeds Python's ``random``, NumPy's global generator and the Keras
backend (``keras.utils.set_random_seed``), as Keras needs for reproducible
weights, shuffling and dropout; :func:`isolated_random_state` puts every one
of them back afterwards, so a run in the caller's own process (``jobs=1``)
leaves its random state as it was.
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classbalance.compare.models import build_model

__all__ = [
    "BN_SAMPLES",
    "BN_START_WEIGHT",
    "SECOND_STAGE_SHARE",
    "RunContext",
    "Scores",
    "TrainedModel",
    "batch_norm_layers",
    "batch_norm_start_weight",
    "isolated_random_state",
    "leaf_layers",
    "reestimate_batch_norm",
    "second_stage_epochs",
]

Scores = Callable[[np.ndarray], np.ndarray]  # logits -> scores (e.g. adjusted logits)
BN_SAMPLES = 512  # samples that re-estimate the batch-normalization statistics
BN_START_WEIGHT = 0.01  # re-estimate while the moving averages keep more of their start
BN_CHUNK = 256  # samples per forward pass while re-estimating them
SECOND_STAGE_SHARE = 0.2  # cRT's and LWS's own stage, as a share of the epochs


@contextlib.contextmanager
def isolated_random_state() -> Iterator[None]:
    """Restore the global random state that ``keras.utils.set_random_seed`` changes, on exit.

    Saved and restored: Python's ``random``, NumPy's global ``RandomState``,
    Keras' global seed and global ``SeedGenerator``, TensorFlow's global seed
    (if TensorFlow is imported) and PyTorch's CPU (and initialized CUDA)
    generators (if PyTorch is imported). JAX keeps no global random state.

    Examples
    --------
    >>> import random
    >>> from classbalance.compare.training import isolated_random_state
    >>> before = random.getstate()
    >>> with isolated_random_state():
    ...     random.seed(0)
    >>> random.getstate() == before
    True
    """
    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002
    restore = [_keras_state(), _tensorflow_state(), _torch_state()]
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
        for undo in restore:
            if undo is not None:
                undo()


def _keras_state() -> Callable[[], None] | None:
    if "keras" not in sys.modules:
        return None
    # keras.utils.set_random_seed stores the seed and drops the global SeedGenerator
    # (keras.random's draws without a seed); neither has a public getter.
    import keras
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    keys = (rng_utils.GLOBAL_RANDOM_SEED, seed_generator.GLOBAL_SEED_GENERATOR)
    saved = {key: global_state.get_global_attribute(key) for key in keys}
    generator = saved[seed_generator.GLOBAL_SEED_GENERATOR]
    generator_state = (
        None if generator is None else keras.ops.convert_to_numpy(generator.state.value)
    )

    def undo() -> None:
        for key, value in saved.items():
            global_state.set_global_attribute(key, value)
        if generator is not None:
            generator.state.assign(generator_state)

    return undo


def _tensorflow_state() -> Callable[[], None] | None:
    if "tensorflow" not in sys.modules:
        return None
    # tf.random.set_seed has no getter or unset: the eager context keeps the global seed
    # and the generator of per-op seeds drawn from it.
    from tensorflow.python.eager import context

    ctx = context.context()
    seed = ctx._seed
    rng = getattr(ctx, "_rng", None)
    rng_state = None if rng is None else rng.getstate()

    def undo() -> None:
        ctx._seed = seed
        if rng is None:
            ctx.__dict__.pop("_rng", None)
        else:
            rng.setstate(rng_state)
            ctx._rng = rng

    return undo


def _torch_state() -> Callable[[], None] | None:
    if "torch" not in sys.modules:
        return None
    import torch

    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None

    def undo() -> None:
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)

    return undo


def leaf_layers(model: Any) -> list[Any]:
    """The layers of ``model`` that hold no layers, looking inside nested models."""
    inner = getattr(model, "layers", None)
    if inner is None:
        return [model]
    return [leaf for child in inner for leaf in leaf_layers(child)]


def batch_norm_layers(model: Any) -> list[Any]:
    """The ``BatchNormalization`` layers of ``model`` that training updates (trainable, no renorm).

    Examples
    --------
    >>> import keras
    >>> from classbalance.compare.training import batch_norm_layers
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(),
    ...                           keras.layers.Dense(2)])
    >>> len(batch_norm_layers(model))
    1
    >>> model.layers[0].trainable = False  # frozen: runs in inference mode, never updated
    >>> batch_norm_layers(model)
    []
    """
    import keras

    return [
        layer
        for layer in leaf_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
        and layer.trainable
        and not getattr(layer, "renorm", False)
    ]


def batch_norm_start_weight(model: Any, steps: int) -> float:
    """The largest share of its initial values a trainable batch norm keeps after ``steps`` updates.

    ``momentum ** steps`` (0.0 without trainable ``BatchNormalization``).

    Examples
    --------
    >>> import keras
    >>> from classbalance.compare.training import batch_norm_start_weight
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    >>> round(batch_norm_start_weight(model, 270), 3)  # an ensemble member of 270 steps
    0.066
    """
    return max((float(layer.momentum) ** steps for layer in batch_norm_layers(model)), default=0.0)


def reestimate_batch_norm(model: Any, x: np.ndarray, *, chunk: int = BN_CHUNK) -> int:
    """Set the moving statistics of ``model``'s batch normalization to those of ``x``.

    Forward passes in training mode over ``x`` in chunks of ``chunk``
    samples, no gradient, each layer's momentum set so that its moving mean
    and variance become the average of the chunks' batch statistics,
    weighted by their sizes (the "precise BN" of Wu & Johnson 2021; PyTorch's
    ``swa_utils.update_bn``). The initial values (mean 0, variance 1) are
    forgotten entirely. Other layers run in training mode too (dropout, random
    augmentation), as they do while the statistics are collected in training.
    Momentum is put back afterwards; trainable weights do not change.

    Returns
    -------
    int
        The number of layers updated (0: no trainable ``BatchNormalization``).

    Examples
    --------
    >>> import keras, numpy as np
    >>> from classbalance.compare.training import reestimate_batch_norm
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization()])
    >>> x = np.random.default_rng(0).normal(5.0, 2.0, size=(512, 2)).astype("float32")
    >>> reestimate_batch_norm(model, x)
    1
    >>> moving_mean = keras.ops.convert_to_numpy(model.layers[0].moving_mean)
    >>> bool(np.allclose(moving_mean, x.mean(axis=0), atol=1e-5))  # Keras' start: 0
    True
    """
    layers = batch_norm_layers(model)
    if not layers or len(x) == 0:
        return 0
    momentum = [layer.momentum for layer in layers]
    try:
        for start in range(0, len(x), chunk):
            part = np.asarray(x[start : start + chunk], dtype=np.float32)
            for layer in layers:  # moving <- (seen * moving + n * batch) / (seen + n)
                layer.momentum = start / (start + len(part))
            model(part, training=True)
    finally:
        for layer, m in zip(layers, momentum):
            layer.momentum = m
    return len(layers)


def second_stage_epochs(epochs: int) -> int:
    """Epochs of a second stage (cRT, LWS): :data:`SECOND_STAGE_SHARE` of ``epochs``, at least 1.

    0 for a single epoch (no first stage would be left). The first stage is
    the other ``epochs - second_stage_epochs(epochs)`` epochs.

    Examples
    --------
    >>> from classbalance.compare.training import second_stage_epochs
    >>> second_stage_epochs(30), second_stage_epochs(5), second_stage_epochs(1)
    (6, 1, 0)
    """
    return 0 if epochs < 2 else max(1, round(SECOND_STAGE_SHARE * epochs))


@dataclass
class TrainedModel:
    """A run's trained model, for the recipes of the same seed that start from it.

    ``weights`` are those the run kept (its best epoch on validation);
    ``model`` is the live Keras model, read only by those recipes.
    ``first_stage_weights`` are the best on validation among its first
    ``first_stage_epochs`` epochs (the same training as a run asked for that
    many epochs): the first stage of cRT and LWS.
    """

    strategy: str
    model: Any
    weights: list[np.ndarray]
    steps: int
    seconds: float
    reported: bool = True
    first_stage_weights: list[np.ndarray] | None = None
    first_stage_epochs: int = 0

    @classmethod
    def of(cls, ctx: RunContext, strategy: str, seconds: float, reported: bool) -> TrainedModel:
        """The model ``ctx`` trained last (``RunContext.fit``)."""
        model = ctx.trained
        first = ctx.first_stage_weights
        return cls(
            strategy, model, model.get_weights(), ctx.steps, seconds, reported,
            first_stage_weights=first[1] if first else None,
            first_stage_epochs=ctx.cfg.epochs - second_stage_epochs(ctx.cfg.epochs),
        )  # fmt: skip


@dataclass
class RunContext:
    """One (strategy, seed) run: the data, the budget, and the helpers recipes share.

    The loss and the validation score come from the data's task
    (:mod:`classbalance.compare.task`). ``base`` is the trained model of the
    same seed that a recipe reusing one starts from (``base_model``).
    ``keep_first_stage``: ``fit`` also keeps the best weights among the first
    ``epochs - second_stage_epochs(epochs)`` epochs (``first_stage_weights``),
    for cRT and LWS; ``epochs`` is read at each epoch's end, so a timing run
    stopped at the plan's epochs keeps the plan's first stage.
    """

    data: Any
    cfg: Any
    seed: int
    model_fn: Any = None
    base: TrainedModel | None = None
    keep_first_stage: bool = False
    steps: int = 0
    best_epochs: list[int] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    trained: Any = None  # the model fit() trained last
    first_stage_weights: tuple[int, list[np.ndarray]] | None = None  # (epoch, weights)

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

    def base_model(self, *, copy: bool = True, first_stage: bool = False) -> Any:
        """The model of ``base``: a compiled copy of its weights, or (``copy=False``) itself.

        ``first_stage``: a copy holding its first stage's weights instead
        (:class:`TrainedModel`). Without a ``base`` (a recipe trained on its
        own, e.g. in a test), the base is trained first, as the ``none``
        recipe trains (plain :meth:`fit` of a fresh :meth:`model`), in a
        context of its own: its steps are not this run's.
        """
        if self.base is None:
            own = RunContext(self.data, self.cfg, self.seed, self.model_fn, keep_first_stage=True)
            start = time.perf_counter()
            own.fit(own.model())
            seconds = time.perf_counter() - start
            self.base = TrainedModel.of(own, "none", seconds, reported=False)
        if not copy and not first_stage:
            return self.base.model
        model = self.model()
        weights = self.base.first_stage_weights if first_stage else None
        model.set_weights(self.base.weights if weights is None else weights)
        return model

    def compile(self, model: Any, loss: Any = None, *, learning_rate: float | None = None) -> None:
        """Compile with Adam at ``cfg.learning_rate`` (or ``learning_rate``) and the task's loss."""
        import keras

        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate or self.cfg.learning_rate),
            loss=loss or self.data.task.loss(),
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
        """The task's validation score of the model's predictions (after ``scores``)."""
        out = self.logits(model, self.data.x_val)
        if scores is not None:
            out = scores(out)
        return self.data.task.val_score(self.data.y_val, out)

    # ------------------------------------------------------------------ training
    def batch_norm_sample(self, model: Any, x: np.ndarray, dataset: Any = None) -> Any:
        """Up to :data:`BN_SAMPLES` of ``x`` as the run draws them, if ``model`` has batch norm.

        ``dataset`` (a ``BalancedPyDataset`` over ``x``): the first samples of
        its epoch-0 plan (the class mix the run trains on); otherwise a
        seeded shuffle of ``x``. ``None`` when there are no statistics to
        re-estimate.
        """
        if not batch_norm_layers(model):
            return None
        if dataset is not None:
            order = dataset.batches.plan(0)
        else:
            order = np.random.default_rng([self.seed, 2]).permutation(len(x))
        return x[order[: min(BN_SAMPLES, len(x))]]

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
        kwargs: dict[str, Any] = {"epochs": epochs, "verbose": 0}
        dataset = None
        if sampling is None:
            kwargs.update(x=x, y=y, batch_size=self.cfg.batch_size, shuffle=True)
            if class_weight is not None:
                kwargs["class_weight"] = class_weight
        else:
            dataset = BalancedPyDataset(
                x, y, self.cfg.batch_size, epoch_size=d.n_train, seed=self.seed, **sampling
            )
            kwargs["x"] = dataset
        select = restore_best(self, scores, self.batch_norm_sample(model, x, dataset))
        self.first_stage_weights = None
        kwargs["callbacks"] = [step_counter(self), select, *(callbacks or [])]
        keras.utils.set_random_seed(self.seed)  # the shuffling of fit(), and augmentation
        model.fit(**kwargs)
        self.best_epochs.append(select.best_epoch)
        self.trained = model
        return model


def step_counter(ctx: RunContext) -> Any:
    """A callback counting the optimizer steps (train batches) of a run into ``ctx.steps``.

    Keras is imported only when a run starts, so the callback classes are made here.
    """
    import keras

    class StepCounter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            ctx.steps += 1

    return StepCounter()


def restore_best(ctx: RunContext, scores: Scores | None, bn_sample: Any = None) -> Any:
    """A callback keeping the weights of the epoch with the best validation score.

    ``bn_sample``: training samples that re-estimate the model's
    batch-normalization statistics (:func:`reestimate_batch_norm`) before an
    epoch's validation while the moving averages keep more than
    :data:`BN_START_WEIGHT` of their start; the kept weights hold those
    statistics.
    """
    import keras

    class RestoreBest(keras.callbacks.Callback):
        best_score = -1.0
        best_epoch = -1
        best_weights: list[np.ndarray] | None = None

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if bn_sample is not None:
                steps = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
                if batch_norm_start_weight(self.model, steps) > BN_START_WEIGHT:
                    reestimate_batch_norm(self.model, bn_sample)
                    ctx.info["bn_reestimated_epochs"] = ctx.info.get("bn_reestimated_epochs", 0) + 1
            score = ctx.val_score(self.model, scores)
            if score >= self.best_score:  # ties: the later epoch (trained longer)
                self.best_score, self.best_epoch = score, epoch
                self.best_weights = [np.array(w) for w in self.model.get_weights()]
            first = ctx.cfg.epochs - second_stage_epochs(ctx.cfg.epochs)
            if ctx.keep_first_stage and epoch < first and self.best_epoch == epoch:
                ctx.first_stage_weights = (epoch, self.best_weights)

        def on_train_end(self, logs: Any = None) -> None:
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return RestoreBest()
