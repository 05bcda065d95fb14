"""The labels of a training set, read without decoding its features, checked against the model."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import short_repr

datasets = require("datasets", "classbalance.transformers")
pa = require("pyarrow", "classbalance.transformers")
pc = require("pyarrow.compute", "classbalance.transformers")

__all__ = ["check_labels", "dataset_labels"]

MULTI_LABEL = "multi_label_classification"


def dataset_labels(dataset: Any, column: str | None = None) -> np.ndarray:
    """The label column of a ``datasets.Dataset`` as a NumPy array, features left undecoded.

    Only the label column is read (through Arrow, one vectorized take for a shuffled or
    selected dataset): images, audio and token lists are not touched. Other map-style
    datasets go through :func:`classbalance.torch.labels_of`.

    Parameters
    ----------
    dataset : datasets.Dataset or torch.utils.data.Dataset
    column : str, default=None
        The label column; default ``"labels"`` if the dataset has one, else ``"label"``.

    Returns
    -------
    ndarray of shape (n,) (class ids, or strings) or (n, n_labels) (multi-hot rows)

    Examples
    --------
    >>> import datasets
    >>> from classbalance.transformers import dataset_labels
    >>> ds = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [2, 0, 2]})
    >>> dataset_labels(ds.select([2, 1])).tolist()
    [2, 0]
    >>> ds = datasets.Dataset.from_dict({"labels": [[1.0, 0.0], [1.0, 1.0]]})
    >>> dataset_labels(ds).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    if not isinstance(dataset, datasets.Dataset):
        from classbalance.torch import labels_of

        return labels_of(dataset)
    names = dataset.column_names
    if column is None:
        column = "labels" if "labels" in names else "label"
    if not isinstance(column, str) or column not in names:
        raise ValueError(
            f"The training dataset has no label column {column!r}; its columns are {names}. "
            f"Pass `label_column=` naming the column that holds the labels. "
            f"Received: label_column={short_repr(column)}"
        )
    values = dataset.select_columns([column]).with_format("arrow")[:][column].combine_chunks()
    if (
        pa.types.is_list(values.type)
        or pa.types.is_large_list(values.type)
        or (pa.types.is_fixed_size_list(values.type))
    ):
        lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
        if len(values) and lengths.min() != lengths.max():
            raise ValueError(
                f"The label column {column!r} holds lists of different lengths (from "
                f"{lengths.min()} to {lengths.max()}); multi-label targets must be multi-hot "
                "rows with one 0/1 entry per label (num_labels of them)."
            )
        width = int(lengths[0]) if len(values) else 0
        flat = values.flatten().to_numpy(zero_copy_only=False)
        return np.asarray(flat).reshape(len(values), width)
    return np.asarray(values.to_numpy(zero_copy_only=False))


def check_labels(labels: np.ndarray, num_labels: int, problem_type: str | None) -> bool:
    """Check the labels against the model's ``num_labels`` and ``problem_type``; multi-label?"""
    if labels.dtype.kind in "USO":
        raise ValueError(
            "The labels are strings (or objects), but the model expects class ids "
            f"0..{num_labels - 1}. Encode them first, e.g. "
            "`dataset = dataset.class_encode_column('label')`, and build the model with "
            f"num_labels, id2label from it. Received: labels {short_repr(labels[:5].tolist())}..."
        )
    if problem_type == "regression":
        raise ValueError(
            "The model's problem_type is 'regression': there are no classes to balance. "
            "BalancedTrainer is for single_label_classification and multi_label_classification."
        )
    if labels.ndim == 2:
        if problem_type not in (None, MULTI_LABEL):
            raise ValueError(
                f"The labels are {labels.shape[1]}-column rows (multi-hot), but the model's "
                f"problem_type is {problem_type!r}; single-label targets are one class id per "
                "sample. Use class ids, or problem_type='multi_label_classification'."
            )
        if labels.shape[1] != num_labels:
            raise ValueError(
                f"The multi-hot labels have {labels.shape[1]} columns but the model has "
                f"num_labels={num_labels}; they must agree (one column per label)."
            )
        if labels.size and not np.isin(labels, (0, 1)).all():
            raise ValueError("Multi-label targets must be 0/1 (multi-hot); other values found.")
        return True
    if labels.ndim != 1:
        raise ValueError(
            f"Expected one class id per sample or multi-hot rows. Received: labels of shape "
            f"{labels.shape}"
        )
    if problem_type == MULTI_LABEL:
        raise ValueError(
            "The model's problem_type is 'multi_label_classification' but the labels are one "
            "class id per sample; multi-label targets are multi-hot rows of num_labels 0/1 "
            "values."
        )
    if labels.size and (labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels))):
        raise ValueError(
            "Single-label targets must be integer class ids; the labels hold fractions."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_labels):
        raise ValueError(
            f"The labels are class ids from {labels.min()} to {labels.max()}, but the model has "
            f"num_labels={num_labels} (ids 0..{num_labels - 1}). Build the model with "
            "num_labels equal to the number of classes."
        )
    return False
