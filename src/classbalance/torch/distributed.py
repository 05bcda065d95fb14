"""``DistributedBalancedBatchSampler``: balanced batches split across ``torch.distributed`` ranks.

Every rank builds the same global plan of the engine from ``(seed, epoch)``
and takes its share of whole batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from classbalance._validation import check_positive_int, resolve_seed, short_repr
from classbalance.sampling import AlphaLike, StrategyLike
from classbalance.torch._plans import (
    ResumableBatches,
    check_bool,
    check_index_type,
    core_sampler,
    data,
    torch,
)

__all__ = ["DistributedBalancedBatchSampler"]


class DistributedBalancedBatchSampler(ResumableBatches, data.Sampler[list[int]]):
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
    strategy, alpha, epoch_size, num_samples, exact, classes, indices, multilabel :
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
        epoch_size: int | None = None,
        exact: bool = False,
        drop_last: bool = True,
        seed: int = 0,
        classes: Sequence[Any] | None = None,
        indices: str = "list",
        multilabel: bool = False,
    ) -> None:
        super().__init__()
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.exact = check_bool(exact, "exact")
        self.drop_last = check_bool(drop_last, "drop_last")
        self.indices = check_index_type(indices)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(
                "`seed` must be an int, the same on every rank, so that all ranks build the same "
                f"plan. Received: seed={short_repr(seed)}"
            )
        self.num_replicas, self.rank = resolve_world(num_replicas, rank)
        self.core = core_sampler(
            labels,
            strategy,
            alpha,
            num_samples,
            resolve_seed(seed),
            classes,
            "DistributedBalancedBatchSampler",
            epoch_size,
            multilabel=multilabel,
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

    def __repr__(self) -> str:
        return (
            f"DistributedBalancedBatchSampler(batch_size={self.batch_size}, "
            f"batches={len(self)}, rank={self.rank}, num_replicas={self.num_replicas}, "
            f"strategy={short_repr(self.core.strategy)}, exact={self.exact}, "
            f"drop_last={self.drop_last}, epoch={self.epoch}, seed={self.seed})"
        )


def resolve_world(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """``(num_replicas, rank)``, each defaulting to the torch.distributed process group."""
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
