"""Keras long-tail losses against the NumPy oracle, on every Keras backend.

Marked `backend`: `make test` runs them on TensorFlow, then with KERAS_BACKEND=torch and jax.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import classbalance as cb  # noqa: E402
import loss_reference as ref  # noqa: E402
from backend_gradient import backend_gradient  # noqa: E402
from classbalance.keras.losses import (  # noqa: E402
    ClassBalancedLoss,
    DeferredReweighting,
    LDAMLoss,
    LogitAdjustedLoss,
    SparseFocalLoss,
)

pytestmark = pytest.mark.backend

COUNTS = ref.COUNTS


def _data(n: int = 64, k: int = 4, seed: int = 0, spread: float = 3.0):
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(n, k)) * spread).astype(np.float32)
    y = rng.integers(0, k, size=n)
    return z, y


keras_losses = importlib.import_module("classbalance.keras.losses")
CASES = ref.loss_cases(keras_losses)


def _with_logits(make):
    loss = make()
    loss.from_logits = True
    return loss


def _gradient(loss, y, z):
    """d mean-loss / d logits on the active backend."""
    return backend_gradient(loss, y, z)


class TestAgainstOracle:
    @pytest.mark.parametrize("case", sorted(CASES))
    def test_logits_match_reference(self, case):
        """With from_logits=True, per-sample values equal the NumPy oracle."""
        make, oracle = CASES[case]
        z, y = _data()
        loss = _with_logits(make)
        loss.reduction = None
        got = keras.ops.convert_to_numpy(loss(y, z))
        np.testing.assert_allclose(got, oracle(z, y), rtol=2e-4, atol=1e-5)

    @pytest.mark.parametrize("case", sorted(CASES))
    def test_probabilities_match_reference(self, case):
        """Softmax outputs (from_logits=False, the default) give the same values."""
        make, oracle = CASES[case]
        z, y = _data(spread=1.0)
        probs = ref.softmax(z).astype(np.float32)
        got = float(keras.ops.convert_to_numpy(make()(y[:, None], probs)))
        assert got == pytest.approx(oracle(z, y).mean(), rel=1e-3)

    @pytest.mark.parametrize("case", sorted(CASES))
    def test_gradients_finite_when_saturated(self, case):
        """Gradients stay finite for huge logits (softmax saturated to exactly 0 and 1)."""
        make, _ = CASES[case]
        z, y = _data(spread=60.0)
        z[np.arange(8), y[:8]] = 200.0  # some samples certain and right
        grad = _gradient(_with_logits(make), y, z)
        assert grad.shape == z.shape
        assert np.all(np.isfinite(grad))

    def test_logit_adjusted_gradient_is_shifted_softmax(self):
        """d LA / d z = (softmax(z + tau log pi) - onehot(y)) / N."""
        z, y = _data()
        prior = np.asarray(COUNTS) / np.sum(COUNTS)
        expected = (ref.softmax(z + 0.7 * np.log(prior)) - np.eye(4)[y]) / len(y)
        grad = _gradient(LogitAdjustedLoss(COUNTS, tau=0.7, from_logits=True), y, z)
        np.testing.assert_allclose(grad, expected, atol=1e-6)


class TestWeightedMeanConvention:
    @pytest.mark.parametrize("case", sorted(ref.weighted_cases(keras_losses)))
    def test_mean_divides_by_samples_and_the_recipe_by_weights(self, case):
        """The default reduction divides by N; the documented recipe (sum / batch weights)
        gives the divide-by-weights convention. The batch tells the two apart."""
        make, oracle, w = ref.weighted_cases(keras_losses)[case]
        z, y = ref.long_tailed_batch()
        z = z.astype(np.float32)
        per_sample = oracle(z, y)
        over_n = ref.weighted_mean(per_sample, w[y], "samples")
        over_w = ref.weighted_mean(per_sample, w[y], "weights")
        assert abs(over_n - over_w) > 0.1 * over_n  # a mix-up cannot pass
        loss = _with_logits(make)
        assert float(keras.ops.convert_to_numpy(loss(y, z))) == pytest.approx(over_n, rel=1e-4)
        loss.reduction = "sum"
        total = keras.ops.convert_to_numpy(loss(y, z))
        batch_weights = keras.ops.convert_to_numpy(
            keras.ops.sum(keras.ops.take(loss.class_weight, y))
        )
        assert float(total / batch_weights) == pytest.approx(over_w, rel=1e-4)


class TestReductions:
    def test_plain_cases_equal_sparse_crossentropy(self):
        """gamma=0 focal, beta=0 class-balanced and tau=0 logit-adjusted are plain CE."""
        z, y = _data()
        probs = ref.softmax(z).astype(np.float32)
        plain = float(keras.losses.SparseCategoricalCrossentropy()(y, probs))
        for loss in (
            SparseFocalLoss(gamma=0.0),
            ClassBalancedLoss(COUNTS, beta=0.0),
            LogitAdjustedLoss(COUNTS, tau=0.0),
        ):
            assert float(loss(y, probs)) == pytest.approx(plain, rel=1e-5), loss.name

    def test_sample_weight_multiplies(self):
        """Keras sample weights multiply the per-sample losses (one-sample weights)."""
        z, y = _data(n=8)
        loss = LogitAdjustedLoss(COUNTS, from_logits=True)
        weights = np.r_[np.ones(4), np.zeros(4)].astype(np.float32)
        expected = ref.logit_adjusted(z, y, COUNTS)[:4].sum() / 8
        got = float(loss(y, z, sample_weight=weights))
        assert got == pytest.approx(expected, rel=1e-4)

    def test_logit_adjusted_favours_rare_classes_at_test_time(self):
        """LA penalizes a rare-class miss more than plain CE does: its loss on rare labels is
        larger at equal logits, and smaller on frequent ones."""
        z = np.zeros((2, 4), np.float32)
        y = np.array([0, 3])
        la = keras.ops.convert_to_numpy(
            LogitAdjustedLoss(COUNTS, from_logits=True, reduction=None)(y, z)
        )
        assert la[1] > np.log(4) > la[0]


class TestSerialization:
    @pytest.mark.parametrize("case", sorted(CASES))
    def test_round_trip(self, case):
        """serialize -> deserialize gives an equal config and equal values."""
        loss = CASES[case][0]()
        again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
        assert type(again) is type(loss)
        assert again.get_config() == loss.get_config()
        z, y = _data(n=8)
        probs = ref.softmax(z).astype(np.float32)
        assert float(again(y, probs)) == pytest.approx(float(loss(y, probs)), rel=1e-6)

    def test_model_saves_and_loads_with_loss(self, tmp_path):
        """A model compiled with a classbalance loss survives model.save / load_model."""
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="softmax")])
        model.compile("adam", LDAMLoss(COUNTS, scale=1.0))
        model.fit(np.zeros((4, 3)), np.arange(4), verbose=0)
        path = tmp_path / "m.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert isinstance(loaded.loss, LDAMLoss)
        np.testing.assert_allclose(loaded.loss.margins, model.loss.margins)


class TestTraining:
    @pytest.mark.parametrize("case", ["focal_alpha", "cb_focal", "ldam", "la"])
    def test_fit_reduces_loss(self, case):
        """fit() with each loss runs on this backend and lowers the loss."""
        rng = np.random.default_rng(1)
        y = np.repeat(np.arange(4), [*COUNTS[:3], 12])[:300]
        y = rng.permutation(np.r_[y, np.arange(4)])
        x = (np.eye(4)[y] + rng.normal(scale=0.5, size=(len(y), 4))).astype(np.float32)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="softmax")])
        model.compile(keras.optimizers.Adam(0.05), CASES[case][0]())
        history = model.fit(x, y, epochs=5, batch_size=64, verbose=0).history["loss"]
        assert np.all(np.isfinite(history))
        assert history[-1] < history[0]

    def test_deferred_reweighting_switches_weights_in_compiled_step(self):
        """With lr=0 the epoch loss is the oracle LDAM loss: unweighted before
        start_epoch and class-balanced weighted from it (so the compiled step saw it)."""
        z, y = _data(n=32, spread=1.0)
        x = z.copy()
        loss = LDAMLoss(COUNTS, scale=2.0, from_logits=True)
        identity = keras.layers.Dense(4, use_bias=False, kernel_initializer="identity")
        model = keras.Sequential([keras.Input((4,)), identity])
        model.compile(keras.optimizers.SGD(0.0), loss)
        drw = DeferredReweighting(loss, start_epoch=2, beta=0.999)
        history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, callbacks=[drw])
        counts = np.asarray(COUNTS, np.float64)
        w = (1 - 0.999) / (1 - 0.999**counts)
        w = w / w.sum() * 4
        before = ref.ldam(z, y, COUNTS, scale=2.0).mean()
        after = ref.ldam(z, y, COUNTS, scale=2.0, weight=w).mean()
        assert before != pytest.approx(after, rel=1e-2)
        np.testing.assert_allclose(history.history["loss"], [before] * 2 + [after] * 2, rtol=1e-4)


class TestValidation:
    def test_zero_count_is_refused(self):
        """A class with no training samples cannot get a margin or a log prior."""
        with pytest.raises(ValueError, match=r"`class_counts` must be > 0.*classes \[2\]"):
            LDAMLoss([10, 5, 0])

    def test_width_mismatch_is_refused(self):
        """A model with more outputs than counts is an error that says both numbers."""
        with pytest.raises(ValueError, match="outputs 5 classes but `class_counts` has 4"):
            LogitAdjustedLoss(COUNTS)(np.array([0]), np.full((1, 5), 0.2, np.float32))

    def test_counts_or_prior(self):
        """LogitAdjustedLoss needs exactly one of class_counts and prior."""
        with pytest.raises(ValueError, match="exactly one of `class_counts` and `prior`"):
            LogitAdjustedLoss(COUNTS, prior=[0.5, 0.5])
        with pytest.raises(ValueError, match="exactly one"):
            LogitAdjustedLoss()

    @pytest.mark.parametrize(
        ("make", "match"),
        [
            (lambda: SparseFocalLoss(gamma=-1), r"`gamma` must be a number >= 0\. Received"),
            (lambda: SparseFocalLoss(alpha=[0.5, -1]), "`alpha` must be None"),
            (lambda: ClassBalancedLoss(COUNTS, beta=1.0), r"`beta` must be in \[0, 1\)"),
            (lambda: ClassBalancedLoss(COUNTS, loss="bce"), "`loss` must be one of 'ce', 'focal'"),
            (lambda: LDAMLoss(COUNTS, scale=0), "`scale` must be a number > 0"),
            (lambda: LDAMLoss(COUNTS, class_weight=[1, 2]), "one weight >= 0 per class"),
            (lambda: LDAMLoss([5]), "at least 2 per-class counts"),
            (lambda: SparseFocalLoss(from_logits="yes"), "`from_logits` must be True or False"),
        ],
    )
    def test_bad_arguments(self, make, match):
        """Bad arguments raise a message naming the argument."""
        with pytest.raises(ValueError, match=match):
            make()

    def test_reachable_from_keras_package(self):
        """`classbalance.keras.losses` is reachable as an attribute of the package."""
        import classbalance.keras as cbk

        assert cbk.losses.LDAMLoss is LDAMLoss

    def test_class_distribution_is_accepted(self):
        """A ClassDistribution can stand in for the counts."""
        dist = cb.class_distribution(np.repeat([0, 1, 2, 3], COUNTS))
        np.testing.assert_allclose(LDAMLoss(dist).margins, LDAMLoss(COUNTS).margins)
