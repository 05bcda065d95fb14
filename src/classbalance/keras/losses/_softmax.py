"""Softmax losses for integer class labels: focal, class-balanced, LDAM, logit-adjusted."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from classbalance._loss_params import (
    check_alpha,
    check_class_counts,
    check_gamma,
    check_positive,
    check_prior,
    class_balanced_weights,
    ldam_margins,
    log_prior,
)
from classbalance._validation import check_choice, short_repr
from classbalance.keras.losses._common import _PACKAGE, as_list, check_from_logits, keras, ops

__all__ = ["ClassBalancedLoss", "LDAMLoss", "LogitAdjustedLoss", "SparseFocalLoss"]


class _SparseLoss(keras.losses.Loss):
    """Shared plumbing: labels, log-probabilities, per-class lookups."""

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
        self._probabilities_checked = False

    def _logits(self, y_pred: Any) -> Any:
        if self.from_logits:
            return y_pred
        self._check_probabilities(y_pred)
        return ops.log(ops.clip(y_pred, keras.config.epsilon(), 1.0))

    def _check_probabilities(self, y_pred: Any) -> None:
        """Refuse logits passed as probabilities (``from_logits=False``), where it can tell.

        A model that outputs logits trains silently and badly with
        ``from_logits=False``. Concrete values (eager calls; every call of the
        PyTorch backend) are checked on the first call: rows must be
        probabilities. Traced calls (``fit`` on TensorFlow) have no values;
        there a tensor that was not produced by a softmax gets a warning.
        """
        if self._probabilities_checked:
            return
        try:
            values = np.asarray(ops.convert_to_numpy(y_pred), dtype=np.float64)
        except (AttributeError, NotImplementedError, RuntimeError, TypeError, ValueError):
            values = None  # symbolic: a graph or a trace, values unknown here
        if values is None:
            if keras.backend.backend() == "tensorflow":
                op = getattr(y_pred, "op", None)
                softmax = hasattr(y_pred, "_keras_logits") or getattr(op, "type", "") == "Softmax"
                if not softmax:
                    warnings.warn(
                        f"{type(self).__name__}(from_logits=False) received `y_pred` that was not "
                        "produced by a softmax. If the model outputs logits, pass "
                        "from_logits=True; otherwise the loss is wrong and training suffers.",
                        UserWarning,
                        stacklevel=3,
                    )
            return
        self._probabilities_checked = True
        if values.size == 0:
            return
        row_sums = values.sum(axis=-1)
        tol = 1e-3
        if values.min() < -tol or values.max() > 1 + tol or np.abs(row_sums - 1).max() > tol:
            raise ValueError(
                f"{type(self).__name__} has from_logits=False, but `y_pred` is not probabilities "
                f"(values in [{values.min():.3g}, {values.max():.3g}], row sums in "
                f"[{row_sums.min():.3g}, {row_sums.max():.3g}]). For a model that outputs logits "
                "pass from_logits=True (or end the model with a softmax)."
            )

    @staticmethod
    def _onehot(y_true: Any, logits: Any) -> Any:
        y_true = ops.convert_to_tensor(y_true)
        if len(y_true.shape) == len(logits.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        return ops.one_hot(ops.cast(y_true, "int32"), logits.shape[-1], dtype=logits.dtype)

    @staticmethod
    def _per_class(values: np.ndarray, onehot: Any) -> Any:
        table = ops.convert_to_tensor(np.asarray(values), dtype=onehot.dtype)
        return ops.sum(onehot * table, axis=-1)

    @staticmethod
    def _check_width(logits: Any, n_classes: int, name: str) -> None:
        width = logits.shape[-1]
        if width is not None and width != n_classes:
            raise ValueError(
                f"The model outputs {width} classes but `{name}` has {n_classes} entries; "
                "they must match (one entry per output unit)."
            )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["from_logits"] = self.from_logits
        return config


def _focal_term(log_p_true: Any, gamma: float) -> Any:
    """``(1 - p_t) ** gamma`` from ``log p_t``, with finite gradients at ``p_t = 1``."""
    if gamma == 0:
        return ops.ones_like(log_p_true)
    base = -ops.expm1(log_p_true)
    if gamma < 1:
        base = ops.maximum(base, 1e-12)  # d/dx x**gamma is infinite at 0 for gamma < 1
    return ops.power(base, gamma)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SparseFocalLoss(_SparseLoss):
    r"""Focal loss for integer labels, with optional per-class ``alpha``.

    .. math:: \mathrm{FL}(p_t) = -\alpha_t \, (1 - p_t)^{\gamma} \log p_t

    where ``p_t`` is the predicted probability of the true class and
    ``alpha_t`` its weight. Lin et al., "Focal Loss for Dense Object
    Detection", ICCV 2017. Keras ships only the one-hot
    ``CategoricalFocalCrossentropy``; this is its sparse counterpart.
    ``gamma=0`` and ``alpha=None`` give plain sparse cross-entropy.

    Parameters
    ----------
    alpha : float or sequence of float, default=None
        ``None``: no class weighting. A number scales every class alike; a
        sequence or a dict ``{class index: weight}`` gives one weight per
        class (e.g. ``cb.class_weights(y)`` for labels ``0..K-1``).
    gamma : float, default=2.0
        Focusing parameter (>= 0); larger values down-weight easy examples.
    from_logits : bool, default=False
        Whether ``y_pred`` holds logits rather than probabilities.
    reduction, name, dtype :
        As for any ``keras.losses.Loss``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.keras.losses import SparseFocalLoss
    >>> loss = SparseFocalLoss(alpha=[0.25, 0.75], gamma=2.0)
    >>> value = loss(np.array([0, 1]), np.array([[0.9, 0.1], [0.3, 0.7]]))
    >>> round(float(value), 4)
    0.0122
    """

    def __init__(
        self,
        alpha: float | Any = None,
        gamma: float = 2.0,
        *,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "sparse_focal_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(from_logits=from_logits, name=name, reduction=reduction, dtype=dtype)
        self.alpha = check_alpha(alpha)
        self.gamma = check_gamma(gamma)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        log_p = ops.log_softmax(self._logits(y_pred), axis=-1)
        onehot = self._onehot(y_true, log_p)
        log_p_true = ops.sum(onehot * log_p, axis=-1)
        loss = -_focal_term(log_p_true, self.gamma) * log_p_true
        if self.alpha is not None:
            if self.alpha.ndim == 1:
                self._check_width(log_p, self.alpha.shape[0], "alpha")
                loss = loss * self._per_class(self.alpha, onehot)
            else:
                loss = loss * float(self.alpha)
        return loss

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        alpha = None if self.alpha is None else self.alpha.tolist()
        config.update(alpha=alpha, gamma=self.gamma)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ClassBalancedLoss(_SparseLoss):
    r"""Class-balanced loss: cross-entropy or focal loss weighted by effective numbers.

    .. math::

        \mathrm{CB}(p, y) = w_y \, L(p, y), \qquad
        w_c \propto \frac{1 - \beta}{1 - \beta^{n_c}}, \qquad \sum_c w_c = K

    where ``n_c`` is the number of training samples of class ``c`` and
    ``L`` is softmax cross-entropy (``loss="ce"``) or the focal loss
    (``loss="focal"``). ``(1 - beta**n) / (1 - beta)`` is the "effective
    number" of samples: ``beta=0`` gives no re-weighting, ``beta -> 1``
    inverse-frequency weights. Cui et al., "Class-Balanced Loss Based on
    Effective Number of Samples", CVPR 2019 (softmax variant).

    Parameters
    ----------
    class_counts : sequence of int or ClassDistribution
        Training samples per class, index = class (``cb.class_distribution(y).counts``).
    beta : float in [0, 1), default=0.999
        The paper tries 0.9, 0.99, 0.999 and 0.9999.
    loss : {"ce", "focal"}, default="ce"
    gamma : float, default=2.0
        Focusing parameter, used only with ``loss="focal"``.
    from_logits : bool, default=False

    Notes
    -----
    The default reduction ``"sum_over_batch_size"`` gives
    ``sum_i w_{y_i} L_i / N``, the mean over the ``N`` samples, as Keras
    reduces ``class_weight`` and ``sample_weight`` (and as
    :class:`classbalance.torch.losses.ClassBalancedLoss` does). PyTorch's
    ``CrossEntropyLoss(weight=...)`` divides by ``sum_i w_{y_i}`` instead. We
    keep ``N`` because that normalization cancels the weights of a batch that
    holds a single class, and in general shrinks the extra weight of batches
    rich in rare samples, which is what the re-weighting is for. For the
    other convention use ``reduction="sum"`` and divide by the batch's
    weights, ``ops.sum(ops.take(loss.class_weight, y))``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.keras.losses import ClassBalancedLoss
    >>> loss = ClassBalancedLoss([900, 100], beta=0.999)
    >>> loss.class_weight.round(3).tolist()
    [0.276, 1.724]
    >>> round(float(loss(np.array([1]), np.array([[0.5, 0.5]]))), 4)
    1.1947
    """

    def __init__(
        self,
        class_counts: Any,
        beta: float = 0.999,
        loss: str = "ce",
        gamma: float = 2.0,
        *,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "class_balanced_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(from_logits=from_logits, name=name, reduction=reduction, dtype=dtype)
        self.class_counts = check_class_counts(class_counts)
        self.class_weight = class_balanced_weights(self.class_counts, beta)
        self.beta = float(beta)
        self.loss = check_choice(loss, "loss", ("ce", "focal"))
        self.gamma = check_gamma(gamma)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        log_p = ops.log_softmax(self._logits(y_pred), axis=-1)
        self._check_width(log_p, len(self.class_counts), "class_counts")
        onehot = self._onehot(y_true, log_p)
        log_p_true = ops.sum(onehot * log_p, axis=-1)
        loss = -log_p_true
        if self.loss == "focal":
            loss = _focal_term(log_p_true, self.gamma) * loss
        return loss * self._per_class(self.class_weight, onehot)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            class_counts=as_list(self.class_counts),
            beta=self.beta,
            loss=self.loss,
            gamma=self.gamma,
        )
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LDAMLoss(_SparseLoss):
    r"""Label-distribution-aware margin loss (LDAM).

    .. math::

        \mathrm{LDAM}(z, y) = -w_y \log
        \frac{e^{s (z_y - \Delta_y)}}{e^{s (z_y - \Delta_y)} + \sum_{j \ne y} e^{s z_j}},
        \qquad \Delta_c = \frac{C}{n_c^{1/4}}

    with ``C`` chosen so the rarest class gets ``max_margin``: rare classes
    must win by a larger margin. Cao et al., "Learning Imbalanced Datasets
    with Label-Distribution-Aware Margin Loss", NeurIPS 2019. The paper uses
    it with a normalized (cosine) last layer, whose logits lie in [-1, 1],
    hence ``scale=30``; with an ordinary ``Dense`` layer use ``scale=1``.

    ``class_weight`` (``w``, default all 1) is what deferred re-weighting
    (DRW) switches on late in training: see :class:`DeferredReweighting`.

    Parameters
    ----------
    class_counts : sequence of int or ClassDistribution
        Training samples per class, index = class.
    max_margin : float, default=0.5
        Margin of the rarest class.
    scale : float, default=30.0
        ``s`` above, applied after subtracting the margin.
    class_weight : sequence of float, default=None
        Per-class weights; ``None`` means 1 for every class.
    from_logits : bool, default=False

    Notes
    -----
    With ``class_weight``, the default reduction ``"sum_over_batch_size"``
    gives ``sum_i w_{y_i} L_i / N``, the mean over the ``N`` samples, as in
    :class:`ClassBalancedLoss` and Keras' own ``class_weight``. The LDAM-DRW
    reference code uses PyTorch's ``cross_entropy(weight=...)``, which
    divides by ``sum_i w_{y_i}``: there the weights change only how classes
    are mixed within a batch, not the scale of the loss. For that convention
    use ``reduction="sum"`` and divide by the batch's weights,
    ``ops.sum(ops.take(loss.class_weight, y))``. Without ``class_weight`` the
    two agree.

    Examples
    --------
    >>> from classbalance.keras.losses import LDAMLoss
    >>> loss = LDAMLoss([1000, 100, 10], max_margin=0.5, scale=1.0, from_logits=True)
    >>> loss.margins.round(3).tolist()
    [0.158, 0.281, 0.5]
    """

    def __init__(
        self,
        class_counts: Any,
        max_margin: float = 0.5,
        scale: float = 30.0,
        class_weight: Any = None,
        *,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ldam_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(from_logits=from_logits, name=name, reduction=reduction, dtype=dtype)
        self.class_counts = check_class_counts(class_counts)
        self.max_margin = check_positive(max_margin, "max_margin")
        self.scale = check_positive(scale, "scale")
        self.margins = ldam_margins(self.class_counts, self.max_margin)
        self.class_weight = _check_class_weight(class_weight, len(self.class_counts))

    def call(self, y_true: Any, y_pred: Any) -> Any:
        logits = self._logits(y_pred)
        self._check_width(logits, len(self.class_counts), "class_counts")
        onehot = self._onehot(y_true, logits)
        margin = ops.convert_to_tensor(self.margins, dtype=logits.dtype)
        shifted = self.scale * (logits - onehot * margin)
        loss = -ops.sum(onehot * ops.log_softmax(shifted, axis=-1), axis=-1)
        if self.class_weight is not None:
            loss = loss * self._per_class(self.class_weight, onehot)
        return loss

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            class_counts=as_list(self.class_counts),
            max_margin=self.max_margin,
            scale=self.scale,
            class_weight=as_list(self.class_weight),
        )
        return config


def _check_class_weight(class_weight: Any, n_classes: int) -> np.ndarray | None:
    if class_weight is None:
        return None
    weights = check_alpha(class_weight, "class_weight")
    if weights is None or weights.shape != (n_classes,):
        raise ValueError(
            f"`class_weight` must give one weight >= 0 per class ({n_classes}). "
            f"Received: class_weight={short_repr(class_weight)}"
        )
    return weights


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LogitAdjustedLoss(_SparseLoss):
    r"""Logit-adjusted softmax cross-entropy (Balanced Softmax at ``tau=1``).

    .. math::

        \mathrm{LA}(z, y) = -\log
        \frac{e^{z_y + \tau \log \pi_y}}{\sum_j e^{z_j + \tau \log \pi_j}}

    where ``pi`` is the training class prior. The model learns logits of the
    *balanced* problem: at test time take ``argmax z`` as usual. Menon et al.,
    "Long-tail learning via logit adjustment", ICLR 2021; with ``tau=1`` this
    is the Balanced Softmax of Ren et al., NeurIPS 2020. The post-hoc
    counterpart (no retraining) is :func:`classbalance.adjust_logits`.

    Parameters
    ----------
    class_counts : sequence of int or ClassDistribution, default=None
        Training samples per class, index = class.
    prior : sequence of float, default=None
        The class prior itself (normalized to sum to 1); give exactly one of
        ``class_counts`` and ``prior``.
    tau : float, default=1.0
        Strength of the adjustment (>= 0; 0 is plain cross-entropy).
    from_logits : bool, default=False

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.keras.losses import LogitAdjustedLoss
    >>> loss = LogitAdjustedLoss([900, 100], from_logits=True)
    >>> round(float(loss(np.array([1]), np.array([[0.0, 0.0]]))), 4)
    2.3026
    """

    def __init__(
        self,
        class_counts: Any = None,
        *,
        prior: Any = None,
        tau: float = 1.0,
        from_logits: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "logit_adjusted_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(from_logits=from_logits, name=name, reduction=reduction, dtype=dtype)
        self.prior = _resolve_prior(class_counts, prior)
        self.tau = check_gamma(tau, "tau")
        self.log_prior = log_prior(self.prior)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        logits = self._logits(y_pred)
        self._check_width(logits, len(self.prior), "class_counts")
        onehot = self._onehot(y_true, logits)
        shift = ops.convert_to_tensor(self.tau * self.log_prior, dtype=logits.dtype)
        return -ops.sum(onehot * ops.log_softmax(logits + shift, axis=-1), axis=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(prior=as_list(self.prior), tau=self.tau)
        return config


def _resolve_prior(class_counts: Any, prior: Any) -> np.ndarray:
    if (class_counts is None) == (prior is None):
        raise ValueError(
            "Give exactly one of `class_counts` and `prior`. "
            f"Received: class_counts={short_repr(class_counts)}, prior={short_repr(prior)}"
        )
    if prior is not None:
        return check_prior(prior)
    counts = check_class_counts(class_counts)
    return counts / counts.sum()
