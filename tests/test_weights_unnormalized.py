"""Class weights as the formulas say, before any normalization (``normalize=None``).

The default normalization rescales every strategy to a mean sample weight of 1, which hides
a constant factor in a formula (scikit-learn's "balanced" is already at that scale); here
the raw weights are compared with the documented formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

import classbalance as cb

Y = np.repeat([0, 1, 2, 3], [500, 120, 30, 7])
COUNTS = np.array([500, 120, 30, 7], dtype=np.float64)


@pytest.mark.parametrize(
    ("strategy", "kwargs", "expected"),
    [
        ("balanced", {}, compute_class_weight("balanced", classes=np.arange(4), y=Y)),
        ("inverse", {"power": 1.0}, 1.0 / COUNTS),
        ("inverse", {"power": 0.7}, COUNTS**-0.7),
        ("sqrt", {}, COUNTS**-0.5),
        ("effective", {"beta": 0.99}, (1 - 0.99) / (1 - 0.99**COUNTS)),
    ],
)
def test_raw_weights_follow_the_formula(strategy, kwargs, expected):
    """normalize=None: each class gets exactly the formula's weight."""
    got = cb.class_weights(Y, strategy, normalize=None, **kwargs)
    assert list(got) == [0, 1, 2, 3]
    np.testing.assert_allclose(list(got.values()), expected, rtol=1e-12)
    per_sample = cb.sample_weights(Y, strategy, normalize=None, **kwargs)
    np.testing.assert_allclose(per_sample, np.asarray(expected)[Y], rtol=1e-12)
