"""The argument rule: a wrong type raises TypeError, a wrong value ValueError."""

from __future__ import annotations

import numpy as np
import pytest

import classbalance as cb

Y = np.array([0] * 8 + [1] * 2)
X = np.zeros((10, 2), dtype=np.float32)

WRONG_TYPE = [
    ("epoch_size='10'", lambda: cb.BalancedSampler(Y, epoch_size="10")),
    ("epoch_size=True", lambda: cb.BalancedSampler(Y, epoch_size=True)),
    ("batch_size=2.5", lambda: cb.BalancedBatches(X, Y, 2.5)),
    ("alpha='0.5'", lambda: cb.BalancedSampler(Y, alpha="0.5")),
    ("class_weights strategy=3", lambda: cb.class_weights(Y, 3)),
    ("seed='1'", lambda: cb.BalancedSampler(Y, seed="1")),
]
WRONG_VALUE = [
    ("epoch_size=0", lambda: cb.BalancedSampler(Y, epoch_size=0)),
    ("batch_size=-1", lambda: cb.BalancedBatches(X, Y, -1)),
    ("alpha=1.5", lambda: cb.BalancedSampler(Y, alpha=1.5)),
    ("strategy='most'", lambda: cb.BalancedSampler(Y, "most")),
    ("class_weights strategy='most'", lambda: cb.class_weights(Y, "most")),
    ("seed=-1", lambda: cb.BalancedSampler(Y, seed=-1)),
]


@pytest.mark.parametrize(("case", "call"), WRONG_TYPE, ids=[c for c, _ in WRONG_TYPE])
def test_wrong_type_is_type_error(case, call):
    """A wrong type raises TypeError (checks that raised ValueError still match it too)."""
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(("case", "call"), WRONG_VALUE, ids=[c for c, _ in WRONG_VALUE])
def test_wrong_value_is_value_error(case, call):
    """A wrong value of the right type raises ValueError, not TypeError."""
    with pytest.raises(ValueError, match="`") as info:  # messages name the argument
        call()
    assert not isinstance(info.value, TypeError)
