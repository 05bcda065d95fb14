"""Multi-label distribution: counts and imbalance measures (IRLbl, MeanIR, SCUMBLE)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from classbalance.distribution import LabelDistribution, label_distribution
from classbalance.labels import encode_multilabel


def _random_multihot(n: int = 300, n_labels: int = 8, seed: int = 0) -> np.ndarray:
    """Long-tailed multi-hot labels: label l is present with probability 0.6 * 0.55**l."""
    rng = np.random.default_rng(seed)
    prob = 0.6 * 0.55 ** np.arange(n_labels)
    return (rng.random((n, n_labels)) < prob).astype(np.uint8)


def _scumble_oracle(Y: np.ndarray) -> float:
    """Charte et al.: mean over samples of 1 - geometric / arithmetic mean of active IRLbl."""
    counts = Y.sum(axis=0)
    values = []
    for row in Y:
        active = [counts.max() / counts[j] for j in np.flatnonzero(row)]
        if len(active) == 0:
            values.append(0.0)
            continue
        geometric = math.prod(active) ** (1.0 / len(active))
        values.append(1.0 - geometric / (sum(active) / len(active)))
    return float(np.mean(values))


class TestLabelDistribution:
    def test_counts_and_irlbl(self):
        """counts are column sums; IRLbl = max count / count; MeanIR is their mean."""
        Y = _random_multihot()
        dist = label_distribution(Y)
        np.testing.assert_array_equal(dist.counts, Y.sum(axis=0))
        np.testing.assert_allclose(dist.irlbl, Y.sum(axis=0).max() / Y.sum(axis=0))
        assert dist.mean_ir == pytest.approx(np.mean(dist.irlbl))
        assert dist.max_ir == pytest.approx(np.max(dist.irlbl))
        assert dist.cardinality == pytest.approx(Y.sum() / len(Y))
        assert dist.n_unlabeled == int((Y.sum(axis=1) == 0).sum())

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_scumble_matches_formula(self, seed):
        """SCUMBLE equals a per-sample implementation of the published formula."""
        Y = _random_multihot(seed=seed)
        assert label_distribution(Y).scumble == pytest.approx(_scumble_oracle(Y), rel=1e-10)

    def test_scumble_extremes(self):
        """No co-occurrence, or co-occurring labels of equal frequency, give SCUMBLE 0."""
        assert label_distribution(np.eye(4, dtype=int)).scumble == 0.0
        assert label_distribution(np.ones((5, 3), dtype=int)).scumble == pytest.approx(0.0)
        rare_with_frequent = np.r_[[[1, 1]], np.tile([[1, 0]], (99, 1))]
        assert label_distribution(rare_with_frequent).scumble > 0.0

    def test_chunked_rows_agree(self, monkeypatch):
        """Row blocks (bounded memory for millions of rows) give the same SCUMBLE."""
        import classbalance.distribution as distribution

        Y = _random_multihot(n=1000)
        whole = label_distribution(Y).scumble_per_sample
        monkeypatch.setattr(distribution, "_CHUNK_ROWS", 7)
        np.testing.assert_allclose(label_distribution(Y).scumble_per_sample, whole, rtol=1e-12)

    def test_scumble_no_overflow_many_labels(self):
        """Hundreds of co-occurring rare labels: finite SCUMBLE (computed in log space)."""
        Y = np.zeros((2000, 400), dtype=np.uint8)
        Y[:, 0] = 1
        Y[0, :] = 1
        value = label_distribution(Y).scumble
        assert np.isfinite(value)
        # Only row 0 has several labels: IRLbl 1 (label 0) and 2000 (the 399 others).
        geometric = np.exp(399 * np.log(2000.0) / 400)
        arithmetic = (1 + 399 * 2000.0) / 400
        assert value == pytest.approx((1 - geometric / arithmetic) / 2000, rel=1e-9)

    def test_empty_label_reported_not_crash(self):
        """A label with no positives has IRLbl inf, is listed, and is left out of MeanIR."""
        Y = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 0]])
        dist = label_distribution(Y, classes=["a", "never", "c"])
        assert dist.empty_labels == ["never"]
        assert dist.irlbl.tolist() == [1.0, math.inf, 2.0]
        assert dist.mean_ir == pytest.approx(1.5)
        assert np.isfinite(dist.scumble)
        assert dist.n_unlabeled == 1
        assert dist.summary()["empty_labels"] == ["never"]

    def test_all_rows_empty(self):
        """No positives at all: every IRLbl inf, MeanIR NaN, SCUMBLE 0."""
        dist = label_distribution(np.zeros((4, 2), dtype=int))
        assert np.all(np.isinf(dist.irlbl))
        assert math.isnan(dist.mean_ir)
        assert dist.scumble == 0.0

    def test_to_frame(self):
        """to_frame has one row per label, most frequent first."""
        frame = label_distribution(["b", "a|b", "b|c"], sep="|").to_frame()
        assert frame.index.tolist() == ["b", "a", "c"]
        assert frame["count"].tolist() == [3, 1, 1]
        assert isinstance(repr(label_distribution(np.eye(2))), str)
        assert isinstance(label_distribution(np.eye(2)), LabelDistribution)


multihot = hnp.arrays(
    np.uint8,
    st.tuples(st.integers(1, 40), st.integers(1, 8)),
    elements=st.integers(0, 1),
)


class TestInvariants:
    @given(Y=multihot, seed=st.integers(0, 2**32 - 1))
    def test_measures_invariant_to_row_order(self, Y, seed):
        """Counts, MeanIR and SCUMBLE do not depend on sample order; SCUMBLE is in [0, 1]."""
        a = label_distribution(Y)
        b = label_distribution(Y[np.random.default_rng(seed).permutation(len(Y))])
        np.testing.assert_array_equal(a.counts, b.counts)
        assert a.scumble == pytest.approx(b.scumble, abs=1e-12)
        assert 0.0 <= a.scumble <= 1.0
        assert np.all(a.irlbl >= 1.0)
        if np.isfinite(a.mean_ir):
            assert 1.0 <= a.mean_ir <= a.max_ir

    @given(Y=multihot)
    def test_round_trip_through_label_sets(self, Y):
        """Matrix -> label sets -> matrix is the identity (all-zero columns declared)."""
        sets = [set(np.flatnonzero(row).tolist()) for row in Y]
        again = encode_multilabel(sets, classes=list(range(Y.shape[1])))
        np.testing.assert_array_equal(again.Y, Y)
