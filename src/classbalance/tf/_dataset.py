"""``balanced_dataset``: a ``tf.data.Dataset`` of class-balanced batches, one plan per epoch."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import check_positive_int
from classbalance.batches import BalancedBatches
from classbalance.sampling import AlphaLike, StrategyLike

tf = require("tensorflow", "classbalance.tf")

__all__ = ["balanced_dataset"]


def _spec_like(value: Any) -> Any:
    return tf.nest.map_structure(
        lambda a: tf.TensorSpec((None, *np.shape(a)[1:]), tf.as_dtype(np.asarray(a).dtype)),
        value,
    )


def balanced_dataset(
    x: Any,
    y: Any,
    batch_size: int,
    *,
    strategy: StrategyLike = None,
    alpha: AlphaLike | None = None,
    epoch_size: int | None = None,
    exact: bool = False,
    sample_weight: Any = None,
    class_weight: Mapping[Any, float] | str | None = None,
    labels: Any = None,
    drop_last: bool = False,
    y_format: str = "given",
    seed: int | np.random.Generator | None = None,
    classes: Sequence[Any] | None = None,
    initial_epoch: int = 0,
    multilabel: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of class-balanced batches, re-planned every epoch.

    Each iteration over the dataset (each ``for`` loop, each ``model.fit``
    epoch without ``steps_per_epoch``) serves the next epoch's plan of
    :class:`~classbalance.BalancedSampler`, which depends only on
    ``(seed, epoch)``. The length is known (``dataset.cardinality()``); for
    ``model.fit(..., steps_per_epoch=n)`` use ``dataset.repeat()``, and every
    repetition is again a fresh epoch.

    In-memory arrays (NumPy, tensors, dicts/tuples of them) are copied once
    into TensorFlow and each batch is one ``tf.gather`` per array inside the
    pipeline, in parallel and prefetched; only the batch's indices come from
    Python. Other ``x`` (memmap, h5py, paths with ``loader=``) are read by
    :class:`~classbalance.BalancedBatches` in a generator.

    Parameters
    ----------
    x : array, tensor, or dict/list/tuple of them (multi-input)
        Inputs; anything :class:`~classbalance.BalancedBatches` accepts.
    y : array or dict/list/tuple of arrays
        Targets, yielded as given (see ``y_format``).
    batch_size : int
        Samples per batch.
    strategy, alpha, epoch_size :
        The sampling plan, as in :class:`~classbalance.BalancedSampler`
        (default ``"oversample"``).
    exact : bool, default=False
        Every full batch holds each class at its exact share; otherwise
        batches are balanced on average.
    sample_weight, class_weight :
        Per-sample and per-class weights; if either is given the batches are
        ``(x, y, sample_weight)``.
    labels : key, index or array, default=None
        What to balance on for a multi-output ``y``.
    drop_last : bool, default=False
        Drop the last, partial batch.
    y_format : {"given", "sparse", "categorical"}, default="given"
        Yield ``y`` as given, as class codes (int64) or one-hot (float32).
    seed : int, numpy Generator or None, default=None
        Seed of every plan (``None`` draws one).
    classes : sequence, default=None
        Declared class order.
    initial_epoch : int, default=0
        Epoch served by the first iteration (to resume a run).
    multilabel : bool, default=False
        ``y`` (or ``labels``) is a multi-hot target: class-aware sampling over
        labels, as in :class:`~classbalance.BalancedBatches`.

    Returns
    -------
    tf.data.Dataset
        Batches ``(x, y)`` or ``(x, y, sample_weight)``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.tf import balanced_dataset
    >>> x = np.arange(200, dtype="float32").reshape(100, 2)
    >>> y = np.r_[np.zeros(90), np.ones(10)].astype("int64")
    >>> ds = balanced_dataset(x, y, batch_size=20, exact=True, seed=0)
    >>> int(ds.cardinality())
    9
    >>> xb, yb = next(iter(ds))
    >>> np.bincount(yb.numpy()).tolist()
    [10, 10]
    """
    batches = BalancedBatches(
        x,
        y,
        batch_size,
        strategy=strategy,
        alpha=alpha,
        epoch_size=epoch_size,
        exact=exact,
        sample_weight=sample_weight,
        class_weight=class_weight,
        labels=labels,
        drop_last=drop_last,
        y_format=y_format,
        seed=seed,
        classes=classes,
        multilabel=multilabel,
    )
    batches.set_epoch(check_positive_int(initial_epoch, "initial_epoch", allow_zero=True))
    n_batches = len(batches)
    x_arrays, y_arrays = batches.arrays()
    if y_format != "given":
        y_arrays = ()
    if x_arrays is None or y_arrays is None:
        ds = _generated_batches(batches)
    else:
        ds = _gathered_batches(batches, x_arrays, y_arrays, y_format)
    ds = ds.apply(tf.data.experimental.assert_cardinality(n_batches))
    return ds.prefetch(tf.data.AUTOTUNE)


def _index_batches(batches: BalancedBatches) -> tf.data.Dataset:
    """The next epoch's plan cut into index batches inside TensorFlow (Python plans once)."""
    size = batches.batch_size
    n_batches = len(batches)

    def plans() -> Iterator[np.ndarray]:
        yield batches.plan(batches.sampler.start_pass()).astype(np.int64, copy=False)

    def cut(plan: tf.Tensor) -> tf.data.Dataset:
        n = tf.shape(plan, out_type=tf.int64)[0]
        return tf.data.Dataset.range(n_batches).map(
            lambda b: plan[b * size : tf.minimum((b + 1) * size, n)]
        )

    one_plan = tf.data.Dataset.from_generator(
        plans, output_signature=tf.TensorSpec((None,), tf.int64)
    )
    return one_plan.flat_map(cut)


def _gathered_batches(
    batches: BalancedBatches,
    x_arrays: Any,
    y_arrays: Any,
    y_format: str,
) -> tf.data.Dataset:
    with tf.device("/cpu:0"):
        x_t = tf.nest.map_structure(tf.convert_to_tensor, x_arrays)
        if y_format == "given":
            y_t = tf.nest.map_structure(tf.convert_to_tensor, y_arrays)
        else:
            y_t = tf.convert_to_tensor(batches.encoded.codes)
        weights = batches.sample_weight
        w_t = None if weights is None else tf.convert_to_tensor(weights)
    n_classes = len(batches.sampler.classes)

    def gather(idx: tf.Tensor) -> tuple[Any, ...]:
        xb = tf.nest.map_structure(lambda t: tf.gather(t, idx), x_t)
        if y_format == "given":
            yb = tf.nest.map_structure(lambda t: tf.gather(t, idx), y_t)
        else:
            codes = tf.cast(tf.gather(y_t, idx), tf.int64)
            yb = codes if y_format == "sparse" else tf.one_hot(codes, n_classes, dtype=tf.float32)
        if w_t is None:
            return xb, yb
        return xb, yb, tf.gather(w_t, idx)

    indices = _index_batches(batches)
    return indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _generated_batches(batches: BalancedBatches) -> tf.data.Dataset:
    """Batches read by BalancedBatches in Python (memmap, h5py, paths with a loader)."""
    first = batches.batch(batches.plan(0)[:1])
    size = batches.batch_size

    def generate() -> Iterator[tuple[Any, ...]]:
        plan = batches.plan(batches.sampler.start_pass())
        for b in range(len(batches)):
            yield batches.batch(plan[b * size : (b + 1) * size])

    return tf.data.Dataset.from_generator(generate, output_signature=_spec_like(first))
