"""``BalancedStream`` as a PyTorch ``IterableDataset``: split across DataLoader workers and
``torch.distributed`` ranks, a fixed number of samples per rank per epoch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from classbalance import stream as core_stream
from classbalance._validation import check_positive_int
from classbalance.torch._plans import data
from classbalance.torch.distributed import resolve_world

__all__ = ["BalancedStream"]


class BalancedStream(core_stream.BalancedStream, data.IterableDataset):
    """A class-balanced ``IterableDataset`` over any iterable, worker- and rank-aware.

    The balanced stream of :class:`classbalance.stream.BalancedStream` (same
    arguments, same draws), split so that ``DataLoader`` workers and
    ``torch.distributed`` ranks share the input without overlap: worker
    ``w`` of ``W`` on rank ``r`` of ``R`` reads input items
    ``(r * W + w)::(R * W)`` (every process iterates the input and keeps its
    items; for sharded files, give each rank its own shards and
    ``world_size=1``). Each rank serves exactly ``length`` samples per epoch
    (its workers split them), so ranks stay in step; a worker whose items
    run out before its quota reads them again with fresh draws.

    With ``num_workers > 0`` each epoch's workers get a copy of the dataset:
    call :meth:`set_epoch` before each epoch, as with ``DistributedSampler``.
    With ``torchdata``'s ``StatefulDataLoader``, :meth:`state_dict` and
    :meth:`load_state_dict` (called in each worker) resume at the next batch.

    Parameters
    ----------
    samples, label, strategy, alpha, epoch_size, class_counts, classes, multilabel,
    buffer_size, warmup, seed, chunk_size, batch_size :
        As in :class:`classbalance.stream.BalancedStream`; ``seed`` must be
        the same int on every rank; pass the ``DataLoader``'s ``batch_size``
        to be warned when the buffer is smaller than a batch.
    length : int, default=None
        Samples per rank per epoch. Default: the expected number a pass
        serves (``sum(targets)``, from ``class_counts``) over ``world_size``,
        rounded down; required when the counts are estimated online or the
        labels are multi-label.
    rank, world_size : int, default=None
        This rank and the number of ranks; default from the initialized
        ``torch.distributed`` process group, else 0 and 1.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch.utils.data import DataLoader
    >>> from classbalance.torch import BalancedStream
    >>> data = [(torch.tensor([float(i)]), i // 90) for i in range(100)]  # 90 of 0, 10 of 1
    >>> ds = BalancedStream(data, label=1, strategy="balanced", class_counts=[90, 10],
    ...                     buffer_size=64, seed=0)
    >>> ys = torch.cat([y for _, y in DataLoader(ds, batch_size=25)])
    >>> len(ds), len(ys), torch.bincount(ys).tolist()
    (100, 100, [53, 47])
    """

    def __init__(
        self,
        samples: Any,
        *,
        length: int | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        core_stream.BalancedStream.__init__(self, samples, **kwargs)
        if rank is None and world_size is None:
            import torch.distributed as tdist

            ready = tdist.is_available() and tdist.is_initialized()
            rank, world_size = (None, None) if ready else (0, 1)
        self.world_size, self.rank = resolve_world(world_size, rank)
        if length is None:
            length = self._expected_length()
        self.length = check_positive_int(length, "length")

    def _expected_length(self) -> int:
        expected = self.expected_served()
        if expected is None:
            raise ValueError(
                "`length` (samples per rank per epoch) is required when the class counts are "
                "estimated online or the labels are multi-label: ranks must serve equal numbers "
                "of samples. Pass length=..."
            )
        return max(1, int(expected // self.world_size))

    def __iter__(self) -> Iterator[Any]:
        info = data.get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        quota = self.length // workers + (worker < self.length % workers)
        return self.serve(self.rank * workers + worker, self.world_size * workers, quota)

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return (
            f"BalancedStream(length={self.length}, rank={self.rank}, "
            f"world_size={self.world_size}, epoch={self.epoch}, seed={self.seed})"
        )
