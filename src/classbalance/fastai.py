"""fastai adapter: a balanced training ``DataLoader`` and long-tail metrics.

:class:`BalancedDL` is a fastai ``TfmdDL`` whose ``get_idxs`` returns the
plan of :class:`classbalance.BalancedSampler` for the current epoch, so
balancing follows the same rules as everywhere else in classbalance: each
class is cycled through fresh permutations (never i.i.d. draws with
replacement as ``WeightedDL`` does), undersampling takes a fresh subset
every epoch, and the plan depends only on ``(seed, epoch)`` -- every worker
and every ``DistributedDL`` rank computes the same one.

:func:`balanced_dataloaders` builds ``DataLoaders`` from a ``Datasets`` or a
``DataBlock``, balancing the training loader only; labels are read from the
dataset (no weights array to align with the training split).

This module imports only ``fastai.data`` and ``fastai.metrics`` (never
``fastai.vision.all``), so it works where fastai is installed without
torchvision (``pip install --no-deps fastai``, see docs/guide/fastai.md).

Examples
--------
>>> import numpy as np
>>> from fastai.data.core import Datasets
>>> from classbalance.fastai import balanced_dataloaders
>>> y = [0] * 12 + [1] * 4
>>> dsets = Datasets(list(range(16)), [[lambda i: float(i)], [lambda i: y[i]]],
...                  splits=[[0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13], [9, 10, 11, 14, 15]])
>>> dls = balanced_dataloaders(dsets, bs=6, seed=0, device="cpu", num_workers=0)
>>> len(dls.train.get_idxs()), dls.train.target_counts().tolist()
(18, [9, 9])
>>> dls.valid.get_idxs()  # validation stays natural and in order
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance import metrics as core_metrics
from classbalance._optional import require
from classbalance._validation import check_positive_int, resolve_seed, short_repr
from classbalance.sampling import AlphaLike, BalancedSampler, StrategyLike

require("fastai", "classbalance.fastai")
from fastai.data.block import DataBlock  # noqa: E402
from fastai.data.core import Datasets, TfmdDL  # noqa: E402
from fastai.metrics import AccumMetric  # noqa: E402

__all__ = [
    "BalancedDL",
    "balanced_accuracy",
    "balanced_dataloaders",
    "dataset_labels",
    "g_mean",
    "imbalance_metrics",
    "macro_f1",
    "min_recall",
]

_BALANCE_KEYS = ("labels", "strategy", "alpha", "epoch_size", "exact", "seed", "multilabel")


def dataset_labels(dataset: Any) -> np.ndarray:
    """One label per item of a fastai ``Datasets`` (or subset), without loading inputs.

    Runs only the target pipeline (``get_y``, ``Categorize``...) of each
    item; the inputs (images) are never opened.

    Raises
    ------
    TypeError
        The dataset is not a fastai ``Datasets`` (pass ``labels=`` instead).
    ValueError
        The targets are neither one class nor one multi-hot vector per item.

    Examples
    --------
    >>> from fastai.data.core import Datasets
    >>> from fastai.data.transforms import Categorize
    >>> from classbalance.fastai import dataset_labels
    >>> y = ["a", "b", "a", "a"]
    >>> dsets = Datasets(list(range(4)), [[lambda i: float(i)], [lambda i: y[i], Categorize()]])
    >>> dataset_labels(dsets).tolist()  # the codes of Categorize, inputs never built
    [0, 1, 0, 0]
    """
    tls = getattr(dataset, "tls", None)
    n_inp = getattr(dataset, "n_inp", None)
    if tls is None or n_inp is None or len(tls) <= n_inp:
        raise TypeError(
            "BalancedDL reads labels from a fastai `Datasets` (its first target pipeline). "
            f"Received a dataset of type {type(dataset).__name__}; pass `labels=` (one class per "
            "item, aligned with the dataset) instead."
        )
    targets = tls[n_inp]
    # One call per item: fastai label functions are arbitrary Python; inputs are not loaded.
    values = [targets[i] for i in range(len(targets))]
    labels = np.asarray([np.asarray(v) for v in values])
    if labels.ndim not in (1, 2):
        raise ValueError(
            "BalancedDL balances one class or one multi-hot vector (fastai's "
            f"MultiCategoryBlock) per item, but the targets have shape {labels.shape[1:]} per "
            "item. Pass `labels=` with one class per item."
        )
    return labels


class BalancedDL(TfmdDL):
    """A fastai ``TfmdDL`` that serves a class-balanced plan, a new one every epoch.

    ``get_idxs`` returns :meth:`classbalance.BalancedSampler.plan` of the
    current epoch and moves on to the next epoch, so each pass over the
    loader is a new plan; :meth:`set_epoch` picks one. ``len(dl)`` matches
    the plan. With ``shuffle=False`` (what fastai passes to the validation
    loader) it serves the dataset in order, unbalanced.

    It survives ``dl.new(...)`` (the balancing arguments are carried over;
    for another dataset the labels are read from it), worker processes (the
    plan is computed in the main process) and fastai's ``DistributedDL``
    (each rank computes the same plan from ``(seed, epoch)``, so ``seed``
    must be the same int on every rank; ``DistributedDL`` then pads the plan
    with single indices to a multiple of the world size, a few samples at
    most).

    Parameters
    ----------
    dataset : fastai Datasets or indexable
        The training items.
    bs : int, default=64
        Batch size.
    shuffle : bool, default=True
        Serve the balanced plan. ``False`` serves the dataset in order,
        unbalanced (fastai passes it for validation loaders).
    labels : array-like of shape (len(dataset),) or (len(dataset), n_labels), default=None
        Class of each item (multi-label: its multi-hot row). Default: read
        from a fastai ``Datasets`` by running its target pipeline (inputs are
        not loaded).
    strategy : str, dict or callable, default=None
        As in :class:`classbalance.BalancedSampler`: ``"oversample"`` (the
        default), ``"undersample"`` (a fresh subset each epoch),
        ``"balanced"``, ``{class: count or fraction}`` or a callable.
    alpha : float in [0, 1] or callable(epoch), default=None
        Class ``c`` drawn in proportion to ``n_c ** alpha``.
    epoch_size : int, default=None
        Samples per epoch for ``"balanced"``, ``alpha`` and fractions.
    exact : bool, default=False
        Every batch holds the same count of each class (remainders rotate).
    seed : int, numpy Generator or None, default=None
        Seed of every plan; ``None`` draws one, kept in :attr:`seed`.
    multilabel : bool, default=False
        The targets are multi-hot (fastai's ``MultiCategoryBlock``): plans over
        labels as in :class:`classbalance.BalancedSampler`, class-aware
        sampling by default (each label drawn equally often).
    **kwargs
        Passed to ``TfmdDL`` (``drop_last``, ``num_workers``,
        ``after_item``, ``after_batch``, ``device``...). ``n`` is refused:
        the plan sets the epoch size.

    Examples
    --------
    >>> from classbalance.fastai import BalancedDL
    >>> y = [0] * 8 + [1] * 2
    >>> dl = BalancedDL(list(range(10)), bs=4, labels=y, seed=0, num_workers=0)
    >>> len(dl), dl.n
    (4, 16)
    >>> idx = dl.get_idxs()
    >>> sorted(np.bincount(np.asarray(y)[idx]).tolist()), dl.epoch
    ([8, 8], 1)
    """

    def __init__(
        self,
        dataset: Any = None,
        bs: int = 64,
        shuffle: bool = True,
        *,
        labels: Any = None,
        strategy: StrategyLike = None,
        alpha: AlphaLike | None = None,
        epoch_size: int | None = None,
        exact: bool = False,
        seed: int | np.random.Generator | None = None,
        multilabel: bool = False,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("n") is not None:
            raise ValueError(
                "`n` is set by the balanced plan; use `epoch_size=` (with strategy='balanced', "
                f"alpha or fractions) to choose the epoch size. Received: n={kwargs['n']!r}"
            )
        kwargs.pop("n", None)
        if not isinstance(exact, (bool, np.bool_)):
            raise TypeError(f"`exact` must be a bool. Received: exact={short_repr(exact)}")
        self.labels = None if labels is None else np.asarray(labels)
        if not isinstance(multilabel, (bool, np.bool_)):
            raise TypeError(
                f"`multilabel` must be a bool. Received: multilabel={short_repr(multilabel)}"
            )
        self.strategy, self.alpha, self.exact = strategy, alpha, bool(exact)
        self.multilabel = bool(multilabel)
        self.epoch_size = (
            None if epoch_size is None else check_positive_int(epoch_size, "epoch_size")
        )
        self.seed = resolve_seed(seed)
        self._sampler: BalancedSampler | None = None
        super().__init__(dataset, bs=bs, shuffle=shuffle, **kwargs)
        if self.labels is not None and self.n is not None and len(self.labels) != self.n:
            raise ValueError(
                f"`labels` has {len(self.labels)} entries but the dataset has {self.n} items; "
                "give one label per item."
            )
        if self.shuffle:
            self.n = len(self.sampler)

    # ---------------------------------------------------------------- the plan
    @property
    def sampler(self) -> BalancedSampler:
        """The core sampler (built on first use from ``labels`` or the dataset)."""
        if self._sampler is None:
            labels = self.labels if self.labels is not None else dataset_labels(self.dataset)
            self.labels = labels
            self._sampler = BalancedSampler(
                labels,
                self.strategy,
                alpha=self.alpha,
                epoch_size=self.epoch_size,
                seed=self.seed,
                multilabel=self.multilabel,
            )
        return self._sampler

    @property
    def epoch(self) -> int:
        """The epoch the next pass serves."""
        return self.sampler.epoch

    def set_epoch(self, epoch: int) -> None:
        """Serve the plan of ``epoch`` in the next pass (like ``DistributedSampler``)."""
        self.sampler.set_epoch(epoch)

    def target_counts(self, epoch: int | None = None) -> np.ndarray:
        """Samples of each class in the plan of ``epoch`` (default: the next one served)."""
        return self.sampler.target_counts(epoch)

    def get_idxs(self) -> list[int]:
        """The current epoch's balanced plan (then move to the next epoch); in order if
        ``shuffle=False``."""
        if not self.shuffle:
            return list(range(len(self.dataset)))
        sampler = self.sampler
        epoch = sampler.epoch
        sampler.set_epoch(epoch + 1)
        plan = sampler.plan(epoch, batch_size=self.bs, exact=self.exact)
        self.n = int(plan.shape[0])
        return plan.tolist()

    def one_batch(self) -> Any:
        """One batch of the current epoch's plan, without using up the epoch."""
        if not self.shuffle:
            return super().one_batch()
        epoch = self.sampler.epoch
        try:
            return super().one_batch()
        finally:
            self.sampler.set_epoch(epoch)

    def new(self, dataset: Any = None, cls: type | None = None, **kwargs: Any) -> Any:
        """A copy for ``dataset`` (default: the same one) with the same balancing.

        For the same dataset the labels and the current epoch are kept; for
        another dataset its labels are read when it is shuffled.
        """
        target = type(self) if cls is None else cls
        same = dataset is None or dataset is self.dataset
        if isinstance(target, type) and issubclass(target, BalancedDL):
            carried = {
                "strategy": self.strategy,
                "alpha": self.alpha,
                "epoch_size": self.epoch_size,
                "exact": self.exact,
                "seed": self.seed,
                "multilabel": self.multilabel,
                "labels": self.labels if same else None,
            }
            for key, value in carried.items():
                kwargs.setdefault(key, value)
        res = super().new(dataset, cls, **kwargs)
        if same and isinstance(res, BalancedDL) and res.shuffle and self._sampler is not None:
            res.set_epoch(self._sampler.epoch)
        return res


def balanced_dataloaders(
    source: Any,
    items: Any = None,
    *,
    bs: int = 64,
    strategy: StrategyLike = None,
    alpha: AlphaLike | None = None,
    epoch_size: int | None = None,
    exact: bool = False,
    seed: int | np.random.Generator | None = None,
    **kwargs: Any,
) -> Any:
    """fastai ``DataLoaders`` whose training loader is a :class:`BalancedDL`.

    Validation (and any further split) stays natural and in order. Labels
    come from the dataset's target pipeline: nothing to align.

    Parameters
    ----------
    source : fastai Datasets or DataBlock
        A ``Datasets`` with splits, or a ``DataBlock`` (then ``items`` is its
        source, as in ``DataBlock.dataloaders(items)``).
    items : any, default=None
        The source of a ``DataBlock`` (a path, a DataFrame...).
    bs : int, default=64
        Batch size.
    strategy, alpha, epoch_size, exact, seed
        The balancing, as in :class:`BalancedDL`.
    **kwargs
        Passed to ``Datasets.dataloaders`` (``num_workers``, ``device``,
        ``val_bs``, ``after_item``, ``after_batch``, ``path``...).

    Returns
    -------
    fastai DataLoaders

    Examples
    --------
    >>> from fastai.data.block import CategoryBlock, DataBlock, TransformBlock
    >>> from fastai.data.transforms import IndexSplitter
    >>> y = ["a"] * 9 + ["b"] * 3
    >>> block = DataBlock(blocks=(TransformBlock, CategoryBlock), get_y=lambda i: y[i],
    ...                   splitter=IndexSplitter([0, 9]))
    >>> dls = balanced_dataloaders(block, list(range(12)), bs=4, seed=0, device="cpu",
    ...                            num_workers=0)
    >>> dls.train.target_counts().tolist(), len(dls.train), dls.valid.get_idxs()
    ([8, 8], 4, [0, 1])
    """
    balance = {
        "strategy": strategy,
        "alpha": alpha,
        "epoch_size": epoch_size,
        "exact": exact,
        "seed": resolve_seed(seed),
    }
    if "dl_type" in kwargs or "dl_kwargs" in kwargs:
        raise ValueError(
            "balanced_dataloaders sets `dl_type` and `dl_kwargs` itself; pass the balancing "
            "arguments (strategy, alpha, exact, seed...) directly."
        )
    if isinstance(source, DataBlock):
        if items is None:
            raise ValueError(
                "A DataBlock needs its source: balanced_dataloaders(block, items, ...), as in "
                "block.dataloaders(items)."
            )
        dl_type = source.dls_kwargs.get("dl_type")
        if dl_type is not None and not issubclass(BalancedDL, dl_type):
            raise ValueError(
                f"This DataBlock uses its own DataLoader type {dl_type.__name__}; BalancedDL "
                "extends TfmdDL only."
            )
        dsets = source.datasets(items, verbose=kwargs.pop("verbose", False))
        extra = {k: v for k, v in source.dls_kwargs.items() if k != "dl_type"}
        kwargs = {
            "after_item": source.item_tfms,
            "after_batch": source.batch_tfms,
            **extra,
            **kwargs,
        }
    elif isinstance(source, Datasets):
        if items is not None:
            raise ValueError("`items` is only for a DataBlock source; a Datasets holds its items.")
        dsets = source
    else:
        raise TypeError(
            "`source` must be a fastai Datasets or DataBlock. "
            f"Received: source of type {type(source).__name__}"
        )
    dl_kwargs = [balance] + [{}] * (dsets.n_subsets - 1)
    return dsets.dataloaders(bs=bs, dl_type=BalancedDL, dl_kwargs=dl_kwargs, **kwargs)


# --------------------------------------------------------------------- metrics
def _codes(values: Any) -> np.ndarray:
    return np.asarray(values).astype(np.int64).ravel()


def _recalls(targs: np.ndarray, preds: np.ndarray) -> np.ndarray:
    """Recall of every class present in ``targs``."""
    recalls = core_metrics.class_recalls(_codes(targs), _codes(preds))
    return recalls[~np.isnan(recalls)]


def _balanced_accuracy(targs: np.ndarray, preds: np.ndarray) -> float:
    return float(core_metrics.balanced_accuracy(_codes(targs), _codes(preds)))


def _g_mean(targs: np.ndarray, preds: np.ndarray) -> float:
    r = _recalls(targs, preds)
    return float(np.prod(r) ** (1.0 / r.size))


def _min_recall(targs: np.ndarray, preds: np.ndarray) -> float:
    return float(_recalls(targs, preds).min())


def _macro_f1(targs: np.ndarray, preds: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(targs, preds, average="macro", zero_division=0))


def _metric(func: Any, name: str, axis: int) -> AccumMetric:
    return AccumMetric(func, dim_argmax=axis, to_np=True, invert_arg=True, name=name)


def balanced_accuracy(axis: int = -1) -> AccumMetric:
    """fastai metric: mean recall over the classes present in the validation set.

    In training, fastai takes the argmax of the model's output along
    ``axis``; called directly, the metric takes predicted classes.

    Examples
    --------
    >>> import torch
    >>> from classbalance.fastai import balanced_accuracy
    >>> m = balanced_accuracy()
    >>> m(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]))  # predicted, true classes
    0.75
    """
    return _metric(_balanced_accuracy, "balanced_accuracy", axis)


def macro_f1(axis: int = -1) -> AccumMetric:
    """fastai metric: unweighted mean of the per-class F1 scores.

    Examples
    --------
    >>> import torch
    >>> from classbalance.fastai import macro_f1
    >>> round(macro_f1()(torch.tensor([0, 1]), torch.tensor([0, 1])), 3)
    1.0
    """
    return _metric(_macro_f1, "macro_f1", axis)


def g_mean(axis: int = -1) -> AccumMetric:
    """fastai metric: geometric mean of the per-class recalls (0 if a class is never found).

    Examples
    --------
    >>> import torch
    >>> from classbalance.fastai import g_mean
    >>> g_mean()(torch.tensor([0, 0]), torch.tensor([0, 1]))
    0.0
    """
    return _metric(_g_mean, "g_mean", axis)


def min_recall(axis: int = -1) -> AccumMetric:
    """fastai metric: recall of the worst class.

    Examples
    --------
    >>> import torch
    >>> from classbalance.fastai import min_recall
    >>> min_recall()(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]))
    0.5
    """
    return _metric(_min_recall, "min_recall", axis)


def imbalance_metrics(axis: int = -1) -> list[AccumMetric]:
    """The four long-tail metrics for ``Learner(metrics=...)``.

    Balanced accuracy, macro-F1, G-mean and worst-class recall, computed
    over the whole validation set (not averaged over batches).

    Examples
    --------
    >>> from classbalance.fastai import imbalance_metrics
    >>> [m.name for m in imbalance_metrics()]
    ['balanced_accuracy', 'macro_f1', 'g_mean', 'min_recall']
    """
    return [balanced_accuracy(axis), macro_f1(axis), g_mean(axis), min_recall(axis)]
