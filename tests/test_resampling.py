"""Static resampling: ML-ROS / ML-RUS (invariants, bad input, agreement with one-sample-at-a-time
references) and synthetic_oversample (SMOTE family via imbalanced-learn)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import classbalance as cb
import classbalance.resampling._random as random_resampling
from classbalance.datasets import make_long_tailed_multilabel
from classbalance.distribution import label_distribution
from classbalance.resampling import SYNTHETIC_METHODS, MultiLabelResampling, ml_ros, ml_rus
from strategies import multihot_matrices


def _long_tailed(n: int = 400, n_labels: int = 6, seed: int = 0) -> np.ndarray:
    """Multi-hot labels, label l present with probability 0.5 * 0.5**l (some co-occurrence)."""
    rng = np.random.default_rng(seed)
    prob = 0.5 * 0.5 ** np.arange(n_labels)
    return (rng.random((n, n_labels)) < prob).astype(np.uint8)


def _zipf(n: int = 4000, n_labels: int = 30, seed: int = 0) -> np.ndarray:
    """Many labels whose rates fall from 0.4 to 0.004: many minority labels, large bags."""
    rng = np.random.default_rng(seed)
    prob = 0.4 * 0.01 ** (np.arange(n_labels) / (n_labels - 1))
    return (rng.random((n, n_labels)) < prob).astype(np.uint8)


def _clustered(n: int = 300, seed: int = 0) -> np.ndarray:
    """Two frequent labels and four rare ones that mostly occur together.

    Rare labels share samples, so a clone drawn for one label raises the
    others' counts within the same round: the order of turns and when the
    stopping rule is checked change the final counts.
    """
    rng = np.random.default_rng(seed)
    Y = np.zeros((n, 6), dtype=np.uint8)
    Y[:, 0] = rng.random(n) < 0.6
    Y[:, 1] = rng.random(n) < 0.35
    rare = rng.random(n) < 0.08
    for lab in range(2, 6):
        Y[:, lab] = rare & (rng.random(n) < 0.6 - 0.1 * (lab - 2))
    return Y


# One-sample-at-a-time references, written from the paper's loop (Python loops on purpose).


def reference_ros(Y, percentage, rng, *, wrong=None):
    """ML-ROS one clone at a time.

    ``wrong`` selects a deliberately wrong variant, to show the comparison can
    fail: ``"before"`` checks the stopping rule before a label's clone instead
    of after it; ``"round"`` checks every label with the counts at the end of
    the round (a naive vectorization).
    """
    dist = label_distribution(Y)
    counts = dist.counts.astype(np.int64).copy()
    active = [
        lab
        for lab in range(Y.shape[1])
        if np.isfinite(dist.irlbl[lab]) and dist.irlbl[lab] > dist.mean_ir
    ]
    bags = {lab: np.flatnonzero(Y[:, lab]) for lab in active}
    budget = _budget(percentage, len(Y))
    clones = []
    while budget > 0 and active:
        staying = []
        for lab in active:
            if budget == 0:
                break
            if wrong == "before" and counts.max() / counts[lab] <= dist.mean_ir:
                continue
            row = bags[lab][rng.integers(len(bags[lab]))]
            clones.append(row)
            counts += Y[row]
            budget -= 1
            if wrong == "round" or counts.max() / counts[lab] > dist.mean_ir:
                staying.append(lab)
        if wrong == "round":
            staying = [lab for lab in staying if counts.max() / counts[lab] > dist.mean_ir]
        active = staying
    return np.sort(np.r_[np.arange(len(Y)), np.array(clones, dtype=np.int64)])


def reference_rus(Y, percentage, rng):
    """ML-RUS one deletion at a time; samples with a minority label are never deleted."""
    dist = label_distribution(Y)
    counts = dist.counts.astype(np.int64).copy()
    finite = np.isfinite(dist.irlbl)
    minority = np.flatnonzero(finite & (dist.irlbl > dist.mean_ir))
    active = [lab for lab in range(Y.shape[1]) if finite[lab] and dist.irlbl[lab] < dist.mean_ir]
    protected = Y[:, minority].any(axis=1)
    alive = np.ones(len(Y), dtype=bool)
    budget = _budget(percentage, len(Y))
    while budget > 0 and active:
        staying = []
        for lab in active:
            if budget == 0:
                break
            bag = np.flatnonzero((Y[:, lab] == 1) & alive & ~protected)
            if bag.size == 0:
                continue  # nothing left to delete: the label drops out
            row = bag[rng.integers(bag.size)]
            alive[row] = False
            counts -= Y[row]
            budget -= 1
            with np.errstate(divide="ignore"):
                if counts.max() / counts[lab] < dist.mean_ir:
                    staying.append(lab)
        active = staying
    return np.flatnonzero(alive)


def _budget(percentage: float, n: int) -> int:
    """round(percentage * n), half up (Python's round() goes half to even)."""
    return int(np.floor(percentage * n + 0.5))


def _final_counts(Y, runs):
    return np.array([Y[idx].sum(axis=0) for idx in runs], dtype=np.float64)


def _max_z(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |difference of means| / standard error over columns (inf: a constant differs)."""
    diff = np.abs(a.mean(axis=0) - b.mean(axis=0))
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    return float(
        np.max(np.where(se > 0, diff / np.where(se > 0, se, 1), np.where(diff > 0, np.inf, 0)))
    )


def _patterned_ros() -> np.ndarray:
    """Each minority label's positives share one row pattern: the run is deterministic.

    Clones of labels 2 and 3 also raise the head label 0 (the maximum), which
    changes when the labels after them in the same round leave.
    """
    rows = [[1, 0, 0, 0, 0]] * 120 + [[0, 1, 0, 0, 0]] * 90
    rows += [[1, 0, 1, 0, 0]] * 6 + [[1, 0, 0, 1, 0]] * 4 + [[0, 0, 0, 0, 1]] * 3
    return np.array(rows, dtype=np.uint8)


def _patterned_rus() -> np.ndarray:
    """Deletable positives of each majority label share one pattern: the run is deterministic."""
    rows = [[1, 0, 0, 0]] * 100 + [[0, 1, 0, 0]] * 70 + [[1, 1, 1, 0]] * 6 + [[0, 0, 0, 1]] * 3
    return np.array(rows, dtype=np.uint8)


@pytest.fixture(params=["default", "tiny"])
def chunks(request, monkeypatch):
    """Run with the default chunk sizes, and with chunks of one round at most."""
    if request.param == "tiny":
        monkeypatch.setattr(random_resampling, "_FIRST_CHUNK", 1)
        monkeypatch.setattr(random_resampling, "_MAX_CELLS", 1)
    return request.param


class TestMlRos:
    def test_mean_ir_decreases_on_long_tailed_data(self):
        """ML-ROS lowers MeanIR of generated long-tailed multi-label data."""
        Y = make_long_tailed_multilabel(3000, n_labels=10, seed=0).Y_train
        idx, info = ml_ros(Y, percentage=0.25, seed=0, return_info=True)
        assert label_distribution(Y[idx]).mean_ir < label_distribution(Y).mean_ir - 1.0
        assert info.after.mean_ir == pytest.approx(label_distribution(Y[idx]).mean_ir)

    def test_adds_exactly_the_budget(self):
        """With labels left to clone, exactly round(percentage * n) samples are added."""
        Y = _zipf()
        for percentage in (0.01, 0.03, 0.06):
            idx, info = ml_ros(Y, percentage=percentage, seed=3, return_info=True)
            assert info.stop == "budget"
            assert idx.size - len(Y) == info.n_changed == _budget(percentage, len(Y))

    def test_contains_every_row_and_clones_only_minority_bags(self):
        """All rows appear; every extra copy carries a label that was a minority label."""
        Y = _long_tailed(500, 6)
        dist = label_distribution(Y)
        minority = dist.irlbl > dist.mean_ir
        idx = ml_ros(Y, percentage=0.5, seed=1)
        copies = np.bincount(idx, minlength=len(Y))
        assert np.all(copies >= 1)
        assert np.all(np.diff(idx) >= 0)
        cloned = np.flatnonzero(copies > 1)
        assert cloned.size > 0
        assert Y[cloned][:, minority].any(axis=1).all()

    def test_unlabeled_rows_never_cloned(self):
        """A row with no label belongs to no bag."""
        Y = _long_tailed(300, 5)
        Y[:40] = 0
        copies = np.bincount(ml_ros(Y, percentage=1.0, seed=0), minlength=len(Y))
        assert np.all(copies[:40] == 1)

    def test_stops_when_every_label_reaches_mean_ir(self):
        """A large budget ends with every minority label at IRLbl <= MeanIR of the input.

        (A label that left can be pushed back above MeanIR by later clones that raise the
        maximum count; the algorithm does not bring it back. Not the case on these labels.)
        """
        Y = _long_tailed(400, 6)
        dist = label_distribution(Y)
        idx, info = ml_ros(Y, percentage=1.0, seed=2, return_info=True)
        assert info.stop == "balanced"
        assert info.n_changed < info.budget
        counts = Y[idx].sum(axis=0)
        minority = dist.irlbl > dist.mean_ir
        assert np.all(counts.max() / counts[minority] <= dist.mean_ir)

    def test_deterministic_per_seed(self):
        """Same seed, same indices; another seed, other indices."""
        Y = _long_tailed(500, 6)
        a = ml_ros(Y, percentage=0.2, seed=7)
        np.testing.assert_array_equal(a, ml_ros(Y, percentage=0.2, seed=7))
        assert not np.array_equal(a, ml_ros(Y, percentage=0.2, seed=8))

    @pytest.mark.parametrize("percentage", [0.01, 0.03, 0.1, 0.3, 1.0])
    def test_deterministic_trajectory_matches_reference(self, percentage, chunks):
        """Where draws cannot matter, counts and stop equal the one-at-a-time loop's exactly."""
        Y = _patterned_ros()
        ours = Y[ml_ros(Y, percentage=percentage, seed=0)].sum(axis=0)
        ref = Y[reference_ros(Y, percentage, np.random.default_rng(0))].sum(axis=0)
        np.testing.assert_array_equal(ours, ref)

    @pytest.mark.parametrize("percentage", [0.05, 1.0])
    def test_distribution_matches_reference(self, percentage):
        """Final counts agree in distribution with the one-at-a-time loop; wrong loops differ."""
        Y = _clustered()
        runs = 600
        ours = _final_counts(Y, [ml_ros(Y, percentage=percentage, seed=s) for s in range(runs)])
        rng = np.random.default_rng(12345)
        ref = _final_counts(Y, [reference_ros(Y, percentage, rng) for _ in range(runs)])
        assert _max_z(ours, ref) < 4.5
        for wrong in ("before", "round"):
            other = [reference_ros(Y, percentage, rng, wrong=wrong) for _ in range(runs)]
            assert _max_z(_final_counts(Y, other), ref) > 4.5

    def test_clones_uniform_within_a_bag(self):
        """Every positive of the only minority label is cloned about equally often."""
        Y = np.array([[1, 0]] * 900 + [[0, 1]] * 100, dtype=np.uint8)
        tally = np.zeros(len(Y))
        for s in range(40):
            tally += np.bincount(ml_ros(Y, percentage=0.1, seed=s), minlength=len(Y)) - 1
        clones = tally[900:]
        assert tally[:900].sum() == 0
        assert clones.sum() == 40 * 80  # 900 / 180 = 5 = MeanIR: the label leaves at 180
        expected = clones.sum() / 100
        chi2 = float(((clones - expected) ** 2 / expected).sum())
        assert chi2 < 160  # 99 degrees of freedom; p < 1e-4 beyond this

    @given(Y=multihot_matrices(max_labels=6, max_rows=150), seed=st.integers(0, 2**32))
    @settings(max_examples=40, deadline=None)
    def test_invariants_on_random_matrices(self, Y, seed):
        """Any multi-hot matrix: rows kept, clones from minority bags, at most the budget."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idx, info = ml_ros(Y, percentage=0.3, seed=seed, return_info=True)
        dist = label_distribution(Y)
        copies = np.bincount(idx, minlength=len(Y))
        assert np.all(copies >= 1)
        assert idx.size - len(Y) == info.n_changed <= _budget(0.3, len(Y))
        minority = np.isfinite(dist.irlbl) & (dist.irlbl > dist.mean_ir)
        assert Y[copies > 1][:, minority].any(axis=1).all()


class TestMlRus:
    def test_never_removes_minority_samples_and_at_most_the_budget(self):
        """Every sample with a minority label stays; at most round(percentage * n) go."""
        Y = _long_tailed(800, 7)
        dist = label_distribution(Y)
        minority = dist.irlbl > dist.mean_ir
        for percentage in (0.05, 0.25, 1.0):
            idx, info = ml_rus(Y, percentage=percentage, seed=0, return_info=True)
            kept = np.zeros(len(Y), dtype=bool)
            kept[idx] = True
            assert kept[Y[:, minority].any(axis=1)].all()
            assert len(Y) - idx.size == info.n_changed <= _budget(percentage, len(Y))
            assert np.all(np.diff(idx) > 0)

    def test_removes_the_budget_and_lowers_mean_ir(self):
        """A small percentage is removed exactly, and MeanIR falls."""
        Y = make_long_tailed_multilabel(3000, n_labels=10, seed=1).Y_train
        idx, info = ml_rus(Y, percentage=0.1, seed=0, return_info=True)
        assert info.stop == "budget"
        assert len(Y) - idx.size == 300
        assert label_distribution(Y[idx]).mean_ir < label_distribution(Y).mean_ir

    def test_warns_when_a_label_loses_every_positive(self):
        """A large percentage can delete all of a majority label: said, not silent."""
        rows = [[1, 0, 0, 0]] * 120 + [[0, 1, 0, 0]] * 200 + [[0, 1, 1, 0]] * 9 + [[0, 0, 0, 1]] * 3
        Y = np.array(rows, dtype=np.uint8)
        with pytest.warns(UserWarning, match="deleted every positive"):
            idx = ml_rus(Y, percentage=1.0, seed=0)
        assert Y[idx][:, 1].sum() == 0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ml_rus(Y, percentage=0.25, seed=0)

    def test_unlabeled_rows_kept(self):
        """Rows with no label are in no majority bag, so they stay."""
        Y = _long_tailed(300, 5)
        Y[:30] = 0
        idx = ml_rus(Y, percentage=1.0, seed=0)
        assert np.isin(np.arange(30), idx).all()

    def test_deterministic_per_seed(self):
        """Same seed, same indices; another seed, other indices."""
        Y = _long_tailed(500, 6)
        a = ml_rus(Y, percentage=0.2, seed=7)
        np.testing.assert_array_equal(a, ml_rus(Y, percentage=0.2, seed=7))
        assert not np.array_equal(a, ml_rus(Y, percentage=0.2, seed=8))

    @pytest.mark.parametrize("percentage", [0.02, 0.1, 0.3, 0.6, 1.0])
    def test_deterministic_trajectory_matches_reference(self, percentage, chunks):
        """Where draws cannot matter, counts equal the one-at-a-time loop's exactly."""
        Y = _patterned_rus()
        ours = Y[ml_rus(Y, percentage=percentage, seed=0)].sum(axis=0)
        ref = Y[reference_rus(Y, percentage, np.random.default_rng(0))].sum(axis=0)
        np.testing.assert_array_equal(ours, ref)

    @pytest.mark.parametrize("percentage", [0.1, 1.0])
    def test_distribution_matches_reference(self, percentage, chunks):
        """Final label counts and kept-row frequencies agree with the one-at-a-time loop."""
        Y = _long_tailed(120, 5, seed=5)
        runs = 300
        with warnings.catch_warnings():  # at 1.0 some runs delete all of a label, and say so
            warnings.simplefilter("ignore", UserWarning)
            ours_idx = [ml_rus(Y, percentage=percentage, seed=s) for s in range(runs)]
        rng = np.random.default_rng(999)
        ref_idx = [reference_rus(Y, percentage, rng) for _ in range(runs)]
        assert _max_z(_final_counts(Y, ours_idx), _final_counts(Y, ref_idx)) < 4.5
        kept = np.array([np.bincount(i, minlength=len(Y)) for i in ours_idx], dtype=float)
        kept_ref = np.array([np.bincount(i, minlength=len(Y)) for i in ref_idx], dtype=float)
        assert _max_z(kept, kept_ref) < 5.0  # 120 rows compared

    @given(Y=multihot_matrices(max_labels=6, max_rows=150), seed=st.integers(0, 2**32))
    @settings(max_examples=40, deadline=None)
    def test_invariants_on_random_matrices(self, Y, seed):
        """Any multi-hot matrix: distinct kept rows, minority samples kept, at most the budget."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idx, info = ml_rus(Y, percentage=0.5, seed=seed, return_info=True)
        dist = label_distribution(Y)
        assert np.all(np.diff(idx) > 0)
        assert len(Y) - idx.size == info.n_changed <= _budget(0.5, len(Y))
        minority = np.isfinite(dist.irlbl) & (dist.irlbl > dist.mean_ir)
        assert np.isin(np.flatnonzero(Y[:, minority].any(axis=1)), idx).all()


class TestInputs:
    @pytest.mark.parametrize("func", [ml_ros, ml_rus])
    @pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), float("inf")])
    def test_percentage_out_of_range(self, func, bad):
        """percentage outside (0, 1] is a ValueError naming the argument."""
        with pytest.raises(ValueError, match="`percentage`") as info:
            func(_long_tailed(), percentage=bad)
        assert not isinstance(info.value, TypeError)

    @pytest.mark.parametrize("func", [ml_ros, ml_rus])
    @pytest.mark.parametrize("bad", [True, "0.2", None])
    def test_percentage_wrong_type(self, func, bad):
        """A non-number percentage is a TypeError."""
        with pytest.raises(TypeError, match="`percentage`"):
            func(_long_tailed(), percentage=bad)

    @pytest.mark.parametrize("func", [ml_ros, ml_rus])
    def test_all_zero_column_warns(self, func):
        """A label with no positive is reported and never resampled."""
        Y = _long_tailed(300, 5)
        Y[:, 2] = 0
        with pytest.warns(UserWarning, match="no positive"):
            idx = func(Y, percentage=0.2, seed=0)
        assert Y[idx][:, 2].sum() == 0
        assert idx.size != len(Y)

    @pytest.mark.parametrize("func", [ml_ros, ml_rus])
    def test_no_minority_label_returns_identity(self, func):
        """Equally frequent labels: nothing to do, the identity and a warning."""
        Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
        with pytest.warns(UserWarning, match="nothing to resample"):
            idx, info = func(Y, percentage=0.5, seed=0, return_info=True)
        np.testing.assert_array_equal(idx, np.arange(4))
        assert info.stop == "nothing to do"
        assert info.n_changed == 0

    def test_label_sets_and_strings(self):
        """Label sets and separated strings give the same plan as the matrix."""
        sets = [{"a"}] * 30 + [{"a", "b"}] * 3 + [{"c"}] * 2 + [set()] * 5
        strings = ["|".join(sorted(s)) for s in sets]
        Y = cb.encode_multilabel(sets).Y
        a = ml_ros(sets, seed=1)
        np.testing.assert_array_equal(a, ml_ros(strings, sep="|", seed=1))
        np.testing.assert_array_equal(a, ml_ros(Y, seed=1))
        np.testing.assert_array_equal(a, ml_ros(pd.DataFrame(Y, columns=["a", "b", "c"]), seed=1))
        np.testing.assert_array_equal(a, ml_ros(cb.encode_multilabel(sets), seed=1))
        np.testing.assert_array_equal(ml_rus(sets, seed=1), ml_rus(Y, seed=1))

    def test_seed_none_and_generator(self):
        """seed=None draws a fresh seed; a Generator is accepted."""
        Y = _long_tailed(300, 5)
        assert len(Y) < ml_ros(Y, seed=None).size <= 375
        a = ml_rus(Y, seed=np.random.default_rng(0))
        np.testing.assert_array_equal(a, ml_rus(Y, seed=np.random.default_rng(0)))
        assert 225 <= a.size < len(Y)

    def test_top_level_exports(self):
        """cb.ml_ros / cb.ml_rus load lazily from the module."""
        assert cb.ml_ros is ml_ros
        assert cb.ml_rus is ml_rus
        _, info = cb.ml_ros(_long_tailed(), seed=0, return_info=True)
        assert isinstance(info, MultiLabelResampling)
        assert info.method == "ML-ROS"


# ------------------------------------------------------------------ synthetic_oversample
def _features(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(["big", "mid", "small"]), [80, 30, 12])
    x = rng.normal(size=(len(y), 4)) + 3.0 * (y == "small")[:, None]
    return x, y


class TestSynthetic:
    @pytest.fixture(autouse=True)
    def _imblearn(self):
        pytest.importorskip("imblearn")

    @pytest.mark.parametrize("method", SYNTHETIC_METHODS)
    def test_balances_and_keeps_originals_first(self, method):
        """Originals come first, unchanged; the classes end up (nearly) balanced."""
        x, y = _features()
        x_res, y_res = cb.synthetic_oversample(x, y, method, seed=0)
        np.testing.assert_array_equal(x_res[: len(x)], x)
        np.testing.assert_array_equal(y_res[: len(y)], y)
        counts = cb.class_distribution(y_res).counts
        assert counts.max() == 80
        assert counts.min() >= (60 if method in ("adasyn", "svm_smote") else 80)

    def test_synthetic_points_interpolate_within_their_class(self):
        """Every SMOTE point lies on a segment from a real sample of its class to one of that
        sample's k nearest neighbours in the class; no point of another class is created."""
        x, y = _features()
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
        x, y = _features()
        a = cb.synthetic_oversample(x, y, seed=3)
        b = cb.synthetic_oversample(x, y, seed=3)
        np.testing.assert_array_equal(a[0], b[0])
        _, y_res = cb.synthetic_oversample(x, y, strategy={"small": 40}, seed=0)
        _, counts = np.unique(y_res, return_counts=True)
        assert counts.tolist() == [80, 30, 40]

    def test_one_hot_labels_round_trip(self):
        """One-hot y comes back one-hot."""
        x, y = _features()
        _, codes = np.unique(y, return_inverse=True)
        x_res, y_res = cb.synthetic_oversample(x, np.eye(3)[codes], seed=0)
        assert y_res.shape == (len(x_res), 3)
        assert y_res.sum(0).tolist() == [80, 80, 80]


class TestSyntheticValidation:
    @pytest.fixture(autouse=True)
    def _imblearn(self, request):
        if request.node.name != "test_missing_imblearn_names_the_extra":
            pytest.importorskip("imblearn")

    def test_images_are_refused_with_advice(self):
        """A 4-D image batch is refused, pointing to embeddings."""
        with pytest.raises(ValueError, match="feature vectors, not raw images"):
            cb.synthetic_oversample(np.zeros((10, 8, 8, 3)), [0] * 5 + [1] * 5)

    def test_too_small_class(self):
        """A class with <= k_neighbors samples is named, with the fix."""
        x, y = _features()
        with pytest.raises(ValueError, match=r"Classes \['small'\] have 12 .* at most 11"):
            cb.synthetic_oversample(x, y, k_neighbors=12)

    def test_bad_method_and_unknown_class(self):
        """Unknown method or strategy class are named."""
        x, y = _features()
        with pytest.raises(ValueError, match="`method` must be one of 'smote'"):
            cb.synthetic_oversample(x, y, "gan")
        with pytest.raises(ValueError, match=r"not in y: \['tiny'\]"):
            cb.synthetic_oversample(x, y, strategy={"tiny": 5})

    def test_missing_imblearn_names_the_extra(self, monkeypatch):
        """Without imbalanced-learn the error says what to install."""
        monkeypatch.setitem(sys.modules, "imblearn.over_sampling", None)
        x, y = _features()
        with pytest.raises(ImportError, match=r'pip install "classbalance\[imblearn\]"'):
            cb.synthetic_oversample(x, y)
