"""``classbalance split`` run as users run it: the installed script in a subprocess."""

from __future__ import annotations

import numpy as np
import pandas as pd

import classbalance as cb
from script_helpers import assert_one_line_error, run_script


def test_csv_split_matches_library(tmp_path):
    """The split column equals stratified_split with the same seed; groups are kept whole."""
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], size=300, p=[0.7, 0.2, 0.1])
    frame = pd.DataFrame({"img": [f"{i}.png" for i in range(300)], "label": y})
    frame["patient"] = np.arange(300) // 5
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = run_script(
        "split", tmp_path / "t.csv", "--val", "0.2", "--test", "30", "--seed", "4",
        "--out", tmp_path / "s.csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = pd.read_csv(tmp_path / "s.csv")
    assert out.drop(columns="split").equals(frame)
    train, val, test = cb.stratified_split(y, val_size=0.2, test_size=30, seed=4)
    for name, idx in (("train", train), ("val", val), ("test", test)):
        assert np.array_equal(np.flatnonzero(out["split"] == name), idx)
    assert "total" in result.stdout
    assert "(seed 4)" in result.stdout

    result = run_script(
        "split", tmp_path / "t.csv", "--groups", "patient", "--seed", "1",
        "--out", tmp_path / "gs.csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    grouped = pd.read_csv(tmp_path / "gs.csv")
    assert (grouped.groupby("patient")["split"].nunique() == 1).all()


def test_multilabel_csv_split_matches_library(tag_table, tmp_path):
    """--label-sep and --label-cols: the split column equals stratified_split of the multi-hot
    matrix with the same seed."""
    path, names, Y = tag_table
    expected = cb.stratified_split(Y[:, :3], val_size=0.3, seed=2)  # without empty "eel"
    assert names[:3] == ["bird", "cat", "dog"]
    for args in (["--label-col", "tags", "--label-sep", "|"], ["--label-cols", "bird,cat,dog"]):
        out_path = tmp_path / "s.csv"
        result = run_script("split", path, *args, "--val", "0.3", "--seed", "2", "--out", out_path)
        assert result.returncode == 0, result.stderr
        out = pd.read_csv(out_path)
        for name, idx in zip(("train", "val"), expected):
            assert np.array_equal(np.flatnonzero(out["split"] == name), idx)


def test_folder_split(tree, tmp_path):
    """A folder tree splits into path,label,split with every class in both splits; without
    --seed a seed is drawn and printed."""
    result = run_script("split", tree, "--val", "0.25", "--out", tmp_path / "s.csv")
    assert result.returncode == 0, result.stderr
    out = pd.read_csv(tmp_path / "s.csv")
    assert list(out.columns) == ["path", "label", "split"]
    assert set(out.loc[out["split"] == "val", "label"]) == {"cat", "dog"}
    assert "single sample" in result.stderr
    assert "(seed " in result.stdout


def test_bad_input(tmp_path):
    """A size that is neither a fraction nor a count is a usage error; too large, an unknown
    --groups column and --near-duplicates on a CSV are one-line errors; nothing is written."""
    np.save(tmp_path / "y.npy", np.repeat([0, 1], 10))
    out = tmp_path / "s.csv"
    result = run_script("split", tmp_path / "y.npy", "--val", "abc", "--out", out)
    assert_one_line_error(result, "--val", "neither a fraction like 0.2 nor a count", code=2)
    result = run_script("split", tmp_path / "y.npy", "--val", "1.5", "--out", out)
    assert_one_line_error(result, "val_size=1.5")
    result = run_script("split", tmp_path / "y.npy", "--groups", "patient", "--out", out)
    assert_one_line_error(result, "`--groups` 'patient' is not a column")
    pd.DataFrame({"label": [0, 1] * 5}).to_csv(tmp_path / "t.csv", index=False)
    result = run_script("split", tmp_path / "t.csv", "--near-duplicates", "--out", out)
    assert_one_line_error(result, "--near-duplicates needs a class-folder PATH", code=2)
    result = run_script("split", tmp_path / "y.npy")
    assert_one_line_error(result, "Missing option '--out'", code=2)
    assert not out.exists()
