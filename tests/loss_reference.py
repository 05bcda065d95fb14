"""NumPy reference implementations of the long-tail losses: the test oracle.

Written straight from the papers' formulas, independently of
``classbalance._loss_params``, in float64. Each returns per-sample losses
for logits ``z`` of shape (N, K) and integer labels ``y`` of shape (N,).
"""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _true(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    return a[np.arange(len(y)), y]


def focal(z, y, alpha=None, gamma=2.0):
    """-alpha_y (1 - p_y)^gamma log p_y (Lin et al. 2017)."""
    p = _true(softmax(np.asarray(z, np.float64)), y)
    loss = -((1.0 - p) ** gamma) * np.log(p)
    if alpha is not None:
        alpha = np.asarray(alpha, np.float64)
        loss = loss * (alpha[y] if alpha.ndim else alpha)
    return loss


def class_balanced_weights(counts, beta=0.999):
    """w_c = (1 - beta) / (1 - beta^n_c), normalized to sum K (Cui 2019)."""
    counts = np.asarray(counts, np.float64)
    effective = (1.0 - beta**counts) / (1.0 - beta)
    w = 1.0 / effective
    return w / w.sum() * len(counts)


def class_balanced(z, y, counts, beta=0.999, loss="ce", gamma=2.0):
    """w_y * CE or focal with the class-balanced weights (Cui 2019)."""
    base = focal(z, y, None, gamma if loss == "focal" else 0.0)
    return class_balanced_weights(counts, beta)[y] * base


def ldam(z, y, counts, max_margin=0.5, scale=30.0, weight=None):
    """CE of s * (z - Delta_y e_y), Delta_c = C n_c^(-1/4), max Delta = max_margin (Cao 2019)."""
    counts = np.asarray(counts, np.float64)
    delta = 1.0 / counts**0.25
    delta = delta * max_margin / delta.max()
    z = np.array(z, np.float64)
    z[np.arange(len(y)), y] -= delta[y]
    loss = -np.log(_true(softmax(scale * z), y))
    if weight is not None:
        loss = loss * np.asarray(weight, np.float64)[y]
    return loss


def logit_adjusted(z, y, prior, tau=1.0):
    """CE of z + tau log pi (Menon 2021; tau = 1 is Balanced Softmax, Ren 2020)."""
    prior = np.asarray(prior, np.float64)
    prior = prior / prior.sum()
    return -np.log(_true(softmax(np.asarray(z, np.float64) + tau * np.log(prior)), y))


COUNTS = [500, 120, 30, 4]


def loss_cases(losses) -> dict:
    """``{name: (make_loss, oracle)}`` over the main configurations, for a losses module.

    The same table serves ``classbalance.keras.losses`` and
    ``classbalance.torch.losses``: both are checked against the same oracle.
    """
    return {
        "focal": (lambda: losses.SparseFocalLoss(gamma=2.0), lambda z, y: focal(z, y)),
        "focal_alpha": (
            lambda: losses.SparseFocalLoss(alpha=[0.1, 0.2, 0.3, 0.4], gamma=1.5),
            lambda z, y: focal(z, y, [0.1, 0.2, 0.3, 0.4], 1.5),
        ),
        "focal_scalar_alpha_gamma_half": (
            lambda: losses.SparseFocalLoss(alpha=0.25, gamma=0.5),
            lambda z, y: focal(z, y, 0.25, 0.5),
        ),
        "cb_ce": (
            lambda: losses.ClassBalancedLoss(COUNTS),
            lambda z, y: class_balanced(z, y, COUNTS),
        ),
        "cb_focal": (
            lambda: losses.ClassBalancedLoss(COUNTS, beta=0.99, loss="focal", gamma=1.0),
            lambda z, y: class_balanced(z, y, COUNTS, 0.99, "focal", 1.0),
        ),
        "ldam": (lambda: losses.LDAMLoss(COUNTS), lambda z, y: ldam(z, y, COUNTS)),
        "ldam_weighted": (
            lambda: losses.LDAMLoss(COUNTS, max_margin=0.3, scale=1.0, class_weight=[1, 2, 3, 4]),
            lambda z, y: ldam(z, y, COUNTS, 0.3, 1.0, [1, 2, 3, 4]),
        ),
        "la": (
            lambda: losses.LogitAdjustedLoss(COUNTS),
            lambda z, y: logit_adjusted(z, y, COUNTS),
        ),
        "la_prior_tau": (
            lambda: losses.LogitAdjustedLoss(prior=[0.7, 0.2, 0.05, 0.05], tau=0.5),
            lambda z, y: logit_adjusted(z, y, [0.7, 0.2, 0.05, 0.05], 0.5),
        ),
    }


def weighted_mean(per_sample, sample_weight, convention):
    """The two weighted means of per-sample losses that already carry their weights.

    ``"samples"``: divide by N (Keras' class_weight and sample_weight; our losses).
    ``"weights"``: divide by the sum of the weights (``CrossEntropyLoss(weight=...)``,
    the LDAM-DRW reference code).
    """
    per_sample = np.asarray(per_sample, np.float64)
    if convention == "samples":
        return per_sample.sum() / per_sample.shape[0]
    if convention == "weights":
        return per_sample.sum() / np.asarray(sample_weight, np.float64).sum()
    raise ValueError(convention)


def weighted_cases(losses) -> dict:
    """``{name: (make_loss, oracle, class_weights)}`` for the losses with per-class weights."""
    cases = loss_cases(losses)
    return {
        "cb_ce": (*cases["cb_ce"], class_balanced_weights(COUNTS)),
        "cb_focal": (*cases["cb_focal"], class_balanced_weights(COUNTS, 0.99)),
        "ldam_weighted": (*cases["ldam_weighted"], np.array([1.0, 2.0, 3.0, 4.0])),
    }


def long_tailed_batch(n: int = 64, seed: int = 0):
    """Logits and labels drawn with the class frequencies of COUNTS: where the two weighted
    means differ (on a class-balanced batch they nearly agree)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(len(COUNTS), size=n, p=np.asarray(COUNTS) / np.sum(COUNTS))
    return rng.normal(size=(n, len(COUNTS))) * 3.0, y
