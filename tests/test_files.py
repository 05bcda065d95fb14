"""Reading label files (classbalance.files), the CLI's one-line errors, quiet TensorFlow, and
file modes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from classbalance import cli
from classbalance._atomic import atomic_write_text
from classbalance.files import read_labels, read_npz


def run(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


class TestReadLabels:
    def test_npz_without_labels_is_refused(self, tmp_path):
        """An .npz with no y/labels/label array is refused, not guessed (was: '1 classes')."""
        np.savez(tmp_path / "x.npz", x=np.zeros((5, 2)))
        with pytest.raises(ValueError, match=r"holds arrays \['x'\] but none named y"):
            read_labels(tmp_path / "x.npz")
        result = run("inspect", tmp_path / "x.npz")
        assert result.exit_code == 2
        assert result.output.count("\n") == 1
        assert "--key NAME" in result.output

    def test_key_chooses_the_array(self, tmp_path):
        """--key picks any array; an unknown key names the arrays there are."""
        np.savez(tmp_path / "d.npz", x=np.zeros((3, 2)), target=np.array([0, 1, 1]))
        assert read_labels(tmp_path / "d.npz", key="target").labels.tolist() == [0, 1, 1]
        with pytest.raises(ValueError, match=r"no array 'y'; it holds \['x', 'target'\]"):
            read_labels(tmp_path / "d.npz", key="y")

    @pytest.mark.parametrize("name", ["t.npz", "t.npy"])
    def test_text_file_named_npz(self, tmp_path, name):
        """A text file named .npz/.npy gives one clear line, not NumPy's pickle message."""
        (tmp_path / name).write_text("label\n1\n2\n")
        with pytest.raises(ValueError, match="is not a NumPy file"):
            read_npz(tmp_path / name)
        result = run("inspect", tmp_path / name)
        assert result.exit_code == 2
        assert result.output.count("\n") == 1
        assert "Could not read " + name in result.output

    def test_formats(self, tmp_path):
        """npy, npz and csv labels read alike."""
        y = np.array([0, 0, 1])
        np.save(tmp_path / "y.npy", y)
        np.savez(tmp_path / "y.npz", labels=y)
        (tmp_path / "y.csv").write_text("label\n0\n0\n1\n")
        for name in ("y.npy", "y.npz", "y.csv"):
            assert read_labels(tmp_path / name).labels.tolist() == [0, 0, 1]


class TestReadMultiLabel:
    def test_label_sets_column(self, tmp_path):
        """--label-sep: a column of joined labels becomes a multi-hot matrix; an empty cell is a
        row with no label; whitespace around labels is stripped."""
        (tmp_path / "t.csv").write_text("f,tags\na,cat| dog\nb,dog\nc,\nd,bird|dog\n")
        data = read_labels(tmp_path / "t.csv", label_col="tags", label_sep="|")
        assert data.multilabel
        assert data.classes == ["bird", "cat", "dog"]
        assert data.labels.tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0], [1, 0, 1]]
        assert data.labels.dtype == np.uint8
        assert data.frame["f"].tolist() == ["a", "b", "c", "d"]  # rows kept for `split`

    def test_label_columns(self, tmp_path):
        """label_cols: the named 0/1 columns, in the given order, are the labels."""
        (tmp_path / "t.csv").write_text("f,b,a\nx,1,0\ny,1,1\nz,0,0\n")
        data = read_labels(tmp_path / "t.csv", label_cols=["a", "b"])
        assert data.multilabel
        assert data.classes == ["a", "b"]
        assert data.labels.tolist() == [[0, 1], [1, 1], [0, 0]]
        with pytest.raises(TypeError, match=r"list of column names.*label_cols='a,b'"):
            read_labels(tmp_path / "t.csv", label_cols="a,b")
        (tmp_path / "m.csv").write_text("f,b,a\nx,1,0\ny,,1\n")
        with pytest.raises(
            ValueError, match=r"column 'b' must hold only 0 and 1.*a missing value in row 1"
        ):
            read_labels(tmp_path / "m.csv", label_cols=["a", "b"])

    def test_arrays(self, tmp_path):
        """A 0/1 array with some row of 0 or >= 2 labels is multi-label; one-hot is not."""
        np.save(tmp_path / "m.npy", np.array([[1, 1], [0, 1], [0, 0]]))
        np.save(tmp_path / "o.npy", np.array([[1, 0], [0, 1], [0, 1]]))
        multi = read_labels(tmp_path / "m.npy")
        assert multi.multilabel
        assert multi.classes == [0, 1]
        assert not read_labels(tmp_path / "o.npy").multilabel

    def test_separator_never_guessed(self, tmp_path):
        """Without --label-sep a column is single-label: strings holding | ; or , stay class
        names, with a note naming the separator to pass if the rows are label sets."""
        for sep in ("|", ";", ","):
            (tmp_path / "t.csv").write_text(f'label\n"a{sep}b"\nb\n"a{sep}b"\n')
            data = read_labels(tmp_path / "t.csv")
            assert not data.multilabel
            assert data.labels.tolist() == [f"a{sep}b", "b", f"a{sep}b"]
            (note,) = data.notes
            assert f"containing '{sep}'" in note
            assert "2 of 3 rows" in note
            assert f"--label-sep '{sep}'" in note
            assert read_labels(tmp_path / "t.csv", label_sep=sep).multilabel
        (tmp_path / "s.csv").write_text("label\ngolden retriever\n4x4/offroad\npug\n")
        data = read_labels(tmp_path / "s.csv")
        assert not data.multilabel
        assert data.notes == []
        assert data.labels.tolist() == ["golden retriever", "4x4/offroad", "pug"]

    def test_label_sets_are_read_as_written(self, tmp_path):
        """With --label-sep, labels named NA / None / null are labels (pandas would read them as
        missing); only an empty cell is a row with no label."""
        (tmp_path / "t.csv").write_text("f,tags\na,NA|cat\nb,NA\nc,\nd,null\ne,None|cat\n")
        data = read_labels(tmp_path / "t.csv", label_col="tags", label_sep="|")
        assert data.classes == ["NA", "None", "cat", "null"]
        assert data.labels.tolist() == [
            [1, 0, 1, 0],
            [1, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 1],
            [0, 1, 1, 0],
        ]

    def test_label_sep_on_numbers_and_folders(self, tmp_path):
        """--label-sep on a numeric column, or on a class folder, is refused with a reason."""
        (tmp_path / "t.csv").write_text("label\n1\n2\n")
        with pytest.raises(ValueError, match=r"to hold strings of labels; row 0 holds 1"):
            read_labels(tmp_path / "t.csv", label_sep="|")
        (tmp_path / "root" / "a").mkdir(parents=True)
        with pytest.raises(ValueError, match="one label per image"):
            read_labels(tmp_path / "root", label_sep="|")


class TestFileModes:
    def test_atomic_files_follow_the_umask(self, tmp_path):
        """Atomically written files get 0666 & ~umask (0644 under the usual 022), not 0600."""
        old = os.umask(0o022)
        try:
            atomic_write_text(tmp_path / "a.txt", "x")
            assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
            os.umask(0o027)
            atomic_write_text(tmp_path / "b.txt", "x")
            assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o640
        finally:
            os.umask(old)

    def test_split_output_is_readable_by_others(self, tmp_path):
        """A file the CLI writes (the split CSV) is 0644 under umask 022."""
        y = tmp_path / "y.npy"
        np.save(y, np.repeat([0, 1], 20))
        code = (
            "import os, sys; os.umask(0o022); from classbalance.cli import main; main(sys.argv[1:])"
        )
        out = tmp_path / "split.csv"
        subprocess.run(
            [sys.executable, "-c", code, "split", str(y), "--out", str(out), "--seed", "0"],
            check=True,
            capture_output=True,
        )
        assert stat.S_IMODE(out.stat().st_mode) == 0o644


class TestQuietTensorFlow:
    def test_no_tensorflow_start_up_lines(self):
        """`classbalance compare --help` imports TensorFlow without its absl/oneDNN lines."""
        pytest.importorskip("tensorflow")
        env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL",)}
        env.pop("KERAS_BACKEND", None)
        code = "import sys; from classbalance.cli import main; main(sys.argv[1:]); "
        done = subprocess.run(
            [sys.executable, "-c", code + "", "compare", "--help"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert "Usage" in done.stdout
        for noise in ("absl", "oneDNN", "I0000", "cuda"):
            assert noise not in done.stderr, done.stderr


class TestVocabulary:
    def test_oversample_val_and_valid_pct(self, tmp_path):
        """`oversample --val` (the CLI's name, as in `split`) and the seed's --valid-pct agree."""
        from folder_helpers import make_tree

        data = make_tree(tmp_path / "data", {"a": 8, "b": 2})
        a = run("oversample", data, tmp_path / "a", "--val", "0.25", "--balance", "--seed", "0")
        b = run(
            "oversample", data, tmp_path / "b", "--valid-pct", "0.25", "--balance", "--seed", "0"
        )
        assert a.exit_code == 0, a.output
        assert b.exit_code == 0, b.output
        assert (tmp_path / "a" / "labels.csv").read_text() == (
            tmp_path / "b" / "labels.csv"
        ).read_text()
