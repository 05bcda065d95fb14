"""The multi-label summary of ``compare``: intervals, recommendation, table and report text.

Scores: mAP (primary; the recommendation is built from its intervals),
head / medium / tail mAP (labels grouped by training positives as
:func:`classbalance.multilabel_report` does: tail < 20 <= medium <= 100 <
head), macro-F1 at the 0.5 threshold and at per-label thresholds tuned on the
validation split. Intervals: a paired bootstrap over test rows (not
stratified: a row carries several labels) and seeds
(:func:`classbalance.compare.stats.bootstrap_multilabel`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from classbalance.compare.multilabel_recipes import ML_RECIPES
from classbalance.compare.runner import CompareConfig, CompareResult, recommendation
from classbalance.compare.stats import Bootstrap, bootstrap_multilabel
from classbalance.metrics import FREQUENCY_BOUNDS, frequency_groups

__all__ = [
    "ML_SUMMARY_HEADER",
    "label_groups",
    "multilabel_markdown",
    "summarize_multilabel",
    "summary_rows_multilabel",
    "threshold_sentence",
]

GROUPS = ("head", "medium", "tail")
ML_SUMMARY_HEADER = [
    "strategy",
    "mAP [95% CI]",
    "vs none [95% CI]",
    "tail mAP [95% CI]",
    "head / medium / tail mAP",
    "macro-F1 @0.5 [95% CI]",
    "macro-F1 tuned [95% CI]",
    "steps",
    "time",
]


def label_groups(train_counts: np.ndarray) -> dict[str, np.ndarray]:
    """Label indices per head / medium / tail group: tail < 20 <= medium <= 100 < head.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.multilabel import label_groups
    >>> {k: v.tolist() for k, v in label_groups(np.array([500, 100, 20, 19, 0])).items()}
    {'head': [0], 'medium': [1, 2], 'tail': [3, 4]}
    """
    return frequency_groups(train_counts)


def _paired_gain(boots: dict[str, Bootstrap], name: str) -> tuple[float, float, float]:
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
    >>> from classbalance.compare.multilabel import threshold_sentence
    >>> flat = Bootstrap(["a"], np.array([0.5]), np.full((100, 1), 0.5))
    >>> up = Bootstrap(["a"], np.array([0.6]), np.linspace(0.55, 0.65, 100)[:, None])
    >>> threshold_sentence({"macro_f1": flat, "macro_f1_tuned": up}, "a")[:60]
    'Thresholds tuned on validation raise the macro-F1 of `a` fro'
    """
    diff, low, high = _paired_gain(boots, name)
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


def summarize_multilabel(
    cfg: CompareConfig,
    data: Any,
    rows: list[dict],
    keras: Any,
    seconds: float,
) -> CompareResult:
    """Bootstrap the runs of every strategy and build the multi-label :class:`CompareResult`."""
    names = list(cfg.strategies)
    scores = {n: np.stack([r["_scores"] for r in rows if r["strategy"] == n]) for n in names}
    thresholds = {
        n: np.stack([r["_thresholds"] for r in rows if r["strategy"] == n]) for n in names
    }
    decisions = {
        "macro_f1": {n: scores[n] >= 0.5 for n in names},
        "macro_f1_tuned": {n: scores[n] >= thresholds[n][:, None, :] for n in names},
    }
    groups = label_groups(data.train_counts)
    boots = bootstrap_multilabel(data.y_test, scores, decisions, groups=groups, seed=cfg.data_seed)
    runs = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    grouped = runs.groupby("strategy", sort=False)
    boot = boots["mAP"]
    table = []
    for name in names:
        i = boot.names.index(name)
        entry: dict[str, Any] = {"strategy": name, "mAP": float(boot.estimate[i])}
        entry["ci_low"], entry["ci_high"] = boot.interval(name)
        if "none" in names:
            entry["vs_none"], entry["vs_none_low"], entry["vs_none_high"] = boot.difference(
                name, "none"
            )
        for g in GROUPS:
            key = f"{g}_mAP"
            if key in boots:
                entry[key] = float(boots[key].estimate[i])
                entry[f"{key}_low"], entry[f"{key}_high"] = boots[key].interval(name)
            else:
                entry[key] = None
        for rule in ("macro_f1", "macro_f1_tuned"):
            entry[rule] = float(boots[rule].estimate[i])
            entry[f"{rule}_low"], entry[f"{rule}_high"] = boots[rule].interval(name)
        gain = _paired_gain(boots, name)
        entry.update(tuned_gain=gain[0], tuned_gain_low=gain[1], tuned_gain_high=gain[2])
        entry["steps"] = int(grouped["steps"].mean()[name])
        entry["train_seconds"] = float(grouped["train_seconds"].mean()[name])
        table.append(entry)
    summary = pd.DataFrame(table).set_index("strategy")
    best_group = boot.indistinguishable_from_best()
    summary["within_noise_of_best"] = [n in best_group for n in summary.index]
    summary = summary.sort_values("mAP", ascending=False, kind="stable")
    all_notes = list(data.notes)
    if any(r["steps"] != r["budget_steps"] for r in rows):
        all_notes.append("Warning: some runs did not take the budgeted number of steps (see runs).")
    sentence = recommendation(boot, "none" in names, len(data.y_test), cfg.seeds, metric="mAP")
    label_names = [str(c) for c in data.classes]
    return CompareResult(
        runs=runs,
        summary=summary,
        config=cfg,
        data_description=data.description,
        train_counts=dict(zip(label_names, data.train_counts.tolist())),
        test_counts=dict(zip(label_names, data.test_counts.tolist())),
        recommendation=f"{sentence} {threshold_sentence(boots, boot.best())}",
        bootstrap=boot,
        predictions=scores,
        classes=list(data.classes),
        notes=all_notes,
        backend=keras.backend.backend(),
        seconds=seconds,
        multilabel=True,
        bootstraps=boots,
    )


def _ci(row: Any, key: str) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.3f} [{row[f'{key}_low']:.3f}, {row[f'{key}_high']:.3f}]"


def summary_rows_multilabel(result: CompareResult) -> list[list[str]]:
    """The printed multi-label table, best mAP first; ``≈`` marks those within noise of it."""
    rows = []
    for name, row in result.summary.iterrows():
        vs_none = (
            f"{row['vs_none']:+.3f} [{row['vs_none_low']:+.3f}, {row['vs_none_high']:+.3f}]"
            if "vs_none" in row and name != "none"
            else "-"
        )
        groups = " / ".join(
            "-" if row.get(f"{g}_mAP") is None or np.isnan(row[f"{g}_mAP"]) else
            f"{row[f'{g}_mAP']:.2f}" for g in GROUPS
        )  # fmt: skip
        rows.append(
            [
                f"{name}{' ≈' if row['within_noise_of_best'] else ''}",
                f"{row['mAP']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]",
                vs_none,
                _ci(row, "tail_mAP"),
                groups,
                _ci(row, "macro_f1"),
                _ci(row, "macro_f1_tuned"),
                f"{int(row['steps'])}",
                f"{row['train_seconds']:.1f} s",
            ]
        )
    return rows


def multilabel_markdown(result: CompareResult) -> str:
    """report.md for a multi-label comparison."""
    import os
    import platform

    from joblib import effective_n_jobs

    cfg = result.config
    model = cfg.model or ("default: small residual CNN" if "images" in result.data_description
                          else "default: MLP, 256 units, dropout 0.5")  # fmt: skip
    budget = int(result.runs["budget_steps"].iloc[0])
    counts = np.array(list(result.train_counts.values()))
    groups = label_groups(counts)
    low, high = FREQUENCY_BOUNDS
    lines = [
        "# classbalance compare (multi-label)",
        "",
        f"**{result.recommendation}**",
        "",
        f"Data: {result.data_description}.",
        f"Training positives per label: {result.train_counts}.",
        f"Test positives per label: {result.test_counts}.",
        *[f"{note}" for note in result.notes],
        "",
        "## How it was measured",
        "",
        f"- Model: {model}, one logit per label; Adam lr={cfg.learning_rate}, batch "
        f"{cfg.batch_size}; Keras backend {result.backend}; seeds 0..{cfg.seeds - 1}; "
        f"{result.seconds:.0f} s in all on {os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{effective_n_jobs(cfg.jobs)} worker process(es).",
        f"- Equal budget: every run took {budget} optimizer steps ({cfg.epochs} epochs of "
        "n_train samples) at the same batch size; class-aware sampling draws n_train samples "
        "per epoch. The `steps` column counts what each run really took.",
        "- Loss: binary cross-entropy from logits unless the recipe changes it. Model selection "
        "on validation only: each run kept the weights of its epoch with the best validation "
        "mAP (restore best).",
        "- Thresholds: `macro-F1 @0.5` predicts a label when its probability is >= 0.5; "
        "`macro-F1 tuned` uses one threshold per label maximizing F1 on the validation split "
        "(tune_thresholds), applied unchanged to the test set (labels without validation "
        "positives keep 0.5). mAP does not depend on thresholds.",
        "- Intervals: 95% percentile bootstrap (2,000 replicates) over the test rows (not "
        "stratified) and the seeds, paired across strategies and metrics. `vs none` is the "
        "paired mAP difference to no remedy; ≈ marks the strategies whose mAP difference to the "
        "best has an interval reaching 0 (within noise of the best).",
        f"- Label groups by training positives: head (> {high}): {len(groups['head'])} labels; "
        f"medium ({low}–{high}): {len(groups['medium'])}; tail (< {low}): "
        f"{len(groups['tail'])}.",
        "",
        "## Test-set scores, best mAP first",
        "",
        "| " + " | ".join(ML_SUMMARY_HEADER) + " |",
        "|" + "---|" * len(ML_SUMMARY_HEADER),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in summary_rows_multilabel(result)]
    lines += ["", "## Strategies", ""]
    lines += [f"- `{n}`: {ML_RECIPES[n].description}" for n in cfg.strategies]
    lines += [
        "",
        "Figures: `label_histogram.png` (training positives per label), `strategies.png` (mAP "
        "with 95% intervals). The tuned thresholds of every run are in results.json "
        "(`details`); every run can be re-run from it (strategy, seed, configuration).",
    ]
    return "\n".join(lines) + "\n"
