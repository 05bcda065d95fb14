"""Post-hoc fix for a trained model (no retraining): logit adjustment.

Threshold tuning, the other post-hoc fix, lives in :mod:`classbalance.thresholds`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._loss_params import check_class_counts, check_gamma, log_prior
from classbalance._validation import check_choice

__all__ = ["adjust_logits"]


def _looks_like_probabilities(values: np.ndarray) -> bool:
    return bool(
        values.min() >= 0 and values.max() <= 1 and np.allclose(values.sum(axis=1), 1, atol=1e-4)
    )


def adjust_logits(
    logits_or_probs: Any,
    class_counts: Any,
    tau: float = 1.0,
    *,
    kind: str = "auto",
) -> np.ndarray:
    r"""Remove the training prior from a model's outputs: ``z - tau * log pi``.

    A model trained with plain cross-entropy on long-tailed data learns
    ``p(y | x)`` under the training prior ``pi``; subtracting ``tau * log pi``
    from its logits estimates the balanced posterior, so ``argmax`` stops
    favouring frequent classes. Menon et al., "Long-tail learning via logit
    adjustment", ICLR 2021 (post-hoc variant; ``tau=1`` is Bayes-optimal for
    the balanced error). For probabilities this is ``p_c / pi_c**tau``,
    renormalized.

    Parameters
    ----------
    logits_or_probs : array-like of shape (n_samples, n_classes)
        Logits, or probabilities (rows of non-negative numbers summing to 1).
    class_counts : sequence of int or ClassDistribution
        Training samples per class, index = column.
    tau : float, default=1.0
        Strength (>= 0); 0 returns the input unchanged.
    kind : {"auto", "logits", "probs"}, default="auto"
        What the input holds; ``"auto"`` treats rows of non-negative values
        summing to 1 as probabilities.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Adjusted logits (float64), or adjusted probabilities (rows summing
        to 1) if the input was probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> probs = np.array([[0.6, 0.4], [0.8, 0.2]])
    >>> cb.adjust_logits(probs, class_counts=[900, 100]).round(3)
    array([[0.143, 0.857],
           [0.308, 0.692]])
    >>> cb.adjust_logits(probs, [900, 100]).argmax(axis=1)
    array([1, 1])
    """
    values = np.asarray(logits_or_probs, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < 2 or not np.all(np.isfinite(values)):
        raise ValueError(
            "`logits_or_probs` must be a finite 2-D array of shape (n_samples, n_classes) with at "
            f"least 2 classes. Received an array of shape {values.shape}."
        )
    counts = check_class_counts(class_counts)
    if counts.shape[0] != values.shape[1]:
        raise ValueError(
            f"`class_counts` has {counts.shape[0]} classes but `logits_or_probs` has "
            f"{values.shape[1]} columns; they must match."
        )
    tau = check_gamma(tau, "tau")
    kind = check_choice(kind, "kind", ("auto", "logits", "probs"))
    is_probs = kind == "probs" or (kind == "auto" and _looks_like_probabilities(values))
    shift = tau * log_prior(counts)
    if not is_probs:
        return values - shift
    with np.errstate(divide="ignore"):
        logits = np.log(values) - shift
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)
