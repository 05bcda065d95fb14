"""``classbalance oversample`` run as users run it: the installed script in a subprocess."""

from __future__ import annotations

import json

from folder_helpers import assert_fastai_contract, tree_checksum
from script_helpers import assert_one_line_error, run_script


def test_balance_export_and_overwrite(tree, tmp_path):
    """oversample writes a fastai-ready folder and its manifest, refuses to overwrite without
    --overwrite, and never touches the input."""
    before = tree_checksum(tree)
    out = tmp_path / "out"
    result = run_script("oversample", tree, out, "--balance", "--seed", "3")
    assert result.returncode == 0, result.stderr
    table = assert_fastai_contract(out)
    train = table[~table["is_valid"]]["label"].value_counts()
    assert train.nunique() == 1  # balanced
    assert f"validation samples: {table['is_valid'].sum()}" in result.stdout
    assert "(seed 3)" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert "classbalance oversample" in json.dumps(manifest)
    assert_one_line_error(run_script("oversample", tree, out, "--balance"), "not empty")
    result = run_script(
        "oversample", tree, out, "--factor", "dog=0.5", "--factor", "solo=2",
        "--mode", "copy", "--seed", "3", "--overwrite",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = assert_fastai_contract(out)
    train = table[~table["is_valid"]]["label"].value_counts()
    assert train["dog"] == 5 + 3  # 50% of 5 is 2.5: rounded half up
    assert train["solo"] == 3
    assert tree_checksum(tree) == before


def test_exactly_one_strategy(tree, tmp_path):
    """--factor, --balance and --alpha are exclusive and one is required; a bad --factor and
    an unknown class say so; nothing is written."""
    out = tmp_path / "o"
    exclusive = "Pass exactly one of --factor LABEL=PCT ..., --balance or --alpha."
    assert_one_line_error(run_script("oversample", tree, out), exclusive, code=2)
    assert_one_line_error(
        run_script("oversample", tree, out, "--balance", "--alpha", "0.5"), exclusive, code=2
    )
    assert_one_line_error(
        run_script("oversample", tree, out, "--factor", "dog"), "must be LABEL=PCT", code=2
    )
    assert_one_line_error(run_script("oversample", tree, out, "--factor", "cow=1"), "'cow'")
    assert not out.exists()


def test_output_inside_input(tree):
    """An output inside the input is refused in one line, nothing written."""
    before = tree_checksum(tree)
    assert_one_line_error(run_script("oversample", tree, tree / "out", "--balance"), "inside")
    assert tree_checksum(tree) == before
