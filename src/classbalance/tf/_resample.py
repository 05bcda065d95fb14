"""``resample``: re-balance a ``tf.data.Dataset`` whose labels are not known up front."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._streams import TF_SHUFFLE
from classbalance._validation import (
    check_positive_int,
    resolve_seed,
    rng_for,
    short_repr,
)
from classbalance.labels import EncodedLabels
from classbalance.sampling import BalancedSampler, StrategyLike

tf = require("tensorflow", "classbalance.tf")

__all__ = ["resample"]


def _call_on_element(fn: Callable[..., Any], element: Any, spec: Any) -> Any:
    # tf.data's map convention: a tuple element is passed as separate arguments.
    return fn(*element) if isinstance(spec, tuple) else fn(element)


def _label_pass(
    dataset: tf.data.Dataset, label_fn: Callable[..., Any], num_classes: int
) -> np.ndarray:
    spec = dataset.element_spec
    ds = dataset.map(
        lambda *e: _call_on_element(label_fn, e if isinstance(spec, tuple) else e[0], spec),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    out_spec = ds.element_spec
    scalar = isinstance(out_spec, tf.TensorSpec) and out_spec.shape.rank == 0
    if not scalar or not out_spec.dtype.is_integer:
        raise ValueError(
            "`label_fn` must return one integer class id (a scalar int tensor) per element. "
            f"Received: label_fn returning {out_spec}"
        )
    chunks = [np.asarray(c, dtype=np.int64) for c in ds.batch(1 << 16).as_numpy_iterator()]
    labels = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    if labels.size == 0:
        raise ValueError("`dataset` is empty; there is nothing to resample.")
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise ValueError(
            f"`label_fn` returned {labels[bad][0]} for element {int(np.flatnonzero(bad)[0])}; "
            f"labels must be class ids in [0, n_classes - 1] = [0, {num_classes - 1}]."
        )
    return np.bincount(labels, minlength=num_classes).astype(np.int64)


def resample(
    dataset: tf.data.Dataset,
    label_fn: Callable[..., Any],
    *,
    n_classes: int,
    strategy: StrategyLike = None,
    shuffle_buffer: int | None = 10_000,
    seed: int | np.random.Generator | None = None,
) -> tf.data.Dataset:
    """Re-balance a ``tf.data.Dataset`` whose labels are not known up front.

    For datasets read from files or TFRecords, where the labels are inside
    the elements. Unlike ``tf.data.Dataset.rejection_resample``, which
    balances by *dropping* elements of frequent classes (so most of the data
    is read and thrown away, and rare elements repeat i.i.d.), this repeats
    rare elements: every epoch holds exactly the per-class counts of the
    core plan for ``strategy`` (e.g. every class at the size of the largest),
    and within a class the copies cycle through the elements like
    :class:`~classbalance.BalancedSampler` does (no element repeats before
    all elements of its class were used).

    How it works and what it costs:

    - **A label pass when called**: ``label_fn`` is mapped over the whole
      dataset once, to count the classes. That reads every element once
      (make ``label_fn`` cheap, e.g. parse only the label feature of a
      TFRecord; the read itself still happens).
    - **Each epoch** (each iteration over the result) makes one ordinary pass
      over ``dataset``, in its own order (an upstream ``shuffle`` is fine).
      The k-th element of class ``c`` in that pass is emitted as many times
      as the plan uses the k-th member of class ``c`` (0 drops it when
      undersampling). A table of one int per element is held in memory.
    - **Copies arrive together**; consecutive blocks of ``shuffle_buffer``
      elements are shuffled (a stateless shuffle seeded by the epoch and the
      block) to spread them, so use a block that is large compared with the
      largest repeat factor (the imbalance ratio with ``"oversample"``).
      A block is held in memory. Batches are therefore balanced over the
      epoch and on average, not exactly per batch.
    - The dataset must be finite and yield the same number of elements of
      each class on every pass (the counts of the label pass); a pass that
      yields more elements of a class than counted fails with an error.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Finite dataset of single elements (not batches).
    label_fn : callable
        ``label_fn(*element)`` (tuple elements unpacked, as in
        ``Dataset.map``) -> scalar integer class id in ``[0, n_classes)``.
    n_classes : int
        Number of classes (required).
    strategy : str or dict, default="oversample"
        Per-class counts per epoch, as ``strategy`` of
        :class:`~classbalance.BalancedSampler`: ``"oversample"``,
        ``"undersample"``, ``"balanced"`` or ``{class_id: count or fraction}``.
    shuffle_buffer : int or None, default=10000
        Size of the blocks shuffled after repeating; ``None`` keeps the pass
        order (copies adjacent).
    seed : int, numpy Generator or None, default=None
        Seed of every epoch's plan and shuffle (``None`` draws one).

    Returns
    -------
    tf.data.Dataset
        Same element structure as ``dataset``; batch it yourself.

    Examples
    --------
    >>> import numpy as np, tensorflow as tf
    >>> from classbalance.tf import resample
    >>> y = np.r_[np.zeros(90), np.ones(10)].astype("int64")
    >>> ds = tf.data.Dataset.from_tensor_slices((np.arange(100.0), y))
    >>> balanced = resample(ds, lambda x, y: y, n_classes=2, seed=0)
    >>> labels = np.array([int(label) for _, label in balanced])
    >>> np.bincount(labels).tolist()
    [90, 90]
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            f"`dataset` must be a tf.data.Dataset. Received: dataset of type "
            f"{type(dataset).__name__}"
        )
    if not callable(label_fn):
        raise TypeError(f"`label_fn` must be callable. Received: label_fn={short_repr(label_fn)}")
    strategy = "oversample" if strategy is None else strategy
    num_classes = check_positive_int(n_classes, "n_classes")
    if shuffle_buffer is not None:
        shuffle_buffer = check_positive_int(shuffle_buffer, "shuffle_buffer")
    seed = resolve_seed(seed)
    counts = _label_pass(dataset, label_fn, num_classes)
    core = BalancedSampler(EncodedLabels.from_counts(counts), strategy, seed=seed)
    n = int(counts.sum())
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    spec = dataset.element_spec

    def tables() -> Iterator[tuple[np.ndarray, np.int64]]:
        epoch = core.start_pass()
        # Sample i of the sorted codes is member i - starts[c] of class c.
        times = np.bincount(np.concatenate(core.class_plans(epoch)), minlength=n)
        shuffle_seed = rng_for(seed, TF_SHUFFLE, epoch, 0).integers(0, 2**62)
        yield times.astype(np.int32), np.int64(shuffle_seed)

    starts_t = tf.constant(starts)
    counts_t = tf.constant(counts)

    def one_epoch(times: tf.Tensor, shuffle_seed: tf.Tensor) -> tf.data.Dataset:
        def with_label(*element: Any) -> tuple[tf.Tensor, Any]:
            element = element if isinstance(spec, tuple) else element[0]
            label = tf.cast(_call_on_element(label_fn, element, spec), tf.int64)
            return label, element

        def rank_in_class(seen: tf.Tensor, pair: tuple[tf.Tensor, Any]) -> tuple[Any, Any]:
            label, element = pair
            rank = seen[label]
            check = tf.debugging.assert_less(
                rank,
                counts_t[label],
                message="resample: the dataset yielded more elements of a class than the "
                "label pass counted; it must yield the same elements on every pass.",
            )
            with tf.control_dependencies([check]):
                copies = times[starts_t[label] + rank]
            seen = tf.tensor_scatter_nd_add(seen, label[None, None], tf.ones(1, tf.int64))
            return seen, (copies, element)

        def repeat(copies: tf.Tensor, element: Any) -> Any:
            return tf.nest.map_structure(lambda t: tf.repeat(t[None], copies, axis=0), element)

        ds = dataset.map(with_label).scan(tf.zeros(num_classes, tf.int64), rank_in_class)
        ds = ds.map(repeat).unbatch()
        if shuffle_buffer is not None:
            # A stateless shuffle of consecutive blocks, seeded by (epoch seed, block):
            # Dataset.shuffle(seed=<tensor>) fails in graph mode once a global seed
            # is set (keras.utils.set_random_seed), which most training scripts do.
            def shuffle_block(index: tf.Tensor, block: Any) -> tf.data.Dataset:
                size = tf.shape(tf.nest.flatten(block)[0])[0]
                order = tf.random.experimental.stateless_shuffle(
                    tf.range(size), seed=tf.stack([shuffle_seed, index])
                )
                shuffled = tf.nest.map_structure(lambda t: tf.gather(t, order), block)
                return tf.data.Dataset.from_tensor_slices(shuffled)

            ds = ds.batch(shuffle_buffer).enumerate().flat_map(shuffle_block)
        return ds

    plans = tf.data.Dataset.from_generator(
        tables,
        output_signature=(tf.TensorSpec((n,), tf.int32), tf.TensorSpec((), tf.int64)),
    )
    return plans.flat_map(one_epoch)
