"""The command line, run through click's CliRunner and as `python -m classbalance`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomllib
from click.testing import CliRunner

import classbalance as cb
from classbalance import cli
from classbalance.distribution import label_distribution
from folder_helpers import assert_fastai_contract, make_tree, tree_checksum

SRC = str(Path(cb.__file__).resolve().parents[1])
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args: str):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


@pytest.fixture
def tree(tmp_path) -> Path:
    root = make_tree(tmp_path / "data", {"cat": 20, "dog": 6, "solo": 1})
    (root / "empty").mkdir()
    (root / "cat" / "notes.txt").write_text("x")
    return root


def assert_one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0]


class TestInspect:
    def test_folder_table_and_warnings(self, tree):
        """A class-folder tree: table rows per class, imbalance ratio, and the warnings."""
        result = run("inspect", tree)
        assert result.exit_code == 0, result.output
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
        result = run("inspect", tree, "--json")
        assert result.exit_code == 0, result.output
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
            result = run("inspect", *args, "--json")
            assert result.exit_code == 0, result.output
            payload = json.loads(result.stdout)
            counts.append({r["class"]: r["count"] for r in payload["classes"]})
            assert payload["imbalance_ratio"] == 25.0
        assert counts[0] == counts[1] == counts[2] == {3: 50, 7: 10, 9: 2}

    def test_plot(self, tree, tmp_path):
        """--plot writes a PNG histogram."""
        pytest.importorskip("matplotlib")
        result = run("inspect", tree, "--plot", tmp_path / "hist.png", "--log")
        assert result.exit_code == 0, result.output
        assert (tmp_path / "hist.png").read_bytes()[:8] == PNG_MAGIC

    def test_errors_are_one_line(self, tmp_path):
        """Errors exit 1 with one readable line; --debug shows the exception instead."""
        pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "t.csv", index=False)
        result = run("inspect", tmp_path / "t.csv", "--label-col", "nope")
        assert_one_line_error(result, "ValueError", "'nope'", "['a']")
        (tmp_path / "empty_root").mkdir()
        assert_one_line_error(run("inspect", tmp_path / "empty_root"), "no class folders")
        (tmp_path / "x.bin").write_bytes(b"")
        assert_one_line_error(run("inspect", tmp_path / "x.bin"), "class-folder tree")
        debug = CliRunner().invoke(
            cli.main, ["--debug", "inspect", str(tmp_path / "t.csv"), "--label-col", "nope"]
        )
        assert isinstance(debug.exception, ValueError)


def _tag_table(tmp_path: Path) -> tuple[Path, list[str], np.ndarray]:
    """A CSV with both multi-label forms: a `tags` column of label sets and 0/1 columns."""
    tags = ["cat|dog", "dog", None, "bird|dog", "dog", "cat|dog|bird", "dog", None, "cat", "dog"]
    names = ["bird", "cat", "dog", "eel"]  # eel: a label column with no positive
    Y = np.array([[int(t is not None and n in t.split("|")) for n in names] for t in tags])
    frame = pd.DataFrame({"file": [f"x{i}.png" for i in range(10)], "tags": tags})
    frame[names] = Y
    path = tmp_path / "tags.csv"
    frame.to_csv(path, index=False)
    return path, names, Y


class TestInspectMultiLabel:
    def test_label_sep_json_matches_the_library(self, tmp_path):
        """--label-sep: counts, IRLbl, MeanIR, SCUMBLE and unlabeled rows as label_distribution."""
        path, _names, _Y = _tag_table(tmp_path)
        result = run("inspect", path, "--label-col", "tags", "--label-sep", "|", "--json")
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        tags = pd.read_csv(path)["tags"]
        dist = label_distribution(tags, sep="|")
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

    def test_label_cols_and_npz_read_alike(self, tmp_path):
        """--label-cols 0/1 columns and a multi-hot .npz y give the same per-label counts."""
        path, names, Y = _tag_table(tmp_path)
        np.savez(tmp_path / "d.npz", x=np.zeros((10, 2)), y=Y)
        by_cols = json.loads(run("inspect", path, "--label-cols", ",".join(names), "--json").stdout)
        by_npz = json.loads(run("inspect", tmp_path / "d.npz", "--json").stdout)
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

    def test_table_shows_the_measures(self, tmp_path):
        """The table lists each label's positives and IRLbl, then MeanIR and SCUMBLE, and warns
        about labels without positives and rows without labels."""
        path, names, _Y = _tag_table(tmp_path)
        result = run("inspect", path, "--label-cols", ",".join(names))
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "10 samples, 4 labels (multi-label)" in out
        dog = next(line for line in out.splitlines() if " dog " in line)
        assert " 7 " in dog  # 7 positives, IRLbl 1
        assert " 1 " in dog
        eel = next(line for line in out.splitlines() if " eel " in line)
        assert " 0 " in eel
        assert "inf" in eel
        dist = label_distribution(_Y)
        assert f"MeanIR {dist.mean_ir:.4g}" in out
        assert f"SCUMBLE {dist.scumble:.4g}" in out
        assert "rows with no label 2" in out
        assert "1 labels with no positive sample" in out
        assert "'eel'" in out

    def test_plot(self, tmp_path):
        """--plot writes the per-label histogram as PNG."""
        pytest.importorskip("matplotlib")
        path, _names, _Y = _tag_table(tmp_path)
        args = ["--label-col", "tags", "--label-sep", "|", "--plot", tmp_path / "h.png", "--log"]
        result = run("inspect", path, *args)
        assert result.exit_code == 0, result.output
        assert (tmp_path / "h.png").read_bytes()[:8] == PNG_MAGIC
        assert "histogram written to" in result.stdout

    def test_one_hot_stays_single_label(self, tmp_path):
        """A one-hot .npz y (exactly one label per row) is still single-label classes."""
        np.savez(tmp_path / "d.npz", y=np.eye(3, dtype=np.int64)[[0, 0, 1, 2, 0]])
        payload = json.loads(run("inspect", tmp_path / "d.npz", "--json").stdout)
        assert payload["multilabel"] is False
        assert {r["class"]: r["count"] for r in payload["classes"]} == {0: 3, 1: 1, 2: 1}

    def test_errors_are_one_line(self, tmp_path):
        """Joined labels without --label-sep, non-0/1 label columns, missing columns and mixed
        forms are one-line errors that say what to pass."""
        path, _names, _Y = _tag_table(tmp_path)
        result = run("inspect", path, "--label-col", "tags")  # read as single-label: rows empty
        assert_one_line_error(result, "missing label")
        (warning,) = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
        assert "'tags' holds strings containing '|'" in warning
        assert "--label-sep '|'" in warning
        assert_one_line_error(
            run("inspect", path, "--label-cols", "bird,nope"), "no label columns ['nope']"
        )
        assert_one_line_error(
            run("inspect", path, "--label-cols", "bird,file"),
            "label column 'file' must hold only 0 and 1",
            "'x0.png' in row 0",
        )
        assert_one_line_error(
            run("inspect", path, "--label-cols", "bird,cat", "--label-sep", "|"),
            "cannot be combined",
        )
        assert_one_line_error(
            run("inspect", path, "--label-col", "tags", "--label-sep", ";"),
            "never occurs",
        )
        np.savez(tmp_path / "d.npz", y=np.zeros((3, 2)))
        assert_one_line_error(
            run("inspect", tmp_path / "d.npz", "--label-sep", "|"), "are for a CSV table"
        )
        result = run("inspect", path, "--label-cols", "bird,,cat")
        assert result.exit_code == 2
        assert "--label-cols" in result.output


class TestSplit:
    def test_csv_split_matches_library(self, tmp_path):
        """The split column equals stratified_split with the same seed; groups are kept whole."""
        rng = np.random.default_rng(0)
        y = rng.choice(["a", "b", "c"], size=300, p=[0.7, 0.2, 0.1])
        frame = pd.DataFrame({"img": [f"{i}.png" for i in range(300)], "label": y})
        frame.to_csv(tmp_path / "t.csv", index=False)
        result = run(
            "split", tmp_path / "t.csv", "--val", "0.2", "--test", "30", "--seed", "4",
            "--out", tmp_path / "s.csv",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        out = pd.read_csv(tmp_path / "s.csv")
        assert out[["img", "label"]].equals(frame)
        train, val, test = cb.stratified_split(y, val_size=0.2, test_size=30, seed=4)
        for name, idx in (("train", train), ("val", val), ("test", test)):
            assert np.array_equal(np.flatnonzero(out["split"] == name), idx)
        assert "total" in result.stdout

        frame["patient"] = np.arange(300) // 5
        frame.to_csv(tmp_path / "g.csv", index=False)
        result = run(
            "split", tmp_path / "g.csv", "--groups", "patient", "--seed", "1",
            "--out", tmp_path / "gs.csv",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        grouped = pd.read_csv(tmp_path / "gs.csv")
        assert (grouped.groupby("patient")["split"].nunique() == 1).all()

    def test_multilabel_csv_split_matches_library(self, tmp_path):
        """--label-sep and --label-cols: the split column equals stratified_split of the
        multi-hot matrix with the same seed."""
        path, names, Y = _tag_table(tmp_path)
        expected = cb.stratified_split(Y[:, :3], val_size=0.3, seed=2)  # without empty "eel"
        for args in (["--label-col", "tags", "--label-sep", "|"], ["--label-cols", "bird,cat,dog"]):
            out_path = tmp_path / "s.csv"
            result = run("split", path, *args, "--val", "0.3", "--seed", "2", "--out", out_path)
            assert result.exit_code == 0, result.output
            out = pd.read_csv(out_path)
            for name, idx in zip(("train", "val"), expected):
                assert np.array_equal(np.flatnonzero(out["split"] == name), idx)
        assert names[:3] == ["bird", "cat", "dog"]

    def test_folder_split(self, tree, tmp_path):
        """A folder tree splits into path,label,split with every class in both splits."""
        result = run("split", tree, "--val", "0.25", "--seed", "0", "--out", tmp_path / "s.csv")
        assert result.exit_code == 0, result.output
        out = pd.read_csv(tmp_path / "s.csv")
        assert list(out.columns) == ["path", "label", "split"]
        assert set(out.loc[out["split"] == "val", "label"]) == {"cat", "dog"}
        assert "single sample" in result.stderr

    def test_bad_sizes(self, tmp_path):
        """A size that is neither a fraction nor a count is a usage error; too large is one line."""
        np.save(tmp_path / "y.npy", np.repeat([0, 1], 10))
        result = run("split", tmp_path / "y.npy", "--val", "abc", "--out", tmp_path / "s.csv")
        assert result.exit_code == 2
        result = run("split", tmp_path / "y.npy", "--val", "1.5", "--out", tmp_path / "s.csv")
        assert_one_line_error(result, "val_size=1.5")
        assert not (tmp_path / "s.csv").exists()


class TestOversample:
    def test_balance_export_and_overwrite(self, tree, tmp_path):
        """oversample writes a fastai-ready folder, refuses to overwrite without --overwrite."""
        before = tree_checksum(tree)
        out = tmp_path / "out"
        result = run("oversample", tree, out, "--balance", "--seed", "3")
        assert result.exit_code == 0, result.output
        table = assert_fastai_contract(out)
        train = table[~table["is_valid"]]["label"].value_counts()
        assert train.nunique() == 1  # balanced
        assert f"validation samples: {table['is_valid'].sum()}" in result.stdout
        assert_one_line_error(run("oversample", tree, out, "--balance"), "not empty")
        result = run(
            "oversample", tree, out, "--factor", "dog=0.5", "--factor", "solo=2",
            "--mode", "copy", "--seed", "3", "--overwrite",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        table = assert_fastai_contract(out)
        train = table[~table["is_valid"]]["label"].value_counts()
        assert train["dog"] == 5 + 3  # 50% of 5 is 2.5: rounded half up
        assert train["solo"] == 3
        assert tree_checksum(tree) == before

    def test_exactly_one_strategy(self, tree, tmp_path):
        """--factor, --balance and --alpha are exclusive and one is required."""
        out = tmp_path / "o"
        assert run("oversample", tree, out).exit_code == 2
        assert run("oversample", tree, out, "--balance", "--alpha", "0.5").exit_code == 2
        assert run("oversample", tree, out, "--factor", "dog").exit_code == 2
        assert_one_line_error(run("oversample", tree, out, "--factor", "cow=1"), "'cow'")
        assert not out.exists()

    def test_output_inside_input(self, tree):
        """An output inside the input is refused in one line, nothing written."""
        before = tree_checksum(tree)
        assert_one_line_error(run("oversample", tree, tree / "out", "--balance"), "inside")
        assert tree_checksum(tree) == before


class TestWeights:
    @pytest.mark.parametrize("strategy", ["balanced", "inverse", "sqrt", "effective"])
    def test_json_equals_library(self, tmp_path, strategy):
        """weights --json gives exactly cb.class_weights, keyed for Keras."""
        y = np.repeat([0, 1, 2], [90, 9, 1])
        np.save(tmp_path / "y.npy", y)
        result = run("weights", tmp_path / "y.npy", "--strategy", strategy, "--json")
        assert result.exit_code == 0, result.output
        got = {int(k): v for k, v in json.loads(result.stdout)["class_weight"].items()}
        assert got == pytest.approx(cb.class_weights(y, strategy))

    def test_table(self, tree):
        """The table lists each class with its weight."""
        result = run("weights", tree, "--normalize", "none", "--strategy", "inverse")
        assert result.exit_code == 0, result.output
        assert "0.05" in result.stdout  # 1 / 20 for cat

    def test_joined_class_names_are_single_label_with_a_warning(self, tmp_path):
        """A class name holding '|' is a class (nothing guessed); stderr names --label-sep."""
        y = ["a|b"] * 3 + ["c"]
        pd.DataFrame({"label": y}).to_csv(tmp_path / "t.csv", index=False)
        result = run("weights", tmp_path / "t.csv", "--json")
        assert result.exit_code == 0, result.output
        got = json.loads(result.stdout)["class_weight"]
        assert got == pytest.approx({str(k): v for k, v in cb.class_weights(y).items()})
        assert "Warning:" in result.stderr
        assert "--label-sep '|'" in result.stderr

    @pytest.mark.parametrize("form", ["label-sep", "label-cols", "npz"])
    def test_multilabel_pos_weight_equals_library(self, tmp_path, form):
        """Multi-label data get cb.pos_weight per label, whatever the file form."""
        path, names, Y = _tag_table(tmp_path)
        args = {
            "label-sep": ["--label-col", "tags", "--label-sep", "|"],
            "label-cols": ["--label-cols", ",".join(names)],
            "npz": [],
        }[form]
        if form == "npz":
            path = tmp_path / "d.npz"
            np.savez(path, y=Y)
        result = run("weights", path, *args, "--smoothing", "1", "--power", "0.5", "--json")
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        Y_read = Y if form != "label-sep" else Y[:, :3]  # no row holds 'eel' in the tag strings
        expected = cb.pos_weight(Y_read, smoothing=1.0, power=0.5)
        assert payload["pos_weight"] == pytest.approx(expected.tolist())
        assert [r["positives"] for r in payload["labels"]] == Y_read.sum(0).tolist()
        assert [r["negatives"] for r in payload["labels"]] == (10 - Y_read.sum(0)).tolist()

    def test_multilabel_table_and_empty_label(self, tmp_path):
        """The table lists positives, negatives and pos_weight; a label with no positive gets
        weight 1 and a warning, not a crash or an infinite weight."""
        path, names, _Y = _tag_table(tmp_path)
        result = run("weights", path, "--label-cols", ",".join(names))
        assert result.exit_code == 0, result.output
        assert "pos_weight" in result.stdout
        assert "BCEWithLogitsLoss" in result.stdout
        eel = [line for line in result.stdout.splitlines() if "eel" in line]
        assert eel
        assert eel[0].split()[-2] == "1"
        assert "Warning:" in result.stderr
        assert "eel" in result.stderr

    def test_options_of_the_other_kind_are_refused(self, tmp_path):
        """--strategy/--beta/--normalize are single-label; --smoothing/--power multi-label."""
        path, names, _Y = _tag_table(tmp_path)
        result = run("weights", path, "--label-cols", ",".join(names), "--strategy", "sqrt")
        assert result.exit_code == 2
        assert "--strategy does not apply to multi-label data" in result.output
        np.save(tmp_path / "y.npy", np.repeat([0, 1], [9, 1]))
        result = run("weights", tmp_path / "y.npy", "--power", "0.5")
        assert result.exit_code == 2
        assert "--power does not apply to single-label data" in result.output


class TestEntryPoints:
    def test_python_m(self, tmp_path):
        """`python -m classbalance` runs the CLI; errors exit 1 without a traceback."""
        env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}
        ok = subprocess.run(
            [sys.executable, "-m", "classbalance", "--help"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert ok.returncode == 0
        for command in ("inspect", "split", "oversample", "weights"):
            assert command in ok.stdout
        bad = subprocess.run(
            [sys.executable, "-m", "classbalance", "inspect", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert bad.returncode == 1
        assert "Traceback" not in bad.stderr
        assert bad.stderr.strip().startswith("Error: ValueError")

    def test_version(self):
        """--version prints the package version."""
        result = run("--version")
        assert result.exit_code == 0
        assert result.stdout.strip() == f"classbalance, version {cb.__version__}"

    def test_console_script_declared(self):
        """pyproject declares the `classbalance` console script at cli:main."""
        pyproject = Path(SRC).parent / "pyproject.toml"
        scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
        assert scripts["classbalance"] == "classbalance.cli:main"

    def test_lazy_command_registration(self, tmp_path, monkeypatch):
        """A command in another module registers through LAZY_COMMANDS, imported on use."""
        (tmp_path / "cb_extra_cmd.py").write_text(
            "import click\n@click.command()\ndef hello():\n    'Say hi.'\n    click.echo('hi')\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setitem(cli.LAZY_COMMANDS, "hello", "cb_extra_cmd:hello")
        assert "hello" in run("--help").stdout
        result = run("hello")
        assert result.exit_code == 0
        assert result.stdout == "hi\n"
