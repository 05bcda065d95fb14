"""What the PyTorch samplers share: building the core sampler, epochs, cutting batches.

Nothing here samples: every index comes from
:meth:`classbalance.BalancedSampler.plan`, which depends only on
``(seed, epoch)``. The samplers cut that plan into what a ``DataLoader``
wants.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._resume import check_state, make_state
from classbalance._validation import check_choice, check_positive_int, short_repr
from classbalance.labels import EncodedLabels, MultiHotLabels, encode_labels, encode_multilabel
from classbalance.sampling import AlphaLike, BalancedSampler, StrategyLike
from classbalance.torch._labels import labels_of

torch = require("torch", "classbalance.torch")
data = torch.utils.data

__all__ = [
    "INDEX_TYPES",
    "EpochPlans",
    "ResumableBatches",
    "check_bool",
    "core_sampler",
    "cut_batches",
]

# What a batch sampler yields per batch: Python ints (the Sampler protocol's
# list[int]), a NumPy array, or a torch tensor. DataLoader passes a batch to
# the dataset's __getitems__ untouched, so arrays and tensors skip the
# conversion to and from Python ints (the fast path with ArrayDataset).
INDEX_TYPES = ("list", "numpy", "tensor")


def _encode(
    labels: Any, classes: Sequence[Any] | None, function: str, multilabel: bool
) -> EncodedLabels | MultiHotLabels:
    if isinstance(labels, data.Sampler):
        # PyTorch Lightning (use_distributed_sampler=True) re-creates a batch sampler as
        # cls(DistributedSampler(...), batch_size=..., drop_last=...): say so plainly.
        raise TypeError(
            f"{function} got a {type(labels).__name__} where the labels belong. If PyTorch "
            "Lightning re-created the batch sampler to inject a DistributedSampler, build the "
            "Trainer with use_distributed_sampler=False and use DistributedBalancedBatchSampler "
            "(it shards the plan itself), or use BalancedSampler, which Lightning can shard. "
            f"Received: labels={short_repr(labels)}"
        )
    if isinstance(labels, data.Dataset):
        labels = labels_of(labels)
    elif isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    if check_bool(multilabel, "multilabel") or isinstance(labels, MultiHotLabels):
        return encode_multilabel(labels, classes=classes, name="labels")
    return encode_labels(
        labels,
        classes=classes,
        name="labels",
        function=function,
        multilabel_alternative="multilabel=True",
    )


def core_sampler(
    labels: Any,
    strategy: StrategyLike,
    alpha: AlphaLike | None,
    num_samples: int | None,
    seed: Any,
    classes: Sequence[Any] | None,
    function: str,
    epoch_size: int | None = None,
    multilabel: bool = False,
) -> BalancedSampler:
    """The engine's sampler for a torch sampler's arguments.

    ``epoch_size`` is the package's name; ``num_samples`` is PyTorch's name for
    the same thing (``WeightedRandomSampler(num_samples=...)``), kept for it.
    What a size means for each strategy is the engine's one rule
    (:class:`classbalance.BalancedSampler`), not decided here.
    """
    if num_samples is not None:
        if epoch_size is not None:
            raise TypeError(
                "Pass `epoch_size` or `num_samples` (PyTorch's name for it), not both. "
                f"Received: epoch_size={short_repr(epoch_size)}, num_samples={num_samples!r}"
            )
        epoch_size = check_positive_int(num_samples, "num_samples")
    encoded = _encode(labels, classes, function, multilabel)
    return BalancedSampler(encoded, strategy, alpha=alpha, epoch_size=epoch_size, seed=seed)


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool; anything else is a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={short_repr(value)}")
    return bool(value)


def check_index_type(value: Any) -> str:
    """One of :data:`INDEX_TYPES`."""
    if not isinstance(value, str):
        raise TypeError(f"`indices` must be a str. Received: indices={short_repr(value)}")
    return check_choice(value, "indices", INDEX_TYPES)


class EpochPlans:
    """Seed and epoch bookkeeping shared by the samplers (state lives in the core sampler)."""

    core: BalancedSampler

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

    def state_dict(self) -> dict[str, Any]:
        """Where iteration stands (epoch of the pass, indices served), for exact resume.

        ``torchdata``'s ``StatefulDataLoader`` calls it; a fresh sampler built
        the same way continues with :meth:`load_state_dict` at the next index.
        """
        return self.core.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict`: the next pass continues that epoch."""
        self.core.load_state_dict(state)


class ResumableBatches(EpochPlans):
    """Batch samplers: a pass serves batches ``batch_ids()`` of the plan; the state counts them."""

    batch_size: int
    exact: bool
    indices: str
    _skip = 0
    _pass: list[int] | None = None

    def batch_ids(self) -> np.ndarray:
        return np.arange(len(self))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        epoch, skip = self.core.start_pass(), self._skip
        self._skip = 0
        plan = self.core.plan(epoch, batch_size=self.batch_size, exact=self.exact)
        self._pass = [epoch, skip]
        for batch in cut_batches(plan, self.batch_size, self.batch_ids()[skip:], self.indices):
            self._pass[1] += 1
            yield batch
        self._pass = None

    def _fingerprint(self) -> dict[str, Any]:
        return {
            **self.core.fingerprint(),
            "batch_size": self.batch_size,
            "exact": self.exact,
            "drop_last": getattr(self, "drop_last", False),
            "rank": getattr(self, "rank", 0),
            "num_replicas": getattr(self, "num_replicas", 1),
        }

    def state_dict(self) -> dict[str, Any]:
        """Where iteration stands (epoch of the pass, batches served), for exact resume."""
        epoch, served = (self.epoch, self._skip) if self._pass is None else self._pass
        if served and served >= len(self):  # type: ignore[arg-type]
            epoch, served = epoch + 1, 0
        return make_state(self._fingerprint(), epoch, served, "batches")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict`: the next pass continues that epoch at the next batch."""
        epoch, self._skip = check_state(state, self._fingerprint(), "batches", type(self).__name__)
        self.core.set_epoch(epoch)
        self._pass = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_pass", None)
        return state


def cut_batches(
    plan: np.ndarray, batch_size: int, batch_ids: np.ndarray, indices: str = "list"
) -> Iterator[Any]:
    """Yield batches ``batch_ids`` of ``plan`` as lists of ints, NumPy arrays or tensors."""
    if indices == "tensor":
        source: Any = torch.from_numpy(np.ascontiguousarray(plan))
    else:
        source = plan
    for b in batch_ids.tolist():
        batch = source[b * batch_size : (b + 1) * batch_size]
        yield batch.tolist() if indices == "list" else batch
