"""Hypothesis strategies for labels, in one place."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def class_vectors(draw, min_classes: int = 2, max_classes: int = 6, max_count: int = 60):
    """Shuffled int label vectors with every drawn class present, arbitrary imbalance."""
    k = draw(st.integers(min_classes, max_classes))
    counts = draw(st.lists(st.integers(1, max_count), min_size=k, max_size=k))
    labels = draw(st.lists(st.integers(-5, 1000), min_size=k, max_size=k, unique=True))
    y = np.repeat(np.array(labels, dtype=np.int64), counts)
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(y)


seeds = st.integers(min_value=0, max_value=2**63 - 1)
batch_sizes = st.integers(min_value=1, max_value=40)


@st.composite
def multihot_matrices(draw, min_labels: int = 2, max_labels: int = 5, max_rows: int = 120):
    """0/1 matrices (n_samples, n_labels), some rows with several positives (multi-label)."""
    k = draw(st.integers(min_labels, max_labels))
    n = draw(st.integers(20, max_rows))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p = rng.uniform(0.1, 0.6, size=k)
    y = (rng.random((n, k)) < p).astype(np.int64)
    y[0] = 1  # at least one multi-hot row
    return y
