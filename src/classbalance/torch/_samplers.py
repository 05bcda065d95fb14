"""PyTorch samplers over the core's per-epoch index plans.

Nothing here samples: every index comes from
:meth:`classbalance.BalancedSampler.plan`, which depends only on
``(seed, epoch)``. These classes cut that plan into what a ``DataLoader``
wants (single indices, batches, or one rank's share of the batches).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import check_positive_int, resolve_seed, short_repr
from classbalance.labels import EncodedLabels, encode_labels
from classbalance.sampling import AlphaLike, StrategyLike
from classbalance.sampling import BalancedSampler as _CoreSampler
from classbalance.torch._labels import labels_of

torch = require("torch", "classbalance.torch")
data = torch.utils.data

__all__ = ["BalancedBatchSampler", "BalancedSampler", "DistributedBalancedBatchSampler"]

_FIXED_SIZE = ("oversample", "undersample")


def _encode(labels: Any, classes: Sequence[Any] | None, function: str) -> EncodedLabels:
    if isinstance(labels, data.Dataset):
        labels = labels_of(labels)
    elif isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    return encode_labels(labels, classes=classes, name="labels", function=function)


def _core_sampler(
    labels: Any,
    strategy: StrategyLike,
    alpha: AlphaLike | None,
    num_samples: int | None,
    seed: Any,
    classes: Sequence[Any] | None,
    function: str,
) -> _CoreSampler:
    if num_samples is not None:
        num_samples = check_positive_int(num_samples, "num_samples")
        if strategy is None and alpha is None:
            strategy = "balanced"
        elif isinstance(strategy, str) and strategy in _FIXED_SIZE:
            raise ValueError(
                f"`num_samples` sets the epoch size of strategy='balanced', `alpha` and "
                f"fractions; strategy={strategy!r} fixes its own size. Use strategy='balanced' "
                f"for {num_samples} samples per epoch. Received: num_samples={num_samples}"
            )
    encoded = _encode(labels, classes, function)
    return _CoreSampler(encoded, strategy, alpha=alpha, epoch_size=num_samples, seed=seed)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={short_repr(value)}")
    return bool(value)


class _EpochPlans:
    """Seed and epoch bookkeeping shared by the samplers (state lives in the core sampler)."""

    core: _CoreSampler

    @property
    def seed(self) -> int:
        """The seed of every epoch's plan."""
        return self.core.seed

    @property
    def epoch(self) -> int:
        """The epoch the next pass over the sampler serves."""
        return self.core.epoch

    @property
    def classes(self) -> np.ndarray:
        """Class values, aligned with :meth:`target_counts`."""
        return self.core.classes

    def set_epoch(self, epoch: int) -> None:
        """Serve the plan of ``epoch`` in the next pass (like ``DistributedSampler``)."""
        self.core.set_epoch(epoch)

    def target_counts(self, epoch: int | None = None) -> np.ndarray:
        """Samples of each class in the plan of ``epoch`` (default: the next one served)."""
        return self.core.target_counts(epoch)

    def _start_epoch(self) -> int:
        # The package's one epoch rule, BalancedSampler.start_pass: called when
        # an iterator yields its first item, not by iter() itself.
        return self.core.start_pass()


class BalancedSampler(_EpochPlans, data.Sampler[int]):
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
    num_samples : int, default=None
        Samples per epoch for ``"balanced"``, ``alpha`` and fractions. Given
        alone, it means ``strategy="balanced"`` at that size.
    seed : int, numpy Generator or None, default=None
        ``None`` draws a seed once, kept in :attr:`seed`.
    classes : sequence, default=None
        Declared class order.

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
        seed: int | np.random.Generator | None = None,
        classes: Sequence[Any] | None = None,
    ) -> None:
        super().__init__()
        self.core = _core_sampler(
            labels, strategy, alpha, num_samples, seed, classes, "BalancedSampler"
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


class BalancedBatchSampler(_EpochPlans, data.Sampler[list[int]]):
    """Batches of class-balanced indices for ``DataLoader(batch_sampler=...)``.

    Each pass cuts the current epoch's plan into batches of
    ``batch_size`` and moves on to the next epoch. With a dataset that
    implements ``__getitems__(indices)`` returning the whole batch (one
    vectorized gather, e.g. ``(x[idx], y[idx])``) and
    ``collate_fn=torch.utils.data.default_convert``, the ``DataLoader`` makes
    one call per batch instead of ``batch_size`` calls plus a collate; that is
    the fast path measured in the benchmarks.

    Parameters
    ----------
    labels : array-like, tensor or Dataset
        One label per sample, or a dataset readable by :func:`labels_of`.
    batch_size : int
        Indices per batch.
    strategy, alpha, num_samples, seed, classes :
        The epoch plan, as in :class:`BalancedSampler`.
    exact : bool, default=False
        If True every full batch holds each class at its exact share
        (``batch_size // K`` or one more of each class for equal targets);
        if False batches are balanced on average (one uniform shuffle).
    drop_last : bool, default=False
        Drop the last batch if it is smaller than ``batch_size``.

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
        exact: bool = False,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
        classes: Sequence[Any] | None = None,
    ) -> None:
        super().__init__()
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.exact = _check_bool(exact, "exact")
        self.drop_last = _check_bool(drop_last, "drop_last")
        self.core = _core_sampler(
            labels, strategy, alpha, num_samples, seed, classes, "BalancedBatchSampler"
        )

    def __len__(self) -> int:
        total = len(self.core)
        return total // self.batch_size if self.drop_last else -(-total // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        plan = self.core.plan(self._start_epoch(), batch_size=self.batch_size, exact=self.exact)
        yield from _cut(plan, self.batch_size, np.arange(len(self)))

    def __repr__(self) -> str:
        return (
            f"BalancedBatchSampler(batch_size={self.batch_size}, batches={len(self)}, "
            f"strategy={short_repr(self.core.strategy)}, exact={self.exact}, "
            f"drop_last={self.drop_last}, epoch={self.epoch}, seed={self.seed})"
        )


def _cut(plan: np.ndarray, batch_size: int, batch_ids: np.ndarray) -> Iterator[list[int]]:
    """Yield batches ``batch_ids`` of ``plan`` as lists of Python ints."""
    for b in batch_ids.tolist():
        yield plan[b * batch_size : (b + 1) * batch_size].tolist()


class DistributedBalancedBatchSampler(_EpochPlans, data.Sampler[list[int]]):
    """Balanced batches split across the ranks of ``torch.distributed``.

    Every rank builds the same global plan from ``(seed, epoch)`` (so
    ``seed`` must be the same int everywhere), cuts it into batches of
    ``batch_size`` and takes every ``num_replicas``-th batch starting at its
    ``rank``: at each step the ranks together process one contiguous slice
    of the plan, and no index is shared between ranks. All ranks yield the
    same number of batches. To get there, whole batches are trimmed or
    padded, never single indices (that would skew the class balance):

    - ``drop_last=True`` (default): the last ``G % num_replicas`` full
      batches and any partial batch are dropped (``G`` = full batches in
      the epoch); every batch is full and ranks are disjoint.
    - ``drop_last=False``: the partial batch is kept and the first
      ``-G % num_replicas`` batches of the plan are repeated at the end, so
      those few batches are seen twice in the epoch.

    Call :meth:`set_epoch` before each epoch as with ``DistributedSampler``
    (each pass also moves to the next epoch by itself, identically on
    every rank).

    Parameters
    ----------
    labels : array-like, tensor or Dataset
        One label per sample of the whole dataset (the same on every rank).
    batch_size : int
        Indices per batch on each rank.
    num_replicas : int, default=None
        Number of ranks; default ``torch.distributed.get_world_size()``.
    rank : int, default=None
        This rank; default ``torch.distributed.get_rank()``.
    drop_last : bool, default=True
        Trim (True) or pad (False) whole batches, as described above.
    seed : int, default=0
        Seed of every plan; must be equal on all ranks.
    strategy, alpha, num_samples, exact, classes :
        As in :class:`BalancedBatchSampler`.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.torch import DistributedBalancedBatchSampler
    >>> y = np.array([0] * 60 + [1] * 40)
    >>> ranks = [
    ...     DistributedBalancedBatchSampler(
    ...         y, 8, num_replicas=2, rank=r, strategy="undersample", exact=True
    ...     )
    ...     for r in (0, 1)
    ... ]
    >>> a, b = (np.concatenate(list(s)) for s in ranks)
    >>> len(ranks[0]), len(ranks[1]), set(a.tolist()).isdisjoint(b.tolist())
    (5, 5, True)
    >>> np.bincount(y[a]).tolist(), np.bincount(y[b]).tolist()
    ([20, 20], [20, 20])
    """

    def __init__(
        self,
        labels: Any,
        batch_size: int,
        *,
        num_replicas: int | None = None,
        rank: int | None = None,
        strategy: StrategyLike = None,
        alpha: AlphaLike | None = None,
        num_samples: int | None = None,
        exact: bool = False,
        drop_last: bool = True,
        seed: int = 0,
        classes: Sequence[Any] | None = None,
    ) -> None:
        super().__init__()
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.exact = _check_bool(exact, "exact")
        self.drop_last = _check_bool(drop_last, "drop_last")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(
                "`seed` must be an int, the same on every rank, so that all ranks build the same "
                f"plan. Received: seed={short_repr(seed)}"
            )
        self.num_replicas, self.rank = _world(num_replicas, rank)
        self.core = _core_sampler(
            labels,
            strategy,
            alpha,
            num_samples,
            resolve_seed(seed),
            classes,
            "DistributedBalancedBatchSampler",
        )
        total = len(self.core)
        self.global_batches = (
            total // self.batch_size if self.drop_last else -(-total // self.batch_size)
        )
        if self.drop_last and self.global_batches < self.num_replicas:
            raise ValueError(
                f"An epoch holds {total} samples, only {self.global_batches} full batches of "
                f"{self.batch_size}, fewer than num_replicas={self.num_replicas}; every rank "
                "needs at least one. Use a smaller `batch_size` or `drop_last=False`."
            )

    def __len__(self) -> int:
        if self.drop_last:
            return self.global_batches // self.num_replicas
        return -(-self.global_batches // self.num_replicas)

    def batch_ids(self) -> np.ndarray:
        """Which batches of the global plan this rank serves, in order."""
        n_used = len(self) * self.num_replicas
        ids = np.arange(n_used) % self.global_batches  # pads by wrapping to the first batches
        return ids[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        plan = self.core.plan(self._start_epoch(), batch_size=self.batch_size, exact=self.exact)
        yield from _cut(plan, self.batch_size, self.batch_ids())

    def __repr__(self) -> str:
        return (
            f"DistributedBalancedBatchSampler(batch_size={self.batch_size}, "
            f"batches={len(self)}, rank={self.rank}, num_replicas={self.num_replicas}, "
            f"strategy={short_repr(self.core.strategy)}, exact={self.exact}, "
            f"drop_last={self.drop_last}, epoch={self.epoch}, seed={self.seed})"
        )


def _world(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    if num_replicas is None or rank is None:
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError(
                "`num_replicas` and `rank` default to the torch.distributed process group, which "
                "is not initialized. Call torch.distributed.init_process_group() first, or pass "
                f"both. Received: num_replicas={num_replicas}, rank={rank}"
            )
        num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
        rank = dist.get_rank() if rank is None else rank
    num_replicas = check_positive_int(num_replicas, "num_replicas")
    rank = check_positive_int(rank, "rank", allow_zero=True)
    if rank >= num_replicas:
        raise ValueError(
            f"`rank` must be in [0, num_replicas - 1] = [0, {num_replicas - 1}]. "
            f"Received: rank={rank}"
        )
    return num_replicas, rank
