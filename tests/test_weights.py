"""Class and sample weights; per-label pos_weight for multi-label targets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from sklearn.utils.class_weight import compute_class_weight

import classbalance as cb
from classbalance.distribution import label_distribution
from classbalance.weights import pos_weight
from strategies import class_vectors


def _random_multihot(n: int = 300, n_labels: int = 8, seed: int = 0) -> np.ndarray:
    """Long-tailed multi-hot labels: label l is present with probability 0.6 * 0.55**l."""
    rng = np.random.default_rng(seed)
    prob = 0.6 * 0.55 ** np.arange(n_labels)
    return (rng.random((n, n_labels)) < prob).astype(np.uint8)


class TestClassWeights:
    @given(class_vectors())
    def test_balanced_equals_scikit_learn(self, y):
        """'balanced' is scikit-learn's compute_class_weight('balanced'), keyed by label."""
        classes = np.unique(y)
        expected = compute_class_weight("balanced", classes=classes, y=y)
        got = cb.class_weights(y)
        assert list(got) == classes.tolist()
        np.testing.assert_allclose(list(got.values()), expected, rtol=1e-12)

    @given(class_vectors())
    def test_mean_sample_weight_is_one(self, y):
        """With the default normalization the mean per-sample weight is 1 for every strategy."""
        for strategy in ("balanced", "inverse", "sqrt", "effective"):
            w = cb.sample_weights(y, strategy)
            assert w.mean() == pytest.approx(1.0)

    def test_strategies_order(self):
        """Rarer classes get larger weights; sqrt is milder than inverse."""
        y = np.array([0] * 100 + [1] * 4)
        inv = cb.class_weights(y, "inverse")
        sq = cb.class_weights(y, "sqrt")
        assert inv[1] / inv[0] == pytest.approx(25.0)
        assert sq[1] / sq[0] == pytest.approx(5.0)

    def test_effective_matches_paper_formula(self):
        """Effective weights are proportional to (1 - beta) / (1 - beta^n)."""
        y = np.array([0] * 1000 + [1] * 10)
        w = cb.class_weights(y, "effective", beta=0.99, normalize=None)
        assert w[0] == pytest.approx(0.01 / (1 - 0.99**1000))
        assert w[1] == pytest.approx(0.01 / (1 - 0.99**10))

    def test_normalize_classes(self):
        """normalize='classes' makes the mean over classes 1."""
        w = cb.class_weights([0, 0, 0, 1], "inverse", normalize="classes")
        assert np.mean(list(w.values())) == pytest.approx(1.0)

    def test_one_hot_keys_are_columns(self):
        """One-hot y gives keys 0..K-1, empty columns weighted 0."""
        y = np.eye(3)[[0, 0, 1]]
        w = cb.class_weights(y)
        assert list(w) == [0, 1, 2]
        assert w[2] == 0.0

    def test_keys_are_plain_python(self):
        """Keys are int and values float (JSON- and Keras-ready)."""
        w = cb.class_weights(np.array([1, 1, 2], dtype=np.int16))
        assert all(type(k) is int for k in w)
        assert all(type(v) is float for v in w.values())

    def test_user_dict_validated(self):
        """A user dict must name every class and only those."""
        y = ["a", "a", "b"]
        assert cb.class_weights(y, {"a": 1.0, "b": 3.0}) == {0: 1.0, 1: 3.0}
        with pytest.raises(ValueError, match=r"no weight for classes \['b'\]"):
            cb.class_weights(y, {"a": 1.0})
        with pytest.raises(ValueError, match=r"not in y: \['c'\]"):
            cb.class_weights(y, {"a": 1.0, "b": 1.0, "c": 2.0})
        with pytest.raises(ValueError, match="finite numbers"):
            cb.class_weights(y, {"a": 1.0, "b": -1.0})

    def test_unknown_strategy_lists_valid_ones(self):
        """An unknown name lists the valid strategies."""
        with pytest.raises(ValueError, match="'balanced', 'inverse', 'sqrt', 'effective'"):
            cb.class_weights([0, 1], "balnced")

    def test_bad_beta(self):
        """beta must be in [0, 1)."""
        with pytest.raises(ValueError, match="beta"):
            cb.class_weights([0, 1], "effective", beta=1.0)

    def test_keras_fit_accepts_weights(self):
        """The dict goes straight into Keras fit(class_weight=...), and there 'balanced' makes
        the loss the mean of the per-class mean losses: every class counts alike."""
        keras = pytest.importorskip("keras")
        rng = np.random.default_rng(0)
        x = rng.random((40, 3)).astype("float32")
        y = np.array([0] * 30 + [1] * 8 + [2] * 2)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
        # learning_rate=0: the one reported batch loss is that of the weights predict() uses.
        model.compile(keras.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy")
        history = model.fit(
            x,
            y,
            class_weight=cb.class_weights(y),
            batch_size=40,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        p = model.predict(x, verbose=0).astype(np.float64)
        per_sample = -np.log(p[np.arange(len(y)), y])
        per_class_mean = [per_sample[y == c].mean() for c in range(3)]
        assert history.history["loss"][0] == pytest.approx(np.mean(per_class_mean), rel=1e-4)
        assert np.mean(per_class_mean) != pytest.approx(per_sample.mean(), rel=1e-2)


class TestSampleWeights:
    def test_aligned_to_samples(self):
        """Each sample gets its class's weight."""
        y = np.array(["b", "a", "b", "b"])
        w = cb.sample_weights(y)
        cw = cb.class_weights(y)
        np.testing.assert_allclose(w, [cw[1], cw[0], cw[1], cw[1]])

    def test_refuses_distribution(self):
        """Counts alone cannot give per-sample weights."""
        with pytest.raises(TypeError, match="labels themselves"):
            cb.sample_weights(cb.ClassDistribution.from_counts([1, 2]))


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
        """A LabelDistribution gives the same weights as the labels themselves; reading options
        it would ignore are refused."""
        Y = _random_multihot()
        np.testing.assert_array_equal(pos_weight(label_distribution(Y)), pos_weight(Y))
        with pytest.raises(ValueError, match="would ignore them"):
            pos_weight(label_distribution(Y), classes=list("abcdefgh"))

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
