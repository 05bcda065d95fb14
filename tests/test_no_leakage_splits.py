"""split and oversample keep duplicates in one split; export writes a provenance manifest."""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("PIL")

import classbalance as cb
from classbalance import cli
from classbalance.folders import export, oversample, scan
from folder_helpers import tree_checksum
from image_helpers import digit_array, save_png

N_IMAGES = 24


@pytest.fixture
def dup_tree(tmp_path):
    """24 distinct digit images in classes a/b; 8 of them copied byte for byte (same class),
    4 re-saved 3 levels brighter (near duplicates)."""
    root = tmp_path / "data"
    for k in range(N_IMAGES):
        label = "a" if k % 3 else "b"
        pixels = digit_array(k, 32)
        save_png(root / label / f"{k}.png", pixels)
        if k < 8:
            (root / label / f"{k}_copy.png").write_bytes((root / label / f"{k}.png").read_bytes())
        elif k < 12:
            save_png(root / label / f"{k}_bright.png", np.clip(pixels.astype(int) + 3, 0, 255))
    return root


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].split("_")[0].split(".")[0]


def _straddling(frame: pd.DataFrame, split_col: str, kinds: tuple[str, ...]) -> int:
    """Originals whose copies (of the given kinds) sit in another split."""
    frame = frame.drop_duplicates("path").assign(stem=lambda f: f["path"].map(_stem))
    kind = frame["path"].map(lambda p: p.rsplit("_", 1)[-1][:-4] if "_" in p else "orig")
    sub = frame[kind.isin(("orig", *kinds))]
    return int((sub.groupby("stem")[split_col].nunique() > 1).sum())


def _quiet_scan(root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return scan(root)


class TestOversampleGroupsDuplicates:
    @pytest.mark.parametrize("seed", range(6))
    def test_exact_copies_never_straddle(self, dup_tree, seed):
        """Byte-identical copies land in the split of their original, for every seed."""
        plan = oversample(_quiet_scan(dup_tree), valid_pct=0.3, strategy="oversample", seed=seed)
        assert _straddling(plan, "is_valid", ("copy",)) == 0
        assert plan.attrs["n_duplicate_groups"] == 8

    def test_without_grouping_copies_do_straddle(self, dup_tree):
        """The same plans without grouping leak for some seed: the test above has teeth."""
        leaks = [
            _straddling(
                oversample(_quiet_scan(dup_tree), valid_pct=0.3, duplicates=None, seed=s),
                "is_valid",
                ("copy",),
            )
            for s in range(6)
        ]
        assert max(leaks) > 0

    @pytest.mark.parametrize("seed", range(3))
    def test_near_duplicates(self, dup_tree, seed):
        """duplicates='near' also keeps the brightened copies with their originals."""
        plan = oversample(_quiet_scan(dup_tree), valid_pct=0.3, duplicates="near", seed=seed)
        assert _straddling(plan, "is_valid", ("copy", "bright")) == 0

    def test_relative_names_without_root_are_not_grouped(self):
        """A manifest of bare names cannot be read: it is split as before, without error."""
        m = pd.DataFrame({"path": [f"a/{i}.png" for i in range(10)], "label": ["a", "b"] * 5})
        assert oversample(m, valid_pct=0.2, seed=0).attrs["n_duplicate_groups"] == 0

    def test_oversample_command_then_leakage_check_is_clean(self, dup_tree, tmp_path):
        """classbalance oversample --near-duplicates, then classbalance leakage: exit 0; the
        input is untouched."""
        before = tree_checksum(dup_tree)
        out = tmp_path / "out"
        runner = CliRunner()
        made = runner.invoke(
            cli.main,
            [
                "oversample",
                str(dup_tree),
                str(out),
                "--balance",
                "--seed",
                "1",
                "--near-duplicates",
            ],
        )
        assert made.exit_code == 0, made.output
        assert "groups of duplicate images kept in one split" in made.output
        checked = runner.invoke(cli.main, ["leakage", str(out), "--json"])
        assert checked.exit_code == 0, checked.output
        assert json.loads(checked.output)["leaks"] == {"bytes": 0, "pixels": 0, "near": 0}
        assert tree_checksum(dup_tree) == before


class TestSplitCommand:
    @pytest.mark.parametrize("near", [False, True])
    def test_folder_split_keeps_copies_together(self, dup_tree, tmp_path, near):
        """classbalance split on a folder: copies (and near copies) share a split."""
        out = tmp_path / "split.csv"
        args = ["split", str(dup_tree), "--val", "0.3", "--test", "0.2", "--seed", "0"]
        args += ["--out", str(out)] + (["--near-duplicates"] if near else [])
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(out)
        kinds = ("copy", "bright") if near else ("copy",)
        assert _straddling(frame, "split", kinds) == 0
        assert set(frame["split"]) == {"train", "val", "test"}

    def test_near_duplicates_needs_a_folder(self, tmp_path):
        """--near-duplicates on a CSV of labels is a usage error."""
        csv = tmp_path / "y.csv"
        pd.DataFrame({"label": ["a", "b"] * 10}).to_csv(csv, index=False)
        result = CliRunner().invoke(
            cli.main, ["split", str(csv), "--out", str(tmp_path / "o.csv"), "--near-duplicates"]
        )
        assert result.exit_code != 0
        assert "class-folder PATH" in result.output


class TestManifest:
    def test_manifest_records_provenance(self, dup_tree, tmp_path):
        """manifest.json: version, arguments, seed, and per file its source, SHA-256, split and
        repeats, consistent with labels.csv."""
        out = tmp_path / "out"
        result = CliRunner().invoke(
            cli.main, ["oversample", str(dup_tree), str(out), "--balance", "--seed", "7"]
        )
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        labels = pd.read_csv(out / "labels.csv")
        assert manifest["classbalance_version"] == cb.__version__
        assert manifest["seed"] == 7
        assert manifest["arguments"]["command"] == "classbalance oversample"
        assert manifest["arguments"]["balance"] is True
        files = pd.DataFrame(manifest["files"])
        assert files["repeats"].sum() == len(labels) == manifest["n_rows"]
        per_name = labels.groupby(["name", "is_valid"]).size()
        ours = files.set_index(["name", files["split"] == "valid"])["repeats"]
        assert ours.sort_index().tolist() == per_name.sort_index().tolist()
        assert (files.loc[files["split"] == "valid", "repeats"] == 1).all()
        for row in files.head(5).itertuples():
            with open(row.source, "rb") as fh:
                assert hashlib.sha256(fh.read()).hexdigest() == row.sha256

    def test_library_export_without_provenance(self, dup_tree, tmp_path):
        """export() alone writes the manifest too, with arguments None and the plan's seed."""
        plan = oversample(_quiet_scan(dup_tree), valid_pct=0.25, seed=3)
        export(plan, tmp_path / "o")
        manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["arguments"] is None
        assert manifest["seed"] == 3
        assert len(manifest["files"]) == plan["path"].nunique()
