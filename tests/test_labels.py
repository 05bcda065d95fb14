"""Label encoding, single- and multi-label: every accepted form, and the errors for the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given

import classbalance as cb
from classbalance.labels import encode_labels, encode_multilabel, is_multihot
from strategies import class_vectors


class TestAcceptedForms:
    def test_int_vector(self):
        """Ints are coded in sorted order of their values."""
        enc = encode_labels(np.array([7, 3, 7, 9]))
        assert enc.codes.tolist() == [1, 0, 1, 2]
        assert enc.classes.tolist() == [3, 7, 9]
        assert enc.keras_keys() == [3, 7, 9]

    def test_strings(self):
        """Strings are sorted; Keras keys are their positions."""
        enc = encode_labels(["wasp", "bee", "wasp"])
        assert enc.classes.tolist() == ["bee", "wasp"]
        assert enc.codes.tolist() == [1, 0, 1]
        assert enc.keras_keys() == [0, 1]

    def test_bools(self):
        """Bools give classes [False, True] and keys 0/1."""
        enc = encode_labels(np.array([True, False, True]))
        assert enc.classes.tolist() == [False, True]
        assert enc.keras_keys() == [0, 1]

    def test_one_hot(self):
        """A to_categorical matrix decodes by argmax, every column a class."""
        y = np.eye(4, dtype="float32")[[0, 2, 2, 1]]
        enc = encode_labels(y)
        assert enc.kind == "onehot"
        assert enc.codes.tolist() == [0, 2, 2, 1]
        assert enc.classes.tolist() == [0, 1, 2, 3]
        assert enc.counts().tolist() == [1, 1, 2, 0]

    def test_label_smoothed_rows(self):
        """Rows summing to 1 (label smoothing) decode by argmax."""
        y = np.array([[0.9, 0.05, 0.05], [0.05, 0.05, 0.9]])
        assert encode_labels(y).codes.tolist() == [0, 2]

    def test_probability_column(self):
        """An (n, 1) probability column is thresholded at 0.5."""
        enc = encode_labels(np.array([[0.2], [0.7], [0.5]]))
        assert enc.kind == "column"
        assert enc.codes.tolist() == [0, 1, 1]

    def test_integer_id_column(self):
        """An (n, 1) column of class ids > 1 is a class vector."""
        enc = encode_labels(np.array([[0], [5], [2]]))
        assert enc.classes.tolist() == [0, 2, 5]

    def test_pandas_series_and_categorical(self):
        """Categorical categories give the class order, unused ones included."""
        cat = pd.Categorical(["b", "a", "b"], categories=["b", "a", "c"])
        enc = encode_labels(pd.Series(cat))
        assert enc.classes.tolist() == ["b", "a", "c"]
        assert enc.counts().tolist() == [2, 1, 0]
        assert encode_labels(pd.Series([2, 1, 2])).classes.tolist() == [1, 2]

    def test_declared_classes(self):
        """`classes=` fixes the order and admits empty classes."""
        enc = encode_labels(["a", "c"], classes=["c", "b", "a"])
        assert enc.codes.tolist() == [2, 0]
        assert enc.counts().tolist() == [1, 0, 1]

    def test_large_label_values_use_hashing(self):
        """Negative and huge ints are encoded as well as small ones."""
        enc = encode_labels(np.array([-(10**12), 5, 10**12, 5]))
        assert enc.classes.tolist() == [-(10**12), 5, 10**12]

    @given(class_vectors())
    def test_string_and_int_labels_encode_alike(self, y):
        """The codes of str(y) follow the same classes as y when the sort agrees."""
        enc_int = encode_labels(y)
        enc_str = encode_labels(y.astype(str), classes=enc_int.classes.astype(str))
        np.testing.assert_array_equal(enc_int.codes, enc_str.codes)
        np.testing.assert_array_equal(enc_int.classes[enc_int.codes], y)


class TestErrors:
    def test_empty(self):
        """Empty y names the problem."""
        with pytest.raises(ValueError, match="empty"):
            encode_labels([])

    @pytest.mark.parametrize("bad", [[1.0, np.nan, 2.0], ["a", None, "b"], [1, None]])
    def test_missing_labels(self, bad):
        """NaN/None labels are refused with their position."""
        with pytest.raises(ValueError, match=r"missing label .* position 1"):
            encode_labels(np.array(bad, dtype=object) if None in bad else np.array(bad))

    def test_missing_in_categorical(self):
        """A NaN in a Categorical is refused too."""
        with pytest.raises(ValueError, match="missing"):
            encode_labels(pd.Categorical(["a", None]))

    def test_multi_hot_refused_with_alternative(self):
        """A multi-hot matrix is recognised and the alternative named."""
        y = np.array([[1, 0, 1], [0, 1, 0]])
        with pytest.raises(ValueError, match=r"multi-label .*row 0 has 2.*use stratified_split"):
            encode_labels(y, function="f", multilabel_alternative="stratified_split")

    @pytest.mark.parametrize(
        ("call", "alternative"),
        [
            (lambda Y, x: cb.class_weights(Y), "cb.pos_weight(Y)"),
            (lambda Y, x: cb.sample_weights(Y), "cb.pos_weight(Y)"),
            (lambda Y, x: cb.class_distribution(Y), "cb.label_distribution(Y)"),
            (lambda Y, x: next(cb.balanced_batch_generator(x, Y, 4)), "multilabel=True"),
            (lambda Y, x: cb.BalancedBatches(x, Y, 4), "multilabel=True"),
            (lambda Y, x: cb.BalancedSampler(Y), "multilabel=True"),
            (lambda Y, x: cb.imbalance_report(Y, Y), "cb.multilabel_report(Y_true, scores)"),
            (lambda Y, x: cb.tune_threshold(Y, x[:, :3]), "cb.tune_thresholds(Y_val, scores)"),
            (lambda Y, x: cb.synthetic_oversample(x, Y), "cb.ml_ros(Y)"),
        ],
    )
    def test_public_functions_name_their_multilabel_counterpart(self, call, alternative):
        """A multi-hot y given to a single-label function says which function takes it."""
        Y = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]] * 5)
        x = np.random.default_rng(0).random((20, 4))
        with pytest.raises(ValueError, match="looks multi-label") as info:
            call(Y, x)
        message = str(info.value)
        assert "For multi-label data use" in message
        assert alternative in message.split("For multi-label data use")[1]

    def test_all_zero_row(self):
        """A one-hot row without a 1 is reported."""
        with pytest.raises(ValueError, match="row 1 has no positive class"):
            encode_labels(np.array([[1, 0], [0, 0]]))

    def test_not_one_hot(self):
        """A 2-D matrix of arbitrary numbers is not mistaken for one-hot."""
        with pytest.raises(ValueError, match="not a one-hot"):
            encode_labels(np.array([[0.3, 2.0], [1.0, 0.0]]))

    def test_three_dims(self):
        """3-D labels are refused with the shape."""
        with pytest.raises(ValueError, match=r"shape \(2, 2, 2\)"):
            encode_labels(np.zeros((2, 2, 2)))

    def test_unknown_declared(self):
        """Labels outside `classes` are listed."""
        with pytest.raises(ValueError, match=r"not in `classes`: \['z'\]"):
            encode_labels(["a", "z"], classes=["a", "b"])

    def test_mixed_types(self):
        """Labels of unorderable mixed types get a readable error."""
        with pytest.raises(TypeError, match="mixes label types"):
            encode_labels(np.array(["a", 1, "b"], dtype=object))

    def test_scalar(self):
        """A scalar is not an array of labels."""
        with pytest.raises(TypeError, match="array-like"):
            encode_labels(3)


class TestDistribution:
    def test_counts_fractions_ratio(self):
        """Counts, fractions and the imbalance ratio of a small example."""
        dist = cb.class_distribution(["a", "a", "a", "b"])
        assert dist.counts.tolist() == [3, 1]
        assert dist.fractions.tolist() == [0.75, 0.25]
        assert dist.imbalance_ratio == 3.0
        frame = dist.to_frame()
        assert frame.loc["a", "count"] == 3
        assert list(frame.columns) == ["count", "fraction"]

    def test_declared_empty_class(self):
        """A declared class without samples has count 0 and an infinite ratio."""
        dist = cb.class_distribution([0, 1], classes=[0, 1, 2])
        assert dist.empty_classes == [2]
        assert dist.imbalance_ratio == float("inf")

    def test_from_counts(self):
        """Counts alone build a distribution usable for class weights."""
        dist = cb.ClassDistribution.from_counts({"bee": 300, "wasp": 100})
        assert dist.n_samples == 400
        assert cb.class_weights(dist) == {0: 400 / 600, 1: 2.0}

    def test_from_counts_rejects_negative(self):
        """Negative counts are refused."""
        with pytest.raises(ValueError, match="non-negative"):
            cb.ClassDistribution.from_counts([3, -1])

    def test_effective_numbers(self):
        """Effective numbers follow (1 - beta^n) / (1 - beta)."""
        dist = cb.ClassDistribution.from_counts([1, 10])
        np.testing.assert_allclose(dist.effective_numbers(0.9), [1.0, (1 - 0.9**10) / 0.1])

    def test_repr(self):
        """The repr shows counts and the ratio."""
        assert "imbalance_ratio=3" in repr(cb.class_distribution([0, 0, 0, 1]))


class TestMultiHot:
    """encode_multilabel: matrices, label sets and separated strings into one 0/1 matrix."""

    def test_forms_agree(self):
        """Matrix, DataFrame, label sets and separated strings give the same matrix."""
        Y = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]])
        names = ["a", "b", "c"]
        sets = [{"a", "c"}, set(), {"b"}, {"a", "b", "c"}]
        strings = pd.Series(["a|c", "", "b", "c | b|a"])
        for enc in (
            encode_multilabel(Y, classes=names),
            encode_multilabel(pd.DataFrame(Y, columns=names)),
            encode_multilabel(sets),
            encode_multilabel(strings, sep="|"),
            encode_multilabel(Y.astype(bool), classes=names),
            encode_multilabel(Y.astype(float).tolist(), classes=names),
        ):
            np.testing.assert_array_equal(enc.Y, Y)
            assert enc.classes.tolist() == names
            assert enc.Y.dtype == np.uint8

    def test_missing_strings_are_unlabeled_rows(self):
        """None and NaN in a string column are rows without labels."""
        enc = encode_multilabel(pd.Series(["x;y", None, np.nan, "y", pd.NA]), sep=";")
        assert enc.Y.tolist() == [[1, 1], [0, 0], [0, 0], [0, 1], [0, 0]]

    def test_declared_labels_order_and_unseen(self):
        """`classes` fixes column order; a declared but unseen label is a zero column."""
        enc = encode_multilabel([("b",), ("a", "b")], classes=["b", "a", "z"])
        assert enc.Y.tolist() == [[1, 0, 0], [1, 1, 0]]

    def test_integer_label_sets(self):
        """Sets of integer ids become columns of the sorted ids (ragged lists too)."""
        assert encode_multilabel([{3, 1}, {7}]).classes.tolist() == [1, 3, 7]
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
        """A label outside `classes` is named in the error."""
        with pytest.raises(ValueError, match=r"not listed in `classes`: \['q'\]"):
            encode_multilabel([{"a"}, {"q"}], classes=["a"])

    @pytest.mark.parametrize(
        "y", [np.array([0, 1, 2]), [0, 1, 1], "a|b", 3, None, [{"a"}, 5], np.zeros((2, 2, 2))]
    )
    def test_wrong_types(self, y):
        """Class vectors, scalars, strings and 3-D arrays are TypeErrors."""
        with pytest.raises(TypeError, match="`y`"):
            encode_multilabel(y)

    def test_wrong_labels_length(self):
        """`classes` must name every column."""
        with pytest.raises(ValueError, match="each of the 2 columns"):
            encode_multilabel(np.eye(2), classes=["a"])

    def test_is_multihot(self):
        """Multi-hot rows are recognized; one-hot rows and class vectors are not."""
        assert is_multihot([[1, 1], [0, 1]])
        assert not is_multihot([[1, 0], [0, 1]])
        assert not is_multihot([0, 1, 1])
        assert not is_multihot([[0, 2], [1, 1]])
