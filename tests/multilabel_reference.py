"""NumPy reference of the multi-label losses: the test oracle.

Written from the papers' formulas in probability space, in float64, independently of the
library code (which works on log-sigmoids of the logits). Each returns the (N, L) entries.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))


def asymmetric(z, y, gamma_neg=4.0, gamma_pos=1.0, clip=0.05) -> np.ndarray:
    """Ridnik et al. (ICCV 2021), eq. (1)-(4): asymmetric focusing plus a probability margin.

    L+ = (1 - p)^gamma_pos log(p);  L- = p_m^gamma_neg log(1 - p_m),  p_m = max(p - m, 0);
    loss = -y L+ - (1 - y) L-.
    """
    p = sigmoid(z)
    y = np.asarray(y, np.float64)
    p_m = np.maximum(p - clip, 0.0)
    positive = (1.0 - p) ** gamma_pos * np.log(p)
    negative = p_m**gamma_neg * np.log(1.0 - p_m)
    return -y * positive - (1.0 - y) * negative


def weighted_bce(z, y, pos_weight) -> np.ndarray:
    """-(w y log p + (1 - y) log(1 - p)), the loss of BCEWithLogitsLoss(pos_weight=w)."""
    p = sigmoid(z)
    y = np.asarray(y, np.float64)
    return -(np.asarray(pos_weight, np.float64) * y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def numeric_gradient(f, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of the scalar f at z (float64), one entry at a time."""
    z = np.array(z, np.float64)
    grad = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (f(up) - f(down)) / (2 * h)
    return grad


def data(n: int = 16, n_labels: int = 5, seed: int = 0, spread: float = 2.0, margin: float = 0.05):
    """Logits and multi-hot targets; logits are kept away from the margin's kink p = margin."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, n_labels)) * spread
    kink = np.log(margin / (1 - margin)) if margin > 0 else None
    if kink is not None:
        near = np.abs(z - kink) < 0.05
        z[near] += 0.2
    y = (rng.random((n, n_labels)) < 0.3).astype(np.float64)
    return z, y


ASL_CASES = {
    "default": {"gamma_neg": 4.0, "gamma_pos": 1.0, "clip": 0.05},
    "paper_coco": {"gamma_neg": 4.0, "gamma_pos": 0.0, "clip": 0.05},
    "no_clip": {"gamma_neg": 2.0, "gamma_pos": 1.0, "clip": 0.0},
    "gamma_below_one": {"gamma_neg": 0.5, "gamma_pos": 0.5, "clip": 0.2},
    "bce": {"gamma_neg": 0.0, "gamma_pos": 0.0, "clip": 0.0},
}
