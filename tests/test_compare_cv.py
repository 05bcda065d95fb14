"""Cross-validation in ``compare`` (``classbalance.compare.cv``): folds that never leak, a fold
run as a split by the one runner (shared models reused within the fold), out-of-fold
predictions that score every sample once per repeat, the plan and racing counting folds, and
the automatic rule, for single- and multi-label data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import classbalance as cb  # noqa: E402
from classbalance.compare import CompareConfig, CompareError, compare  # noqa: E402
from classbalance.compare.budget import fit_plan  # noqa: E402
from classbalance.compare.cv import MIN_TEST_SAMPLES, fold_data, pool_rows, prepare  # noqa: E402
from classbalance.compare.data import assemble  # noqa: E402
from classbalance.compare.report import shared_models  # noqa: E402
from classbalance.compare.task import MULTI_LABEL, SINGLE_LABEL  # noqa: E402
from served import recording_model_fn  # noqa: E402


def _linear(input_shape, n_outputs):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_outputs)])


def _single(n_major=150, n_minor=30, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], [n_major, n_minor + 20, n_minor])
    x = rng.normal(size=(len(y), 4)) + np.eye(3, 4)[y] * 1.5
    x[:, 3] = np.arange(len(y))  # a sample id that survives standardization as an identity
    return x, y


def _multi(n=240, seed=0):
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, 3)) < [0.4, 0.15, 0.06]).astype(np.int64)
    x = rng.normal(size=(n, 4)) + Y @ rng.normal(size=(3, 4))
    x[:, 3] = np.arange(n)
    return x, Y


def _prepared(x, y, task, **cv):
    cfg = CompareConfig(**cv).resolved()
    return prepare(assemble({"all": (x, y)}, cfg, "x", task), cfg)


@pytest.mark.parametrize(("task", "make"), [(SINGLE_LABEL, _single), (MULTI_LABEL, _multi)])
def test_folds_partition_the_data_and_never_leak(task, make):
    """Every repeat's folds partition the samples; a fold's model never sees its own fold in
    training or validation (checked on the rows and on the arrays a run gets: the sample-id
    column); every class or label is spread over the folds; repeats deal differently."""
    x, y = make()
    n = len(y)
    data, ran = _prepared(x, y, task, cv=4, cv_repeats=2)
    assert data.cv.k == 4
    assert ran.seeds == 2
    assert len(data.y_test) == n
    counts = task.counts(y, y.shape[1] if y.ndim == 2 else 3)
    for repeat in range(2):
        scored = np.zeros(n, dtype=int)
        for fold in range(4):
            train, val, test = data.cv.rows(task, y, repeat, fold)
            assert not np.intersect1d(train, test).size
            assert not np.intersect1d(val, test).size
            assert not np.intersect1d(train, val).size
            assert len(train) + len(val) + len(test) == n
            scored[test] += 1
            share = task.counts(y[test], len(counts)) / counts  # about 1/4 in each fold
            assert np.all(np.abs(share - 0.25) <= 0.25 / 2 + 1.0 / counts)
            part, rows = fold_data(data, repeat, fold)
            assert np.array_equal(rows, test)
            ids_train, ids_val, ids_test = (part.x_train[:, 3], part.x_val[:, 3], part.x_test[:, 3])
            assert not np.intersect1d(ids_train, ids_test).size
            assert not np.intersect1d(ids_val, ids_test).size
            assert len(np.unique(ids_test)) == len(test)
            assert abs(float(part.x_train[:, 0].mean())) < 1e-5  # the fold's own statistics
        assert (scored == 1).all()
    assert not np.array_equal(data.cv.assignments[0], data.cv.assignments[1])


def test_stratified_folds_checks_its_arguments_and_is_seeded():
    y = np.repeat([0, 1], [20, 5])
    assert np.array_equal(cb.stratified_folds(y, 5, seed=3), cb.stratified_folds(y, 5, seed=3))
    assert np.bincount(cb.stratified_folds(y, 5, seed=3)[y == 1]).tolist() == [1] * 5
    for bad in (1, 26, 2.5, True):
        with pytest.raises(ValueError, match=r"Received: n_folds="):
            cb.stratified_folds(y, bad)


def test_pooling_refuses_a_sample_scored_twice_or_never():
    """Fold rows pool onto their samples (a per-fold array onto every row of its fold), steps
    add up, metrics average; folds that do not partition the samples are refused."""
    row = {"strategy": "none", "seed": 0, "m": 1.0, "steps": 3, "details": {}, "_epochs": 2,
           "_pred": np.array([1, 2]), "_thresholds": np.array([0.3]),
           "_rows": np.array([0, 3])}  # fmt: skip
    other = {**row, "m": 0.0, "_rows": np.array([1, 2]), "_fold": 1}
    pooled = pool_rows(4, [other, row])
    assert pooled["_pred"].tolist() == [1, 1, 2, 2]
    assert (pooled["m"], pooled["steps"], pooled["_epochs"]) == (0.5, 6, 2)
    assert pooled["_thresholds"].shape == (4, 1)
    assert "_rows" not in pooled
    with pytest.raises(RuntimeError, match="1 were scored by no fold"):
        pool_rows(4, [row, {**row, "_rows": np.array([1]), "_pred": np.array([0])}])
    with pytest.raises(RuntimeError, match="1 by more than one"):
        pool_rows(4, [row, {**row, "_rows": np.array([1, 0, 2]), "_pred": np.zeros(3, int)}])


def test_the_rule_switches_on_few_rare_test_samples_and_can_be_overridden():
    """cv=None cross-validates exactly when the rarest class would have < 20 test samples in
    the single split; cv=0 keeps the split (and warns as before); a fixed test set refuses cv."""
    for n_minor, expected in ((60, 5), (100, 0)):  # 12 and 20 test samples of the rarest class
        x, y = _single(n_major=300, n_minor=n_minor)
        cfg = CompareConfig().resolved()
        data = assemble({"all": (x, y)}, cfg, "x", SINGLE_LABEL)
        assert (int(data.test_counts.min()) < MIN_TEST_SAMPLES) == bool(expected)
        cv_data, _ = prepare(data, cfg)
        assert (cv_data.cv.k if cv_data.cv is not None else 0) == expected
    data.notes.append("How the data were read.")  # notes not about the split are kept
    kept = prepare(data, CompareConfig(cv=3).resolved())[0].notes
    assert kept[0].startswith("Cross-validation (--cv 3)")
    assert kept[-1] == "How the data were read."
    x, y = _single(n_major=60, n_minor=10)  # 2 of the rarest in the test split: a warning
    cfg = CompareConfig(cv=0).resolved()
    with pytest.warns(UserWarning, match="only 2 test samples"):
        data = assemble({"all": (x, y)}, cfg, "x", SINGLE_LABEL)
    assert prepare(data, cfg)[0].cv is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cross-validated: the single split's warning is moot
        auto, _ = _prepared(x, y, SINGLE_LABEL)
    assert auto.cv.k == 5
    assert "would have 2 test samples (< 20)" in auto.notes[0]
    cfg = CompareConfig(cv=3).resolved()
    fixed = assemble({"all": (x, y), "test": (x, y)}, cfg, "x", SINGLE_LABEL)
    with pytest.raises(CompareError, match="needs data that come as one set"):
        prepare(fixed, cfg)
    with pytest.raises(CompareError, match="Received: cv=1"):
        CompareConfig(cv=1).resolved()


def test_a_fold_reuses_its_none_model_and_every_sample_is_scored_once_per_repeat():
    """One runner: within each fold posthoc_adjust takes 0 steps and its predictions are the
    NumPy transform of that fold's `none` model (logits - log prior, tau = 1: fewer than 20
    validation samples per class); pooled, each repeat scores every sample once (the summed
    confusion matrices are those of the pooled predictions), the estimate is the mean of the
    repeats' pooled balanced accuracies, and the paired difference to `none` is that mean's."""
    x, y = _single(n_major=60, n_minor=12)
    log = []
    result = compare(x, y, model=recording_model_fn(log), strategies=["none", "posthoc_adjust"],
                     epochs=2, cv=2, cv_repeats=2, jobs=1)  # fmt: skip
    n = len(y)
    runs = result.runs.set_index(["strategy", "seed"])
    data, _ = _prepared(x, y, SINGLE_LABEL, cv=2, cv_repeats=2)
    trained = [o for o in log if o.steps]  # one `none` model per (repeat, fold), in order
    assert len(trained) == 2 * 2
    for repeat in range(2):
        steps = 0
        for fold in range(2):
            part, rows = fold_data(data, repeat, fold)
            assert part.val_counts.max() < 20
            model = trained[2 * repeat + fold]
            weights = [np.asarray(w, np.float64) for w in model.weights_at_fit_end[0]]
            logits = np.maximum(part.x_test @ weights[0] + weights[1], 0) @ weights[2] + weights[3]
            adjusted = logits - np.log(part.train_counts / part.n_train)
            pooled = {n: result.predictions[n][repeat][rows] for n in result.predictions}
            np.testing.assert_array_equal(pooled["none"], logits.argmax(1))
            np.testing.assert_array_equal(pooled["posthoc_adjust"], adjusted.argmax(1))
            steps += 2 * int(np.ceil(part.n_train / 32))
        assert runs.loc[("none", repeat), "steps"] == steps  # equal budgets, summed over folds
        assert runs.loc[("posthoc_adjust", repeat), "steps"] == 0
        assert runs.loc[("posthoc_adjust", repeat), "base_steps"] == steps
        assert len(runs.loc[("none", repeat), "details"]["folds"]) == 2
    assert "2-fold cross-validation x 2 repeat(s)" in result.data_description
    scores = {}
    for name, pred in result.predictions.items():
        assert pred.shape == (2, n)
        confusion = sum(cb.imbalance_report(y, p, classes=[0, 1, 2]).confusion for p in pred)
        assert np.array_equal(np.asarray(confusion), result.confusions[name])
        assert int(result.confusions[name].sum()) == 2 * n
        scores[name] = np.array([cb.metrics.balanced_accuracy(y, p) for p in pred])
        assert result.summary.loc[name, "balanced_accuracy"] == pytest.approx(scores[name].mean())
    diff = result.summary.loc["posthoc_adjust"]
    assert diff["vs_none"] == pytest.approx((scores["posthoc_adjust"] - scores["none"]).mean())
    assert diff["vs_none_low"] <= diff["vs_none"] <= diff["vs_none_high"]
    assert result.plan["plan"]["folds"] == 2
    rule = shared_models(result)["rule"]
    assert "model of the same repeat and fold" in rule
    assert "same seed" not in rule


def test_multilabel_cv_uses_each_folds_tuned_thresholds():
    """The same path for multi-hot labels: pooled (1, n, labels) probabilities, and the tuned
    macro-F1 applies each fold's thresholds (from its own validation split) to its rows."""
    x, Y = _multi()
    result = compare(x, Y, model=_linear, strategies=["none"], epochs=1, cv=2, cv_repeats=1)
    probs = result.predictions["none"]
    assert probs.shape == (1, len(Y), 3)
    folds = result.runs.loc[0, "details"]["folds"]
    data, _ = _prepared(x, Y, MULTI_LABEL, cv=2, cv_repeats=1)
    thresholds = np.empty((len(Y), 3))
    for f, fold in enumerate(folds):
        thresholds[data.cv.rows(MULTI_LABEL, Y, 0, f)[2]] = fold["thresholds"]
    decided = probs[0] >= thresholds
    tp, fp, fn = ((decided & (Y == 1)).sum(0), (decided & (Y == 0)).sum(0),
                  (~decided & (Y == 1)).sum(0))  # fmt: skip
    f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    assert result.summary.loc["none", "macro_f1_tuned"] == pytest.approx(f1.mean())
    report = cb.multilabel_report(Y, probs[0], thresholds=0.5)
    assert result.summary.loc["none", "mAP"] == pytest.approx(report.mAP)


def test_the_plan_counts_folds_and_racing_races_the_repeats():
    """The estimate of a cross-validated grid is that of runs x folds; racing goes round by
    round over the repeats (every strategy on repeat 0, all its folds), `none` on every repeat,
    each row pooled over all folds."""
    args = {"strategies": ["none", "focal"], "seeds": 3, "epochs": 10, "workers": 1,
            "epoch_seconds": 1.0, "start_seconds": 2.0, "budget_seconds": None}  # fmt: skip
    one, five = fit_plan(**args), fit_plan(**args, folds=5)
    assert five.estimated_seconds - 15 == pytest.approx(5 * (one.estimated_seconds - 15))
    assert "x 5 folds" in five.describe()
    x, y = _single(n_major=60, n_minor=12)
    result = compare(x, y, model=_linear, strategies=["none", "undersample"], epochs=1, seeds=2,
                     cv=2, race=True, jobs=1)  # fmt: skip
    plan = result.plan
    assert (plan["plan"]["mode"], plan["plan"]["folds"]) == ("race", 2)
    assert [r["after_seeds"] for r in plan["rounds"]] == [1]  # a round after repeat 0
    assert sorted(result.runs.loc[result.runs["strategy"] == "none", "seed"]) == [0, 1]
    assert all(len(d["folds"]) == 2 for d in result.runs["details"])
    assert result.predictions["none"].shape == (2, len(y))


def test_run_one_on_cross_validated_data_is_the_grids_cell():
    """run_one (one grid cell) on prepared cross-validation data trains every fold of that
    repeat and pools them: every sample predicted once, steps summed over the folds, the same
    predictions as the grid's row for that strategy and repeat."""
    from classbalance.compare.runner import run_one

    x, y = _single(n_major=60, n_minor=12)
    data, cfg = _prepared(x, y, SINGLE_LABEL, cv=2, cv_repeats=2, epochs=1)
    row = run_one(data, cfg, "undersample", 1, _linear)
    assert row["_pred"].shape == (len(y),)
    parts = [fold_data(data, 1, f) for f in range(2)]
    assert sorted(np.concatenate([rows for _, rows in parts]).tolist()) == list(range(len(y)))
    assert (
        row["steps"]
        == row["budget_steps"]
        == sum(int(np.ceil(part.n_train / 32)) for part, _ in parts)
    )
    result = compare(x, y, model=_linear, strategies=["undersample"], epochs=1, seeds=2, cv=2,
                     jobs=1)  # fmt: skip
    np.testing.assert_array_equal(result.predictions["undersample"][1], row["_pred"])
