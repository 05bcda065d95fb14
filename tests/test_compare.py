"""`classbalance compare` end to end (the main job), on built-in and generated data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("keras")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from classbalance.cli import main  # noqa: E402
from classbalance.compare import STRATEGIES, CompareConfig, CompareError  # noqa: E402

REPORT_FILES = [
    "results.csv",
    "results.json",
    "report.md",
    "class_histogram.png",
    "strategies.png",
    "confusion_none.png",
    "confusion_best.png",
]


def run(args: list[str]):
    return CliRunner().invoke(main, ["compare", *args], catch_exceptions=False)


def assert_report(out: Path, strategies: list[str], seeds: int = 1) -> dict:
    for name in REPORT_FILES:
        if name == "confusion_none.png" and "none" not in strategies:
            assert not (out / name).exists()
            continue
        assert (out / name).stat().st_size > 0, name
    payload = json.loads((out / "results.json").read_text())
    runs = pd.read_csv(out / "results.csv")
    assert sorted(runs["strategy"].unique()) == sorted(strategies)
    assert len(runs) == len(strategies) * seeds == len(payload["runs"])
    assert runs["balanced_accuracy"].between(0, 1).all()
    means = [row["balanced_accuracy_mean"] for row in payload["summary"]]
    assert means == sorted(means, reverse=True)  # best first
    assert {r["seed"] for r in payload["runs"]} == set(range(seeds))
    assert "| strategy |" in (out / "report.md").read_text()
    return payload


@pytest.mark.slow
def test_quick_default_data_every_strategy(tmp_path):
    """--quick on the built-in long-tailed digits runs every recipe and writes the report."""
    result = run(["--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = assert_report(tmp_path, list(STRATEGIES))
    assert payload["config"]["seeds"] == 1
    assert payload["config"]["epochs"] == 5
    assert "balanced acc." in result.output
    # The built-in training set is long-tailed: digit 0 far more frequent than digit 9.
    counts = payload["train_counts"]
    assert counts["0"] > 20 * counts["9"]


def write_digit_images(root: Path, counts: dict[int, int]) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    for digit, n in counts.items():
        folder = root / f"digit {digit}"
        folder.mkdir(parents=True)
        images = digits.images[digits.target == digit][:n]
        for i, img in enumerate(images):
            Image.fromarray((img * 16).astype(np.uint8)).save(folder / f"{i}.png")


def test_image_folder(tmp_path):
    """A class-folder tree of PNGs trains the CNN under two strategies."""
    data = tmp_path / "images"
    write_digit_images(data, {0: 60, 1: 20, 7: 8})
    out = tmp_path / "report"
    result = run(
        [
            "--data",
            str(data),
            "--quick",
            "--strategies",
            "none,oversample",
            "--image-size",
            "12",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    payload = assert_report(out, ["none", "oversample"])
    assert set(payload["train_counts"]) == {"digit 0", "digit 1", "digit 7"}


def test_csv_and_npz(tmp_path):
    """A CSV with a label column and an .npz with x and y both work."""
    rng = np.random.default_rng(0)
    y = np.array(["common"] * 80 + ["rare"] * 12)
    x = rng.normal(size=(92, 3)) + (y == "rare")[:, None] * 2.0
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(kind=y)
    frame.to_csv(tmp_path / "table.csv", index=False)
    result = run(
        [
            "--data",
            str(tmp_path / "table.csv"),
            "--label-col",
            "kind",
            "--quick",
            "--strategies",
            "none,class_weight",
            "--out",
            str(tmp_path / "r1"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert_report(tmp_path / "r1", ["none", "class_weight"])
    np.savez(tmp_path / "data.npz", x=x, y=(y == "rare").astype(int))
    result = run(
        [
            "--data",
            str(tmp_path / "data.npz"),
            "--quick",
            "--strategies",
            "posthoc_adjust",
            "--out",
            str(tmp_path / "r2"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert_report(tmp_path / "r2", ["posthoc_adjust"])


class TestBadInput:
    def one_line_error(self, args: list[str], match: str) -> None:
        result = CliRunner().invoke(main, ["compare", *args])
        assert result.exit_code != 0
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1, result.output
        assert lines[0].startswith("Error:"), lines[0]
        assert match in lines[0], lines[0]

    def test_missing_path(self, tmp_path):
        """A path that does not exist is named."""
        self.one_line_error(["--data", str(tmp_path / "nope.csv")], "does not exist")

    def test_csv_without_label_column(self, tmp_path):
        """A CSV without the label column says how to name it."""
        pd.DataFrame({"a": [1, 2], "b": [0, 1]}).to_csv(tmp_path / "t.csv", index=False)
        self.one_line_error(["--data", str(tmp_path / "t.csv")], "--label-col")

    def test_npz_without_y(self, tmp_path):
        """An .npz without y names the missing array."""
        np.savez(tmp_path / "d.npz", x=np.zeros((4, 2)))
        self.one_line_error(["--data", str(tmp_path / "d.npz")], "missing ['y']")

    def test_folder_with_one_class(self, tmp_path):
        """A folder tree of a single class cannot be compared."""
        write_digit_images(tmp_path / "one", {3: 5})
        self.one_line_error(["--data", str(tmp_path / "one")], "single class")

    def test_unknown_strategy(self):
        """Unknown strategy names list the valid ones."""
        self.one_line_error(["--strategies", "none,smote"], "choose from")


def test_config_quick_overrides():
    """--quick means one seed and at most 5 epochs; bad values are refused."""
    cfg = CompareConfig(quick=True, epochs=30, seeds=3).resolved()
    assert (cfg.seeds, cfg.epochs) == (1, 5)
    with pytest.raises(CompareError, match="imbalance-ratio"):
        CompareConfig(imbalance_ratio=0.5).resolved()
