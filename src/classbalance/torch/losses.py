"""Long-tail losses as plain ``torch.nn.Module`` s.

Like ``torch.nn.CrossEntropyLoss`` they take raw logits of shape
``(N, K)`` and integer targets of shape ``(N,)``. ``reduction="mean"`` is
the plain mean over samples of the (class-weighted) per-sample losses, the
same as the Keras losses in :mod:`classbalance.keras.losses` (note:
``CrossEntropyLoss(weight=...)`` divides by the sum of weights instead).

The per-class constants are computed once in NumPy by
:mod:`classbalance._loss_params` and stored as buffers, so ``.to(device)``
moves them with the module.
"""

from __future__ import annotations

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
from classbalance._optional import require
from classbalance._validation import check_choice, check_positive_int, short_repr

torch = require("torch", "classbalance.torch.losses")
F = torch.nn.functional

__all__ = [
    "ClassBalancedLoss",
    "DeferredReweighting",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "SparseFocalLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(values: np.ndarray) -> Any:
    return torch.as_tensor(np.asarray(values), dtype=torch.float32)


class _SparseLoss(torch.nn.Module):
    def __init__(self, reduction: str, n_classes: int | None) -> None:
        super().__init__()
        self.reduction = check_choice(reduction, "reduction", _REDUCTIONS)
        self.n_classes = n_classes

    def _check(self, logits: Any, target: Any) -> None:
        if logits.ndim != 2 or target.ndim != 1 or target.shape[0] != logits.shape[0]:
            raise ValueError(
                "Expected logits of shape (N, K) and integer targets of shape (N,). "
                f"Received: logits.shape={tuple(logits.shape)}, target.shape={tuple(target.shape)}"
            )
        if self.n_classes is not None and logits.shape[1] != self.n_classes:
            raise ValueError(
                f"The logits have {logits.shape[1]} classes but the loss was built for "
                f"{self.n_classes}; they must match."
            )

    def _reduce(self, loss: Any) -> Any:
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss


def _focal_term(log_p_true: Any, gamma: float) -> Any:
    if gamma == 0:
        return torch.ones_like(log_p_true)
    base = -torch.expm1(log_p_true)
    if gamma < 1:
        base = base.clamp_min(1e-12)  # d/dx x**gamma is infinite at 0 for gamma < 1
    return base.pow(gamma)


class SparseFocalLoss(_SparseLoss):
    r"""Focal loss for integer targets, with optional per-class ``alpha``.

    .. math:: \mathrm{FL}(p_t) = -\alpha_t \, (1 - p_t)^{\gamma} \log p_t

    Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
    ``gamma=0`` and ``alpha=None`` give ``CrossEntropyLoss()``.

    Parameters
    ----------
    alpha : float or sequence of float, default=None
        ``None``: no weighting; a number scales all classes; a sequence or a
        dict ``{class index: weight}`` gives one weight per class (e.g.
        ``cb.class_weights(y)`` for labels ``0..K-1``).
    gamma : float, default=2.0
        Focusing parameter (>= 0).
    reduction : {"mean", "sum", "none"}, default="mean"

    Examples
    --------
    >>> import torch
    >>> from classbalance.torch.losses import SparseFocalLoss
    >>> loss = SparseFocalLoss(alpha=[0.25, 0.75], gamma=2.0)
    >>> logits = torch.log(torch.tensor([[0.9, 0.1], [0.3, 0.7]]))
    >>> round(loss(logits, torch.tensor([0, 1])).item(), 4)
    0.0122
    """

    def __init__(
        self, alpha: float | Any = None, gamma: float = 2.0, *, reduction: str = "mean"
    ) -> None:
        alpha_arr = check_alpha(alpha)
        per_class = alpha_arr is not None and alpha_arr.ndim == 1
        super().__init__(reduction, alpha_arr.shape[0] if per_class else None)
        self.gamma = check_gamma(gamma)
        self.register_buffer("alpha", None if alpha_arr is None else _tensor(alpha_arr))

    def forward(self, logits: Any, target: Any) -> Any:
        self._check(logits, target)
        log_p_true = F.log_softmax(logits, dim=-1).gather(1, target.long()[:, None])[:, 0]
        loss = -_focal_term(log_p_true, self.gamma) * log_p_true
        if self.alpha is not None:
            alpha = self.alpha.to(loss.dtype)
            loss = loss * (alpha[target.long()] if alpha.ndim == 1 else alpha)
        return self._reduce(loss)


class ClassBalancedLoss(_SparseLoss):
    r"""Cross-entropy or focal loss weighted by effective numbers of samples.

    .. math::

        \mathrm{CB}(z, y) = w_y \, L(z, y), \qquad
        w_c \propto \frac{1 - \beta}{1 - \beta^{n_c}}, \qquad \sum_c w_c = K

    Cui et al., "Class-Balanced Loss Based on Effective Number of Samples",
    CVPR 2019 (softmax variant).

    Parameters
    ----------
    class_counts : sequence of int or ClassDistribution
        Training samples per class, index = class.
    beta : float in [0, 1), default=0.999
    loss : {"ce", "focal"}, default="ce"
    gamma : float, default=2.0
        Used only with ``loss="focal"``.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` divides by the number of samples (see Notes).

    Notes
    -----
    ``reduction="mean"`` is ``sum_i w_{y_i} L_i / N``, the mean over the
    ``N`` samples, as Keras reduces ``class_weight`` and ``sample_weight``
    and as :class:`classbalance.keras.losses.ClassBalancedLoss` does, so both
    frameworks give the same number. ``CrossEntropyLoss(weight=...)``
    divides by ``sum_i w_{y_i}`` instead. We keep ``N`` because that
    normalization cancels the weights of a batch that holds a single class,
    and in general shrinks the extra weight of batches rich in rare samples,
    which is what the re-weighting is for. For the other convention use
    ``reduction="sum"`` and divide by the batch's weights:
    ``loss(logits, y) / loss.class_weight[y].sum()``.

    Examples
    --------
    >>> import torch
    >>> from classbalance.torch.losses import ClassBalancedLoss
    >>> loss = ClassBalancedLoss([900, 100], beta=0.999)
    >>> round(loss(torch.zeros(1, 2), torch.tensor([1])).item(), 4)
    1.1947
    """

    def __init__(
        self,
        class_counts: Any,
        beta: float = 0.999,
        loss: str = "ce",
        gamma: float = 2.0,
        *,
        reduction: str = "mean",
    ) -> None:
        counts = check_class_counts(class_counts)
        super().__init__(reduction, len(counts))
        weights = class_balanced_weights(counts, beta)
        self.beta = float(beta)
        self.loss = check_choice(loss, "loss", ("ce", "focal"))
        self.gamma = check_gamma(gamma)
        self.register_buffer("class_counts", _tensor(counts))
        self.register_buffer("class_weight", _tensor(weights))

    def forward(self, logits: Any, target: Any) -> Any:
        self._check(logits, target)
        target = target.long()
        log_p_true = F.log_softmax(logits, dim=-1).gather(1, target[:, None])[:, 0]
        loss = -log_p_true
        if self.loss == "focal":
            loss = _focal_term(log_p_true, self.gamma) * loss
        return self._reduce(loss * self.class_weight.to(loss.dtype)[target])


class LDAMLoss(_SparseLoss):
    r"""Label-distribution-aware margin loss (LDAM).

    .. math::

        \mathrm{LDAM}(z, y) = -w_y \log
        \frac{e^{s (z_y - \Delta_y)}}{e^{s (z_y - \Delta_y)} + \sum_{j \ne y} e^{s z_j}},
        \qquad \Delta_c = \frac{C}{n_c^{1/4}}

    ``C`` gives the rarest class the margin ``max_margin``. Cao et al.,
    "Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
    NeurIPS 2019. ``scale=30`` suits a normalized (cosine) last layer as in
    the paper; with an ordinary ``nn.Linear`` use ``scale=1``. Per-class
    weights ``w`` (default 1) are switched on late in training by
    :class:`DeferredReweighting` (DRW).

    Parameters
    ----------
    class_counts : sequence of int or ClassDistribution
    max_margin : float, default=0.5
    scale : float, default=30.0
    class_weight : sequence of float, default=None
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` divides by the number of samples (see Notes).

    Notes
    -----
    With ``class_weight``, ``reduction="mean"`` is ``sum_i w_{y_i} L_i / N``,
    the mean over the ``N`` samples, as in :class:`ClassBalancedLoss` and the
    Keras losses. The LDAM-DRW reference code uses
    ``cross_entropy(weight=...)``, which divides by ``sum_i w_{y_i}``: the
    weights there change only how classes are mixed within a batch, not the
    scale of the loss. For that convention use ``reduction="sum"`` and divide
    by the batch's weights: ``loss(logits, y) / loss.class_weight[y].sum()``.
    Without ``class_weight`` the two agree.

    Examples
    --------
    >>> from classbalance.torch.losses import LDAMLoss
    >>> [round(m, 3) for m in LDAMLoss([1000, 100, 10], scale=1.0).margins.tolist()]
    [0.158, 0.281, 0.5]
    """

    def __init__(
        self,
        class_counts: Any,
        max_margin: float = 0.5,
        scale: float = 30.0,
        class_weight: Any = None,
        *,
        reduction: str = "mean",
    ) -> None:
        counts = check_class_counts(class_counts)
        super().__init__(reduction, len(counts))
        self.max_margin = check_positive(max_margin, "max_margin")
        self.scale = check_positive(scale, "scale")
        self.register_buffer("class_counts", _tensor(counts))
        self.register_buffer("margins", _tensor(ldam_margins(counts, self.max_margin)))
        self.register_buffer("class_weight", None)
        if class_weight is not None:
            self.set_class_weight(class_weight)

    def set_class_weight(self, class_weight: Any) -> None:
        """Use these per-class weights from now on (``None``: all 1)."""
        if class_weight is None:
            self.class_weight = None
            return
        weights = check_alpha(class_weight, "class_weight")
        if weights is None or weights.shape != (self.n_classes,):
            raise ValueError(
                f"`class_weight` must give one weight >= 0 per class ({self.n_classes}). "
                f"Received: class_weight={short_repr(class_weight)}"
            )
        self.class_weight = _tensor(weights).to(self.margins.device)

    def forward(self, logits: Any, target: Any) -> Any:
        self._check(logits, target)
        target = target.long()
        margin = self.margins.to(logits.dtype)[target]
        shifted = logits.scatter_add(1, target[:, None], -margin[:, None]) * self.scale
        loss = -F.log_softmax(shifted, dim=-1).gather(1, target[:, None])[:, 0]
        if self.class_weight is not None:
            loss = loss * self.class_weight.to(loss.dtype)[target]
        return self._reduce(loss)


class LogitAdjustedLoss(_SparseLoss):
    r"""Logit-adjusted cross-entropy (Balanced Softmax at ``tau=1``).

    .. math::

        \mathrm{LA}(z, y) = -\log
        \frac{e^{z_y + \tau \log \pi_y}}{\sum_j e^{z_j + \tau \log \pi_j}}

    ``pi`` is the training class prior. Predict with ``argmax z`` as usual.
    Menon et al., "Long-tail learning via logit adjustment", ICLR 2021;
    ``tau=1`` is the Balanced Softmax of Ren et al., NeurIPS 2020.

    Parameters
    ----------
    class_counts : sequence of int or ClassDistribution, default=None
    prior : sequence of float, default=None
        Give exactly one of ``class_counts`` and ``prior``.
    tau : float, default=1.0
    reduction : {"mean", "sum", "none"}, default="mean"

    Examples
    --------
    >>> import torch
    >>> from classbalance.torch.losses import LogitAdjustedLoss
    >>> loss = LogitAdjustedLoss([900, 100])
    >>> round(loss(torch.zeros(1, 2), torch.tensor([1])).item(), 4)
    2.3026
    """

    def __init__(
        self,
        class_counts: Any = None,
        *,
        prior: Any = None,
        tau: float = 1.0,
        reduction: str = "mean",
    ) -> None:
        if (class_counts is None) == (prior is None):
            raise ValueError(
                "Give exactly one of `class_counts` and `prior`. "
                f"Received: class_counts={short_repr(class_counts)}, prior={short_repr(prior)}"
            )
        pi = check_prior(prior) if prior is not None else check_prior(class_counts, "class_counts")
        super().__init__(reduction, len(pi))
        self.tau = check_gamma(tau, "tau")
        self.register_buffer("log_prior", _tensor(log_prior(pi)))

    def forward(self, logits: Any, target: Any) -> Any:
        self._check(logits, target)
        shifted = logits + self.tau * self.log_prior.to(logits.dtype)
        return self._reduce(F.cross_entropy(shifted, target.long(), reduction="none"))


class DeferredReweighting:
    """Deferred re-weighting (DRW) for :class:`LDAMLoss`: weights from ``start_epoch``.

    Call :meth:`set_epoch` at the start of every epoch; from ``start_epoch``
    on the loss uses class-balanced weights ``(1 - beta) / (1 - beta**n_c)``
    (scaled to sum to K), before it none. Cao et al. (NeurIPS 2019) use
    ``start_epoch=160`` of 200 and ``beta=0.9999``.

    Parameters
    ----------
    loss : LDAMLoss
    start_epoch : int
        First epoch (0-based) trained with weights.
    beta : float in [0, 1), default=0.9999

    Examples
    --------
    >>> from classbalance.torch.losses import DeferredReweighting, LDAMLoss
    >>> loss = LDAMLoss([50, 10], scale=1.0)
    >>> drw = DeferredReweighting(loss, start_epoch=2)
    >>> drw.set_epoch(1); loss.class_weight is None
    True
    >>> drw.set_epoch(2); [round(w, 3) for w in loss.class_weight.tolist()]
    [0.334, 1.666]
    """

    def __init__(self, loss: Any, start_epoch: int, beta: float = 0.9999) -> None:
        if not isinstance(loss, LDAMLoss):
            raise ValueError(
                f"`loss` must be a classbalance LDAMLoss. Received: loss={short_repr(loss)}"
            )
        self.loss = loss
        self.start_epoch = check_positive_int(start_epoch, "start_epoch", allow_zero=True)
        counts = loss.class_counts.detach().cpu().numpy().astype(np.float64)
        self.weights = class_balanced_weights(counts, beta)
        self.beta = float(beta)

    def set_epoch(self, epoch: int) -> None:
        """Switch the weights on (``epoch >= start_epoch``) or off."""
        epoch = check_positive_int(epoch, "epoch", allow_zero=True)
        self.loss.set_class_weight(self.weights if epoch >= self.start_epoch else None)


# --- Multi-label losses (multi-hot targets, one sigmoid per label) --------------------------


class AsymmetricLoss(torch.nn.Module):
    r"""Asymmetric loss (ASL) for multi-label classification, mean-reduced by default.

    With ``p = sigmoid(z)`` per label and ``p_m = max(p - m, 0)``:

    .. math::

        L = -y \, (1 - p)^{\gamma_+} \log p
            \; - \; (1 - y) \, p_m^{\gamma_-} \log(1 - p_m)

    Ridnik et al., "Asymmetric Loss For Multi-Label Classification", ICCV
    2021: strong focusing (``gamma_neg``) and a probability margin (``clip``)
    on the negatives, which dominate multi-label data; the same formula as
    :class:`classbalance.keras.losses.AsymmetricLoss`.

    **Reduction.** ``"mean"`` (default) averages over all ``N * L`` entries,
    like ``torch.nn.BCEWithLogitsLoss``. The authors' code
    (Alibaba-MIIL/ASL) returns the *sum* over batch and labels: pass
    ``reduction="sum"`` for that (its loss values are ``N * L`` times
    larger, so learning rates tuned for one do not carry over). ``"none"``
    returns the ``(N, L)`` entries. Gradients flow through the focusing
    weights too (the exact derivative of ``L``), and ``log p`` comes from
    ``logsigmoid`` rather than a clamped ``log``, so very large logits stay
    finite.

    Parameters
    ----------
    gamma_neg : float, default=4.0
        Focusing of negatives (>= 0).
    gamma_pos : float, default=1.0
        Focusing of positives (>= 0).
    clip : float in [0, 1), default=0.05
        Probability margin ``m`` of negatives (0 = none).
    reduction : {"mean", "sum", "none"}, default="mean"

    Examples
    --------
    >>> import torch
    >>> from classbalance.torch.losses import AsymmetricLoss
    >>> y = torch.tensor([[1.0, 0.0, 0.0]])
    >>> z = torch.tensor([[0.0, 0.0, -3.0]])
    >>> round(AsymmetricLoss()(z, y).item(), 4)
    0.1237
    >>> round(AsymmetricLoss(reduction="sum")(z, y).item(), 4)  # the original's scale
    0.3711
    """

    def __init__(
        self,
        gamma_neg: float = 4.0,
        gamma_pos: float = 1.0,
        clip: float = 0.05,
        *,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        import numbers

        for value, arg in ((gamma_neg, "gamma_neg"), (gamma_pos, "gamma_pos")):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(
                    f"`{arg}` must be a number >= 0. Received: {arg}={short_repr(value)}"
                )
        self.gamma_neg = check_gamma(gamma_neg, "gamma_neg")
        self.gamma_pos = check_gamma(gamma_pos, "gamma_pos")
        if isinstance(clip, bool) or not isinstance(clip, numbers.Real):
            raise TypeError(f"`clip` must be a number in [0, 1). Received: clip={short_repr(clip)}")
        if not 0 <= clip < 1:
            raise ValueError(f"`clip` must be in [0, 1). Received: clip={clip}")
        self.clip = float(clip)
        self.reduction = check_choice(reduction, "reduction", _REDUCTIONS)

    def forward(self, logits: Any, target: Any) -> Any:
        if logits.shape != target.shape or logits.ndim < 1:
            raise ValueError(
                "Expected logits and 0/1 targets of the same shape (N, L). "
                f"Received: logits.shape={tuple(logits.shape)}, target.shape={tuple(target.shape)}"
            )
        y = target.to(logits.dtype)
        log_p, log_q = F.logsigmoid(logits), F.logsigmoid(-logits)
        positive = -log_p
        if self.gamma_pos:
            positive = positive * torch.exp(self.gamma_pos * log_q)
        if self.clip > 0:
            p_m = (torch.exp(log_p) - self.clip).clamp_min(0.0)
            negative = -torch.log((torch.exp(log_q) + self.clip).clamp_max(1.0))
            if self.gamma_neg:
                base = p_m.clamp_min(1e-12) if self.gamma_neg < 1 else p_m
                negative = negative * base.pow(self.gamma_neg)
        else:
            negative = -log_q
            if self.gamma_neg:
                negative = negative * torch.exp(self.gamma_neg * log_p)
        loss = y * positive + (1.0 - y) * negative
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss


__all__ += ["AsymmetricLoss"]
