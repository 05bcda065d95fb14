"""PyTorch samplers over the core's per-epoch index plans: single indices and batches.

Nothing here samples: every index comes from
:meth:`classbalance.BalancedSampler.plan`, which depends only on
``(seed, epoch)``. These classes cut that plan into what a ``DataLoader``
wants (single indices or batches; one rank's share of the batches is
:mod:`classbalance.torch.distributed`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from classbalance._validation import check_positive_int, short_repr
from classbalance.sampling import AlphaLike, StrategyLike
from classbalance.torch._plans import (
    EpochPlans,
    ResumableBatches,
    check_bool,
    check_index_type,
    core_sampler,
    data,
)

__all__ = ["BalancedBatchSampler", "BalancedSampler"]


class BalancedSampler(EpochPlans, data.Sampler[int]):
    """A ``torch.utils.data.Sampler`` of class-balanced indices, re-planned every epoch.

    Unlike ``WeightedRandomSampler`` (i.i.d. draws with replacement, at most
    2**24 samples), each class is cycled through fresh permutations, so a
    rare sample never repeats before all samples of its class were used, and
    any number of samples works. The plan of epoch ``e`` depends only on
    ``(seed, e)``. Each pass over the sampler serves the current epoch and
    moves on to the next (when its first index is taken), so a plain
    training loop sees a new plan every epoch; :meth:`set_epoch` picks one
    explicitly, as with ``DistributedSampler``.

    Parameters
    ----------
    labels : array-like, tensor or Dataset
        One label per sample (class vector or one-hot), or a dataset whose
        labels :func:`labels_of` can read without loading samples.
    strategy : str, dict or callable, default=None
        As in :class:`classbalance.BalancedSampler`: ``"oversample"`` (the
        default), ``"undersample"``, ``"balanced"``, ``{class: count or
        fraction}`` or a callable.
    alpha : float in [0, 1] or callable(epoch) -> float, default=None
        Class ``c`` drawn in proportion to ``n_c ** alpha`` (exclusive with
        ``strategy``).
    epoch_size, num_samples : int, default=None
        Samples per epoch for ``"balanced"``, ``alpha`` and fractions (the
        package's name, and PyTorch's name as in ``WeightedRandomSampler``;
        give one). Given alone, it means ``strategy="balanced"`` at that size.
    seed : int, numpy Generator or None, default=None
        ``None`` draws a seed once, kept in :attr:`seed`.
    classes : sequence, default=None
        Declared class order.
    multilabel : bool, default=False
        ``labels`` is a multi-hot target (0/1 matrix or label sets): plans over
        labels as in :class:`classbalance.BalancedSampler`, class-aware
        sampling by default (each label drawn equally often, ``epoch_size``
        draws, default the number of samples).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.torch import BalancedSampler
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> sampler = BalancedSampler(y, seed=0)
    >>> idx = list(sampler)
    >>> len(idx) == len(sampler) == 16, np.bincount(y[idx]).tolist()
    (True, [8, 8])
    """

    def __init__(
        self,
        labels: Any,
        strategy: StrategyLike = None,
        *,
        alpha: AlphaLike | None = None,
        num_samples: int | None = None,
        epoch_size: int | None = None,
        seed: int | np.random.Generator | None = None,
        classes: Sequence[Any] | None = None,
        multilabel: bool = False,
    ) -> None:
        super().__init__()
        self.core = core_sampler(
            labels,
            strategy,
            alpha,
            num_samples,
            seed,
            classes,
            "BalancedSampler",
            epoch_size,
            multilabel=multilabel,
        )

    @property
    def num_samples(self) -> int:
        """Indices yielded per epoch (``len(self)``)."""
        return len(self.core)

    def __len__(self) -> int:
        return len(self.core)

    def __iter__(self) -> Iterator[int]:
        yield from self.core

    def __repr__(self) -> str:
        return (
            f"BalancedSampler(num_samples={len(self)}, strategy={short_repr(self.core.strategy)}, "
            f"epoch={self.epoch}, seed={self.seed})"
        )


class BalancedBatchSampler(ResumableBatches, data.Sampler[list[int]]):
    """Batches of class-balanced indices for ``DataLoader(batch_sampler=...)``.

    Each pass cuts the current epoch's plan into batches of
    ``batch_size`` and moves on to the next epoch. With a dataset that
    implements ``__getitems__(indices)`` returning the whole batch (one
    vectorized gather, e.g. :class:`~classbalance.torch.ArrayDataset`) and
    ``collate_fn=torch.utils.data.default_convert``, the ``DataLoader`` makes
    one call per batch instead of ``batch_size`` calls plus a collate; with
    ``indices="tensor"`` that is the fast path measured in the benchmarks.

    Parameters
    ----------
    labels : array-like, tensor or Dataset
        One label per sample, or a dataset readable by :func:`labels_of`.
    batch_size : int
        Indices per batch.
    strategy, alpha, epoch_size, num_samples, seed, classes, multilabel :
        The epoch plan, as in :class:`BalancedSampler`.
    exact : bool, default=False
        If True every full batch holds each class at its exact share
        (``batch_size // K`` or one more of each class for equal targets);
        if False batches are balanced on average (one uniform shuffle).
    drop_last : bool, default=False
        Drop the last batch if it is smaller than ``batch_size``.
    indices : {"list", "numpy", "tensor"}, default="list"
        What each batch is: a list of Python ints (the ``Sampler``
        protocol), or the plan's slice as a NumPy array or a torch tensor,
        which ``DataLoader`` hands to ``__getitems__`` untouched (no
        conversion to Python ints and back). ``"tensor"`` with
        :class:`~classbalance.torch.ArrayDataset` is the fastest path.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> from classbalance.torch import BalancedBatchSampler
    >>> y = torch.tensor([0] * 90 + [1] * 10)
    >>> ds = TensorDataset(torch.randn(100, 3), y)
    >>> sampler = BalancedBatchSampler(ds, batch_size=10, exact=True, seed=0)
    >>> loader = DataLoader(ds, batch_sampler=sampler)
    >>> xb, yb = next(iter(loader))
    >>> len(loader), torch.bincount(yb).tolist()
    (18, [5, 5])
    """

    def __init__(
        self,
        labels: Any,
        batch_size: int,
        *,
        strategy: StrategyLike = None,
        alpha: AlphaLike | None = None,
        num_samples: int | None = None,
        epoch_size: int | None = None,
        exact: bool = False,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
        classes: Sequence[Any] | None = None,
        indices: str = "list",
        multilabel: bool = False,
    ) -> None:
        super().__init__()
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.exact = check_bool(exact, "exact")
        self.drop_last = check_bool(drop_last, "drop_last")
        self.indices = check_index_type(indices)
        self.core = core_sampler(
            labels,
            strategy,
            alpha,
            num_samples,
            seed,
            classes,
            "BalancedBatchSampler",
            epoch_size,
            multilabel=multilabel,
        )

    def __len__(self) -> int:
        total = len(self.core)
        return total // self.batch_size if self.drop_last else -(-total // self.batch_size)

    def __repr__(self) -> str:
        return (
            f"BalancedBatchSampler(batch_size={self.batch_size}, batches={len(self)}, "
            f"strategy={short_repr(self.core.strategy)}, exact={self.exact}, "
            f"drop_last={self.drop_last}, epoch={self.epoch}, seed={self.seed})"
        )
