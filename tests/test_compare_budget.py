"""compare's time plan, budget and racing: the pure rules, then end to end on the digits."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from classbalance.compare.budget import MIN_EPOCHS, Gate, fit_plan, grid_seconds
from classbalance.compare.racing import race_replicates, race_step, racing_alpha
from classbalance.compare.stats import bootstrap_balanced_accuracy

NAMES = ["none", "class_weight", "focal", "crt"]


def plan(**kwargs):
    args = {"strategies": NAMES, "seeds": 3, "epochs": 30, "workers": 2, "epoch_seconds": 1.0,
            "start_seconds": 2.0, "budget_seconds": None}  # fmt: skip
    return fit_plan(**{**args, **kwargs})


class TestFitPlan:
    def test_no_budget_is_the_full_grid(self):
        p = plan()
        assert (p.mode, p.seeds, p.epochs, p.runs) == ("grid", 3, 30, 12)
        assert p.estimated_seconds == p.full_grid_seconds

    def test_a_grid_that_fits_is_run_as_asked(self):
        p = plan(budget_seconds=1e6)
        assert (p.mode, p.seeds, p.epochs) == ("grid", 3, 30)

    def test_too_large_grid_races_by_default(self):
        """The estimate exceeds the budget: racing, with every epoch kept."""
        p = plan(budget_seconds=150)
        assert (p.mode, p.seeds, p.epochs) == ("race", 3, 30)
        assert p.estimated_seconds <= 150 < p.full_grid_seconds

    def test_without_racing_seeds_go_before_epochs(self):
        """race=False: fewer seeds first; the epochs stay while one seed of each fits."""
        p = plan(budget_seconds=150, race=False)
        assert (p.mode, p.seeds, p.epochs) == ("grid", 2, 30)
        assert p.estimated_seconds <= 150
        assert "2 seed(s) instead of 3" in p.notes[0]

    def test_epochs_shrink_only_when_one_seed_does_not_fit(self):
        """Equal for every strategy, the most that fits, never below MIN_EPOCHS."""
        p = plan(budget_seconds=60, race=False)
        assert p.seeds == 1
        assert 3 <= p.epochs < 30
        one_more = plan(seeds=1, epochs=p.epochs + 1)  # no budget: the estimate as it is
        assert p.estimated_seconds <= 60 < one_more.estimated_seconds
        tiny = plan(budget_seconds=1, race=False)
        assert tiny.epochs == MIN_EPOCHS
        assert any(n.startswith("Warning:") for n in tiny.notes)

    def test_racing_always_when_asked(self):
        assert plan(race=True).mode == "race"
        assert plan(race=True, seeds=1).mode == "grid"  # one seed: nothing to race

    def test_grid_seconds_is_a_lower_bound_of_any_schedule(self):
        assert grid_seconds([4, 4, 4], 3) == 4.0
        assert grid_seconds([9, 1, 1, 1], 2) == 9.0
        assert grid_seconds([], 2) == 0.0

    def test_reusing_recipes_count_only_what_they_train(self):
        """Post-hoc recipes add nothing; cRT adds its second stage (a start-up and 20% of the
        epochs), in the job of `none`; `none` counts once per seed, asked for or not."""
        post = {"base": "none", "second_stage": False}
        reuse = {"posthoc_adjust": post, "tau_norm": post,
                 "crt": {"base": "none", "second_stage": True}}  # fmt: skip

        def estimate(names, workers=1):
            p = plan(strategies=names, seeds=1, workers=workers, reuse=reuse)
            return p.estimated_seconds

        alone = estimate(["none"])
        assert estimate(["none", "posthoc_adjust", "tau_norm"]) == alone
        assert estimate(["posthoc_adjust", "tau_norm"]) == alone  # the base, not reported
        assert estimate(["none", "crt"]) == pytest.approx(alone + 2.0 + 6 * 1.0)
        # one job: a second worker cannot train crt's stage beside its none
        assert estimate(["none", "crt"], workers=2) == estimate(["none", "crt"])
        assert plan(strategies=["none", "crt"], reuse=reuse).reuse["crt"]["second_stage"]


class TestGate:
    def test_grid_plan(self):
        gate = Gate(plan=plan(budget_seconds=150, race=False).to_dict())
        assert gate.epochs("focal", 1) == 30
        assert gate.epochs("focal", 2) is None  # the plan has 2 seeds

    def test_race_plan_runs_seed_zero_only(self):
        gate = Gate(plan=plan(race=True).to_dict())
        assert gate.epochs("focal", 0) == 30
        assert gate.epochs("focal", 1) is None  # the race decides later

    def test_waits_for_the_file(self, tmp_path):
        (tmp_path / "plan.json").write_text(json.dumps(plan().to_dict()))
        assert Gate(str(tmp_path)).epochs("crt", 2) == 30
        (tmp_path / "plan.json").write_text(json.dumps({"failed": True}))
        assert Gate(str(tmp_path)).epochs("crt", 0) is None


# --------------------------------------------------------------------------- racing
def _predictions(y: np.ndarray, errors: dict[str, int], seeds: int = 1) -> dict[str, np.ndarray]:
    """Strategies that get ``errors[name]`` test samples wrong (a different set per seed)."""
    rng = np.random.default_rng(0)
    out = {}
    for name, k in errors.items():
        block = np.repeat(y[None], seeds, axis=0)
        for s in range(seeds):
            wrong = rng.choice(len(y), k, replace=False)
            block[s, wrong] = (y[wrong] + 1) % 2
        out[name] = block
    return out


class TestRaceRule:
    y = np.repeat([0, 1], 250)

    def step(self, errors, **kwargs):
        preds = _predictions(self.y, errors)
        alpha = racing_alpha(len(errors), 3)
        boot = bootstrap_balanced_accuracy(self.y, preds, n_replicates=race_replicates(alpha))
        return race_step(boot, list(errors), alpha=alpha, **kwargs)

    def test_drops_the_clearly_worse_keeps_the_close(self):
        """After one seed: 150 errors more is dropped, 3 more is kept."""
        step = self.step({"lead": 20, "close": 23, "worse": 170})
        assert step.leader == "lead"
        assert step.dropped == ["worse"]
        assert step.kept == ["lead", "close"]
        diff, low, _ = step.differences["worse"]
        assert low > 0
        assert diff == pytest.approx(0.3, abs=1e-6)

    def test_none_is_never_dropped(self):
        step = self.step({"none": 170, "lead": 20})
        assert step.dropped == []
        assert step.kept == ["none", "lead"]
        assert self.step({"none": 170, "lead": 20}, keep=()).dropped == ["none"]

    def test_stricter_than_the_report_interval(self):
        """A gap the 95% interval separates but the Bonferroni level does not: kept."""
        preds = _predictions(self.y, {"lead": 20, "gap": 40})
        boot = bootstrap_balanced_accuracy(self.y, preds, n_replicates=8800)
        assert boot.difference("lead", "gap")[1] > 0  # the report's interval: clearly worse
        step = race_step(boot, ["lead", "gap"], alpha=racing_alpha(12, 3))
        assert step.dropped == []

    def test_level_is_bonferroni_over_strategies_and_rounds(self):
        assert racing_alpha(12, 3) == pytest.approx(0.05 / 22)
        assert racing_alpha(2, 2) == pytest.approx(0.05)
        assert race_replicates(0.05 / 22) * (0.05 / 22) >= 20

    def test_refuses_a_bad_alpha(self):
        preds = _predictions(self.y, {"a": 1, "b": 2})
        boot = bootstrap_balanced_accuracy(self.y, preds, n_replicates=100)
        with pytest.raises(ValueError, match=r"Received: alpha=0\.7"):
            race_step(boot, ["a", "b"], alpha=0.7)


# --------------------------------------------------------------------------- end to end
keras = pytest.importorskip("keras")


def test_estimate_is_within_a_factor_of_the_real_time():
    """The plan made after the timing run's first epochs: within 2.5x of the runs' real time."""
    from classbalance.compare import CompareConfig, run_compare

    result = run_compare(
        CompareConfig(strategies=["none", "class_weight", "balanced_sampling"], seeds=2, epochs=8)
    )
    planned, real = result.plan["plan"], result.plan["seconds"]
    from classbalance.compare.budget import REPORT_SECONDS

    estimate = planned["estimated_seconds"] - REPORT_SECONDS
    assert planned["runs"] == 6 == len(result.runs)
    assert real / 2.5 <= estimate <= real * 2.5, (estimate, real)


def test_budget_gives_every_strategy_the_same_steps():
    """A budget too small for the grid: 1 seed, fewer epochs, equal steps; the timing run kept."""
    from classbalance.compare import CompareConfig, load_data, run_compare

    cfg = CompareConfig(strategies=["none", "class_weight", "focal"], seeds=2, epochs=30,
                        budget_minutes=0.05, race=False)  # fmt: skip
    result = run_compare(cfg)
    planned = result.plan["plan"]
    per_epoch = math.ceil(load_data(cfg.resolved()).n_train / cfg.batch_size)
    assert planned["seeds"] == 1
    assert MIN_EPOCHS <= planned["epochs"] < 30
    assert result.runs["steps"].tolist() == [planned["epochs"] * per_epoch] * 3
    assert (result.runs["steps"] == result.runs["budget_steps"]).all()
    assert result.plan["notes"] == []  # `none` stopped at the plan's epochs: not run again
    assert result.config.epochs == planned["epochs"]


def test_racing_end_to_end_records_what_was_dropped(tmp_path):
    """race=True: dropped strategies have fewer seeds, the report says after which seed."""
    from classbalance.compare import CompareConfig, run_compare, write_report

    strategies = ["none", "class_weight", "focal", "undersample"]
    result = run_compare(CompareConfig(strategies=strategies, seeds=2, epochs=3, race=True))
    rounds = result.plan["rounds"]
    assert len(rounds) == 1
    assert rounds[0]["after_seeds"] == 1
    dropped = rounds[0]["dropped"]
    assert "none" not in dropped
    seeds = result.summary["seeds"].to_dict()
    assert all(seeds[n] == (1 if n in dropped else 2) for n in strategies)
    assert not result.summary.loc[dropped, "within_noise_of_best"].any()
    write_report(result, tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "## Time plan" in report
    assert "Racing rule" in report
    assert "After 1 seed(s): leader" in report
    assert json.loads((tmp_path / "results.json").read_text())["plan"]["rounds"] == rounds


@pytest.mark.slow
def test_cli_prints_the_plan_on_stderr(tmp_path):
    """The installed script prints the plan (runs, minutes) on stderr before the table."""
    from script_helpers import run_script

    out = tmp_path / "report"
    result = run_script(
        "compare", "--strategies", "none,class_weight", "--seeds", "2", "--epochs", "2",
        "--jobs", "1", "--budget", "5", "--out", out, timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan_lines = [line for line in result.stderr.splitlines() if line.startswith("Plan:")]
    assert len(plan_lines) == 1, result.stderr
    assert "2 strategies x 2 seed(s) x 2 epochs" in plan_lines[0]
    assert "4 runs, about" in plan_lines[0]
    assert "budget 5.0 min" in plan_lines[0]
    assert "Plan:" not in result.stdout
    payload = json.loads((out / "results.json").read_text())
    assert payload["plan"]["plan"]["runs"] == 4
    assert payload["plan"]["seconds"] > 0
