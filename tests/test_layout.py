"""The on-disk contract (classbalance.layout), read the same way by folders, leakage and compare."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import classbalance as cb
from classbalance.layout import (
    FILE_COLUMNS,
    SPLIT_FOLDERS,
    file_column,
    find_split_folders,
    read_split_table,
)
from folder_helpers import make_tree

SRC = Path(cb.__file__).resolve().parent


class TestSplitFolders:
    def test_every_name_of_every_split_in_any_case(self, tmp_path):
        """Each accepted name, in upper case too, is found as its split; other folders are not."""
        for split, names in SPLIT_FOLDERS.items():
            for name in names:
                for spelled in (name, name.upper()):
                    root = tmp_path / f"{split}-{spelled}"
                    (root / spelled).mkdir(parents=True)
                    (root / "notes").mkdir()
                    (root / "train.txt").write_text("a file, not a split")
                    assert find_split_folders(root) == {split: root / spelled}

    def test_listed_in_split_order(self, tmp_path):
        """Splits come in the order train, valid, test, whatever the folder names sort to."""
        for name in ("Testing", "val", "train"):
            (tmp_path / name).mkdir()
        assert list(find_split_folders(tmp_path)) == ["train", "valid", "test"]

    def test_two_folders_for_one_split_are_refused(self, tmp_path):
        """valid/ and val/ side by side: which holds the split is not guessed."""
        for name in ("train", "valid", "val"):
            (tmp_path / name).mkdir()
        with pytest.raises(ValueError, match=r"2 folders for the valid split \(val/, valid/\)"):
            find_split_folders(tmp_path)

    def test_leakage_reads_the_same_names(self, tmp_path):
        """check_leakage finds Training/ and Validation/ as the train and valid splits."""
        pytest.importorskip("imagehash")
        from classbalance.leakage import check_leakage
        from image_helpers import digit_array, save_png

        save_png(tmp_path / "Training" / "a" / "0.png", digit_array(0, 32))
        save_png(tmp_path / "Validation" / "a" / "0.png", digit_array(0, 32))
        report = check_leakage(tmp_path)
        assert report.files["split"].tolist() == ["train", "valid"]
        assert report.has_leakage

    def test_leakage_refuses_two_folders_for_one_split(self, tmp_path):
        """check_leakage passes the ambiguity on as an error naming both folders."""
        pytest.importorskip("imagehash")
        from classbalance.leakage import check_leakage

        for name in ("train", "test", "testing"):
            make_tree(tmp_path / name, {"a": 1})
        with pytest.raises(ValueError, match="test/, testing/"):
            check_leakage(tmp_path)

    def test_compare_reads_the_same_names(self, tmp_path):
        """compare's split layout accepts Val/ as the validation split and refuses two of them."""
        pytest.importorskip("keras")
        from classbalance.compare.config import CompareError
        from classbalance.compare.readers import split_layout

        for name in ("train", "Val"):
            (tmp_path / name).mkdir()
        assert split_layout(tmp_path) == {"train": tmp_path / "train", "valid": tmp_path / "Val"}
        (tmp_path / "validation").mkdir()
        with pytest.raises(CompareError, match="folders for the valid split"):
            split_layout(tmp_path)


class TestLabelsCsv:
    @pytest.mark.parametrize("column", FILE_COLUMNS)
    def test_file_column(self, column):
        """Any of the file column names is found; fname first (fastai's planet layout)."""
        assert file_column(pd.DataFrame(columns=["tags", column]), "t.csv") == column
        assert file_column(pd.DataFrame(columns=list(FILE_COLUMNS)), "t.csv") == "fname"

    def test_no_file_column(self):
        """A table without a file column names the table, the accepted names and its columns."""
        with pytest.raises(ValueError, match=r"t.csv has no file column.*'fname'.*\['tags'\]"):
            file_column(pd.DataFrame(columns=["tags"]), "t.csv")

    def test_export_is_read_back(self, tmp_path):
        """What export writes, read_split_table reads: each file once per split, repeats dropped."""
        from classbalance.folders import export, oversample, scan

        data = make_tree(tmp_path / "data", {"a": 8, "b": 2})
        plan = oversample(scan(data), valid_pct=0.25, strategy="oversample", seed=0)
        export(plan, tmp_path / "out")
        files, missing = read_split_table(tmp_path / "out")
        assert missing == []
        assert len(files) == plan["path"].nunique() < len(plan)
        assert (files["split"] == "valid").sum() == plan["is_valid"].sum()
        assert all(Path(p).is_file() and Path(p).is_absolute() for p in files["path"])

    def test_missing_columns_and_files(self, tmp_path):
        """Missing files are returned by name; a table without is_valid is refused."""
        (tmp_path / "labels.csv").write_text("path,label,is_valid\nx/a.png,x,True\n")
        files, missing = read_split_table(tmp_path)
        assert files.empty
        assert missing == ["x/a.png"]
        (tmp_path / "labels.csv").write_text("name,label\na.png,x\n")
        with pytest.raises(ValueError, match=r"lacks the columns \['is_valid'\]"):
            read_split_table(tmp_path)


# ------------------------------------------------------------------ unreadable images
def _tree_with_truncated_png(root: Path) -> Path:
    """root/<a|b>/<k>.png of real digit images; a/0.png cut in half (Pillow: truncated)."""
    pytest.importorskip("PIL")
    from image_helpers import digit_array, save_png

    for label, first in (("a", 0), ("b", 1)):
        for k in range(6):
            save_png(root / label / f"{k}.png", digit_array(first + 2 * k, 16))
    png = root / "a" / "0.png"
    data = png.read_bytes()
    png.write_bytes(data[: len(data) // 2])
    return root


def _one_warning_naming(record, name: str) -> str:
    """The single warning that names ``name``: returns its text."""
    texts = [str(w.message) for w in record if name in str(w.message)]
    assert len(texts) == 1, [str(w.message) for w in record]
    return texts[0]


@pytest.fixture
def truncated(tmp_path) -> Path:
    return _tree_with_truncated_png(tmp_path / "data")


class TestUnreadable:
    def test_scan_skips_it_with_one_warning(self, truncated):
        """scan(verify=True) leaves the truncated PNG out, names it in one warning, counts it."""
        from classbalance.folders import scan

        with pytest.warns(UserWarning, match="unreadable images skipped") as record:
            frame = scan(truncated, verify=True)
        assert "1 unreadable images skipped: a/0.png" in _one_warning_naming(record, "a/0.png")
        assert frame["path"].tolist() == [f"a/{k}.png" for k in range(1, 6)] + [
            f"b/{k}.png" for k in range(6)
        ]
        assert frame.attrs["scan_report"].unreadable == ["a/0.png"]

    def test_scan_strict_names_the_file(self, truncated):
        """on_unreadable='error' opens every image (no verify needed) and names the bad one."""
        from classbalance.folders import scan
        from classbalance.layout import UnreadableImageError

        with pytest.raises(
            UnreadableImageError, match=r"1 images cannot be read in .*: a/0.png \("
        ):
            scan(truncated, on_unreadable="error")
        with pytest.raises(ValueError, match="`on_unreadable` must be one of 'skip', 'error'"):
            scan(truncated, on_unreadable="warn")

    def test_inspect_reader_skips_it(self, truncated):
        """The CLI's reader (files.read_labels, what inspect uses) with verify: a note names it
        and the counts leave it out; strict raises."""
        from classbalance.files import read_labels
        from classbalance.layout import UnreadableImageError

        data = read_labels(truncated, verify=True)
        assert data.labels.tolist().count("a") == 5
        assert any("unreadable images skipped: a/0.png" in n for n in data.notes)
        with pytest.raises(UnreadableImageError, match=r"a/0\.png"):
            read_labels(truncated, on_unreadable="error")

    def test_leakage_skips_it_with_one_warning(self, tmp_path):
        """check_leakage names the truncated file (relative to the root) in one warning, counts
        it in the report, and raises naming it with on_unreadable='error'."""
        pytest.importorskip("imagehash")
        from classbalance.layout import UnreadableImageError
        from classbalance.leakage import check_leakage

        root = tmp_path / "splits"
        _tree_with_truncated_png(root / "train")
        _tree_with_truncated_png(root / "valid")
        (root / "valid" / "a" / "0.png").unlink()
        with pytest.warns(UserWarning, match="unreadable images skipped") as record:
            report = check_leakage(root, near=False)
        assert "1 unreadable images skipped: train/a/0.png" in _one_warning_naming(
            record, "train/a/0.png"
        )
        assert report.skipped["unreadable"] == 1
        assert report.unreadable == ["train/a/0.png"]
        assert not report.files["path"].str.endswith("train/a/0.png").any()
        with pytest.raises(UnreadableImageError, match=r"train/a/0\.png"):
            check_leakage(root, near=False, on_unreadable="error")

    def test_compare_loader_skips_it_with_one_warning(self, truncated):
        """compare's folder loader decodes the others, drops the bad one's label, names it once;
        strict: a CompareError naming the file and Pillow's reason."""
        pytest.importorskip("keras")
        from classbalance.compare.config import CompareConfig, CompareError
        from classbalance.compare.readers import _load_folder

        with pytest.warns(UserWarning, match="unreadable images skipped") as record:
            x, labels = _load_folder(truncated, CompareConfig(image_size=8))
        text = _one_warning_naming(record, "a/0.png")
        assert "1 unreadable images skipped in" in text
        assert "truncated" in text
        assert x.shape == (11, 8, 8, 1)
        assert labels.tolist() == ["a"] * 5 + ["b"] * 6
        with pytest.raises(CompareError, match=r"cannot be read in .*a/0.png \(.*truncated"):
            _load_folder(truncated, CompareConfig(image_size=8, on_unreadable="error"))

    def test_compare_multilabel_folder_drops_its_row(self, truncated, tmp_path):
        """A labels.csv folder: the truncated image and its label set are left out together;
        a row naming a missing file is unreadable too."""
        pytest.importorskip("keras")
        from classbalance.compare import CompareConfig
        from classbalance.compare.readers import _read_folder

        rows = [
            f"{lab}/{k}.png,{'x|y' if (lab, k) == ('a', 0) else lab}"
            for lab in "ab"
            for k in range(6)
        ] + ["gone.png,x"]
        (truncated / "labels.csv").write_text("fname,tags\n" + "\n".join(rows) + "\n")
        cfg = CompareConfig(label_col="tags", label_sep="|", image_size=8)
        with pytest.warns(UserWarning, match="unreadable images skipped") as record:
            x, enc = _read_folder(truncated, cfg, None)
        assert "2 unreadable images skipped" in _one_warning_naming(record, "a/0.png")
        assert x.shape[0] == enc.Y.shape[0] == 11
        assert enc.classes.tolist() == ["a", "b", "x", "y"]
        assert enc.Y.sum(axis=0).tolist() == [5, 6, 0, 0]
