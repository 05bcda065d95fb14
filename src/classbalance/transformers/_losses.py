"""The loss choice of ``BalancedTrainer``: names mapped to :mod:`classbalance.torch.losses`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from classbalance._validation import short_repr
from classbalance.labels import encode_labels
from classbalance.torch import losses as torch_losses
from classbalance.weights import class_weight_array, pos_weight

torch = torch_losses.torch

__all__ = ["LOSSES", "MULTI_LABEL_LOSSES", "SINGLE_LABEL_LOSSES", "build_loss"]

SINGLE_LABEL_LOSSES = ("class_weight", "logit_adjusted", "balanced_softmax", "focal", "ldam")
MULTI_LABEL_LOSSES = ("pos_weight", "asymmetric")
#: The loss names ``BalancedTrainer(loss=...)`` accepts.
LOSSES = SINGLE_LABEL_LOSSES + MULTI_LABEL_LOSSES


def build_loss(
    loss: Any, options: Mapping[str, Any] | None, labels: np.ndarray, num_labels: int, multi: bool
) -> Any:
    """The loss module for ``loss`` (a name of :data:`LOSSES`, a module/callable, or None)."""
    options = dict(options or {})
    if loss is None or callable(loss):
        if options:
            raise TypeError(
                "`loss_options` configure a named loss; with loss=None or a loss object they "
                f"are unused. Received: loss_options={short_repr(options)}"
            )
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(
            f"`loss` must be None, a loss module (logits, labels) -> loss, or one of {LOSSES}. "
            f"Received: loss={short_repr(loss)}"
        )
    if multi and loss in SINGLE_LABEL_LOSSES:
        raise ValueError(
            f"loss={loss!r} is a single-label (softmax) loss, but the labels are multi-hot "
            f"(multi-label). Use one of {MULTI_LABEL_LOSSES}."
        )
    if not multi and loss in MULTI_LABEL_LOSSES:
        raise ValueError(
            f"loss={loss!r} is a multi-label loss (one sigmoid per label), but the labels are "
            f"one class id per sample (single-label). Use one of {SINGLE_LABEL_LOSSES}."
        )
    if multi:
        if loss == "pos_weight":
            weights = pos_weight(labels, **options)
            return torch.nn.BCEWithLogitsLoss(pos_weight=torch.as_tensor(weights).float())
        return torch_losses.AsymmetricLoss(**options)
    encoded = encode_labels(labels.astype(np.int64), classes=range(num_labels), name="labels")
    counts = encoded.counts()
    if loss == "class_weight":
        strategy = options.pop("class_weight", "balanced")
        weights = class_weight_array(encoded, strategy, **options)
        return torch_losses.SparseFocalLoss(alpha=weights, gamma=0.0)
    if loss in ("logit_adjusted", "balanced_softmax"):
        if loss == "balanced_softmax" and options.get("tau", 1.0) != 1.0:
            raise ValueError(
                "Balanced softmax is logit adjustment at tau=1; for another tau use "
                f"loss='logit_adjusted'. Received: loss_options={short_repr(options)}"
            )
        return torch_losses.LogitAdjustedLoss(counts, **options)
    if loss == "focal":
        return torch_losses.SparseFocalLoss(**options)
    return torch_losses.LDAMLoss(counts, **options)
