"""``classbalance inspect`` run as users run it: the installed script in a subprocess."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import classbalance as cb
from script_helpers import (
    FRAMEWORKS,
    assert_one_line_error,
    run_script,
    run_script_listing_modules,
    script_env,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class TestInspect:
    def test_folder_table_and_warnings(self, tree):
        """A class-folder tree: table rows per class, imbalance ratio, and the warnings."""
        result = run_script("inspect", tree)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        for label, count in [("cat", "20"), ("dog", "6"), ("solo", "1"), ("empty", "0")]:
            row = next(line for line in out.splitlines() if f" {label} " in line)
            assert f" {count} " in row
        assert "imbalance ratio (largest / smallest): inf" in out
        assert "empty class folders: empty" in out
        assert "single sample" in out
        assert "solo" in out
        assert "non-image files skipped: cat/notes.txt" in out

    def test_json_matches_the_library(self, tree):
        """--json gives counts, fractions and balanced weights equal to the library's."""
        result = run_script("inspect", tree, "--json")
        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)
        rows = {r["class"]: r for r in payload["classes"]}
        dist = cb.class_distribution(
            ["cat"] * 20 + ["dog"] * 6 + ["solo"], classes=["cat", "dog", "empty", "solo"]
        )
        weights = cb.class_weights(dist)
        for i, label in enumerate(dist.classes.tolist()):
            assert rows[label]["count"] == dist.counts[i]
            assert rows[label]["balanced_weight"] == pytest.approx(weights[i])
        assert payload["imbalance_ratio"] is None
        assert payload["n_samples"] == 27
        assert any("empty" in w for w in payload["warnings"])

    def test_csv_npy_npz(self, tmp_path):
        """CSV (--label-col), .npy and .npz labels give the same counts."""
        y = np.repeat([3, 7, 9], [50, 10, 2])
        pd.DataFrame({"file": np.arange(62), "target": y}).to_csv(tmp_path / "t.csv", index=False)
        np.save(tmp_path / "y.npy", y)
        np.savez(tmp_path / "d.npz", x=np.zeros((62, 2)), labels=y)
        counts = []
        for args in (
            [tmp_path / "t.csv", "--label-col", "target"],
            [tmp_path / "y.npy"],
            [tmp_path / "d.npz"],
        ):
            result = run_script("inspect", *args, "--json")
            assert result.returncode == 0, result.stderr
            payload = json.loads(result.stdout)
            counts.append({r["class"]: r["count"] for r in payload["classes"]})
            assert payload["imbalance_ratio"] == 25.0
        assert counts[0] == counts[1] == counts[2] == {3: 50, 7: 10, 9: 2}

    def test_plot(self, tree, tmp_path):
        """--plot writes a PNG histogram."""
        pytest.importorskip("matplotlib")
        result = run_script("inspect", tree, "--plot", tmp_path / "hist.png", "--log")
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "hist.png").read_bytes()[:8] == PNG_MAGIC
        assert "histogram written to" in result.stdout

    def test_errors_are_one_line(self, tmp_path):
        """Errors exit 1 with one readable line: a missing column, an empty folder, a file of
        another kind."""
        pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "t.csv", index=False)
        result = run_script("inspect", tmp_path / "t.csv", "--label-col", "nope")
        assert_one_line_error(result, "ValueError", "'nope'", "['a']")
        (tmp_path / "empty_root").mkdir()
        assert_one_line_error(run_script("inspect", tmp_path / "empty_root"), "no class folders")
        (tmp_path / "x.bin").write_bytes(b"")
        assert_one_line_error(run_script("inspect", tmp_path / "x.bin"), "class-folder tree")
        missing = run_script("inspect", tmp_path / "nope.csv")
        assert_one_line_error(missing, "'PATH'", "does not exist", code=2)

    def test_debug_shows_the_traceback(self, tmp_path):
        """--debug (or CLASSBALANCE_DEBUG=1) shows the exception's traceback instead."""
        pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "t.csv", index=False)
        for args, env in (
            (["--debug", "inspect", tmp_path / "t.csv", "--label-col", "nope"], script_env()),
            (
                ["inspect", tmp_path / "t.csv", "--label-col", "nope"],
                script_env(CLASSBALANCE_DEBUG="1"),
            ),
        ):
            result = run_script(*args, env=env)
            assert result.returncode == 1
            assert "Traceback" in result.stderr
            assert "ValueError" in result.stderr.splitlines()[-1]

    def test_imports_no_framework(self, tree):
        """`inspect` imports neither TensorFlow, Keras, PyTorch nor JAX."""
        result, imported = run_script_listing_modules("inspect", tree)
        assert result.returncode == 0, result.stderr
        assert "classbalance.cli.inspect" in imported  # the list holds the command's imports
        assert not FRAMEWORKS & imported


class TestInspectMultiLabel:
    def test_label_sep_json_matches_the_library(self, tag_table):
        """--label-sep: counts, IRLbl, MeanIR, SCUMBLE and unlabeled rows as label_distribution."""
        path, _names, _Y = tag_table
        result = run_script("inspect", path, "--label-col", "tags", "--label-sep", "|", "--json")
        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)
        tags = pd.read_csv(path)["tags"]
        dist = cb.label_distribution(tags, sep="|")
        assert payload["multilabel"] is True
        for name in ("n_samples", "n_labels", "n_unlabeled", "empty_labels"):
            assert payload[name] == dist.summary()[name]
        for name in ("mean_ir", "max_ir", "scumble", "cardinality"):
            assert payload[name] == pytest.approx(dist.summary()[name])
        frame = dist.to_frame()
        assert [r["label"] for r in payload["labels"]] == frame.index.tolist()
        assert [r["count"] for r in payload["labels"]] == frame["count"].tolist()
        assert [r["irlbl"] for r in payload["labels"]] == pytest.approx(frame["irlbl"].tolist())
        assert payload["n_unlabeled"] == 2
        assert any("2 of 10 rows have no label" in w for w in payload["warnings"])

    def test_label_cols_and_npz_read_alike(self, tag_table, tmp_path):
        """--label-cols 0/1 columns and a multi-hot .npz y give the same per-label counts."""
        path, names, Y = tag_table
        np.savez(tmp_path / "d.npz", x=np.zeros((10, 2)), y=Y)
        by_cols = json.loads(
            run_script("inspect", path, "--label-cols", ",".join(names), "--json").stdout
        )
        by_npz = json.loads(run_script("inspect", tmp_path / "d.npz", "--json").stdout)
        assert by_cols["multilabel"] is by_npz["multilabel"] is True
        counts = {r["label"]: r["count"] for r in by_cols["labels"]}
        assert counts == dict(zip(names, Y.sum(axis=0).tolist()))
        assert {r["label"]: r["count"] for r in by_npz["labels"]} == dict(
            enumerate(Y.sum(axis=0).tolist())
        )
        assert by_cols["empty_labels"] == ["eel"]
        assert by_npz["empty_labels"] == ["3"]
        assert by_cols["scumble"] == pytest.approx(by_npz["scumble"])
        assert by_cols["labels"][-1]["irlbl"] is None  # inf is not JSON

    def test_table_shows_the_measures(self, tag_table):
        """The table lists each label's positives and IRLbl, then MeanIR and SCUMBLE, and warns
        about labels without positives and rows without labels."""
        path, names, Y = tag_table
        result = run_script("inspect", path, "--label-cols", ",".join(names))
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "10 samples, 4 labels (multi-label)" in out
        dog = next(line for line in out.splitlines() if " dog " in line)
        assert " 7 " in dog  # 7 positives, IRLbl 1
        assert " 1 " in dog
        eel = next(line for line in out.splitlines() if " eel " in line)
        assert " 0 " in eel
        assert "inf" in eel
        dist = cb.label_distribution(Y)
        assert f"MeanIR {dist.mean_ir:.4g}" in out
        assert f"SCUMBLE {dist.scumble:.4g}" in out
        assert "rows with no label 2" in out
        assert "1 labels with no positive sample" in out
        assert "'eel'" in out

    def test_plot(self, tag_table, tmp_path):
        """--plot writes the per-label histogram as PNG."""
        pytest.importorskip("matplotlib")
        path, _names, _Y = tag_table
        args = ["--label-col", "tags", "--label-sep", "|", "--plot", tmp_path / "h.png", "--log"]
        result = run_script("inspect", path, *args)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "h.png").read_bytes()[:8] == PNG_MAGIC
        assert "histogram written to" in result.stdout

    def test_one_hot_stays_single_label(self, tmp_path):
        """A one-hot .npz y (exactly one label per row) is still single-label classes."""
        np.savez(tmp_path / "d.npz", y=np.eye(3, dtype=np.int64)[[0, 0, 1, 2, 0]])
        payload = json.loads(run_script("inspect", tmp_path / "d.npz", "--json").stdout)
        assert payload["multilabel"] is False
        assert {r["class"]: r["count"] for r in payload["classes"]} == {0: 3, 1: 1, 2: 1}

    def test_errors_are_one_line(self, tag_table, tmp_path):
        """Joined labels without --label-sep, non-0/1 label columns, missing columns and mixed
        forms are one-line errors that say what to pass."""
        path, _names, _Y = tag_table
        result = run_script("inspect", path, "--label-col", "tags")  # single-label: rows empty
        assert_one_line_error(result, "missing label")
        (warning,) = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
        assert "'tags' holds strings containing '|'" in warning
        assert "--label-sep '|'" in warning
        assert_one_line_error(
            run_script("inspect", path, "--label-cols", "bird,nope"), "no label columns ['nope']"
        )
        assert_one_line_error(
            run_script("inspect", path, "--label-cols", "bird,file"),
            "label column 'file' must hold only 0 and 1",
            "'x0.png' in row 0",
        )
        assert_one_line_error(
            run_script("inspect", path, "--label-cols", "bird,cat", "--label-sep", "|"),
            "cannot be combined",
        )
        assert_one_line_error(
            run_script("inspect", path, "--label-col", "tags", "--label-sep", ";"),
            "never occurs",
        )
        np.savez(tmp_path / "d.npz", y=np.zeros((3, 2)))
        assert_one_line_error(
            run_script("inspect", tmp_path / "d.npz", "--label-sep", "|"), "are for a CSV table"
        )
