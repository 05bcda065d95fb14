"""Sigmoid losses for multi-hot targets (one sigmoid per label): asymmetric, weighted BCE."""

from __future__ import annotations

from typing import Any

from classbalance._loss_params import check_alpha, check_gamma
from classbalance._validation import short_repr
from classbalance.keras.losses._common import _PACKAGE, check_from_logits, keras, ops

__all__ = ["AsymmetricLoss", "WeightedBinaryCrossentropy"]


class _MultiLabelLoss(keras.losses.Loss):
    """Shared plumbing of the multi-label losses: 0/1 targets, log p and log(1 - p) per label."""

    def __init__(
        self,
        *,
        from_logits: bool,
        name: str,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = check_from_logits(from_logits)

    def _log_probs(self, y_true: Any, y_pred: Any) -> tuple[Any, Any, Any]:
        """``(y, log p, log(1 - p))``, stable for large logits."""
        y_pred = ops.convert_to_tensor(y_pred)
        y = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
        known = None not in (*y.shape, *y_pred.shape)
        if len(y.shape) != len(y_pred.shape) or (known and y.shape != y_pred.shape):
            raise ValueError(
                "Multi-label targets must have the model output's shape (n_samples, n_labels), "
                f"0/1 per label. Received: y_true.shape={tuple(y.shape)}, "
                f"y_pred.shape={tuple(y_pred.shape)}"
            )
        if self.from_logits:
            return y, ops.log_sigmoid(y_pred), ops.log_sigmoid(-y_pred)
        eps = keras.config.epsilon()
        return y, ops.log(ops.clip(y_pred, eps, 1.0)), ops.log(ops.clip(1.0 - y_pred, eps, 1.0))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["from_logits"] = self.from_logits
        return config


def _check_focusing(value: Any, name: str) -> float:
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number >= 0. Received: {name}={short_repr(value)}")
    return check_gamma(value, name)


def _check_clip(clip: Any) -> float:
    import numbers

    if isinstance(clip, bool) or not isinstance(clip, numbers.Real):
        raise TypeError(f"`clip` must be a number in [0, 1). Received: clip={short_repr(clip)}")
    if not 0 <= clip < 1:
        raise ValueError(f"`clip` must be in [0, 1). Received: clip={clip}")
    return float(clip)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AsymmetricLoss(_MultiLabelLoss):
    r"""Asymmetric loss (ASL) for multi-label classification, mean-reduced.

    With ``p = sigmoid(z)`` per label and the shifted probability
    ``p_m = max(p - m, 0)``:

    .. math::

        L = -y \, (1 - p)^{\gamma_+} \log p
            \; - \; (1 - y) \, p_m^{\gamma_-} \log(1 - p_m)

    Positives get a mild focusing ``gamma_pos``; negatives, which dominate
    multi-label data, a strong one ``gamma_neg`` plus the probability margin
    ``clip`` (``m``): a negative predicted below ``m`` costs nothing at all,
    so very easy negatives are discarded; the paper's gradient analysis shows
    that, with ``gamma_neg``, the gradient also shrinks for negatives with
    ``p`` near 1, often missing labels. Ridnik et al., "Asymmetric Loss For
    Multi-Label Classification", ICCV 2021. ``gamma_neg=gamma_pos=0`` and
    ``clip=0`` give plain binary cross-entropy.

    **Reduction.** The per-sample value is the mean over labels and Keras
    then averages over the batch: the loss is the mean over all
    ``batch * n_labels`` entries, like ``keras.losses.BinaryCrossentropy``.
    The authors' PyTorch code (Alibaba-MIIL/ASL) returns the *sum* over
    batch and labels: multiply this loss by ``batch_size * n_labels`` to get
    it (or use ``reduction="sum"`` and multiply by ``n_labels``). Only the
    scale differs, which interacts with the learning rate. Gradients flow
    through the focusing weights too (the exact derivative of ``L``).

    Parameters
    ----------
    gamma_neg : float, default=4.0
        Focusing of negatives (>= 0).
    gamma_pos : float, default=1.0
        Focusing of positives (>= 0). The paper uses 4 and 0 on MS-COCO.
    clip : float in [0, 1), default=0.05
        Probability margin ``m`` of negatives (0 = none).
    from_logits : bool, default=True
        Whether ``y_pred`` holds logits (a ``Dense`` layer without
        activation) rather than sigmoid probabilities.
    reduction, name, dtype :
        As for any ``keras.losses.Loss``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.keras.losses import AsymmetricLoss
    >>> y = np.array([[1, 0, 0]])
    >>> z = np.array([[0.0, 0.0, -3.0]])
    >>> round(float(AsymmetricLoss()(y, z)), 4)
    0.1237
    >>> plain = AsymmetricLoss(gamma_neg=0, gamma_pos=0, clip=0)
    >>> round(float(plain(y, z)), 4)  # binary cross-entropy
    0.4783
    """

    def __init__(
        self,
        gamma_neg: float = 4.0,
        gamma_pos: float = 1.0,
        clip: float = 0.05,
        *,
        from_logits: bool = True,
        reduction: str | None = "sum_over_batch_size",
        name: str = "asymmetric_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(from_logits=from_logits, name=name, reduction=reduction, dtype=dtype)
        self.gamma_neg = _check_focusing(gamma_neg, "gamma_neg")
        self.gamma_pos = _check_focusing(gamma_pos, "gamma_pos")
        self.clip = _check_clip(clip)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y, log_p, log_q = self._log_probs(y_true, y_pred)
        positive = -log_p
        if self.gamma_pos:
            positive = positive * ops.exp(self.gamma_pos * log_q)  # (1 - p) ** gamma_pos
        if self.clip > 0:
            p_m = ops.maximum(ops.exp(log_p) - self.clip, 0.0)
            # 1 - p_m = min(1 - p + m, 1), with 1 - p = exp(log q) exact for large logits.
            log_one_minus = ops.log(ops.minimum(ops.exp(log_q) + self.clip, 1.0))
            negative = -log_one_minus
            if self.gamma_neg:
                base = ops.maximum(p_m, 1e-12) if self.gamma_neg < 1 else p_m
                negative = negative * ops.power(base, self.gamma_neg)
        else:
            negative = -log_q
            if self.gamma_neg:
                negative = negative * ops.exp(self.gamma_neg * log_p)  # p ** gamma_neg
        return ops.mean(y * positive + (1.0 - y) * negative, axis=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(gamma_neg=self.gamma_neg, gamma_pos=self.gamma_pos, clip=self.clip)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WeightedBinaryCrossentropy(_MultiLabelLoss):
    r"""Binary cross-entropy with a per-label weight on the positive term (multi-label).

    .. math:: L = -\left(w_l \, y \log p + (1 - y) \log (1 - p)\right)

    averaged over labels, then over the batch, like
    ``keras.losses.BinaryCrossentropy`` (which it equals for ``w = 1``). It
    is the Keras counterpart of ``torch.nn.BCEWithLogitsLoss(pos_weight=w)``
    (whose mean is the same mean over all entries); take ``w`` from
    :func:`classbalance.pos_weight` (negatives / positives per
    label on the training set).

    Parameters
    ----------
    pos_weight : float or sequence of float
        One weight (>= 0) per label, or one number for all labels.
    from_logits : bool, default=False
        Whether ``y_pred`` holds logits rather than sigmoid probabilities
        (default as in ``keras.losses.BinaryCrossentropy``).
    reduction, name, dtype :
        As for any ``keras.losses.Loss``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.keras.losses import WeightedBinaryCrossentropy
    >>> loss = WeightedBinaryCrossentropy([1.0, 9.0], from_logits=True)
    >>> round(float(loss(np.array([[0, 1]]), np.zeros((1, 2)))), 4)  # (1 + 9) * log(2) / 2
    3.4657
    """

    def __init__(
        self,
        pos_weight: Any,
        *,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "weighted_binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(from_logits=from_logits, name=name, reduction=reduction, dtype=dtype)
        weights = check_alpha(pos_weight, "pos_weight")
        if weights is None:
            raise ValueError(
                "`pos_weight` must be a number >= 0 or one weight >= 0 per label, e.g. "
                "`classbalance.pos_weight(Y_train)`. Received: pos_weight=None"
            )
        self.pos_weight = weights

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y, log_p, log_q = self._log_probs(y_true, y_pred)
        if self.pos_weight.ndim == 1:
            width = log_p.shape[-1]
            if width is not None and width != self.pos_weight.shape[0]:
                raise ValueError(
                    f"The model outputs {width} labels but `pos_weight` has "
                    f"{self.pos_weight.shape[0]} entries; they must match."
                )
        weight = ops.convert_to_tensor(self.pos_weight, dtype=log_p.dtype)
        return -ops.mean(weight * y * log_p + (1.0 - y) * log_q, axis=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["pos_weight"] = self.pos_weight.tolist()
        return config
