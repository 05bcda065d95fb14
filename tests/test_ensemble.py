"""BalancedEnsemble: members on different balanced subsets, predictions averaged."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

import classbalance as cb


class RecordingLogisticRegression(LogisticRegression):
    """A real scikit-learn classifier that remembers the rows it was fitted on."""

    def fit(self, X, y, sample_weight=None):
        self.seen_x_, self.seen_y_ = np.array(X), np.array(y)
        return super().fit(X, y, sample_weight=sample_weight)


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(["common", "medium", "rare"]), [300, 60, 15])
    centers = {"common": [0, 0], "medium": [2, 0], "rare": [0, 2]}
    x = np.array([centers[c] for c in y]) + rng.normal(size=(len(y), 2))
    order = rng.permutation(len(y))
    return x[order], y[order]


class TestSubsets:
    def test_members_saw_different_balanced_subsets(self):
        """Each member was fitted on exactly its recorded rows: every rare sample, and a
        disjoint (fresh) equal-size subset of each frequent class."""
        x, y = _data()
        ens = cb.BalancedEnsemble(RecordingLogisticRegression, n_members=4, seed=0, verbose=0)
        ens.fit(x, y)
        rare = set(np.flatnonzero(y == "rare"))
        common_parts = []
        for member, idx in zip(ens.members_, ens.member_indices_):
            np.testing.assert_array_equal(member.seen_x_, x[idx])  # what fit() really got
            np.testing.assert_array_equal(member.seen_y_, y[idx])
            _, counts = np.unique(y[idx], return_counts=True)
            assert counts.tolist() == [15, 15, 15]
            assert rare <= set(idx.tolist())
            common_parts.append(set(idx[y[idx] == "common"].tolist()))
        for i in range(4):
            for j in range(i + 1, 4):
                assert not common_parts[i] & common_parts[j]  # 4 * 15 <= 300: no reuse yet

    def test_seed_reproduces_subsets(self):
        """The same seed gives the same subsets; another seed different ones."""
        x, y = _data()
        a = cb.BalancedEnsemble(LogisticRegression, 3, seed=7, verbose=0).fit(x, y)
        b = cb.BalancedEnsemble(LogisticRegression, 3, seed=7, verbose=0).fit(x, y)
        c = cb.BalancedEnsemble(LogisticRegression, 3, seed=8, verbose=0).fit(x, y)
        for ia, ib in zip(a.member_indices_, b.member_indices_):
            np.testing.assert_array_equal(ia, ib)
        assert any(
            not np.array_equal(ia, ic) for ia, ic in zip(a.member_indices_, c.member_indices_)
        )
        d = cb.BalancedEnsemble(LogisticRegression, 2, verbose=0)
        first = [idx.copy() for idx in d.fit(x, y).member_indices_]
        for i_first, i_again in zip(first, d.fit(x, y).member_indices_):
            np.testing.assert_array_equal(i_first, i_again)  # seed=None is drawn once

    def test_build_model_gets_member_index(self):
        """A build_model taking one argument is called with 0..n_members-1."""
        calls = []

        def build(i):
            calls.append(i)
            return LogisticRegression()

        x, y = _data()
        cb.BalancedEnsemble(build, 3, seed=0, verbose=0).fit(x, y)
        assert calls == [0, 1, 2]


class TestPredictions:
    def test_proba_is_mean_of_members_and_predict_speaks_classes(self):
        """predict_proba averages the members; predict returns class values."""
        x, y = _data()
        ens = cb.BalancedEnsemble(LogisticRegression, 5, seed=0, verbose=0).fit(x, y)
        expected = np.mean([m.predict_proba(x) for m in ens.members_], axis=0)
        np.testing.assert_allclose(ens.predict_proba(x), expected)
        np.testing.assert_allclose(ens.predict_proba(x).sum(1), 1.0)
        assert ens.classes_.tolist() == ["common", "medium", "rare"]
        assert set(ens.predict(x)) <= {"common", "medium", "rare"}

    def test_beats_plain_model_on_balanced_accuracy(self):
        """On the long tail, the ensemble's balanced accuracy beats one plain model's."""
        x, y = _data(1)
        x_test, y_test = _data(2)
        plain = LogisticRegression().fit(x, y)
        ens = cb.BalancedEnsemble(LogisticRegression, 5, seed=0, verbose=0).fit(x, y)
        assert balanced_accuracy_score(y_test, ens.predict(x_test)) > balanced_accuracy_score(
            y_test, plain.predict(x_test)
        )

    def test_progress_per_member(self, capsys):
        """verbose=1 prints one line per member."""
        x, y = _data()
        cb.BalancedEnsemble(LogisticRegression, 2, seed=0).fit(x, y)
        lines = capsys.readouterr().err.strip().splitlines()
        assert [line.split(" trained")[0] for line in lines] == [
            "BalancedEnsemble: member 1/2",
            "BalancedEnsemble: member 2/2",
        ]


class TestValidation:
    def test_errors(self):
        """Bad arguments and misuse raise clear errors."""
        x, y = _data()
        with pytest.raises(ValueError, match="`n_members` must be a positive integer"):
            cb.BalancedEnsemble(LogisticRegression, 0)
        with pytest.raises(ValueError, match="`build_model` must be a callable"):
            cb.BalancedEnsemble(LogisticRegression(), 2)
        with pytest.raises(ValueError, match="`x` has 374 samples but `y` has 375"):
            cb.BalancedEnsemble(LogisticRegression, 2, verbose=0).fit(x[1:], y)
        with pytest.raises(RuntimeError, match="not fitted yet"):
            cb.BalancedEnsemble(LogisticRegression, 2).predict(x)


@pytest.mark.backend
class TestKeras:
    def test_keras_members(self):
        """Compiled Keras models as members: each trained, predictions averaged."""
        keras = pytest.importorskip("keras")
        x, _ = _data()
        x = x.astype("float32")
        _, y = np.unique(_data()[1], return_inverse=True)

        def build():
            model = keras.Sequential(
                [keras.Input((2,)), keras.layers.Dense(3, activation="softmax")]
            )
            model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
            return model

        ens = cb.BalancedEnsemble(build, 3, fit_kwargs={"epochs": 3}, seed=0, verbose=0)
        ens.fit(x, y)
        assert len({id(m) for m in ens.members_}) == 3
        assert all(len(m.history.history["loss"]) == 3 for m in ens.members_)
        expected = np.mean([m.predict(x, verbose=0) for m in ens.members_], axis=0)
        np.testing.assert_allclose(ens.predict_proba(x), expected, rtol=1e-5)
        assert ens.predict(x).tolist() == expected.argmax(1).tolist()
        assert ens.classes_.tolist() == [0, 1, 2]
