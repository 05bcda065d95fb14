"""``classbalance weights`` run as users run it: the installed script in a subprocess."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import classbalance as cb
from script_helpers import assert_one_line_error, run_script


@pytest.mark.parametrize("strategy", ["balanced", "inverse", "sqrt", "effective"])
def test_json_equals_library(tmp_path, strategy):
    """weights --json gives exactly cb.class_weights, keyed for Keras."""
    y = np.repeat([0, 1, 2], [90, 9, 1])
    np.save(tmp_path / "y.npy", y)
    result = run_script("weights", tmp_path / "y.npy", "--strategy", strategy, "--json")
    assert result.returncode == 0, result.stderr
    got = {int(k): v for k, v in json.loads(result.stdout)["class_weight"].items()}
    assert got == pytest.approx(cb.class_weights(y, strategy))


def test_table(tree):
    """The table lists each class with its weight."""
    result = run_script("weights", tree, "--normalize", "none", "--strategy", "inverse")
    assert result.returncode == 0, result.stderr
    cat = next(line for line in result.stdout.splitlines() if " cat " in line)
    assert "0.05" in cat  # 1 / 20


def test_joined_class_names_are_single_label_with_a_warning(tmp_path):
    """A class name holding '|' is a class (nothing guessed); stderr names --label-sep."""
    y = ["a|b"] * 3 + ["c"]
    pd.DataFrame({"label": y}).to_csv(tmp_path / "t.csv", index=False)
    result = run_script("weights", tmp_path / "t.csv", "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)["class_weight"]
    assert got == pytest.approx({str(k): v for k, v in cb.class_weights(y).items()})
    assert "Warning:" in result.stderr
    assert "--label-sep '|'" in result.stderr


@pytest.mark.parametrize("form", ["label-sep", "label-cols", "npz"])
def test_multilabel_pos_weight_equals_library(tag_table, tmp_path, form):
    """Multi-label data get cb.pos_weight per label, whatever the file form."""
    path, names, Y = tag_table
    args = {
        "label-sep": ["--label-col", "tags", "--label-sep", "|"],
        "label-cols": ["--label-cols", ",".join(names)],
        "npz": [],
    }[form]
    if form == "npz":
        path = tmp_path / "d.npz"
        np.savez(path, y=Y)
    result = run_script("weights", path, *args, "--smoothing", "1", "--power", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    Y_read = Y if form != "label-sep" else Y[:, :3]  # no row holds 'eel' in the tag strings
    expected = cb.pos_weight(Y_read, smoothing=1.0, power=0.5)
    assert payload["pos_weight"] == pytest.approx(expected.tolist())
    assert [r["positives"] for r in payload["labels"]] == Y_read.sum(0).tolist()
    assert [r["negatives"] for r in payload["labels"]] == (10 - Y_read.sum(0)).tolist()


def test_multilabel_table_and_empty_label(tag_table):
    """The table lists positives, negatives and pos_weight; a label with no positive gets
    weight 1 and a warning (once, on stderr; in --json's warnings), not a crash."""
    path, names, _Y = tag_table
    result = run_script("weights", path, "--label-cols", ",".join(names))
    assert result.returncode == 0, result.stderr
    assert "pos_weight" in result.stdout
    assert "BCEWithLogitsLoss" in result.stdout
    eel = [line for line in result.stdout.splitlines() if "eel" in line]
    assert eel
    assert eel[0].split()[-2] == "1"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert "'eel'" in warnings[0]
    assert "no positive sample" in warnings[0]
    result = run_script("weights", path, "--label-cols", ",".join(names), "--json")
    (note,) = json.loads(result.stdout)["warnings"]
    assert "no positive sample" in note
    assert "Warning:" not in result.stderr


def test_options_of_the_other_kind_are_refused(tag_table, tmp_path):
    """--strategy/--beta/--normalize are single-label; --smoothing/--power multi-label."""
    path, names, _Y = tag_table
    result = run_script("weights", path, "--label-cols", ",".join(names), "--strategy", "sqrt")
    assert_one_line_error(result, "--strategy does not apply to multi-label data", code=2)
    np.save(tmp_path / "y.npy", np.repeat([0, 1], [9, 1]))
    result = run_script("weights", tmp_path / "y.npy", "--power", "0.5")
    assert_one_line_error(result, "--power does not apply to single-label data", code=2)
    result = run_script("weights", tmp_path / "y.npy", "--strategy", "median")
    assert_one_line_error(result, "--strategy", "'median'", code=2)
