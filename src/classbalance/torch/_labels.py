"""``labels_of``: the labels of a PyTorch dataset, read without loading samples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from classbalance._optional import require

torch = require("torch", "classbalance.torch")
data = torch.utils.data

__all__ = ["labels_of"]


def _as_numpy(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def labels_of(dataset: Any, label_fn: Callable[[Any], Any] | None = None) -> np.ndarray:
    """The label of every sample of ``dataset``, without loading any sample.

    Looks, in this order, at:

    - ``torch.utils.data.Subset``: the labels of ``subset.dataset`` taken at
      ``subset.indices`` (nested subsets too);
    - ``torch.utils.data.ConcatDataset``: the labels of its parts, concatenated;
    - ``label_fn(dataset)`` if given (called on the underlying dataset, after
      unwrapping ``Subset`` and ``ConcatDataset``);
    - ``dataset.targets`` (torchvision ``ImageFolder``, ``DatasetFolder``,
      ``MNIST``, ``CIFAR10``, ...) or ``dataset.labels`` (``SVHN``, ``STL10``);
    - ``dataset.tensors[1]`` of a ``TensorDataset``.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        A map-style dataset.
    label_fn : callable, default=None
        ``label_fn(dataset) -> array-like`` of one label per sample, for
        datasets that keep their labels elsewhere (e.g. ``lambda d: d.df["label"]``).

    Returns
    -------
    ndarray of shape (len(dataset),) (or (len(dataset), n_classes) for one-hot labels)

    Raises
    ------
    TypeError
        If the labels cannot be found without loading samples.
    ValueError
        If the labels found do not have one entry per sample.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import Subset, TensorDataset
    >>> from classbalance.torch import labels_of
    >>> ds = TensorDataset(torch.zeros(5, 2), torch.tensor([0, 1, 1, 0, 2]))
    >>> labels_of(Subset(ds, [4, 0, 1])).tolist()
    [2, 0, 1]
    """
    if label_fn is not None and not callable(label_fn):
        raise TypeError(
            "`label_fn` must be a callable label_fn(dataset) -> labels. "
            f"Received: label_fn of type {type(label_fn).__name__}"
        )
    labels = _labels(dataset, label_fn)
    if labels.ndim == 0 or labels.shape[0] != len(dataset):
        raise ValueError(
            f"The labels found for {type(dataset).__name__} have shape {labels.shape}, but the "
            f"dataset has {len(dataset)} samples; there must be one label per sample."
        )
    return labels


def _labels(dataset: Any, label_fn: Callable[[Any], Any] | None) -> np.ndarray:
    if isinstance(dataset, data.Subset):
        indices = _as_numpy(dataset.indices).astype(np.int64, copy=False).reshape(-1)
        return _labels(dataset.dataset, label_fn)[indices]
    if isinstance(dataset, data.ConcatDataset):
        return np.concatenate([_labels(part, label_fn) for part in dataset.datasets])
    if label_fn is not None:
        return _as_numpy(label_fn(dataset))
    for attribute in ("targets", "labels"):
        values = getattr(dataset, attribute, None)
        if values is not None and not callable(values):
            return _as_numpy(values)
    if isinstance(dataset, data.TensorDataset):
        if len(dataset.tensors) < 2:
            raise TypeError(
                "This TensorDataset holds a single tensor, so it has no labels; build it as "
                "TensorDataset(x, y) or pass the labels directly."
            )
        return _as_numpy(dataset.tensors[1])
    raise TypeError(
        f"Cannot find the labels of a {type(dataset).__name__} without loading its samples: it "
        "has no `targets` or `labels` attribute and is not a TensorDataset, Subset or "
        "ConcatDataset. Pass `label_fn=` (a function dataset -> labels), or pass the labels "
        "array itself to the sampler."
    )
