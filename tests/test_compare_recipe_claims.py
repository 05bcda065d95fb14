"""Every compare recipe does what its name and description claim, observed from outside it.

The observation is the model's own train step (tests/served.py): per optimizer
step, the rows it was served, their labels and sample weights, its logits and
the loss it differentiated, recorded inside the compiled step on every
backend. Nothing reads the recipe's bookkeeping (``ctx.info``, ``ctx.steps``).
Each claim is checked against a NumPy evaluation written here or in
tests/loss_reference.py / tests/multilabel_reference.py:

- sampling recipes: the class shares of the rows really served;
- loss recipes: the loss of every step equals the named loss on that step's
  batch and logits;
- weight recipes: the sample weights of every step are the claimed class
  weights of the rows served;
- post-hoc (posthoc_adjust, tau_norm): the scores are a NumPy transform of the
  same seed's `none` model's weights, and no model but that one trains;
- second stage (cRT, LWS): they start from `none`'s first-stage weights (the
  same as `none` trained for those epochs), cRT moves the classifier only on
  class-balanced batches, LWS multiplies the frozen model's logits by learned
  per-class scales;
- ensemble: each member is trained on its own undersampled subset.

Each test fails when its remedy is dropped (the bugs tried are listed in the
closing note of issue 20).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import loss_reference as ref  # noqa: E402
import multilabel_reference as ml_ref  # noqa: E402
from classbalance.compare import CompareConfig  # noqa: E402
from classbalance.compare.data import DataSplit  # noqa: E402
from classbalance.compare.task import MULTI_LABEL  # noqa: E402
from classbalance.compare.training import RunContext, isolated_random_state  # noqa: E402
from served import ID_SCALE, Observed, recording_model_fn  # noqa: E402

COUNTS = np.array([60, 24, 8])  # training samples per class: 92 rows, 6 batches of 16
BATCH = 16
EPOCHS = 3
STEPS_PER_EPOCH = math.ceil(COUNTS.sum() / BATCH)
RTOL = 2e-5  # float32 losses against float64 oracles


def _with_ids(x: np.ndarray) -> np.ndarray:
    """Feature 0 becomes the row id (row / ID_SCALE, exact in float32)."""
    ids = np.arange(len(x)) / ID_SCALE
    return np.c_[ids, x].astype(np.float32)


@pytest.fixture(scope="module")
def single() -> DataSplit:
    """Three classes, 60 / 24 / 8 training rows; 6 validation rows per class (so tau stays 1)."""
    rng = np.random.default_rng(0)

    def part(counts):
        y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
        return _with_ids(rng.normal(size=(len(y), 3)) + y[:, None]), y

    (x, y), (xv, yv), (xt, yt) = part(COUNTS), part([6, 6, 6]), part([6, 6, 6])
    return DataSplit(x, y, xv, yv, xt, yt, ["a", "b", "c"], "features", "", "given")


@pytest.fixture(scope="module")
def multi() -> DataSplit:
    """Four long-tailed labels on 96 rows, some rows without any label."""
    import classbalance as cb

    d = cb.make_long_tailed_multilabel(
        96, n_val=40, n_test=40, n_labels=4, n_features=4, imbalance_ratio=10, seed=1
    )
    assert (d.Y_train.sum(axis=0) > 0).all()
    assert (d.Y_train.sum(axis=1) == 0).any()
    return DataSplit(
        _with_ids(d.x_train), d.Y_train, _with_ids(d.x_val), d.Y_val, _with_ids(d.x_test),
        d.Y_test, ["l0", "l1", "l2", "l3"], "features", "", "given", task=MULTI_LABEL,
    )  # fmt: skip


def train(data: DataSplit, name: str, epochs: int = EPOCHS) -> tuple[object, list[Observed]]:
    """Run recipe ``name`` on recording models: its predictor, and what each model went through."""
    log: list[Observed] = []
    cfg = CompareConfig(epochs=epochs, batch_size=BATCH, learning_rate=0.01).resolved()
    ctx = RunContext(data, cfg, seed=0, model_fn=recording_model_fn(log))
    with warnings.catch_warnings(), isolated_random_state():  # as run_one does
        warnings.simplefilter("ignore", UserWarning)
        predict = data.task.recipes[name].train(ctx)
    assert log, f"{name} built no model through the model function"
    return predict, log


def only(log: list[Observed]) -> Observed:
    assert len(log) == 1, f"expected one model, {len(log)} were built"
    return log[0]


def served_counts(observed: Observed, y: np.ndarray, stage: int | None = None) -> np.ndarray:
    """Rows served per class; also checks each step's labels are those of the rows served."""
    for step in observed.steps:
        np.testing.assert_array_equal(step.y.astype(np.int64), y[step.rows])
    return np.bincount(y[observed.rows(stage)], minlength=len(COUNTS))


def assert_shares(counts: np.ndarray, shares: np.ndarray, epochs: int) -> None:
    """Every epoch's plan holds ``n_train * share`` of a class, up to rounding (1 per epoch)."""
    expected = epochs * COUNTS.sum() * shares
    assert np.all(np.abs(counts - expected) <= epochs), (counts.tolist(), expected.round(1))


def assert_every_row_once_per_epoch(rows: np.ndarray, n: int, epochs: int) -> None:
    """Plain shuffled training: each epoch is a permutation of the training rows."""
    assert len(rows) == epochs * n
    for epoch in rows.reshape(epochs, n):
        np.testing.assert_array_equal(np.sort(epoch), np.arange(n))


# --------------------------------------------------------------------------- sampling
class TestSampledBatches:
    def test_none_shuffles_every_row_once_per_epoch(self, single):
        """The baseline is plain shuffling: the reference the sampling recipes must differ from."""
        _, log = train(single, "none")
        observed = only(log)
        served_counts(observed, single.y_train)
        assert_every_row_once_per_epoch(observed.rows(), single.n_train, EPOCHS)

    @pytest.mark.backend
    def test_balanced_sampling_serves_equal_class_shares(self, single):
        """balanced_sampling: every class a third of the rows served, n_train per epoch."""
        _, log = train(single, "balanced_sampling")
        counts = served_counts(only(log), single.y_train)
        assert_shares(counts, np.full(3, 1 / 3), EPOCHS)

    def test_sqrt_sampling_serves_shares_by_sqrt_count(self, single):
        """sqrt_sampling: class c served in proportion to sqrt(n_c)."""
        _, log = train(single, "sqrt_sampling")
        counts = served_counts(only(log), single.y_train)
        assert_shares(counts, np.sqrt(COUNTS) / np.sqrt(COUNTS).sum(), EPOCHS)

    def test_undersample_serves_one_subset_of_the_rarest_count(self, single):
        """undersample: one fixed subset, min(n_c) rows of each class, balanced, same steps."""
        _, log = train(single, "undersample")
        observed = only(log)
        counts = served_counts(observed, single.y_train)
        used = np.unique(observed.rows())
        per_class = np.bincount(single.y_train[used], minlength=3)
        assert per_class.tolist() == [COUNTS.min()] * 3  # the rest of the data unused
        assert_shares(counts, np.full(3, 1 / 3), EPOCHS)
        assert len(observed.steps) == EPOCHS * STEPS_PER_EPOCH

    def test_class_aware_draws_each_label_equally(self, multi):
        """class_aware: each draw picks a label uniformly, then one of its positives.

        So every label has at least n_train / L positives among the rows served (a draw of
        label l serves a positive of l), and rows without labels are never served.
        """
        _, log = train(multi, "class_aware")
        observed = only(log)
        for step in observed.steps:
            np.testing.assert_array_equal(step.y, multi.y_train[step.rows])
        served = multi.y_train[observed.rows()]
        n_labels = multi.n_classes
        assert len(served) == EPOCHS * multi.n_train
        assert served.sum(axis=1).min() >= 1  # no unlabeled row
        floor = EPOCHS * (multi.n_train // n_labels) - EPOCHS  # rounding: 1 draw per epoch
        positives = served.sum(axis=0)
        assert positives.min() >= floor, (positives.tolist(), floor)


# --------------------------------------------------------------------------- losses
def _softmax_oracle(name: str, data: DataSplit):
    counts = data.train_counts
    oracles = {
        "none": lambda z, y: ref.focal(z, y, gamma=0.0),
        "focal": lambda z, y: ref.focal(z, y, gamma=2.0),
        "class_balanced_loss": lambda z, y: ref.class_balanced(z, y, counts, 0.999, "focal", 1.0),
        "logit_adjusted_loss": lambda z, y: ref.logit_adjusted(z, y, counts, tau=1.0),
    }
    return oracles[name]


def assert_losses(observed: Observed, oracle, sample_weight: bool = False) -> None:
    """Every step's loss is the batch mean of ``oracle(logits, y)`` (Keras' reduction)."""
    assert observed.steps
    for step in observed.steps:
        assert (step.sample_weight is not None) == sample_weight
        per_sample = oracle(step.logits, step.y)
        if per_sample.ndim == 2:  # multi-label: the mean over labels first
            per_sample = per_sample.mean(axis=1)
        if sample_weight:
            per_sample = per_sample * step.sample_weight
        assert step.loss == pytest.approx(per_sample.mean(), rel=RTOL, abs=1e-7)


class TestMinimizedLoss:
    @pytest.mark.parametrize(
        "name",
        ["none", pytest.param("focal", marks=pytest.mark.backend), "class_balanced_loss",
         "logit_adjusted_loss"],
    )  # fmt: skip
    def test_single_label_loss_is_the_named_loss(self, single, name):
        """The loss each step minimized is the recipe's loss on that step's batch."""
        _, log = train(single, name)
        assert_losses(only(log), _softmax_oracle(name, single))

    def test_ldam_drw_reweights_the_last_fifth_of_the_epochs(self, single):
        """ldam_drw: LDAM (margins C n_c^-1/4, max 0.5, scale 1), class-balanced weights
        (beta 0.9999) from 80% of the epochs on: here epoch 4 of 5."""
        epochs = 5
        _, log = train(single, "ldam_drw", epochs=epochs)
        observed = only(log)
        weights = ref.class_balanced_weights(COUNTS, beta=0.9999)
        start = round(0.8 * epochs) * STEPS_PER_EPOCH
        assert len(observed.steps) == epochs * STEPS_PER_EPOCH
        for i, step in enumerate(observed.steps):
            w = None if i < start else weights
            expected = ref.ldam(step.logits, step.y, COUNTS, 0.5, 1.0, weight=w).mean()
            assert step.loss == pytest.approx(expected, rel=RTOL), f"step {i}"

    @pytest.mark.parametrize(
        "name", ["none", pytest.param("pos_weight", marks=pytest.mark.backend), "asymmetric_loss"]
    )
    def test_multilabel_loss_is_the_named_loss(self, multi, name):
        """pos_weight: BCE with positives weighted by negatives / positives; asymmetric_loss:
        ASL with gamma_neg 4, gamma_pos 1, clip 0.05; none: BCE."""
        n, positives = multi.n_train, multi.train_counts
        oracles = {
            "none": lambda z, y: ml_ref.weighted_bce(z, y, 1.0),
            "pos_weight": lambda z, y: ml_ref.weighted_bce(z, y, (n - positives) / positives),
            "asymmetric_loss": lambda z, y: ml_ref.asymmetric(z, y, 4.0, 1.0, 0.05),
        }
        _, log = train(multi, name)
        assert_losses(only(log), oracles[name])


# --------------------------------------------------------------------------- class weights
def _expected_class_weights(strategy: str) -> np.ndarray:
    """Per-class weights with mean 1 per training sample: n / (K n_c), or Cui's effective."""
    n = COUNTS.sum()
    if strategy == "balanced":
        return n / (len(COUNTS) * COUNTS)
    raw = (1 - 0.999) / (1 - 0.999**COUNTS)
    return raw * n / (raw * COUNTS).sum()


class TestClassWeights:
    @pytest.mark.parametrize(
        ("name", "strategy"),
        [pytest.param("class_weight", "balanced", marks=pytest.mark.backend),
         ("class_weight_effective", "effective")],
    )  # fmt: skip
    def test_steps_weigh_samples_by_their_class(self, single, name, strategy):
        """Every sample served carries its class's weight, and the loss is the weighted CE."""
        _, log = train(single, name)
        observed = only(log)
        weights = _expected_class_weights(strategy)
        for step in observed.steps:
            assert step.sample_weight is not None, "fit received no class weights"
            np.testing.assert_allclose(step.sample_weight, weights[step.y], rtol=1e-6)
        assert_losses(observed, lambda z, y: ref.focal(z, y, gamma=0.0), sample_weight=True)
        assert_every_row_once_per_epoch(observed.rows(), single.n_train, EPOCHS)


# --------------------------------------------------------------------------- reusing none
# posthoc_adjust, tau_norm, crt and lws start from the `none` model of the same seed (the
# runner shares it; a recipe run on its own, as here, trains it first in a context of its
# own). The models of the recording model function show which models trained, for how many
# steps, and their weights; the claims are checked with NumPy on those weights.
SECOND = 1  # cRT's and LWS's second stage: 20% of 3 epochs, at least 1
FIRST = EPOCHS - SECOND


def forward(weights: list[np.ndarray], x: np.ndarray, head_scale: np.ndarray | float = 1.0):
    """The recording MLP in NumPy: relu(x W1 + b1) (W2 / scale) + b2 / scale."""
    w1, b1, w2, b2 = (np.asarray(w, np.float64) for w in weights)
    return np.maximum(x @ w1 + b1, 0.0) @ (w2 / head_scale) + b2 / head_scale


def trained_none(data: DataSplit, epochs: int = EPOCHS) -> list[np.ndarray]:
    """The weights the `none` recipe keeps with the same seed, trained independently here."""
    _, log = train(data, "none", epochs=epochs)
    return only(log).weights_at_fit_end[0]


def assert_base_trained_once(log: list[Observed], data: DataSplit) -> Observed:
    """The first model is the plain `none` training (every row once per epoch, all epochs)."""
    base = log[0]
    assert len(base.weights_at_fit_start) == 1
    assert_every_row_once_per_epoch(base.rows(), data.n_train, EPOCHS)
    return base


def assert_same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


class TestReusingNone:
    def test_posthoc_adjust_is_the_none_model_minus_tau_log_prior(self, single):
        """posthoc_adjust = the none model's logits - log(prior) (tau = 1 here: fewer than 20
        validation samples per class); the none model is that of the same seed; no steps added."""
        predict, log = train(single, "posthoc_adjust")
        base = assert_base_trained_once(log, single)
        assert sum(len(o.steps) for o in log) == EPOCHS * STEPS_PER_EPOCH  # none's steps only
        assert_same_weights(base.weights_at_fit_end[0], trained_none(single))
        x = single.x_test
        expected = forward(base.weights_at_fit_end[0], x) - np.log(COUNTS / COUNTS.sum())
        np.testing.assert_allclose(predict(x), expected, rtol=1e-4, atol=1e-4)

    def test_tau_norm_divides_each_class_weights_by_their_norm(self, single):
        """tau_norm = the none model with each class's classifier weights (and bias) divided by
        their norm ** tau (tau = 1 here); no steps added."""
        predict, log = train(single, "tau_norm")
        base = assert_base_trained_once(log, single)
        assert sum(len(o.steps) for o in log) == EPOCHS * STEPS_PER_EPOCH  # none's steps only
        weights = base.weights_at_fit_end[0]
        assert_same_weights(weights, trained_none(single))
        norms = np.linalg.norm(np.asarray(weights[2], np.float64), axis=0)
        assert np.ptp(norms) > 1e-3  # the classes' norms differ: the division shows
        x = single.x_test
        expected = forward(weights, x, head_scale=norms)
        np.testing.assert_allclose(predict(x), expected, rtol=1e-4, atol=1e-4)

    def test_crt_retrains_only_the_classifier_of_nones_first_stage(self, single):
        """crt: none's weights after its first epochs (the same as none trained for those
        epochs), then only the last layer, class-balanced, for the other epochs."""
        _, log = train(single, "crt")
        assert_base_trained_once(log, single)
        assert len(log) == 2, "expected the base and cRT's own copy"
        crt = log[1]
        assert len(crt.weights_at_fit_start) == 1, "cRT trains one stage of its own"
        assert len(crt.steps) == SECOND * STEPS_PER_EPOCH
        assert_same_weights(crt.weights_at_fit_start[0], trained_none(single, epochs=FIRST))
        counts = served_counts(crt, single.y_train)
        assert_shares(counts, np.full(3, 1 / 3), SECOND)
        before, after = crt.weights_at_fit_start[0], crt.weights_at_fit_end[0]
        assert_same_weights(after[:2], before[:2])  # Dense(16) kernel and bias: frozen
        assert not np.array_equal(after[2], before[2])  # the classifier moved

    def test_lws_scales_the_logits_of_nones_first_stage(self, single):
        """lws: none's first-stage model, frozen (bit-identical), its logits multiplied by one
        learned scale per class."""
        predict, log = train(single, "lws")
        assert_base_trained_once(log, single)
        assert len(log) == 2, "expected the base and LWS's own copy"
        copy = log[1]
        assert not copy.steps, "the scaled model itself must not train"
        first = trained_none(single, epochs=FIRST)
        assert_same_weights(copy.model.get_weights(), first)
        x = single.x_test
        plain = forward(first, x)
        scale = np.median(predict(x) / plain, axis=0)
        np.testing.assert_allclose(predict(x), plain * scale, rtol=1e-4, atol=1e-4)
        assert np.abs(scale - 1.0).max() > 1e-3, f"the scales were not learned: {scale}"


# --------------------------------------------------------------------------- ensemble
def test_ensemble_members_train_on_different_undersampled_subsets(single):
    """ensemble: 5 members, each from its own initial weights on its own subset of min(n_c) rows
    per class, the epochs split among them (one compiled model trains them in turn)."""
    epochs = 5  # one epoch per member
    _, log = train(single, "ensemble", epochs=epochs)
    trained = log[0]
    assert len(trained.weights_at_fit_start) == 5, "expected one fit() per member"
    subsets = []
    for m in range(5):
        assert len([s for s in trained.steps if s.stage == m]) == STEPS_PER_EPOCH
        used = np.unique(trained.rows(stage=m))
        assert np.bincount(single.y_train[used], minlength=3).tolist() == [COUNTS.min()] * 3
        subsets.append(frozenset(used.tolist()))
        if m:  # member m starts from the initial weights of a model of its own, not member m-1's
            start = trained.weights_at_fit_start[m]
            for a, b in zip(start, log[m].model.get_weights(), strict=True):
                np.testing.assert_array_equal(a, b)
            assert not np.array_equal(start[0], trained.weights_at_fit_end[m - 1][0])
    served_counts(trained, single.y_train)
    assert len(set(subsets)) == len(subsets), "two members were trained on the same subset"
    assert len(trained.steps) == epochs * STEPS_PER_EPOCH


# --------------------------------------------------------------------------- shared in the grid
def test_the_grid_trains_none_once_per_seed_for_the_recipes_reusing_it(single):
    """run_compare without `none` among the strategies: one plain training per seed (not one per
    recipe), unreported; post-hoc recipes add no steps, cRT and LWS their second stage."""
    from classbalance.compare import run_compare
    from classbalance.compare.report import shared_models

    log: list[Observed] = []
    names = ["posthoc_adjust", "tau_norm", "crt", "lws"]
    cfg = CompareConfig(strategies=names, seeds=2, epochs=EPOCHS, batch_size=BATCH,
                        learning_rate=0.01)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = run_compare(cfg, data=single, model=recording_model_fn(log))
    trained = [o for o in log if o.steps]
    plain = [o for o in trained if len(o.steps) == EPOCHS * STEPS_PER_EPOCH]
    assert len(plain) == 2, "expected one plain training for each seed"
    for observed in plain:
        assert_every_row_once_per_epoch(observed.rows(), single.n_train, EPOCHS)
    assert not np.array_equal(plain[0].weights_at_fit_end[0][0], plain[1].weights_at_fit_end[0][0])
    second = [o for o in trained if o not in plain]  # cRT's two second stages (LWS: a wrapper)
    assert [len(o.steps) for o in second] == [SECOND * STEPS_PER_EPOCH] * 2
    runs = result.runs.set_index(["strategy", "seed"])["steps"]
    assert "none" not in result.runs["strategy"].tolist()
    expected = {"posthoc_adjust": 0, "tau_norm": 0, "crt": SECOND, "lws": SECOND}
    assert runs.to_dict() == {
        (n, s): expected[n] * STEPS_PER_EPOCH for n in names for s in range(2)
    }
    shared = shared_models(result)
    assert shared["total_steps"] == 2 * (EPOCHS + 2 * SECOND) * STEPS_PER_EPOCH
    assert "`none` was trained once for each of these seeds" in shared["rule"]
