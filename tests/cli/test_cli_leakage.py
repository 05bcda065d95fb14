"""``classbalance leakage`` run as users run it: the installed script, its output piped."""

from __future__ import annotations

import json
import shutil

import pytest

from script_helpers import assert_one_line_error, run_script

pytest.importorskip("PIL")
pytest.importorskip("imagehash")

from image_helpers import digit_array, save_png

DISTINCT = [0, 1, 2, 3, 4, 5, 6, 7]  # digits whose perceptual hashes are far apart
LONG = "a_file_name_far_too_long_for_a_table_cell_at_eighty_columns_{}.png"


@pytest.fixture
def leaky(tmp_path):
    """root/{train,valid}/{a,b}/ with long file names; two images of train sit in valid."""
    root = tmp_path / "deep" / "enough" / "to" / "be" / "cut" / "data"
    for k in range(4):
        split, label = ("train", "valid")[k // 2], "ab"[k % 2]
        save_png(root / split / label / LONG.format(k), digit_array(DISTINCT[k], 32))
    shutil.copy(root / "train" / "a" / LONG.format(0), root / "valid" / "a" / LONG.format("copy"))
    shutil.copy(root / "train" / "b" / LONG.format(1), root / "valid" / "a" / LONG.format("b"))
    return root


LEAKS = [  # (file in train, file in valid), relative to the root
    (f"train/a/{LONG.format(0)}", f"valid/a/{LONG.format('copy')}"),
    (f"train/b/{LONG.format(1)}", f"valid/a/{LONG.format('b')}"),
]


def _pair_line(stdout: str, a: str, b: str) -> str:
    """The first line naming both files (a pair may also be listed as a label conflict)."""
    lines = [line for line in stdout.splitlines() if a in line and b in line]
    assert lines, stdout
    return lines[0]


def test_piped_output_names_every_leaking_pair_in_full(leaky):
    """Piped at the default width (COLUMNS=80, not a terminal): both files of every leaking
    pair, in full, relative to the root, one pair per line; exit status 1."""
    result = run_script("leakage", leaky)
    assert result.returncode == 1, result.stderr
    assert "…" not in result.stdout
    assert f"Files are named relative to {leaky}" in result.stdout
    assert "Duplicates across splits (leakage): 2" in result.stdout
    for a, b in LEAKS:
        line = _pair_line(result.stdout, a, b)
        assert str(leaky) not in line  # relative, not absolute
    assert "train/b: " in _pair_line(result.stdout, *LEAKS[1])  # split/label of each file
    assert "valid/a: " in _pair_line(result.stdout, *LEAKS[1])
    assert "Label conflicts (duplicates under two labels): 1" in result.stdout
    assert "-- LEAKAGE" in result.stdout


def test_split_folders_name_files_relative_to_each(leaky):
    """Two split folders: each file is named relative to its own split folder, and the
    first line says which folder each split is."""
    result = run_script("leakage", leaky / "train", leaky / "valid")
    assert result.returncode == 1, result.stderr
    assert (
        f"relative to their split folder: train = {leaky / 'train'}, valid = {leaky / 'valid'}"
    ) in result.stdout
    for a, b in LEAKS:
        _pair_line(result.stdout, a.removeprefix("train/"), b.removeprefix("valid/"))


def test_json_is_complete_with_absolute_paths(leaky):
    """--json lists every pair with absolute paths, whatever --show says."""
    result = run_script("leakage", leaky, "--json", "--show", "0")
    assert result.returncode == 1, result.stderr
    payload = json.loads(result.stdout)
    pairs = {(p["path_a"], p["path_b"]) for p in payload["pairs"] if p["cross_split"]}
    assert pairs == {(str(leaky / a), str(leaky / b)) for a, b in LEAKS}


def test_clean_tree_and_skipped_files(leaky):
    """No leak: exit 0. A skipped file is counted once in the report, not warned about twice;
    --show limits the pairs listed and says how many more there are."""
    for name in (LONG.format("copy"), LONG.format("b")):
        (leaky / "valid" / "a" / name).unlink()
    (leaky / "train" / "a" / "notes.txt").write_text("not an image")
    result = run_script("leakage", leaky)
    assert result.returncode == 0, result.stderr
    assert "skipped: 1 non_images" in result.stdout
    assert "Files skipped" not in result.stderr
    assert "Duplicates" not in result.stdout


def test_show_limits_the_list(leaky):
    """--show 1 lists one leaking pair and says how many more there are."""
    result = run_script("leakage", leaky, "--show", "1")
    assert result.returncode == 1
    assert "... and 1 more (--show N, or --json)" in result.stdout


def test_bad_input(tmp_path):
    """A folder without splits or labels.csv, four folders, or a missing path: one line that
    says what is accepted."""
    (tmp_path / "x").mkdir()
    assert_one_line_error(run_script("leakage", tmp_path / "x"), "split folders")
    four = [tmp_path / "x"] * 4
    assert_one_line_error(
        run_script("leakage", *four), "Give one folder, or two or three split folders.", code=2
    )
    assert_one_line_error(run_script("leakage", tmp_path / "nope"), "does not exist", code=2)
