"""synthetic_oversample: SMOTE-family over-sampling of feature vectors via imbalanced-learn."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("imblearn")

import classbalance as cb
from classbalance.synthetic import SYNTHETIC_METHODS


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(["big", "mid", "small"]), [80, 30, 12])
    x = rng.normal(size=(len(y), 4)) + 3.0 * (y == "small")[:, None]
    return x, y


class TestSmote:
    @pytest.mark.parametrize("method", SYNTHETIC_METHODS)
    def test_balances_and_keeps_originals_first(self, method):
        """Originals come first, unchanged; the classes end up (nearly) balanced."""
        x, y = _data()
        x_res, y_res = cb.synthetic_oversample(x, y, method, seed=0)
        np.testing.assert_array_equal(x_res[: len(x)], x)
        np.testing.assert_array_equal(y_res[: len(y)], y)
        counts = cb.class_distribution(y_res).counts
        assert counts.max() == 80
        assert counts.min() >= (60 if method in ("adasyn", "svm_smote") else 80)

    def test_synthetic_points_interpolate_within_their_class(self):
        """Every SMOTE point lies on a segment from a real sample of its class to one of that
        sample's k nearest neighbours in the class; no point of another class is created."""
        x, y = _data()
        k = 5
        x_res, y_res = cb.synthetic_oversample(x, y, k_neighbors=k, seed=1)
        new_x, new_y = x_res[len(x) :], y_res[len(y) :]
        assert set(new_y) == {"mid", "small"}
        for c in ("mid", "small"):
            real = x[y == c]
            made = new_x[new_y == c]
            # Segments (a, b): each real sample a to its k nearest real neighbours b.
            dist = np.linalg.norm(real[:, None] - real[None], axis=-1)
            neighbours = np.argsort(dist, axis=1)[:, 1 : k + 1]
            a = np.repeat(real, k, axis=0)
            b = real[neighbours.ravel()]
            ab = b - a
            t = np.einsum("psd,sd->ps", made[:, None] - a[None], ab) / np.sum(ab * ab, axis=1)
            closest = a[None] + np.clip(t, 0, 1)[..., None] * ab[None]
            gap = np.linalg.norm(closest - made[:, None], axis=-1).min(axis=1)
            assert np.all(gap < 1e-9), gap.max()

    def test_seed_reproducible_and_dict_strategy(self):
        """Same seed, same samples; a dict strategy sets target counts by class value."""
        x, y = _data()
        a = cb.synthetic_oversample(x, y, seed=3)
        b = cb.synthetic_oversample(x, y, seed=3)
        np.testing.assert_array_equal(a[0], b[0])
        _, y_res = cb.synthetic_oversample(x, y, strategy={"small": 40}, seed=0)
        _, counts = np.unique(y_res, return_counts=True)
        assert counts.tolist() == [80, 30, 40]

    def test_one_hot_labels_round_trip(self):
        """One-hot y comes back one-hot."""
        x, y = _data()
        _, codes = np.unique(y, return_inverse=True)
        x_res, y_res = cb.synthetic_oversample(x, np.eye(3)[codes], seed=0)
        assert y_res.shape == (len(x_res), 3)
        assert y_res.sum(0).tolist() == [80, 80, 80]


class TestValidation:
    def test_images_are_refused_with_advice(self):
        """A 4-D image batch is refused, pointing to embeddings."""
        with pytest.raises(ValueError, match="feature vectors, not raw images"):
            cb.synthetic_oversample(np.zeros((10, 8, 8, 3)), [0] * 5 + [1] * 5)

    def test_too_small_class(self):
        """A class with <= k_neighbors samples is named, with the fix."""
        x, y = _data()
        with pytest.raises(ValueError, match=r"Classes \['small'\] have 12 .* at most 11"):
            cb.synthetic_oversample(x, y, k_neighbors=12)

    def test_bad_method_and_unknown_class(self):
        """Unknown method or strategy class are named."""
        x, y = _data()
        with pytest.raises(ValueError, match="`method` must be one of 'smote'"):
            cb.synthetic_oversample(x, y, "gan")
        with pytest.raises(ValueError, match=r"not in y: \['tiny'\]"):
            cb.synthetic_oversample(x, y, strategy={"tiny": 5})

    def test_missing_imblearn_names_the_extra(self, monkeypatch):
        """Without imbalanced-learn the error says what to install."""
        monkeypatch.setitem(sys.modules, "imblearn.over_sampling", None)
        x, y = _data()
        with pytest.raises(ImportError, match=r'pip install "classbalance\[imblearn\]"'):
            cb.synthetic_oversample(x, y)
