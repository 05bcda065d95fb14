"""Balanced batches: the seed's infinite generator and an epoch-based sequence."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from classbalance._gather import Gatherer
from classbalance._validation import check_choice, check_positive_int, short_repr
from classbalance.labels import EncodedLabels, MultiHotLabels, encode_labels, encode_multilabel
from classbalance.sampling import AlphaLike, BalancedSampler, StrategyLike
from classbalance.weights import class_weight_array

__all__ = ["BalancedBatches", "balanced_batch_generator"]

Y_FORMATS = ("given", "sparse", "categorical")


def _check_same_length(n_x: int, n_y: int, x_name: str = "x", y_name: str = "y") -> None:
    if n_x != n_y:
        raise ValueError(
            f"{x_name} has {n_x} samples but {y_name} has {n_y}; they must have the same length."
        )


class BalancedBatches(Sequence):
    """A finite, epoch-based sequence of class-balanced batches.

    Batch ``i`` of epoch ``e`` depends only on ``(seed, e, i)``, so batches
    can be fetched in any order and by several workers (Keras
    ``fit(shuffle=True)``, ``PyDataset`` workers). Each epoch re-plans: with
    ``"undersample"`` every epoch sees a fresh subset of the large classes.

    Parameters
    ----------
    x : array, dict/list/tuple of arrays, memmap, h5py dataset, or paths
        Input data; a dict/list/tuple is a multi-input model's inputs. With
        ``loader=``, ``x`` is a sequence of file paths.
    y : array or dict/list/tuple of arrays
        Targets, yielded as given (see ``y_format``). For a multi-output ``y``,
        ``labels`` names the output to balance on.
    batch_size : int
        Samples per batch.
    strategy, alpha, epoch_size :
        The sampling plan, as in :class:`BalancedSampler` (default:
        ``"oversample"``).
    exact : bool, default=False
        If True every batch holds the same count of each class (remainders
        rotate fairly over batches); if False batches are balanced on average.
    sample_weight : array of shape (n_samples,), default=None
        Per-sample weights, yielded as a third element.
    class_weight : dict or {"balanced", "inverse", "sqrt", "effective"}, default=None
        Per-class weights (keys as from :func:`class_weights`, or a strategy
        name), multiplied into the yielded sample weights. Keras refuses
        ``fit(class_weight=...)`` for generators and multi-output models; this
        is how weighting works with them.
    labels : key, index or array, default=None
        What to balance on: a key/index of a multi-output ``y``, or an array
        of labels. Default: ``y`` itself.
    loader : callable, default=None
        ``loader(path) -> array`` for ``x`` given as file paths.
    drop_last : bool, default=False
        Drop the last, partial batch.
    y_format : {"given", "sparse", "categorical"}, default="given"
        ``"sparse"`` yields the class codes ``0..K-1`` (int64) in place of the
        balanced-on labels, ``"categorical"`` a float32 one-hot matrix.
    seed : int, numpy Generator or None, default=None
        Seed of every plan; ``None`` draws one, kept in :attr:`seed`.
    classes : sequence, default=None
        Declared class order (multi-label: the label names).
    multilabel : bool, default=False
        ``y`` (or ``labels``) is a multi-hot target: batches follow the
        multi-label plans of :class:`BalancedSampler` (class-aware sampling by
        default) and ``y`` is yielded as given. ``class_weight`` and
        ``y_format`` other than ``"given"`` are single-label notions and are
        refused; weight labels in the loss instead
        (:func:`~classbalance.pos_weight` with
        ``classbalance.keras.losses.WeightedBinaryCrossentropy``).

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> x = np.arange(20, dtype="float32").reshape(10, 2)
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> batches = cb.BalancedBatches(x, y, batch_size=4, exact=True, seed=0)
    >>> len(batches)
    4
    >>> xb, yb = batches[0]
    >>> np.bincount(yb).tolist()
    [2, 2]
    """

    def __init__(
        self,
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
        loader: Callable[[Any], Any] | None = None,
        drop_last: bool = False,
        y_format: str = "given",
        seed: int | np.random.Generator | None = None,
        classes: Sequence[Any] | None = None,
        multilabel: bool = False,
    ) -> None:
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if not isinstance(exact, bool):
            raise TypeError(f"`exact` must be a bool. Received: exact={short_repr(exact)}")
        if not isinstance(drop_last, bool):
            raise TypeError(
                f"`drop_last` must be a bool. Received: drop_last={short_repr(drop_last)}"
            )
        if not isinstance(multilabel, (bool, np.bool_)):
            raise TypeError(
                f"`multilabel` must be a bool. Received: multilabel={short_repr(multilabel)}"
            )
        self.exact = exact
        self.drop_last = drop_last
        self.y_format = check_choice(y_format, "y_format", Y_FORMATS)
        self._x = Gatherer(x, "x", loader=loader)
        self._y = Gatherer(y, "y", inputs=False)
        _check_same_length(self._x.length, self._y.length)
        label_source = self._label_source(y, labels)
        self.label_array = label_source
        encoded: EncodedLabels | MultiHotLabels
        if multilabel or isinstance(label_source, MultiHotLabels):
            if class_weight is not None or self.y_format != "given":
                raise ValueError(
                    "Multi-label batches take neither `class_weight` nor `y_format`: they are "
                    "single-label notions. Weight labels in the loss instead (cb.pos_weight with "
                    "WeightedBinaryCrossentropy). Received: "
                    f"class_weight={short_repr(class_weight)}, y_format={self.y_format!r}"
                )
            encoded = encode_multilabel(label_source, classes=classes)
        else:
            encoded = encode_labels(
                label_source,
                classes=classes,
                function="BalancedBatches",
                multilabel_alternative="multilabel=True",
            )
        _check_same_length(self._x.length, encoded.n_samples, "x", "the labels")
        self.encoded = encoded
        self.sampler = BalancedSampler(
            encoded, strategy, alpha=alpha, epoch_size=epoch_size, seed=seed, multilabel=multilabel
        )
        self.seed = self.sampler.seed
        self._weights = self._build_weights(sample_weight, class_weight)
        self._lock = threading.Lock()
        self._cached: tuple[int, np.ndarray] | None = None

    # ------------------------------------------------------------------ set-up
    def _label_source(self, y: Any, labels: Any) -> Any:
        structured = isinstance(y, Mapping) or self._y.structure[0] == "seq"
        if labels is None:
            if structured:
                raise ValueError(
                    "`y` has several outputs; pass `labels=` with the key or index of the output "
                    "to balance on (or an array of labels)."
                )
            return self._y.structure[2]
        if isinstance(labels, (str, int)) and not isinstance(labels, bool) and structured:
            return self._y.leaf(labels)
        if isinstance(labels, (str, int)):
            raise ValueError(
                "`labels` as a key or index needs a dict, list or tuple `y`. "
                f"Received: labels={labels!r}"
            )
        return labels

    def _build_weights(self, sample_weight: Any, class_weight: Any) -> np.ndarray | None:
        if sample_weight is None and class_weight is None:
            return None
        n = self.encoded.n_samples
        weights = np.ones(n, dtype=np.float32)
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            if sw.shape != (n,):
                raise ValueError(
                    f"`sample_weight` must have shape ({n},), one weight per sample. "
                    f"Received shape {sw.shape}."
                )
            if not np.all(np.isfinite(sw)) or np.any(sw < 0):
                raise ValueError("`sample_weight` must be finite and >= 0.")
            weights *= sw.astype(np.float32)
        if class_weight is not None:
            weights *= class_weight_array(self.encoded, class_weight).astype(np.float32)[
                self.encoded.codes
            ]
        return weights

    # ------------------------------------------------------------------ epochs
    @property
    def epoch(self) -> int:
        """The epoch whose plan the batches follow."""
        return self.sampler.epoch

    def set_epoch(self, epoch: int) -> None:
        """Follow the plan of ``epoch`` (depends only on ``(seed, epoch)``)."""
        with self._lock:
            self.sampler.set_epoch(epoch)

    def plan(self, epoch: int | None = None) -> np.ndarray:
        """Sample indices of ``epoch`` (default: current), in batch order."""
        e = self.epoch if epoch is None else epoch
        cached = self._cached  # one read: another thread may replace it
        if cached is not None and cached[0] == e:
            return cached[1]
        with self._lock:
            cached = self._cached
            if cached is not None and cached[0] == e:
                return cached[1]
            plan = self.sampler.plan(e, batch_size=self.batch_size, exact=self.exact)
            if self.drop_last:
                plan = plan[: len(plan) // self.batch_size * self.batch_size]
            self._cached = (e, plan)
            return plan

    def __len__(self) -> int:
        cached = self._cached
        total = len(cached[1]) if cached is not None and cached[0] == self.epoch else None
        if total is None:
            total = len(self.sampler)
        if self.drop_last:
            return total // self.batch_size
        return -(-total // self.batch_size)

    def batch_indices(self, index: int) -> np.ndarray:
        """Sample indices of batch ``index`` of the current epoch."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Batch index must be an int. Received: {index!r}")
        plan = self.plan()
        n = -(-len(plan) // self.batch_size)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"Batch index {index} is out of range for {n} batches.")
        return plan[index * self.batch_size : (index + 1) * self.batch_size]

    def __getitem__(self, index: int) -> tuple[Any, ...]:  # type: ignore[override]
        return self.batch(self.batch_indices(index))

    @property
    def sample_weight(self) -> np.ndarray | None:
        """Per-sample weights (``sample_weight`` times ``class_weight``), float32, or None."""
        return self._weights

    def arrays(self) -> tuple[Any, Any]:
        """The in-memory NumPy arrays behind ``x`` and ``y``, nested as given.

        Each is None if some part of it is not an in-memory array (memmap,
        h5py, paths with a loader). Adapters that copy data into a framework
        (``classbalance.tf``) use the arrays; others read through :meth:`batch`.
        """
        return self._x.in_memory(), self._y.in_memory()

    def batch(self, idx: np.ndarray) -> tuple[Any, ...]:
        """The batch of samples ``idx``: ``(x, y)`` or ``(x, y, sample_weight)``.

        One vectorized read per array; ``y`` in :attr:`y_format`.
        """
        idx = np.asarray(idx)
        xb = self._x.take(idx)
        if self.y_format == "given":
            yb = self._y.take(idx)
        else:
            codes = self.encoded.codes[idx]
            yb = (
                codes.astype(np.int64)
                if self.y_format == "sparse"
                else np.eye(self.encoded.n_classes, dtype=np.float32)[codes]
            )
        if self._weights is None:
            return xb, yb
        return xb, yb, self._weights[idx]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        """Yield the batches of the current epoch; the pass moves to the next epoch.

        The package's one epoch rule (:meth:`BalancedSampler.start_pass`): the
        epoch advances when the pass yields its first batch, so a pass stopped
        early also moves on, as every other plan-producing iterable does.
        """
        plan = self.plan(self.sampler.start_pass())
        for start in range(0, len(plan), self.batch_size):
            yield self.batch(plan[start : start + self.batch_size])

    def __getstate__(self) -> dict[str, Any]:
        # Keras' multiprocessing workers receive a pickled copy; locks don't pickle.
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_cached"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"BalancedBatches(n_samples={self.encoded.n_samples}, batch_size={self.batch_size}, "
            f"strategy={short_repr(self.sampler.strategy)}, exact={self.exact}, "
            f"batches={len(self)}, epoch={self.epoch}, seed={self.seed})"
        )


def balanced_batch_generator(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    categorical: bool = True,
    seed: int | np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless over-sampling generator of balanced, shuffled batches.

    The API of the ``balanced_batch_generator`` / ``keras-balanced-batch-generator``
    package, kept verbatim as a thin wrapper over :class:`BalancedSampler`
    (``"oversample"``): every class is cycled through fresh permutations, so a
    rare sample is not repeated before all samples of its class were seen, and
    batches hold, on average, the same number of samples of each class.

    Parameters
    ----------
    x : numpy.ndarray
        Input data, same length as ``y``.
    y : numpy.ndarray
        A binary class matrix of shape ``(num_samples, num_classes)`` (e.g.
        ``keras.utils.to_categorical``). A class vector is accepted too.
    batch_size : int
        Batch size; every yielded batch is full.
    categorical : bool, default=True
        Yield one-hot batch targets of shape ``(batch_size, num_classes)``;
        if False, class vectors of shape ``(batch_size,)``.
    seed : int, numpy Generator or None, default=None
        Random seed; the same seed gives the same batches in any process.

    Yields
    ------
    tuple of (x_batch, y_batch)
        Ready for ``model.fit(generator, steps_per_epoch=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance import balanced_batch_generator
    >>> x = np.random.default_rng(0).random((100, 2))
    >>> y = np.eye(3)[np.r_[np.zeros(90, int), np.ones(8, int), [2, 2]]]
    >>> gen = balanced_batch_generator(x, y, batch_size=30, seed=0)
    >>> xb, yb = next(gen)
    >>> xb.shape, yb.shape
    ((30, 2), (30, 3))
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"`x` must be a numpy.ndarray. Received: x of type {type(x).__name__}. "
            "For dicts, lists of arrays, files or h5py use BalancedBatches."
        )
    if not isinstance(y, np.ndarray):
        raise TypeError(f"`y` must be a numpy.ndarray. Received: y of type {type(y).__name__}.")
    if not isinstance(categorical, (bool, np.bool_)):
        raise TypeError(
            f"`categorical` must be a bool. Received: categorical={short_repr(categorical)}"
        )
    batch_size = check_positive_int(batch_size, "batch_size")
    _check_same_length(len(x), len(y))
    encoded = encode_labels(
        y,
        function="balanced_batch_generator",
        multilabel_alternative="cb.BalancedBatches(x, Y, batch_size, multilabel=True)",
    )
    empty = encoded.classes[encoded.counts() == 0].tolist()
    if empty:
        warnings.warn(
            f"Classes {empty} have no samples; batches hold only the other classes.",
            UserWarning,
            stacklevel=2,
        )
    sampler = BalancedSampler(encoded, "oversample", seed=seed)
    n_classes = encoded.n_classes
    out_dtype = y.dtype if y.ndim == 2 and y.dtype.kind in "biuf" else np.float32
    gather = Gatherer(x, "x")

    def generate() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        epoch = 0
        pending = np.zeros(0, dtype=np.int64)
        while True:
            while len(pending) < batch_size:
                pending = np.concatenate([pending, sampler.plan(epoch)])
                epoch += 1
            n_full = len(pending) // batch_size
            for b in range(n_full):
                idx = pending[b * batch_size : (b + 1) * batch_size]
                codes = encoded.codes[idx]
                if categorical:
                    yb = np.zeros((batch_size, n_classes), dtype=out_dtype)
                    yb[np.arange(batch_size), codes] = 1
                elif y.ndim == 2:
                    yb = codes.astype(out_dtype)
                else:
                    yb = np.take(y, idx, axis=0)
                yield gather.take(idx), yb
            pending = pending[n_full * batch_size :]

    return generate()
