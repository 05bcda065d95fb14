"""The order of the grid's runs: the timing run first, the plan, then the grid or the race.

:func:`run_schedule` drives the runs through an ``execute`` function (the
runner's: joblib workers, or the caller's process) and knows nothing of how
a run trains:

1. ``none`` with seed 0 starts first, as the *timing run*: after its first
   epochs it makes the plan (:func:`classbalance.compare.budget.fit_plan`),
   writes it where the other runs wait for it (:class:`~.budget.Gate`), and
   stops at the plan's epochs. With workers that do not share this machine's
   files (a Dask or Ray cluster), the timing run goes alone first.
2. The grid's other runs start as soon as the plan is known; runs the plan
   leaves out return at once.
3. Racing plans then go round by round (:mod:`classbalance.compare.racing`);
   a round starts only if its estimate, from the runs' measured times, fits
   the time left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from classbalance.compare.budget import REPORT_SECONDS, EpochProbe, Gate, Plan, grid_seconds
from classbalance.compare.racing import race_replicates, race_step, racing_alpha
from classbalance.compare.recipes import groups

__all__ = ["Execute", "run_schedule"]

#: ``execute(pairs, cfg, gate, probe) -> rows``: run ``(strategy, seed)`` pairs (the first one
#: with ``probe`` when given), yielding each run's row as it finishes.
Execute = Callable[[list[tuple[str, int]], Any, Gate | None, EpochProbe | None], Iterable[dict]]


@contextlib.contextmanager
def _watch(folder: str, on_plan: Callable[[Plan], None] | None) -> Iterator[None]:
    """Call ``on_plan`` from a thread as soon as ``folder/plan.json`` appears."""
    from classbalance.compare.budget import plan_from_dict

    done = threading.Event()

    def watch() -> None:
        import json

        path = os.path.join(folder, "plan.json")
        while not done.is_set():
            if os.path.exists(path):
                with open(path) as fh:
                    payload = json.load(fh)
                if not payload.get("failed") and on_plan is not None:
                    on_plan(plan_from_dict(payload))
                return
            done.wait(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def run_schedule(
    cfg: Any,
    data: Any,
    *,
    execute: Execute,
    workers: int,
    shares_files: bool,
    started: float,
    on_plan: Callable[[Plan], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[dict], dict[str, Any]]:
    """Run the timing run, the planned grid and the race; return the rows and the plan record.

    Parameters
    ----------
    cfg : CompareConfig
        Resolved, with the data's strategies.
    data : DataSplit
    execute : callable
        See :data:`Execute`.
    workers : int
        Runs at the same time (for the estimates).
    shares_files : bool
        Whether the workers see this machine's temporary files.
    started : float
        ``time.time()`` when the comparison started (the budget counts from it).
    on_plan : callable(Plan), default=None
        Called once the plan is known (from a thread, while runs train).
    progress : callable(label, done, total), default=None

    Returns
    -------
    rows : list of dict
        The runs' rows (any order).
    record : dict
        The plan, the race's rounds and notes, for results.json.
    """
    names = list(cfg.strategies)
    recipes = data.task.recipes
    reuse = {
        n: {"base": recipes[n].base, "second_stage": recipes[n].second_stage}
        for n in names
        if recipes[n].base is not None
    }
    # The timing run trains `none` first: itself, or the shared base of a recipe reusing it.
    timing = "none" if "none" in names else next(iter(reuse), names[0])
    budget = None if cfg.budget_minutes is None else 60.0 * cfg.budget_minutes
    plan_args = {
        "strategies": names, "seeds": cfg.seeds, "epochs": cfg.epochs, "workers": workers,
        "budget_seconds": budget, "race": cfg.race, "reuse": reuse,
        "folds": data.cv.k if data.cv is not None else 1,  # cross-validation: a job per fold
    }  # fmt: skip
    folder = tempfile.mkdtemp(prefix="classbalance-plan-")
    can_stop = timing == "none" or reuse.get(timing, {}).get("base") == "none"
    probe = EpochProbe(folder, started, plan_args, can_stop=can_stop)
    first = [(timing, 0)] + [
        (n, s) for n in names for s in range(cfg.seeds) if (n, s) != (timing, 0)
    ]
    rows: list[dict] = []
    counter = {"done": 0, "total": len(names)}

    def collect(results: Iterable[dict]) -> None:
        for row in results:
            if row.get("skipped"):
                continue
            rows.append(row)
            counter["done"] += 1
            if progress is not None:
                label = f"{row['strategy']} (seed {row['seed']})"
                progress(label, counter["done"], max(counter["total"], counter["done"]))

    try:
        if progress is not None:
            progress(f"timing `{timing}`, seed 0", 0, counter["total"])
        if shares_files:
            with _watch(folder, on_plan):
                collect(execute(first, cfg, Gate(folder), probe))
        else:
            collect(execute(first[:1], cfg, None, replace(probe, folder=None)))
        timed = next(r for r in rows if r["strategy"] == timing and r["seed"] == 0)
        plan: Plan = timed["_plan"]
        if not shares_files:
            if on_plan is not None:
                on_plan(plan)
            counter["total"] = plan.runs
            collect(execute(first[1:], cfg, Gate(plan=plan.to_dict()), None))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    planned = replace(cfg, epochs=plan.epochs)
    notes: list[str] = []
    # The timing job: the timing run and the recipes of seed 0 that reuse its model.
    group = next(g for g in groups(names, recipes) if timing in g)
    timed_rows = [r for r in rows if r["seed"] == 0 and r["strategy"] in group]
    if any(r["_epochs"] != plan.epochs for r in timed_rows):
        for row in timed_rows:  # it could not stop at the plan's epochs: run it again with them
            rows.remove(row)
        notes.append(f"The timing run was run again with {plan.epochs} epochs.")
        collect(execute([(r["strategy"], 0) for r in timed_rows], planned, None, None))
    record: dict[str, Any] = {"plan": plan.to_dict(), "rounds": [], "notes": notes}
    if plan.mode == "race":
        _race(rows, planned, data, plan, execute, collect, counter, started, budget, record)
    record["seconds"] = time.time() - started
    return rows, record


def _round_predictions(rows: list[dict], names: list[str], seeds: int) -> dict[str, np.ndarray]:
    by = {(r["strategy"], r["seed"]): r for r in rows}
    return {n: np.stack([by[(n, s)]["_pred"] for s in range(seeds)]) for n in names}


def _race(
    rows: list[dict],
    cfg: Any,
    data: Any,
    plan: Plan,
    execute: Execute,
    collect: Callable[[Iterable[dict]], None],
    counter: dict[str, int],
    started: float,
    budget: float | None,
    record: dict[str, Any],
) -> None:
    """Rounds of seeds 1.. for the strategies still in the race (see :mod:`.racing`)."""
    alive = list(plan.strategies)
    # `none` (the baseline of every `vs none` interval, and the model the post-hoc and
    # second-stage recipes reuse) runs every seed.
    keep = ["none"] if "none" in alive else []
    alpha = racing_alpha(len(alive), plan.seeds)
    replicates = race_replicates(alpha)
    record["rule"] = {
        "alpha": 0.05, "one_sided_alpha_per_comparison": alpha, "replicates": replicates,
        "never_dropped": keep,
    }  # fmt: skip
    for seed in range(1, plan.seeds):
        subset = [r for r in rows if r["strategy"] in alive and r["seed"] < seed]
        predictions = _round_predictions(subset, alive, seed)
        boots = data.task.bootstrap(
            data, predictions, subset, seed=cfg.data_seed, n_replicates=replicates
        )
        step = race_step(boots[data.task.primary], alive, alpha=alpha, keep=keep, seeds=seed)
        record["rounds"].append(step.to_dict())
        alive = step.kept
        measured = {
            n: float(np.mean([r["_seconds"] for r in rows if r["strategy"] == n])) for n in alive
        }
        jobs = groups(alive, data.task.recipes)  # a job: a strategy and those reusing its model
        estimate = grid_seconds([sum(measured[n] for n in g) for g in jobs], plan.workers)
        left = None if budget is None else budget - (time.time() - started) - REPORT_SECONDS
        if left is not None and estimate > left:
            record["notes"].append(
                f"Racing stopped after {seed} seed(s): seed {seed} of the {len(alive)} remaining "
                f"strategies needs about {estimate / 60:.1f} min, {max(left, 0) / 60:.1f} min "
                "were left in the budget."
            )
            break
        counter["total"] = counter["done"] + len(alive)
        collect(execute([(n, seed) for n in alive], cfg, None, None))
