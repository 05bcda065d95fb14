"""The report of ``compare``: the table, report.md, results.csv/json and the figures."""

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
from classbalance.compare.recipes import MIN_VAL_PER_CLASS_FOR_TAU, RECIPES
from classbalance.compare.runner import CompareResult
from classbalance.compare.stats import SHOT_GROUPS

__all__ = ["SUMMARY_HEADER", "summary_rows", "write_report"]

SUMMARY_HEADER = [
    "strategy",
    "balanced acc. [95% CI]",
    "vs none [95% CI]",
    "macro-F1",
    "worst-class recall",
    "many / medium / few-shot recall",
    "steps",
    "time",
]


def _opt(value: Any) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.2f}"
    )


def summary_rows(result: CompareResult) -> list[list[str]]:
    """The printed table, best first; ``≈`` marks strategies within noise of the best."""
    rows = []
    for name, row in result.summary.iterrows():
        mark = " ≈" if row["within_noise_of_best"] else ""
        vs_none = (
            f"{row['vs_none']:+.3f} [{row['vs_none_low']:+.3f}, {row['vs_none_high']:+.3f}]"
            if "vs_none" in row and name != "none"
            else "-"
        )
        shots = " / ".join(_opt(row.get(f"{g}_shot_recall")) for g, _, _ in SHOT_GROUPS)
        rows.append(
            [
                f"{name}{mark}",
                f"{row['balanced_accuracy']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]",
                vs_none,
                f"{row['macro_f1']:.3f}",
                f"{row['min_recall']:.3f}",
                shots,
                f"{int(row['steps'])}",
                f"{row['train_seconds']:.1f} s",
            ]
        )
    return rows


def _shot_sentence(result: CompareResult) -> str:
    counts = np.array(list(result.train_counts.values()))
    parts = []
    for name, low, high in SHOT_GROUPS:
        n = int(((counts >= low) if high is None else ((counts >= low) & (counts <= high))).sum())
        bound = (
            f"> {low - 1}" if high is None else (f"< {high + 1}" if low == 0 else f"{low}–{high}")
        )
        parts.append(f"{name}-shot ({bound} training samples): {n} classes")
    return "; ".join(parts)


def _markdown(result: CompareResult) -> str:
    cfg = result.config
    model = cfg.model or ("default: small residual CNN" if "images" in result.data_description
                          else "default: MLP, 256 units, dropout 0.5")  # fmt: skip
    budget = int(result.runs["budget_steps"].iloc[0])
    lines = [
        "# classbalance compare",
        "",
        f"**{result.recommendation}**",
        "",
        f"Data: {result.data_description}.",
        f"Training counts per class: {result.train_counts}.",
        f"Test counts per class: {result.test_counts}.",
        *[f"{note}" for note in result.notes],
        "",
        "## How it was measured",
        "",
        f"- Model: {model}; Adam lr={cfg.learning_rate}, batch {cfg.batch_size}; Keras backend "
        f"{result.backend}; seeds 0..{cfg.seeds - 1}; {result.seconds:.0f} s in all on "
        f"{os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{effective_n_jobs(cfg.jobs)} worker process(es).",
        f"- Equal budget: every run took {budget} optimizer steps ({cfg.epochs} epochs of "
        "n_train samples) at the same batch size; sampled recipes draw n_train samples per "
        "epoch, the ensemble and cRT split the steps. The `steps` column counts what each run "
        "really took.",
        "- Model selection on validation only: each run kept the weights of its epoch with the "
        "best validation balanced accuracy (restore best).",
        "- Post-hoc tau: 1 (Bayes-optimal for the balanced error), tuned on validation only "
        f"when every class has >= {MIN_VAL_PER_CLASS_FOR_TAU} validation samples; the tau used "
        "is in results.json (`details`).",
        "- Intervals: 95% percentile bootstrap (2,000 replicates) over the test samples "
        "(resampled within each class) and the seeds, paired across strategies. "
        "`vs none` is the paired difference to no remedy; ≈ marks the strategies whose "
        "difference to the best has an interval reaching 0 (within noise of the best).",
        f"- Shot groups: {_shot_sentence(result)}.",
        "",
        "## Test-set scores, best first",
        "",
        "| " + " | ".join(SUMMARY_HEADER) + " |",
        "|" + "---|" * len(SUMMARY_HEADER),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in summary_rows(result)]
    lines += ["", "## Strategies", ""]
    lines += [f"- `{n}`: {RECIPES[n].description}" for n in cfg.strategies]
    lines += [
        "",
        "Figures: `class_histogram.png` (training counts), `strategies.png` (balanced "
        "accuracy with 95% intervals), `shot_groups.png` (recall of many-/medium-/few-shot "
        "classes), "
        + ("`confusion_none.png` and " if "none" in result.confusions else "")
        + "`confusion_best.png` (row-normalized confusion matrices, summed over seeds). "
        "Every run can be re-run from results.json (strategy, seed, configuration).",
    ]
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
            "config": config,
            "data": result.data_description,
            "train_counts": result.train_counts,
            "test_counts": result.test_counts,
            "notes": result.notes,
            "backend": result.backend,
            "seconds": result.seconds,
            "runs": result.runs.to_dict(orient="records"),
            "summary": result.summary.reset_index().to_dict(orient="records"),
        }
    )


def write_report(result: CompareResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write results.csv, results.json, report.md and the PNG figures into ``out_dir``.

    Existing files of the same names are replaced, each atomically; other
    files in ``out_dir`` are left alone.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    runs = result.runs.drop(columns=["details", "best_epochs"], errors="ignore")
    if result.multilabel:
        from classbalance.compare.multilabel import multilabel_markdown

        markdown = multilabel_markdown(result)
    else:
        markdown = _markdown(result)
    for name, text in (
        ("results.csv", runs.to_csv(index=False)),
        ("results.json", json.dumps(results_payload(result), indent=2, default=str)),
        ("report.md", markdown),
    ):
        atomic_write_text(out / name, text)
        written.append(out / name)
    written += _figures(result, out)
    return written


def _figures(result: CompareResult, out: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from classbalance import plots
    except ImportError:
        return []
    import classbalance as cb

    if result.multilabel:
        return _multilabel_figures(result, out)
    paths = [out / "class_histogram.png"]
    counts = cb.ClassDistribution(
        np.array(list(result.train_counts)), np.array(list(result.train_counts.values()))
    )
    plots.plot_class_histogram(counts, path=paths[-1])
    paths.append(out / "strategies.png")
    _save(_interval_figure(result), paths[-1])
    paths.append(out / "shot_groups.png")
    _save(_shot_figure(result), paths[-1])
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


def _multilabel_figures(result: CompareResult, out: Path) -> list[Path]:
    import classbalance as cb
    from classbalance import plots

    paths = [out / "label_histogram.png"]
    counts = cb.ClassDistribution(
        np.array(list(result.train_counts)), np.array(list(result.train_counts.values()))
    )
    plots.plot_class_histogram(counts, path=paths[-1])
    paths.append(out / "strategies.png")
    _save(_interval_figure(result, "mAP", "mAP on the test set, 95% bootstrap interval"), paths[-1])
    return paths


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def _interval_figure(
    result: CompareResult,
    column: str = "balanced_accuracy",
    xlabel: str = "balanced accuracy on the test set, 95% bootstrap interval",
) -> Any:
    import matplotlib.pyplot as plt

    table = result.summary.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.4 * len(table) + 1.2)))
    pos = np.arange(len(table))
    est = table[column].to_numpy(float)
    err = np.vstack([est - table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float) - est])
    colors = ["#4C72B0" if w else "#A0A0A0" for w in table["within_noise_of_best"]]
    ax.barh(pos, est, xerr=err, color=colors, ecolor="#333333", capsize=3)
    ax.set_yticks(pos, [str(n) for n in table.index])
    for p, e, high in zip(pos, est, table["ci_high"].to_numpy(float)):
        ax.text(high + 0.004, p, f"{e:.3f}", va="center", fontsize=8)  # right of the interval
    ax.set_xlim(max(0.0, float(table["ci_low"].min()) - 0.05), 1.0)
    ax.set_xlabel(xlabel)
    ax.set_title("Blue: within noise of the best; grey: clearly worse")
    fig.tight_layout()
    return fig


def _shot_figure(result: CompareResult) -> Any:
    import matplotlib.pyplot as plt

    table = result.summary
    names = [str(n) for n in table.index]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(names) + 2), 3.8))
    width = 0.27
    for k, (group, _, _) in enumerate(SHOT_GROUPS):
        values = table.get(f"{group}_shot_recall")
        if values is None:
            continue
        heights = [np.nan if v is None else float(v) for v in values]
        ax.bar(np.arange(len(names)) + (k - 1) * width, heights, width, label=f"{group}-shot")
    ax.set_xticks(np.arange(len(names)), names, rotation=35, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean recall of the group's classes")
    ax.legend(fontsize=8)
    ax.set_title("Recall by training frequency (>100, 20–100, <20 samples)")
    fig.tight_layout()
    return fig
