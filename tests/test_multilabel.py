"""Multi-label targets: encoding, imbalance measures (IRLbl, MeanIR, SCUMBLE) and pos_weight."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from classbalance.multilabel import (
    LabelDistribution,
    encode_multilabel,
    label_distribution,
    pos_weight,
)


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


class TestEncode:
    def test_forms_agree(self):
        """Matrix, DataFrame, label sets and separated strings give the same matrix."""
        Y = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]])
        names = ["a", "b", "c"]
        sets = [{"a", "c"}, set(), {"b"}, {"a", "b", "c"}]
        strings = pd.Series(["a|c", "", "b", "c | b|a"])
        for enc in (
            encode_multilabel(Y, labels=names),
            encode_multilabel(pd.DataFrame(Y, columns=names)),
            encode_multilabel(sets),
            encode_multilabel(strings, sep="|"),
            encode_multilabel(Y.astype(bool), labels=names),
            encode_multilabel(Y.astype(float).tolist(), labels=names),
        ):
            np.testing.assert_array_equal(enc.Y, Y)
            assert enc.labels.tolist() == names
            assert enc.Y.dtype == np.uint8

    def test_missing_strings_are_unlabeled_rows(self):
        """None and NaN in a string column are rows without labels."""
        enc = encode_multilabel(pd.Series(["x;y", None, np.nan, "y", pd.NA]), sep=";")
        assert enc.Y.tolist() == [[1, 1], [0, 0], [0, 0], [0, 1], [0, 0]]

    def test_declared_labels_order_and_unseen(self):
        """`labels` fixes column order; a declared but unseen label is a zero column."""
        enc = encode_multilabel([("b",), ("a", "b")], labels=["b", "a", "z"])
        assert enc.Y.tolist() == [[1, 0, 0], [1, 1, 0]]

    def test_integer_label_sets(self):
        """Sets of integer ids become columns of the sorted ids (ragged lists too)."""
        assert encode_multilabel([{3, 1}, {7}]).labels.tolist() == [1, 3, 7]
        assert encode_multilabel([[3, 1], [7]]).Y.tolist() == [[1, 1, 0], [0, 0, 1]]

    @pytest.mark.parametrize(
        ("y", "match"),
        [
            (np.array([[0, 2], [1, 0]]), r"only 0 and 1.*found 2 at row 0, column 1"),
            (np.array([[0.0, np.nan], [1, 0]]), r"found nan at row 0, column 1"),
            (np.array([[0.5, 1.0]]), r"found 0.5"),
            ([], "is empty"),
            (np.zeros((3, 0)), "0 columns"),
            (pd.Series(["a,b", "c"]), r"pass `sep`.*\[','\]"),
            (pd.Series(["a,b", "c"]), r"y\[0\]='a,b'"),
        ],
    )
    def test_bad_values(self, y, match):
        """Non-0/1 entries, NaN, empty input and strings without `sep` raise ValueError."""
        with pytest.raises(ValueError, match=match):
            encode_multilabel(y)

    def test_unknown_separator(self):
        """A `sep` that never occurs while a common separator does is refused."""
        with pytest.raises(ValueError, match=r"`sep`='\|' never occurs in `y`, but \[';'\]"):
            encode_multilabel(["a;b", "c"], sep="|")

    def test_unknown_label(self):
        """A label outside `labels` is named in the error."""
        with pytest.raises(ValueError, match=r"not listed in `labels`: \['q'\]"):
            encode_multilabel([{"a"}, {"q"}], labels=["a"])

    @pytest.mark.parametrize(
        "y", [np.array([0, 1, 2]), [0, 1, 1], "a|b", 3, None, [{"a"}, 5], np.zeros((2, 2, 2))]
    )
    def test_wrong_types(self, y):
        """Class vectors, scalars, strings and 3-D arrays are TypeErrors."""
        with pytest.raises(TypeError, match="`y`"):
            encode_multilabel(y)

    def test_wrong_labels_length(self):
        """`labels` must name every column."""
        with pytest.raises(ValueError, match="each of the 2 columns"):
            encode_multilabel(np.eye(2), labels=["a"])


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
        import classbalance.multilabel as ml

        Y = _random_multihot(n=1000)
        whole = label_distribution(Y).scumble_per_sample
        monkeypatch.setattr(ml, "_CHUNK_ROWS", 7)
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
        dist = label_distribution(Y, labels=["a", "never", "c"])
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

    def test_plot(self, tmp_path):
        """plot draws one bar per label and saves a PNG."""
        pytest.importorskip("matplotlib")
        dist = label_distribution(_random_multihot())
        path = tmp_path / "labels.png"
        fig = dist.plot(log=True, path=path)
        assert len(fig.axes[0].patches) == 8
        assert path.read_bytes()[:4] == b"\x89PNG"
        with pytest.raises(TypeError, match="`log`"):
            dist.plot(log="yes")


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
        again = encode_multilabel(sets, labels=list(range(Y.shape[1])))
        np.testing.assert_array_equal(again.Y, Y)


class TestPosWeight:
    def test_negatives_over_positives(self):
        """pos_weight = negatives / positives per label, with smoothing and power."""
        Y = _random_multihot()
        pos = Y.sum(axis=0)
        neg = len(Y) - pos
        np.testing.assert_allclose(pos_weight(Y), neg / pos)
        np.testing.assert_allclose(pos_weight(Y, smoothing=2.0), (neg + 2) / (pos + 2))
        np.testing.assert_allclose(pos_weight(Y, power=0.5), np.sqrt(neg / pos))

    def test_from_label_distribution(self):
        """A LabelDistribution gives the same weights as the labels themselves."""
        Y = _random_multihot()
        np.testing.assert_array_equal(pos_weight(label_distribution(Y)), pos_weight(Y))

    def test_empty_label_warns_and_is_finite(self):
        """A label without positives gets weight 1 and a warning (smoothing 0), else finite."""
        Y = np.array([[1, 0], [0, 0], [1, 0]])
        with pytest.warns(UserWarning, match=r"Labels \[1\] have no positive"):
            weights = pos_weight(Y)
        assert weights.tolist() == [0.5, 1.0]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert pos_weight(Y, smoothing=1.0).tolist() == [2 / 3, 4.0]

    def test_torch_bce_with_pos_weight(self):
        """The weights plug into torch's BCEWithLogitsLoss and weight positives as documented."""
        torch = pytest.importorskip("torch")
        Y = _random_multihot(n=64)
        w = pos_weight(Y, smoothing=0.5)
        logits = torch.zeros(Y.shape, dtype=torch.float64)
        loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w), reduction="none")
        got = loss(logits, torch.tensor(Y, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(got, np.log(2) * np.where(Y == 1, w, 1.0))

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"smoothing": -1.0}, ValueError),
            ({"smoothing": True}, TypeError),
            ({"power": 2.0}, ValueError),
            ({"power": "half"}, TypeError),
        ],
    )
    def test_bad_arguments(self, kwargs, error):
        """Arguments are checked, with the argument named."""
        with pytest.raises(error, match=f"`{next(iter(kwargs))}`"):
            pos_weight(np.eye(2), **kwargs)
