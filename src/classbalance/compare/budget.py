"""The time plan of ``compare``: measure one run's epochs, estimate the grid, fit it to a budget.

Before the grid trains, the run of ``none`` with seed 0 (the *timing run*,
kept as the grid's own run, not thrown away) reports how long model
building and its first epochs took. From that, :func:`fit_plan` estimates
every run (``start + epochs * epoch * cost``, with each recipe's relative
cost in :data:`RELATIVE_COST`; a recipe reusing ``none``'s model counts only
what it trains itself, in the job of its seed's ``none``, which is trained
once per seed even when it is not among the strategies: :func:`job_seconds`)
and the grid on the workers, and fits it to ``budget_minutes``:

1. **The full grid** when it fits (or when there is no budget).
2. Else **racing** (unless it is turned off): every strategy on seed 0, then
   further seeds only for the strategies still within noise of the leader
   (:mod:`classbalance.compare.racing`), each round started only if its
   estimate fits the time left. Without racing: **fewer seeds**.
3. Only if one seed of every strategy does not fit: **fewer epochs**, the
   same for every strategy (never fewer than :data:`MIN_EPOCHS`).

Seeds go before epochs because fewer seeds only widen the intervals (which
the report shows), while fewer epochs change what is compared: an
under-trained model can rank the remedies differently. Every strategy always
gets the same epochs and steps.

Examples
--------
>>> from classbalance.compare.budget import fit_plan
>>> plan = fit_plan(strategies=["none", "focal"], seeds=3, epochs=30, workers=2,
...                 epoch_seconds=1.0, start_seconds=2.0, budget_seconds=None)
>>> plan.mode, plan.seeds, plan.epochs, round(plan.estimated_seconds)
('grid', 3, 30, 111)
>>> fit_plan(strategies=["none", "focal"], seeds=3, epochs=30, workers=2, epoch_seconds=1.0,
...          start_seconds=2.0, budget_seconds=60, race=False).seeds  # fewer seeds first
1
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from classbalance.compare.training import second_stage_epochs

__all__ = [
    "MIN_EPOCHS",
    "RELATIVE_COST",
    "REPORT_SECONDS",
    "EpochProbe",
    "Gate",
    "Plan",
    "fit_plan",
    "grid_seconds",
    "job_seconds",
    "run_seconds",
]

#: Seconds of a run of each recipe relative to ``none`` at the same epochs (unknown names:
#: 1.0), measured on the default residual CNN (generated long-tailed 28x28 images, TensorFlow,
#: 1 thread per worker); the estimate is checked against the real time in the report.
RELATIVE_COST: dict[str, float] = {
    "none": 1.0,
    "class_weight": 1.0,
    "class_weight_effective": 1.0,
    "balanced_sampling": 1.1,
    "undersample": 1.0,
    "sqrt_sampling": 1.1,
    "focal": 1.0,
    "class_balanced_loss": 1.0,
    "logit_adjusted_loss": 1.0,
    "ldam_drw": 1.0,
    "crt": 1.0,
    "lws": 1.0,
    "ensemble": 1.4,
    "balanced_sampling_augment": 1.4,
}
#: Model builds per run (their start-up cost is paid once per model).
MODELS_PER_RUN: dict[str, int] = {"ensemble": 5}
MIN_EPOCHS = 3  # fewer epochs than this compare little but the initialization
REPORT_SECONDS = 15.0  # bootstraps, report and figures after the last run


@dataclass
class Plan:
    """What the grid will run and how long it should take (recorded in results.json).

    ``mode`` is ``"grid"`` (every strategy x ``seeds``) or ``"race"`` (seed 0
    for every strategy, more seeds for the strategies still in the race).
    """

    strategies: list[str]
    seeds: int
    epochs: int
    workers: int
    mode: str
    epoch_seconds: float
    start_seconds: float
    setup_seconds: float
    estimated_seconds: float
    full_grid_seconds: float
    budget_seconds: float | None = None
    requested: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reuse: dict[str, dict[str, Any]] = field(default_factory=dict)
    folds: int = 1  # cross-validation: every run trains once per fold

    @property
    def runs(self) -> int:
        """Runs planned (racing: the first round, every strategy on one seed)."""
        return len(self.strategies) * (1 if self.mode == "race" else self.seeds)

    def run_seconds(self, name: str) -> float:
        """Estimated seconds of one run of recipe ``name``."""
        return run_seconds(name, self.epochs, self.epoch_seconds, self.start_seconds, self.reuse)

    def describe(self) -> str:
        """One paragraph for the console: runs, minutes, budget, what was changed."""
        m = len(self.strategies)
        budget = (
            "no time budget"
            if self.budget_seconds is None
            else f"budget {self.budget_seconds / 60:.1f} min"
        )
        folds = f" x {self.folds} folds" if self.folds > 1 else ""
        head = (
            f"Plan: {m} strategies x {self.seeds} seed(s){folds} x {self.epochs} epochs on "
            f"{self.workers} worker(s); one epoch of `none` took {self.epoch_seconds:.2f} s. "
        )
        if self.mode == "grid":
            runs = f"{m * self.seeds} runs" + (f" of {self.folds} trainings" if folds else "")
            body = f"{runs}, about {self.estimated_seconds / 60:.1f} min ({budget})."
        else:
            body = (
                f"Racing ({budget}; the full grid would take about "
                f"{self.full_grid_seconds / 60:.1f} min): every strategy on seed 0 first "
                f"({m} runs; about {self.estimated_seconds / 60:.1f} min to there), then further "
                "seeds only for the strategies still within noise of the leader, each round "
                "only if it fits the time left."
            )
        return " ".join([head + body, *self.notes])

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "runs": self.runs}


def run_seconds(
    name: str,
    epochs: int,
    epoch_seconds: float,
    start_seconds: float,
    reuse: Mapping[str, Mapping[str, Any]] | None = None,
) -> float:
    """Estimated seconds of one run: model start-ups plus the epochs it trains itself.

    A recipe in ``reuse`` (``{name: {"base": ..., "second_stage": bool}}``)
    trains nothing of its own (post-hoc: no time) or a second stage of
    :func:`~classbalance.compare.training.second_stage_epochs` (one start-up);
    its base's time is the base's run.
    """
    cost = RELATIVE_COST.get(name, 1.0)
    shared = (reuse or {}).get(name)
    if shared is not None:
        if not shared.get("second_stage"):
            return 0.0
        return start_seconds + second_stage_epochs(epochs) * epoch_seconds * cost
    return MODELS_PER_RUN.get(name, 1) * start_seconds + epochs * epoch_seconds * cost


def job_seconds(
    strategies: Sequence[str],
    epochs: int,
    epoch_seconds: float,
    start_seconds: float,
    reuse: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[float]:
    """Estimated seconds of the jobs of one seed: a recipe reusing a model runs in its base's job.

    A base that is not among ``strategies`` is trained all the same, once
    per seed (its time goes to the job of the recipes reusing it).

    Examples
    --------
    >>> from classbalance.compare.budget import job_seconds
    >>> reuse = {"posthoc_adjust": {"base": "none", "second_stage": False},
    ...          "crt": {"base": "none", "second_stage": True}}
    >>> names = ["none", "focal", "posthoc_adjust", "crt"]
    >>> job_seconds(names, 10, 1.0, 2.0, reuse)  # crt: 2 epochs of its own
    [16.0, 12.0]
    >>> job_seconds(["posthoc_adjust"], 10, 1.0, 2.0, reuse)  # `none` trained, not reported
    [12.0]
    """
    reuse = reuse or {}
    jobs: dict[str, float] = {}
    for name in strategies:
        base = reuse.get(name, {}).get("base") or name
        if base not in jobs:
            jobs[base] = run_seconds(base, epochs, epoch_seconds, start_seconds, reuse)
        if base != name:
            jobs[base] += run_seconds(name, epochs, epoch_seconds, start_seconds, reuse)
    return list(jobs.values())


def grid_seconds(times: Sequence[float], workers: int) -> float:
    """Wall time of runs of ``times`` seconds on ``workers``: the share, or the longest run.

    Examples
    --------
    >>> from classbalance.compare.budget import grid_seconds
    >>> grid_seconds([10, 10, 10, 10], 2), grid_seconds([30, 1, 1], 2)
    (20.0, 30.0)
    """
    if not times:
        return 0.0
    return float(max(sum(times) / max(1, workers), max(times)))


def fit_plan(
    *,
    strategies: Sequence[str],
    seeds: int,
    epochs: int,
    workers: int,
    epoch_seconds: float,
    start_seconds: float,
    budget_seconds: float | None,
    setup_seconds: float = 0.0,
    race: bool | None = None,
    min_epochs: int = MIN_EPOCHS,
    reuse: Mapping[str, Mapping[str, Any]] | None = None,
    folds: int = 1,
) -> Plan:
    """The plan that fits ``budget_seconds`` (see the module docstring for the rule).

    Parameters
    ----------
    strategies : sequence of str
    seeds, epochs : int
        What was asked for.
    workers : int
        Runs at the same time.
    epoch_seconds, start_seconds : float
        Measured on the timing run: one epoch of ``none``, and the start-up
        of a run (model building, the first epoch's extra time).
    budget_seconds : float or None
        Wall time allowed for the whole comparison; None: no limit.
    setup_seconds : float, default=0.0
        Already spent before the timing run started (loading, workers).
    race : bool or None, default=None
        True: always race; False: never; None: race when the grid does not fit.
    min_epochs : int, default=MIN_EPOCHS
    reuse : mapping, default=None
        The recipes that reuse another run's model (:func:`job_seconds`).
    folds : int, default=1
        Cross-validation: each job runs once per fold (the estimate counts runs x folds).

    Returns
    -------
    Plan
    """
    names = list(strategies)
    floor = min(epochs, min_epochs)

    def total(n_seeds: int, n_epochs: int) -> float:
        times = job_seconds(names, n_epochs, epoch_seconds, start_seconds, reuse) * folds
        return setup_seconds + grid_seconds(times * n_seeds, workers) + REPORT_SECONDS

    full = total(seeds, epochs)
    racing = bool(race) and seeds > 1
    n_seeds, n_epochs, notes = seeds, epochs, []
    if budget_seconds is not None and full > budget_seconds:
        if race is not False and seeds > 1:
            racing = True
            n_seeds = seeds
        else:
            n_seeds = max((s for s in range(1, seeds + 1) if total(s, epochs) <= budget_seconds),
                          default=1)  # fmt: skip
            if n_seeds < seeds:
                notes.append(f"To fit the budget: {n_seeds} seed(s) instead of {seeds}.")
        if total(1, epochs) > budget_seconds:
            fitting = [e for e in range(floor, epochs) if total(1, e) <= budget_seconds]
            n_epochs = max(fitting, default=floor)
            notes.append(
                f"To fit the budget: {n_epochs} epochs instead of {epochs} for every strategy "
                "(one seed of every strategy did not fit)."
            )
            if not fitting:
                notes.append(
                    f"Warning: even {floor} epochs on one seed need about "
                    f"{total(1, floor) / 60:.1f} min, more than the budget."
                )
    estimate = total(1 if racing else n_seeds, n_epochs)
    return Plan(
        strategies=names, seeds=n_seeds, epochs=n_epochs, workers=workers,
        mode="race" if racing else "grid", epoch_seconds=epoch_seconds,
        start_seconds=start_seconds, setup_seconds=setup_seconds, estimated_seconds=estimate,
        full_grid_seconds=full, budget_seconds=budget_seconds,
        requested={"seeds": seeds, "epochs": epochs}, notes=notes,
        reuse={k: dict(v) for k, v in (reuse or {}).items()}, folds=folds,
    )  # fmt: skip


# --------------------------------------------------------------------------- the timing run
def _write_json(path: str, payload: dict[str, Any]) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        json.dump(payload, fh)
    os.replace(tmp, path)


@dataclass
class EpochProbe:
    """Times the timing run's first epochs, makes the plan there, and stops it at the plan's epochs.

    Picklable: it travels to the worker with its run. ``plan_args`` are
    :func:`fit_plan`'s arguments but the measured ones. The plan is written
    to ``folder/plan.json`` for the grid's other runs (:class:`Gate`) and
    returned with the run (``row["_plan"]``). Stopping ``none`` early is the
    same training as asking for fewer epochs (the learning rate is constant,
    the batches of epoch ``e`` depend only on the seed and ``e``).
    """

    folder: str | None
    started: float  # time.time() when the comparison started
    plan_args: dict[str, Any]
    report_after: int = 2
    can_stop: bool = True
    plan: Plan | None = None

    def callback(self, ctx: Any, task_start: float) -> Any:
        """A Keras callback for the timing run's ``fit`` (``ctx``: its RunContext)."""
        import keras

        probe = self
        epochs = ctx.cfg.epochs
        report_at = min(self.report_after, epochs)

        class Probe(keras.callbacks.Callback):
            times: list[float] = []  # noqa: RUF012 (one instance per run)

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                self.times.append(time.time())
                if len(self.times) == report_at and probe.plan is None:
                    probe.report(self.times, task_start)
                plan = probe.plan
                stop = plan is not None and probe.can_stop and plan.epochs < epochs
                if stop and epoch + 1 >= plan.epochs:
                    self.model.stop_training = True
                    from dataclasses import replace

                    ctx.cfg = replace(ctx.cfg, epochs=plan.epochs)

        return Probe()

    def report(self, times: list[float], task_start: float) -> Plan:
        """Make the plan from the epoch end times and publish it."""
        first = times[0] - task_start
        epoch = times[1] - times[0] if len(times) > 1 else first
        start = max(0.0, first - epoch)
        self.plan = fit_plan(
            **self.plan_args, epoch_seconds=epoch, start_seconds=start,
            setup_seconds=max(0.0, task_start - self.started),
        )  # fmt: skip
        if self.folder is not None:
            _write_json(os.path.join(self.folder, "plan.json"), self.plan.to_dict())
        return self.plan

    def failed(self) -> None:
        """Tell the waiting runs that no plan will come (the timing run stopped early)."""
        if self.folder is not None and self.plan is None:
            _write_json(os.path.join(self.folder, "plan.json"), {"failed": True})


def plan_from_dict(payload: dict[str, Any]) -> Plan:
    """The :class:`Plan` of a ``plan.json`` (its ``runs`` key is derived, not stored)."""
    return Plan(**{k: v for k, v in payload.items() if k != "runs"})


@dataclass(frozen=True)
class Gate:
    """Lets a run of the grid wait for the plan and tells it its epochs, or to skip.

    With ``plan`` given the answer is immediate; else the run waits for
    ``folder/plan.json`` (written by the timing run in another process).
    Racing plans run only seed 0 through the gate (the race decides the rest).
    """

    folder: str | None = None
    plan: dict[str, Any] | None = None
    poll_seconds: float = 0.05

    def epochs(self, strategy: str, seed: int) -> int | None:
        """Epochs for ``(strategy, seed)``, or None if the plan does not run it here."""
        plan = self.plan
        while plan is None:
            path = os.path.join(str(self.folder), "plan.json")
            if os.path.exists(path):
                with open(path) as fh:
                    plan = json.load(fh)
                break
            time.sleep(self.poll_seconds)
        if plan.get("failed"):
            return None
        if plan["mode"] == "race" and seed > 0:
            return None
        if seed >= plan["seeds"] or strategy not in plan["strategies"]:
            return None
        return int(plan["epochs"])
