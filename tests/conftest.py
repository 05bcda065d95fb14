"""Shared fixtures. Keras tests run on the backend named by KERAS_BACKEND (default TensorFlow)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")


def long_tailed_labels(n_classes: int = 5, head: int = 200, ratio: float = 50.0) -> np.ndarray:
    """Class c has head * ratio**(-c/(K-1)) samples (exponential profile), shuffled."""
    counts = np.maximum(1, np.round(head * ratio ** (-np.arange(n_classes) / (n_classes - 1))))
    y = np.repeat(np.arange(n_classes), counts.astype(int))
    return np.random.default_rng(123).permutation(y)


@pytest.fixture
def y_long_tail() -> np.ndarray:
    return long_tailed_labels()
