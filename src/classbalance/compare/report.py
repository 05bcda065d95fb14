"""The report of ``compare``: report.md, results.csv / results.json and the figures.

One code path for both tasks: the task (:mod:`classbalance.compare.task`)
supplies the report's wording, the table's columns and which figures exist.
Figures are drawn on explicit ``matplotlib.figure.Figure`` objects with the
Agg canvas: no ``pyplot`` state, no change of matplotlib's backend.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from joblib import effective_n_jobs

from classbalance._atomic import atomic_write_text, atomic_write_with
from classbalance.compare.config import CompareResult
from classbalance.compare.summary import summary_table

__all__ = ["markdown", "results_payload", "shared_models", "write_report"]


def _method_lines(result: CompareResult) -> list[str]:
    """The "How it was measured" lines: model, budget, then the task's rules and groups."""
    task = result.task
    cfg = result.config
    model = cfg.model or (
        "default: small residual CNN"
        if "images" in result.data_description
        else "default: MLP, 256 units, dropout 0.5"
    )
    shared = shared_models(result)
    budget = shared["steps_from_scratch"]
    return [
        f"- Model: {model}{task.model_note}; Adam lr={cfg.learning_rate}, batch "
        f"{cfg.batch_size}; Keras backend {result.backend}; seeds 0..{cfg.seeds - 1}; "
        f"{result.seconds:.0f} s in all on {os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{effective_n_jobs(cfg.jobs)} worker process(es).",
        f"- Equal budget: every prediction has {budget} optimizer steps of training behind it "
        f"({cfg.epochs} epochs of n_train samples) at the same batch size; {task.budget_note}. "
        "The `steps` column counts what each run trained itself (`+n`: on a shared model).",
        *([f"- Shared models: {shared['rule']}"] if shared["rule"] else []),
        *task.rule_lines,
        f"- {task.group_sentence(np.array(list(result.train_counts.values())))}.",
    ]


def _timing_run(plan: dict[str, Any]) -> str:
    """The run the plan timed: `none`, or the shared `none` of a recipe reusing it, or the first."""
    names, reuse = plan["strategies"], plan.get("reuse") or {}
    if "none" in names:
        return "`none`"
    if reuse:
        return f"`none`, trained as the shared model of `{next(iter(reuse))}`"
    return f"`{names[0]}`"


def plan_lines(result: CompareResult) -> list[str]:
    """The "Time plan" lines: what was planned and why, what racing dropped, the real time."""
    record = result.plan
    plan = record.get("plan")
    if not plan:
        return []
    budget = plan.get("budget_seconds")
    lines = [
        f"- Timing run ({_timing_run(plan)}, seed 0, kept as a run of the grid): one epoch "
        f"{plan['epoch_seconds']:.2f} s, "
        f"start-up {plan['start_seconds']:.1f} s; {plan['workers']} run(s) at a time "
        f"({record.get('workers', '')}).",
        f"- Budget: {'none' if budget is None else f'{budget / 60:.1f} min'}; asked for "
        f"{plan['requested']['seeds']} seed(s) x {plan['requested']['epochs']} epochs; the full "
        f"grid was estimated at {plan['full_grid_seconds'] / 60:.1f} min. Planned: "
        + (
            f"the grid ({plan['runs']} runs, {plan['epochs']} epochs), estimated "
            f"{plan['estimated_seconds'] / 60:.1f} min."
            if plan["mode"] == "grid"
            else f"racing with {plan['epochs']} epochs (the first round estimated at "
            f"{plan['estimated_seconds'] / 60:.1f} min)."
        ),
        *[f"- {note}" for note in plan.get("notes", []) + record.get("notes", [])],
    ]
    if plan["mode"] == "race":
        rule = record.get("rule", {})
        alpha = rule.get("one_sided_alpha_per_comparison", 0.0)
        lines.append(
            "- Racing rule: after each seed, the leader is the strategy with the best estimate; "
            "a strategy is dropped when the paired bootstrap interval of `leader - strategy` "
            f"(one-sided level {alpha:.5f} = 0.05 / ((strategies - 1) x (seeds - 1)), "
            f"{rule.get('replicates', 0)} replicates) lies above 0; `none` runs every seed. By "
            "a union bound over the possible leaders and the rounds, the truly best strategy is "
            "dropped with probability <= 0.05, as far as the intervals hold (one seed's "
            "interval sees the test samples' noise, not the seed-to-seed noise)."
        )
        for step in record.get("rounds", []):
            dropped = ", ".join(f"`{n}`" for n in step["dropped"]) or "none dropped"
            lines.append(
                f"- After {step['after_seeds']} seed(s): leader `{step['leader']}`; dropped: "
                f"{dropped}."
            )
    if "seconds" in record:
        lines.append(f"- Took {result.seconds:.0f} s in all (runs: {record['seconds']:.0f} s).")
    return lines


def _listing(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def shared_models(result: CompareResult) -> dict[str, Any]:
    """Which runs reuse another run's trained model, and how their steps add up.

    ``steps_from_scratch``: the steps of every run trained on its own (all
    the same). A reusing run's ``steps`` are those it trains itself: 0
    post-hoc, a second stage for cRT and LWS, whose first stage is the
    base's first epochs (``base_steps``), so that the two add up to
    ``steps_from_scratch``. ``total_steps``: every step trained, each
    counted once (a base that was not reported included).
    """
    runs = result.runs
    has_base = "base" in runs and runs["base"].notna().any()
    reusing = runs[runs["base"].notna()] if has_base else runs.iloc[:0]
    scratch = runs.loc[runs["base"].isna(), "budget_steps"] if has_base else runs["budget_steps"]
    steps = int(scratch.iloc[0]) if len(scratch) else int(reusing["base_steps"].max())
    total = int(runs["steps"].sum())
    out: dict[str, Any] = {"steps_from_scratch": steps, "bases": {}, "rule": ""}
    cv = int(result.plan.get("plan", {}).get("folds", 1)) > 1  # a seed is a repeat of K folds
    same = "of the same repeat and fold" if cv else "of the same seed"
    each = "repeats (every fold)" if cv else "seeds"
    sentences = []
    for base, rows in reusing.groupby("base", sort=False):
        names = list(dict.fromkeys(rows["strategy"]))
        own = rows.groupby("strategy", sort=False)["budget_steps"].first()
        first = rows.groupby("strategy", sort=False)["base_steps"].first()
        posthoc = [n for n in names if own[n] == 0 and first[n] == steps]
        staged = [n for n in names if n not in posthoc]
        reported = base in result.config.strategies
        seeds = sorted(set(rows["seed"]))
        out["bases"][base] = {"reused_by": names, "reported": reported, "seeds": seeds}
        parts = []
        if posthoc:
            parts.append(
                f"{_listing(posthoc)} {'is' if len(posthoc) == 1 else 'are'} computed from the "
                f"trained `{base}` model {same} and "
                f"{'trains' if len(posthoc) == 1 else 'train'} nothing (steps +0; the time is "
                "that computation alone)"
            )
        if staged:
            head, stage = int(first[staged[0]]), int(own[staged[0]])
            parts.append(
                f"{_listing(staged)} start from the `{base}` run {same} after its "
                f"first {head} steps (its best epoch on validation among them: the same training "
                f"as a first stage of their own, counted once, in `{base}`'s row) and train a "
                f"second stage of {stage} steps (only the classifier, or one scale per class): "
                f"{head} + {stage} = {head + stage} steps, as every run"
            )
        sentence = "; ".join(parts) + "."
        if not reported:
            total += steps * len(seeds)
            sentence += (
                f" `{base}` was trained once for each of these {each} as their shared model "
                f"({steps} steps each) but is not reported (it was not among the strategies)."
            )
        sentences.append(sentence)
    out["total_steps"] = total
    if sentences:
        sentences.append(f"Steps trained in all, each counted once: {total}.")
    out["rule"] = " ".join(sentences)
    return out


def markdown(result: CompareResult) -> str:
    """report.md: the recommendation, the data, how it was measured, the table, the recipes."""
    task = result.task
    _, header, rows = summary_table(result)
    lines = [
        task.report_title,
        "",
        f"**{result.recommendation}**",
        "",
        f"Data: {result.data_description}.",
        f"Training {task.counts_phrase}: {result.train_counts}.",
        f"Test {task.counts_phrase}: {result.test_counts}.",
        *[f"{note}" for note in result.notes],
        "",
        "## How it was measured",
        "",
        *_method_lines(result),
        "",
        *(["## Time plan", "", *plan_lines(result), ""] if result.plan else []),
        task.scores_heading,
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "## Strategies", ""]
    lines += [f"- `{n}`: {task.recipes[n].description}" for n in result.config.strategies]
    lines += ["", task.figures_sentence(result)]
    return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def results_payload(result: CompareResult) -> dict[str, Any]:
    """Everything ``results.json`` holds (configuration, runs, summary, recommendation)."""
    config = asdict(result.config)
    if config.get("model") is not None and not isinstance(config["model"], str):
        config["model"] = repr(config["model"])
    return _jsonable(
        {
            "recommendation": result.recommendation,
            "task": result.task.name,
            "config": config,
            "data": result.data_description,
            "train_counts": result.train_counts,
            "test_counts": result.test_counts,
            "notes": result.notes,
            "backend": result.backend,
            "seconds": result.seconds,
            "plan": result.plan,
            "shared_models": shared_models(result),
            "runs": result.runs.to_dict(orient="records"),
            "summary": result.summary.reset_index().to_dict(orient="records"),
        }
    )


def write_report(result: CompareResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write results.csv, results.json, report.md and the PNG figures into ``out_dir``.

    Existing files of the same names are replaced, each atomically; other
    files in ``out_dir`` are left alone. Without matplotlib no figure is
    written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    runs = result.runs.drop(columns=["details", "best_epochs"], errors="ignore")
    for name, text in (
        ("results.csv", runs.to_csv(index=False)),
        ("results.json", json.dumps(results_payload(result), indent=2, default=str)),
        ("report.md", markdown(result)),
    ):
        atomic_write_text(out / name, text)
        written.append(out / name)
    written += _figures(result, out)
    return written


# --------------------------------------------------------------------------- figures
def _figures(result: CompareResult, out: Path) -> list[Path]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from classbalance import plots
    except ImportError:
        return []
    import classbalance as cb

    def new_figure(width: float, height: float) -> Any:
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        return fig

    task = result.task
    paths = [out / task.histogram_file]
    counts = cb.ClassDistribution(
        np.array(list(result.train_counts)), np.array(list(result.train_counts.values()))
    )
    plots.plot_class_histogram(counts, path=paths[-1])
    paths.append(out / "strategies.png")
    _save(_interval_figure(result, new_figure), paths[-1])
    if task.group_figure is not None:
        paths.append(out / task.group_figure.file)
        _save(_group_figure(result, new_figure), paths[-1])
    best = str(result.summary.index[0])
    for tag, name in (("none", "none"), ("best", best)):
        if name in result.confusions:
            paths.append(out / f"confusion_{tag}.png")
            plots.plot_confusion_matrix(
                confusion=result.confusions[name],
                classes=result.classes,
                normalize="true",
                title=f"{name} (summed over seeds)",
                path=paths[-1],
            )
    return paths


def _save(fig: Any, path: Path) -> None:
    atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))


def _interval_figure(result: CompareResult, new_figure: Any) -> Any:
    column = result.task.primary
    table = result.summary.iloc[::-1]
    fig = new_figure(7.5, max(2.5, 0.4 * len(table) + 1.2))
    ax = fig.subplots()
    pos = np.arange(len(table))
    est = table[column].to_numpy(float)
    err = np.vstack([est - table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float) - est])
    colors = ["#4C72B0" if w else "#A0A0A0" for w in table["within_noise_of_best"]]
    ax.barh(pos, est, xerr=err, color=colors, ecolor="#333333", capsize=3)
    ax.set_yticks(pos, [str(n) for n in table.index])
    for p, e, high in zip(pos, est, table["ci_high"].to_numpy(float)):
        ax.text(high + 0.004, p, f"{e:.3f}", va="center", fontsize=8)  # right of the interval
    ax.set_xlim(max(0.0, float(table["ci_low"].min()) - 0.05), 1.0)
    ax.set_xlabel(f"{result.task.primary_text} on the test set, 95% bootstrap interval")
    ax.set_title("Blue: within noise of the best; grey: clearly worse")
    fig.tight_layout()
    return fig


def _group_figure(result: CompareResult, new_figure: Any) -> Any:
    spec = result.task.group_figure
    table = result.summary
    names = [str(n) for n in table.index]
    fig = new_figure(max(6.0, 0.7 * len(names) + 2), 3.8)
    ax = fig.subplots()
    width = 0.27
    for k, group in enumerate(result.task.group_names):
        values = table.get(spec.column.format(group))
        if values is None:
            continue
        heights = [np.nan if v is None else float(v) for v in values]
        ax.bar(
            np.arange(len(names)) + (k - 1) * width, heights, width, label=spec.legend.format(group)
        )
    ax.set_xticks(np.arange(len(names)), names, rotation=35, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel(spec.ylabel)
    ax.legend(fontsize=8)
    ax.set_title(spec.title)
    fig.tight_layout()
    return fig
