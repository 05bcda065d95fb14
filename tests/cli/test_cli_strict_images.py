"""--strict-images: every command that opens images treats an unreadable one the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from script_helpers import run_script


@pytest.fixture
def truncated(tmp_path: Path) -> Path:
    """data/<a|b>/<k>.png of digit images; a/0.png cut in half (Pillow: truncated)."""
    pytest.importorskip("PIL")
    from image_helpers import digit_array, save_png

    root = tmp_path / "data"
    for label, first in (("a", 0), ("b", 1)):
        for k in range(6):
            save_png(root / label / f"{k}.png", digit_array(first + 2 * k, 16))
    png = root / "a" / "0.png"
    png.write_bytes(png.read_bytes()[: len(png.read_bytes()) // 2])
    return root


@pytest.mark.parametrize("command", ["inspect", "split", "weights"])
def test_label_readers_stop_on_strict_images(truncated, tmp_path, command):
    """inspect / split / weights: --strict-images opens the images and names the bad one."""
    extra = ["--out", tmp_path / "split.csv"] if command == "split" else []
    done = run_script(command, truncated, "--strict-images", *extra)
    assert done.returncode != 0, done.stdout
    assert "a/0.png" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_oversample_skips_by_default_and_stops_on_strict_images(truncated, tmp_path):
    """oversample --verify skips the bad image with a warning naming it; --strict-images stops."""
    done = run_script("oversample", truncated, tmp_path / "out", "--balance", "--verify")
    assert done.returncode == 0, done.stderr
    assert "a/0.png" in done.stderr
    strict = run_script("oversample", truncated, tmp_path / "out2", "--balance", "--strict-images")
    assert strict.returncode != 0
    assert "a/0.png" in strict.stderr
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())


def test_leakage_stops_on_strict_images(truncated, tmp_path):
    """leakage --strict-images names the unreadable image instead of skipping it."""
    split = tmp_path / "splits"
    (split / "train").mkdir(parents=True)
    truncated.rename(split / "train" / "data")
    done = run_script("leakage", split / "train", split / "train", "--strict-images")
    assert done.returncode == 2, done.stdout  # an error, not a leakage verdict (1)
    assert "0.png" in done.stderr, done.stderr
