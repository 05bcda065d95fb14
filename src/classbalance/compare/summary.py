"""From the runs to the verdict: bootstrap, summary per strategy, recommendation, the table.

One code path for both tasks; the task (:mod:`classbalance.compare.task`)
says which metric ranks the strategies (balanced accuracy, or mAP), how it is
bootstrapped, which further columns the summary and the printed table hold,
and what the recommendation adds (multi-label: what tuned thresholds did).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from classbalance.compare.config import CompareConfig, CompareResult
from classbalance.compare.stats import Bootstrap

__all__ = ["paired_gain", "recommendation", "summarize", "summary_table", "threshold_sentence"]


def summarize(
    cfg: CompareConfig,
    data: Any,
    rows: list[dict],
    backend: str,
    seconds: float,
    plan: dict[str, Any] | None = None,
) -> CompareResult:
    """Bootstrap the runs of every strategy and build the :class:`CompareResult`.

    ``rows`` are the grid's runs (public fields, plus ``_pred`` and the
    task's other ``_``-prefixed arrays), in the order of ``cfg.strategies``.
    After racing, strategies dropped early have fewer seeds: the recommendation
    and the ``≈`` group come from the strategies with every seed; a dropped
    strategy's row comes from the bootstrap of the round that dropped it (the
    strategies still running then, on the seeds run until then), with its
    ``seeds`` column saying how many it had.
    """
    task = data.task
    names = list(cfg.strategies)
    seeds_of = {n: [r["seed"] for r in rows if r["strategy"] == n] for n in names}
    predictions = {n: np.stack([r["_pred"] for r in rows if r["strategy"] == n]) for n in names}
    confusions = {}
    if rows and "_confusion" in rows[0]:
        confusions = {n: sum(r["_confusion"] for r in rows if r["strategy"] == n) for n in names}
    runs = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    grouped = runs.groupby("strategy", sort=False)
    means = {m: grouped[m].mean() for m in runs.columns if pd.api.types.is_float_dtype(runs[m])}
    full = max(len(v) for v in seeds_of.values())
    finalists = [n for n in names if len(seeds_of[n]) == full]
    boots = task.bootstrap(
        data,
        {n: predictions[n] for n in finalists},
        [r for r in rows if r["strategy"] in finalists],
        seed=cfg.data_seed,
    )
    boot = boots[task.primary]
    table = [_entry(task, n, boots, means, predictions[n], data, grouped) for n in finalists]
    for k in sorted({len(v) for v in seeds_of.values()} - {full}, reverse=True):
        pool = [n for n in names if len(seeds_of[n]) >= k]
        round_boots = task.bootstrap(
            data,
            {n: predictions[n][:k] for n in pool},
            [r for r in rows if r["strategy"] in pool and r["seed"] < k],
            seed=cfg.data_seed,
        )
        table += [
            _entry(task, n, round_boots, means, predictions[n], data, grouped)
            for n in pool
            if len(seeds_of[n]) == k
        ]
    summary = pd.DataFrame(table).set_index("strategy")
    best_group = boot.indistinguishable_from_best()
    summary["within_noise_of_best"] = [n in best_group for n in summary.index]
    summary["seeds"] = [len(seeds_of[n]) for n in summary.index]
    summary["_finalist"] = summary["seeds"] == full
    summary = summary.sort_values(["_finalist", task.primary], ascending=False, kind="stable")
    summary = summary.drop(columns="_finalist")
    notes = list(data.notes)
    if any(r["steps"] != r["budget_steps"] for r in rows):
        notes.append("Warning: some runs did not take the budgeted number of steps (see runs).")
    sentence = recommendation(
        boot, "none" in finalists, len(data.y_test), full, metric=task.primary_text
    )
    tail = task.recommendation_tail(boots)
    names_of = [str(c) for c in data.classes]
    return CompareResult(
        runs=runs,
        summary=summary,
        config=cfg,
        data_description=data.description,
        train_counts=dict(zip(names_of, data.train_counts.tolist())),
        test_counts=dict(zip(names_of, data.test_counts.tolist())),
        recommendation=f"{sentence} {tail}" if tail else sentence,
        bootstrap=boot,
        task=task,
        predictions=predictions,
        confusions=confusions,
        classes=list(data.classes),
        bootstraps=boots,
        notes=notes,
        backend=backend,
        seconds=seconds,
        plan=dict(plan or {}),
    )


def _entry(
    task: Any,
    name: str,
    boots: dict[str, Bootstrap],
    means: dict[str, Any],
    predictions: np.ndarray,
    data: Any,
    grouped: Any,
) -> dict[str, Any]:
    """The summary row of ``name`` from a bootstrap that holds it (and ``none``, if run)."""
    boot = boots[task.primary]
    low, high = boot.interval(name)
    entry: dict[str, Any] = {
        "strategy": name,
        task.primary: float(boot.estimate[boot.names.index(name)]),
        "ci_low": low,
        "ci_high": high,
    }
    if "none" in boot.names:
        diff, d_low, d_high = boot.difference(name, "none")
        entry.update(vs_none=diff, vs_none_low=d_low, vs_none_high=d_high)
    of_name = {m: float(values[name]) for m, values in means.items()}
    entry.update(task.summary_columns(name, boots, of_name, predictions, data))
    entry["steps"] = int(grouped["steps"].mean()[name])
    base = grouped["base"].first()[name] if "base" in grouped.obj else None
    entry["base"] = base if isinstance(base, str) else None  # the model it reuses
    entry["train_seconds"] = float(grouped["train_seconds"].mean()[name])
    return entry


def _names(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def recommendation(
    boot: Bootstrap,
    has_none: bool,
    n_test: int,
    n_seeds: int,
    *,
    metric: str = "balanced accuracy",
) -> str:
    """One sentence that the intervals support (``metric``, 95% paired bootstrap).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.summary import recommendation
    >>> from classbalance.compare.stats import bootstrap_balanced_accuracy
    >>> y = np.repeat([0, 1], 100)
    >>> good, bad = y[None, :].copy(), np.zeros((1, 200), dtype=int)
    >>> recommendation(bootstrap_balanced_accuracy(y, {"none": bad, "x": good}), True, 200, 1)[:8]
    'Use `x`:'
    """
    best = boot.best()
    basis = f" ({n_test} test samples, {n_seeds} seed{'s' if n_seeds != 1 else ''})."
    if len(boot.names) == 1:
        low, high = boot.interval(best)
        est = boot.estimate[0]
        return f"Only `{best}` was run: {metric} {est:.3f} [95% CI {low:.3f}, {high:.3f}]" + basis
    group = boot.indistinguishable_from_best()
    others = [n for n in group if n != best]
    tail = (
        f"; {_names(others)} {'is' if len(others) == 1 else 'are'} within noise of it"
        if others
        else "; no other strategy is within noise of it"
    )
    if not has_none:
        low, high = boot.interval(best)
        est = boot.estimate[boot.names.index(best)]
        return f"Best: `{best}`, {metric} {est:.3f} [95% CI {low:.3f}, {high:.3f}]" + (tail + basis)
    if best == "none":
        return (
            f"No remedy beat training without one: `none` has the highest {metric}" + tail + basis
        )
    diff, low, high = boot.difference(best, "none")
    if low > 0:
        return (
            f"Use `{best}`: {diff:+.3f} {metric} over no remedy "
            f"[95% CI {low:+.3f}, {high:+.3f}]" + tail + basis
        )
    return (
        f"No remedy is clearly better than none: the best, `{best}`, is {diff:+.3f} {metric} "
        f"over no remedy, but its 95% CI [{low:+.3f}, {high:+.3f}] includes 0" + tail + basis
    )


def paired_gain(boots: dict[str, Bootstrap], name: str) -> tuple[float, float, float]:
    """Tuned minus 0.5 macro-F1 of ``name``: the same draws, so the difference is paired."""
    tuned, plain = boots["macro_f1_tuned"], boots["macro_f1"]
    i = plain.names.index(name)
    diff = tuned.replicates[:, i] - plain.replicates[:, i]
    low, high = np.percentile(diff, [2.5, 97.5])
    return float(tuned.estimate[i] - plain.estimate[i]), float(low), float(high)


def threshold_sentence(boots: dict[str, Bootstrap], name: str) -> str:
    """What tuned thresholds did to ``name``'s macro-F1, as far as the interval supports.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import Bootstrap
    >>> from classbalance.compare.summary import threshold_sentence
    >>> flat = Bootstrap(["a"], np.array([0.5]), np.full((100, 1), 0.5))
    >>> up = Bootstrap(["a"], np.array([0.6]), np.linspace(0.55, 0.65, 100)[:, None])
    >>> threshold_sentence({"macro_f1": flat, "macro_f1_tuned": up}, "a")[:60]
    'Thresholds tuned on validation raise the macro-F1 of `a` fro'
    """
    diff, low, high = paired_gain(boots, name)
    i = boots["macro_f1"].names.index(name)
    before, after = boots["macro_f1"].estimate[i], boots["macro_f1_tuned"].estimate[i]
    interval = f"{diff:+.3f} [95% CI {low:+.3f}, {high:+.3f}]"
    if low > 0:
        verb = "raise"
    elif high < 0:
        verb = "lower"
    else:
        return (
            f"Thresholds tuned on validation change the macro-F1 of `{name}` from {before:.3f} "
            f"to {after:.3f}, {interval}: not clearly different from 0.5."
        )
    return (
        f"Thresholds tuned on validation {verb} the macro-F1 of `{name}` from {before:.3f} to "
        f"{after:.3f} ({interval})."
    )


# --------------------------------------------------------------------------- the table
def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _cell(row: Any, key: str, style: str, groups: tuple[str, ...]) -> str:
    if style == "groups":
        values = [row.get(key.format(g)) for g in groups]
        return " / ".join("-" if _missing(v) else f"{v:.2f}" for v in values)
    value = row.get(key)
    if _missing(value):
        return "-"
    if style == "interval":
        return f"{value:.3f} [{row[f'{key}_low']:.3f}, {row[f'{key}_high']:.3f}]"
    return f"{value:.3f}"


def summary_table(result: CompareResult) -> tuple[str, list[str], list[list[str]]]:
    """Title, header and rows of the printed table, best first; ``≈``: within noise of the best.

    The steps of a recipe that reuses another run's model are those it adds
    (``+0`` post-hoc).

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, run_compare
    >>> from classbalance.compare.summary import summary_table
    >>> result = run_compare(CompareConfig(strategies=["none"], seeds=1, epochs=1))
    >>> title, header, rows = summary_table(result)
    >>> header[:2], rows[0][0], rows[0][2]
    (['strategy', 'balanced acc. [95% CI]'], 'none ≈', '-')
    """
    task = result.task
    header = [
        "strategy",
        task.primary_header,
        "vs none [95% CI]",
        *[c.header for c in task.columns],
        "steps",
        "time",
    ]
    rows = []
    for name, row in result.summary.iterrows():
        vs_none = (
            f"{row['vs_none']:+.3f} [{row['vs_none_low']:+.3f}, {row['vs_none_high']:+.3f}]"
            if "vs_none" in row and name != "none"
            else "-"
        )
        fewer = row.get("seeds", 0) < result.summary["seeds"].max() if "seeds" in row else False
        seeds = int(row["seeds"]) if fewer else 0
        rows.append(
            [
                f"{name}{' ≈' if row['within_noise_of_best'] else ''}"
                + (f" (dropped, {seeds} seed{'s' if seeds > 1 else ''})" if fewer else ""),
                f"{row[task.primary]:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]",
                vs_none,
                *[_cell(row, c.key, c.style, task.group_names) for c in task.columns],
                f"+{int(row['steps'])}" if isinstance(row.get("base"), str) else f"{row['steps']}",
                f"{row['train_seconds']:.1f} s",
            ]
        )
    return task.table_title, header, rows
