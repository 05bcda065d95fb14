"""``ArrayDataset``: in-memory arrays or tensors, one gather per batch (``__getitems__``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import short_repr

torch = require("torch", "classbalance.torch")

__all__ = ["ArrayDataset"]


def _as_tensor(array: Any, position: int) -> Any:
    if isinstance(array, torch.Tensor):
        return array
    if isinstance(array, np.ndarray):
        # Shares memory with the array (no copy); NumPy dtypes torch lacks are refused.
        return torch.from_numpy(np.ascontiguousarray(array))
    raise TypeError(
        "ArrayDataset takes NumPy arrays or torch tensors. "
        f"Received: argument {position} of type {type(array).__name__} ({short_repr(array)})"
    )


class ArrayDataset(torch.utils.data.Dataset):
    """Like ``TensorDataset``, plus ``__getitems__``: a whole batch in one gather per array.

    With a batch sampler, ``DataLoader`` calls ``dataset.__getitems__(batch)``
    once per batch; this gathers every array with one ``torch.index_select``
    instead of ``batch_size`` calls to ``__getitem__`` and a collate that
    stacks them. Pass ``collate_fn=torch.utils.data.default_convert`` (the
    batch is already collated). Index batches may be lists of ints, NumPy
    arrays or tensors (:class:`BalancedBatchSampler` ``indices="tensor"`` is
    fastest). NumPy arrays are shared, not copied.

    Parameters
    ----------
    *arrays : ndarray or tensor
        Arrays with the same first dimension (e.g. ``x, y``).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch.utils.data import DataLoader, default_convert
    >>> from classbalance.torch import ArrayDataset, BalancedBatchSampler
    >>> x = np.arange(200, dtype="float32").reshape(100, 2)
    >>> y = np.r_[np.zeros(90), np.ones(10)].astype("int64")
    >>> sampler = BalancedBatchSampler(y, 20, exact=True, indices="tensor", seed=0)
    >>> loader = DataLoader(ArrayDataset(x, y), batch_sampler=sampler, collate_fn=default_convert)
    >>> xb, yb = next(iter(loader))
    >>> xb.shape, torch.bincount(yb).tolist()
    (torch.Size([20, 2]), [10, 10])
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("ArrayDataset needs at least one array.")
        self.tensors = tuple(_as_tensor(a, i) for i, a in enumerate(arrays))
        lengths = {t.shape[0] if t.dim() else None for t in self.tensors}
        if len(lengths) != 1 or None in lengths:
            found = [tuple(t.shape) for t in self.tensors]
            raise ValueError(
                f"ArrayDataset arrays must have the same first dimension. Received shapes {found}."
            )

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: Any) -> tuple[Any, ...]:
        if isinstance(indices, torch.Tensor):
            idx = indices
        else:
            idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        if torch.utils.data.get_worker_info() is None:
            return tuple(torch.index_select(t, 0, idx) for t in self.tensors)
        # In a DataLoader worker, gather straight into shared memory (as PyTorch's
        # default_collate does), so sending the batch to the main process copies nothing.
        out = []
        for t in self.tensors:
            shared = t.new_empty((len(idx), *t.shape[1:])).share_memory_()
            out.append(torch.index_select(t, 0, idx, out=shared))
        return tuple(out)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"ArrayDataset({shapes})"
