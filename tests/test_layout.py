"""The on-disk contract (classbalance.layout), read the same way by folders, leakage and compare."""

from __future__ import annotations

import ast
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
        from classbalance.compare.data import CompareError, _split_layout

        for name in ("train", "Val"):
            (tmp_path / name).mkdir()
        assert _split_layout(tmp_path) == {"train": tmp_path / "train", "valid": tmp_path / "Val"}
        (tmp_path / "validation").mkdir()
        with pytest.raises(CompareError, match="folders for the valid split"):
            _split_layout(tmp_path)


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
        plan = oversample(scan(data), valid_pct=0.25, balance="max", seed=0)
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


def _imports(package: str) -> set[str]:
    """classbalance modules imported anywhere (also inside functions) by a package's files."""
    found = set()
    folder = SRC / package if (SRC / package).is_dir() else None
    files = sorted(folder.glob("*.py")) if folder else [SRC / f"{package}.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("classbalance")}


class TestNoCycle:
    def test_leakage_and_layout_import_no_folders(self):
        """folders -> leakage -> layout, never back: leakage and layout import no folders module,
        layout imports neither (the readers of files.py and compare use layout, not folders)."""
        for package in ("leakage", "layout", "files"):
            assert not {m for m in _imports(package) if m.startswith("classbalance.folders")}
        assert not {m for m in _imports("layout") if m.startswith("classbalance.leakage")}

    def test_hashing_and_search_know_no_folders(self):
        """The hashing and the near-duplicate search import neither layout nor folders."""
        allowed = {"classbalance._validation", "classbalance._optional"}
        allowed.add("classbalance.leakage._hashing")
        for name in ("_hashing", "_search"):
            tree = ast.parse((SRC / "leakage" / f"{name}.py").read_text())
            modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            assert {m for m in modules if m.startswith("classbalance")} <= allowed, name
