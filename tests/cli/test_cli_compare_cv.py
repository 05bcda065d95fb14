"""``classbalance compare`` cross-validates small data by default: the installed script."""

from __future__ import annotations

import json

import numpy as np

from script_helpers import assert_one_line_error, run_script


def test_small_csv_is_cross_validated_by_default(tmp_path):
    """A CSV whose rarest class would have 3 test samples in a single split: without --cv the
    script cross-validates (5 folds, --seeds repeats), says why in the report, and a run's
    steps are summed over its folds."""
    import pandas as pd

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [60, 15])  # 20% test split: 3 of class 1
    x = rng.normal(size=(len(y), 3)) + y[:, None]
    csv = tmp_path / "d.csv"
    pd.DataFrame({**{f"f{i}": x[:, i] for i in range(3)}, "label": y}).to_csv(csv, index=False)
    out = tmp_path / "r"
    result = run_script(
        "compare", "--data", csv, "--strategies", "none", "--epochs", "1", "--seeds", "1",
        "--jobs", "1", "--out", out, timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads((out / "results.json").read_text())
    assert payload["config"]["cv"] is None
    note = next(n for n in payload["notes"] if n.startswith("Cross-validation ("))
    assert "would have 3 test samples (< 20)" in note
    assert "--cv 0 keeps the single split" in note
    assert "5-fold cross-validation x 1 repeat(s)" in (out / "report.md").read_text()
    assert "x 5 folds" in " ".join(result.stderr.split())  # the plan counts the folds
    (run,) = payload["runs"]
    assert run["steps"] == 5 * 2  # 5 folds x 1 epoch x ceil(45 / 32) batches


def test_one_fold_is_a_usage_error():
    result = run_script("compare", "--cv", "1", "--quick")
    assert_one_line_error(result, "`cv` must be a number of folds >= 2", "Received: cv=1")
