"""Options shared by the commands: one meaning, one help text, one check everywhere."""

from __future__ import annotations

import json

import click
import pandas as pd
import pytest

from classbalance.cli import COMMANDS, main, options
from script_helpers import assert_one_line_error, run_script

SHARED = {
    "label_col": options.label_col,
    "label_cols": options.label_cols,
    "label_sep": options.label_sep,
    "key": options.key,
    "seed": options.seed,
    "as_json": options.as_json,
    "near_duplicates": options.near_duplicates,
    "backend": options.backend,
}


def _param(decorator, name: str) -> click.Parameter:
    (param,) = [p for p in decorator(click.command()(lambda **kw: None)).params if p.name == name]
    return param


def test_every_command_takes_the_shared_definitions():
    """Where a command has --label-sep (or another shared option), its help and type are the
    shared ones: inspect, split, weights and compare mean the same thing."""
    ctx = click.Context(main)
    seen = {name: [] for name in SHARED}
    for command_name in COMMANDS:
        command = main.get_command(ctx, command_name)
        for param in command.params:
            if param.name in SHARED:
                shared = _param(SHARED[param.name], param.name)
                assert param.opts == shared.opts, (command_name, param.name)
                assert param.help == shared.help, (command_name, param.name)
                assert type(param.type) is type(shared.type), (command_name, param.name)
                seen[param.name].append(command_name)
    assert set(seen["label_sep"]) == {"inspect", "split", "weights", "compare"}
    assert set(seen["label_cols"]) == {"inspect", "split", "weights", "compare"}
    assert set(seen["seed"]) == {"split", "oversample"}
    assert seen["backend"] == ["compare"]


@pytest.mark.parametrize("command", ["inspect", "weights", "split", "compare"])
def test_an_empty_separator_is_refused_alike(tmp_path, command):
    """An empty --label-sep is refused with the same message by every command, before any
    data is read."""
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [0, 1], "b": [1, 0]}).to_csv(path, index=False)
    head = ["compare", "--data", path] if command == "compare" else [command, path]
    tail = ["--out", tmp_path / "o.csv"] if command == "split" else []
    result = run_script(*head, "--label-sep", "", *tail)
    assert_one_line_error(result, "--label-sep", "must be the non-empty string", code=2)


def test_label_cols_names_are_checked(tmp_path):
    """--label-cols with an empty or a repeated name is a usage error that says which."""
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [0, 1], "b": [1, 0]}).to_csv(path, index=False)
    result = run_script("inspect", path, "--label-cols", "a,,b")
    assert_one_line_error(result, "--label-cols", "must be column names joined by commas", code=2)
    result = run_script("inspect", path, "--label-cols", "a,b,a")
    assert_one_line_error(result, "--label-cols", "names ['a'] more than once", code=2)


def test_label_sep_reads_a_folders_labels_csv(tmp_path):
    """On a folder, --label-sep reads the label sets of its labels.csv (the `labels` column
    when there is no `label`), as compare does; without labels.csv it says so."""
    folder = tmp_path / "photos"
    folder.mkdir()
    pd.DataFrame({"fname": ["0.png", "1.png", "2.png"], "labels": ["cat|dog", "dog", ""]}).to_csv(
        folder / "labels.csv", index=False
    )
    result = run_script("inspect", folder, "--label-sep", "|", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["multilabel"] is True
    assert {r["label"]: r["count"] for r in payload["labels"]} == {"cat": 1, "dog": 2}
    (tmp_path / "empty").mkdir()
    result = run_script("inspect", tmp_path / "empty", "--label-sep", "|")
    assert_one_line_error(result, "--label-sep", "a folder without labels.csv", code=2)
    result = run_script("inspect", folder, "--label-col", "labels")
    assert_one_line_error(result, "--label-col", "class-folder tree", "with --label-sep", code=2)
