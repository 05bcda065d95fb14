"""Keras multi-label losses (AsymmetricLoss, WeightedBinaryCrossentropy) against the NumPy
oracle, on every Keras backend (marked `backend`)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import multilabel_reference as ref  # noqa: E402
from backend_gradient import backend_gradient  # noqa: E402
from classbalance.keras.losses import AsymmetricLoss, WeightedBinaryCrossentropy  # noqa: E402

pytestmark = pytest.mark.backend

POS_WEIGHT = [0.5, 1.0, 3.0, 9.0, 20.0]


def _gradient(loss, y, z):
    """d loss / d logits on the active backend (float32)."""
    return backend_gradient(loss, np.asarray(y, np.float32), np.asarray(z, np.float32))


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


class TestAsymmetricLoss:
    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_logits_match_oracle(self, case):
        """Per-sample values (mean over labels) equal the oracle, from logits."""
        params = ref.ASL_CASES[case]
        z, y = ref.data(margin=params["clip"])
        loss = AsymmetricLoss(**params, reduction=None)
        got = _numpy(loss(y.astype(np.float32), z.astype(np.float32)))
        expected = ref.asymmetric(z, y, **params).mean(axis=1)
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)

    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_probabilities_match_oracle(self, case):
        """Sigmoid outputs with from_logits=False give the same mean loss."""
        params = ref.ASL_CASES[case]
        z, y = ref.data(spread=1.0, margin=params["clip"])
        probs = ref.sigmoid(z).astype(np.float32)
        got = float(_numpy(AsymmetricLoss(**params, from_logits=False)(y, probs)))
        assert got == pytest.approx(ref.asymmetric(z, y, **params).mean(), rel=1e-4)

    def test_bce_case_equals_keras_bce(self):
        """gamma_neg = gamma_pos = clip = 0 is keras.losses.BinaryCrossentropy."""
        z, y = ref.data()
        z, y = z.astype(np.float32), y.astype(np.float32)
        plain = float(_numpy(keras.losses.BinaryCrossentropy(from_logits=True)(y, z)))
        assert float(_numpy(AsymmetricLoss(0, 0, 0)(y, z))) == pytest.approx(plain, rel=1e-5)

    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_gradient_matches_oracle(self, case):
        """The backend's gradient equals finite differences of the float64 oracle."""
        params = ref.ASL_CASES[case]
        z, y = ref.data(n=6, n_labels=4, margin=params["clip"])
        got = _gradient(AsymmetricLoss(**params), y, z)
        expected = ref.numeric_gradient(lambda v: ref.asymmetric(v, y, **params).mean(), z)
        np.testing.assert_allclose(got, expected, atol=2e-6, rtol=1e-4)

    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_gradient_finite_when_saturated(self, case):
        """Gradients stay finite for logits of +-200."""
        z = np.array([[200.0, -200.0, 200.0, -200.0]] * 2)
        y = np.array([[1, 0, 0, 1], [0, 1, 1, 0]])
        grad = _gradient(AsymmetricLoss(**ref.ASL_CASES[case]), y, z)
        assert np.all(np.isfinite(grad))

    def test_original_sum_scale(self):
        """reduction="sum" times n_labels is the authors' sum over batch and labels."""
        z, y = ref.data()
        loss = AsymmetricLoss(reduction="sum")
        got = float(_numpy(loss(y.astype(np.float32), z.astype(np.float32)))) * z.shape[1]
        assert got == pytest.approx(ref.asymmetric(z, y).sum(), rel=1e-5)

    def test_sample_weight(self):
        """Keras sample weights multiply the per-sample losses."""
        z, y = ref.data(n=8)
        weights = np.r_[np.ones(4), np.zeros(4)].astype(np.float32)
        got = float(_numpy(AsymmetricLoss()(y, z.astype(np.float32), sample_weight=weights)))
        expected = ref.asymmetric(z, y).mean(axis=1)[:4].sum() / 8
        assert got == pytest.approx(expected, rel=1e-5)


class TestWeightedBinaryCrossentropy:
    def test_matches_oracle_and_torch_definition(self):
        """Per-sample values equal -(w y log p + (1 - y) log(1 - p)) averaged over labels."""
        z, y = ref.data()
        loss = WeightedBinaryCrossentropy(POS_WEIGHT, from_logits=True, reduction=None)
        got = _numpy(loss(y.astype(np.float32), z.astype(np.float32)))
        expected = ref.weighted_bce(z, y, POS_WEIGHT).mean(axis=1)
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)

    def test_probabilities(self):
        """from_logits=False (the default) on sigmoid outputs gives the same mean."""
        z, y = ref.data(spread=1.0)
        got = float(_numpy(WeightedBinaryCrossentropy(POS_WEIGHT)(y, ref.sigmoid(z))))
        assert got == pytest.approx(ref.weighted_bce(z, y, POS_WEIGHT).mean(), rel=1e-4)

    def test_unit_weight_is_keras_bce(self):
        """pos_weight=1 equals keras.losses.BinaryCrossentropy."""
        z, y = ref.data()
        z, y = z.astype(np.float32), y.astype(np.float32)
        plain = float(_numpy(keras.losses.BinaryCrossentropy(from_logits=True)(y, z)))
        got = float(_numpy(WeightedBinaryCrossentropy(1.0, from_logits=True)(y, z)))
        assert got == pytest.approx(plain, rel=1e-5)

    def test_gradient_matches_oracle(self):
        """The backend's gradient equals finite differences of the oracle."""
        z, y = ref.data(n=6)
        got = _gradient(WeightedBinaryCrossentropy(POS_WEIGHT, from_logits=True), y, z)
        expected = ref.numeric_gradient(lambda v: ref.weighted_bce(v, y, POS_WEIGHT).mean(), z)
        np.testing.assert_allclose(got, expected, atol=2e-6, rtol=1e-4)

    def test_width_mismatch(self):
        """pos_weight must have one entry per output unit."""
        with pytest.raises(ValueError, match="outputs 3 labels but `pos_weight` has 5"):
            WeightedBinaryCrossentropy(POS_WEIGHT)(np.zeros((2, 3)), np.full((2, 3), 0.5))

    @pytest.mark.parametrize("bad", [None, [-1.0, 2.0], "high", [[1.0]]])
    def test_bad_pos_weight(self, bad):
        """pos_weight must be non-negative numbers."""
        with pytest.raises(ValueError, match="`pos_weight`"):
            WeightedBinaryCrossentropy(bad)


class TestMultiLabelLossCommon:
    @pytest.mark.parametrize(
        "make",
        [
            lambda: AsymmetricLoss(3.0, 0.5, 0.1, from_logits=False),
            lambda: WeightedBinaryCrossentropy(POS_WEIGHT, from_logits=True),
        ],
        ids=["asl", "wbce"],
    )
    def test_round_trip(self, make):
        """serialize -> deserialize gives an equal config and equal values."""
        loss = make()
        again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
        assert type(again) is type(loss)
        assert again.get_config() == loss.get_config()
        z, y = ref.data(spread=1.0)
        pred = (z if loss.from_logits else ref.sigmoid(z)).astype(np.float32)
        assert float(_numpy(again(y, pred))) == pytest.approx(float(_numpy(loss(y, pred))))

    def test_model_fits_saves_and_loads(self, tmp_path):
        """fit() lowers the loss; the model survives save / load_model with its loss."""
        rng = np.random.default_rng(0)
        y = (rng.random((256, 5)) < 0.25).astype(np.float32)
        x = (y + 0.4 * rng.normal(size=y.shape)).astype(np.float32)
        keras.utils.set_random_seed(0)
        for loss in (AsymmetricLoss(), WeightedBinaryCrossentropy(POS_WEIGHT, from_logits=True)):
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(5)])
            model.compile(keras.optimizers.Adam(0.05), loss)
            history = model.fit(x, y, epochs=5, batch_size=64, verbose=0).history["loss"]
            assert np.all(np.isfinite(history))
            assert history[-1] < history[0]
        path = tmp_path / "m.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert isinstance(loaded.loss, WeightedBinaryCrossentropy)
        np.testing.assert_allclose(loaded.loss.pos_weight, POS_WEIGHT)

    def test_shape_mismatch(self):
        """Targets must have the output's shape."""
        with pytest.raises(ValueError, match=r"y_true.shape=\(2, 4\)"):
            AsymmetricLoss()(np.zeros((2, 4)), np.zeros((2, 3)))

    def test_rank_mismatch_in_fit(self):
        """Class-id targets of shape (n,) are refused in fit too (unknown batch size)."""
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
        model.compile("sgd", AsymmetricLoss())
        with pytest.raises(ValueError, match="Multi-label targets must have the model output"):
            model.fit(np.zeros((8, 3)), np.zeros(8), verbose=0)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"gamma_neg": -1.0}, ValueError, "`gamma_neg`"),
            ({"gamma_pos": float("inf")}, ValueError, "`gamma_pos`"),
            ({"gamma_neg": None}, TypeError, "`gamma_neg`"),
            ({"clip": 1.5}, ValueError, "`clip`"),
            ({"clip": "0.05"}, TypeError, "`clip`"),
            ({"from_logits": "yes"}, TypeError, "`from_logits`"),
        ],
    )
    def test_bad_arguments(self, kwargs, error, match):
        """Bad arguments are refused, naming the argument and the value."""
        with pytest.raises(error, match=match):
            AsymmetricLoss(**kwargs)
