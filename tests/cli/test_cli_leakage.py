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


def test_json_is_complete_with_absolute_paths(leaky):
    """--json lists every pair with absolute paths, whatever --show says."""
    result = run_script("leakage", leaky, "--json", "--show", "0")
    assert result.returncode == 1, result.stderr
    payload = json.loads(result.stdout)
    pairs = {(p["path_a"], p["path_b"]) for p in payload["pairs"] if p["cross_split"]}
    assert pairs == {(str(leaky / a), str(leaky / b)) for a, b in LEAKS}


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
