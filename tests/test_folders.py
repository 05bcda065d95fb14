"""Image folders with real files in temporary directories: scan, oversample, export, Oversampler."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import classbalance as cb
from classbalance.folders import Oversampler, export, oversample, scan
from folder_helpers import assert_fastai_contract, make_tree, read_labels_csv, tree_checksum
from strategies import class_vectors, seeds

SRC = str(Path(cb.__file__).resolve().parents[1])


def quiet_scan(root, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return scan(root, **kwargs)


# ------------------------------------------------------------------------- scan


def _balance_kwargs(balance):
    """``strategy="oversample"`` or ``alpha=balance``: the two ways to balance a folder."""
    return {"strategy": balance} if isinstance(balance, str) else {"alpha": balance}


class TestScan:
    def test_lists_images_with_labels(self, tmp_path):
        """Each sub-folder is a class; paths are relative POSIX paths starting with the class."""
        make_tree(tmp_path, {"cat": 3, "dog": 2})
        m = scan(tmp_path)
        assert m["label"].tolist() == ["cat"] * 3 + ["dog"] * 2
        assert all((tmp_path / p).is_file() for p in m["path"])
        assert all(p.split("/")[0] == lab for p, lab in zip(m["path"], m["label"]))
        assert m.attrs["root"] == str(tmp_path.resolve())

    def test_empty_root(self, tmp_path):
        """An empty root is an error that says what layout is expected."""
        with pytest.raises(ValueError, match="no class folders"):
            scan(tmp_path)

    def test_root_without_class_folders(self, tmp_path):
        """Images directly in the root (no class folders) are an error."""
        (tmp_path / "a.png").write_bytes(b"x")
        with pytest.raises(ValueError, match=r"no class folders.*1 files"):
            scan(tmp_path)

    def test_missing_root(self, tmp_path):
        """A root that does not exist raises FileNotFoundError naming it."""
        with pytest.raises(FileNotFoundError, match="nope"):
            scan(tmp_path / "nope")

    def test_only_empty_classes(self, tmp_path):
        """Class folders without any image are an error listing the extensions looked for."""
        (tmp_path / "a").mkdir()
        with pytest.raises(ValueError, match=r"no images with extensions .*\.png"):
            scan(tmp_path)

    def test_empty_class_reported(self, tmp_path):
        """An empty class folder is reported (and warned about), not silently dropped."""
        make_tree(tmp_path, {"a": 2})
        (tmp_path / "empty").mkdir()
        with pytest.warns(UserWarning, match="1 empty class folders: empty"):
            m = scan(tmp_path)
        report = m.attrs["scan_report"]
        assert report.classes == ["a", "empty"]
        assert report.empty_classes == ["empty"]

    def test_non_images_and_hidden(self, tmp_path):
        """Non-image files are reported; hidden files and folders are skipped and counted."""
        make_tree(tmp_path, {"a": 2})
        (tmp_path / "a" / "notes.txt").write_text("x")
        (tmp_path / "a" / ".DS_Store").write_bytes(b"x")
        (tmp_path / "a" / "._0.png").write_bytes(b"x")
        (tmp_path / ".git").mkdir()
        (tmp_path / "README.md").write_text("x")
        with pytest.warns(UserWarning, match="non-image files skipped: a/notes.txt"):
            m = scan(tmp_path)
        report = m.attrs["scan_report"]
        assert m["path"].tolist() == ["a/0.png", "a/1.png"]
        assert report.hidden == 3
        assert report.outside_classes == ["README.md"]

    def test_extensions_case_insensitive(self, tmp_path):
        """Extensions match case-insensitively and may be given without a dot."""
        make_tree(tmp_path, {"a": 1}, ext=".JPG")
        assert len(scan(tmp_path)) == 1
        with pytest.raises(ValueError, match="no images"):
            quiet_scan(tmp_path, extensions=["png"])

    def test_broken_symlink_and_file_loop(self, tmp_path):
        """A dangling symlink and a symlink loop are reported as broken links, not crashes."""
        make_tree(tmp_path, {"a": 2})
        os.symlink(tmp_path / "missing.png", tmp_path / "a" / "dangling.png")
        os.symlink(tmp_path / "a" / "loop2.png", tmp_path / "a" / "loop1.png")
        os.symlink(tmp_path / "a" / "loop1.png", tmp_path / "a" / "loop2.png")
        with pytest.warns(UserWarning, match="3 broken symlinks"):
            m = scan(tmp_path)
        assert len(m) == 2
        assert sorted(m.attrs["scan_report"].broken_links) == [
            "a/dangling.png",
            "a/loop1.png",
            "a/loop2.png",
        ]

    def test_symlinks_followed_without_loops(self, tmp_path):
        """Symlinked files and folders are followed; a folder link back up is not followed."""
        data = make_tree(tmp_path / "data", {"a": 2})
        outside = make_tree(tmp_path / "elsewhere", {"more": 3})
        os.symlink(outside / "more", data / "a" / "sub")  # followed (recursive)
        os.symlink(data / "a", data / "a" / "again")  # loop back to the class folder
        os.symlink(outside / "more" / "0.png", data / "a" / "linked.png")
        os.symlink(outside / "more", data / "b")  # a whole class folder as a link
        with pytest.warns(UserWarning, match="symlink loops not followed: a/again"):
            m = scan(data, recursive=True)
        by_label = m.groupby("label")["path"].apply(list).to_dict()
        assert by_label["a"] == ["a/0.png", "a/1.png", "a/linked.png"] + [
            f"a/sub/{i}.png" for i in range(3)
        ]
        assert by_label["b"] == [f"b/{i}.png" for i in range(3)]
        flat = quiet_scan(data)
        assert "a/sub/0.png" not in set(flat["path"])

    def test_unicode_and_spaces(self, tmp_path):
        """Class and file names with spaces and non-ASCII characters work end to end."""
        make_tree(tmp_path / "in", {"ému bird": 3, "日本 猫": 3, "a b": 2})
        (tmp_path / "in" / "ému bird" / "photo é 1.png").write_bytes(b"\xff" * 10)
        m = scan(tmp_path / "in")
        assert set(m["label"]) == {"ému bird", "日本 猫", "a b"}
        plan = oversample(m, valid_pct=0.25, strategy="oversample", seed=0)
        export(plan, tmp_path / "out dir é")
        assert_fastai_contract(tmp_path / "out dir é", plan)

    def test_verify_reports_unreadable(self, tmp_path):
        """verify=True opens every image with Pillow and reports the corrupt ones."""
        image = pytest.importorskip("PIL.Image")
        (tmp_path / "a").mkdir()
        image.new("L", (4, 4), 128).save(tmp_path / "a" / "good.png")
        (tmp_path / "a" / "bad.png").write_bytes(b"not a png at all")
        assert len(quiet_scan(tmp_path)) == 2
        with pytest.warns(UserWarning, match="1 unreadable images skipped: a/bad.png"):
            m = scan(tmp_path, verify=True)
        assert m["path"].tolist() == ["a/good.png"]


# ------------------------------------------------------------------- oversample
def manifest_of(counts: dict[str, int]) -> pd.DataFrame:
    labels = np.repeat(list(counts), list(counts.values()))
    paths = [f"{lab}/{i}.png" for lab, n in counts.items() for i in range(n)]
    return pd.DataFrame({"path": paths, "label": labels})


class TestOversample:
    COUNTS = {"category_1": 50, "category_2": 30, "category_3": 7}  # noqa: RUF012

    def test_validation_first_and_never_repeated(self):
        """Validation rows come first, once each, and equal the stratified split."""
        m = manifest_of(self.COUNTS)
        out = oversample(m, valid_pct=0.2, strategy="oversample", seed=5)
        n_valid = out.attrs["n_valid"]
        assert out["is_valid"].iloc[:n_valid].all()
        assert not out["is_valid"].iloc[n_valid:].any()
        val_paths = out.loc[out["is_valid"], "path"]
        assert val_paths.is_unique
        assert not set(val_paths) & set(out.loc[~out["is_valid"], "path"])
        _, val = cb.stratified_split(m["label"].to_numpy(), val_size=0.2, seed=5)
        assert sorted(val_paths) == sorted(m["path"].iloc[val])

    def test_factors_add_the_seed_percentages(self):
        """{'category_1': 0.5} adds round(50%) more training rows of that class only."""
        m = manifest_of(self.COUNTS)
        plain = oversample(m, valid_pct=0.2, seed=1)
        more = oversample(m, valid_pct=0.2, factors={"category_1": 0.5, "category_2": 0.3}, seed=1)
        base = plain[~plain["is_valid"]]["label"].value_counts()
        grown = more[~more["is_valid"]]["label"].value_counts()
        assert grown["category_1"] == base["category_1"] + int(0.5 * base["category_1"] + 0.5)
        assert grown["category_2"] == base["category_2"] + int(0.3 * base["category_2"] + 0.5)
        assert grown["category_3"] == base["category_3"]
        assert more[more["is_valid"]].equals(plain[plain["is_valid"]])

    @pytest.mark.parametrize("balance", ["oversample", 0.0, 0.5, 1.0])
    def test_balance(self, balance):
        """strategy='oversample' (or alpha 0) equalizes training classes; alpha 1 changes nothing;
        classes are never reduced and sizes follow n_max * (n_c / n_max) ** alpha."""
        m = manifest_of(self.COUNTS)
        plain = oversample(m, valid_pct=0.2, seed=2)
        out = oversample(m, valid_pct=0.2, **_balance_kwargs(balance), seed=2)
        base = plain[~plain["is_valid"]]["label"].value_counts()
        got = out[~out["is_valid"]]["label"].value_counts()
        alpha = 0.0 if balance == "oversample" else balance
        expected = np.round(base.max() * (base / base.max()) ** alpha).astype(int)
        assert got.reindex(base.index).tolist() == np.maximum(expected, base).tolist()

    @given(class_vectors(max_count=40), st.sampled_from(["oversample", 0.0, 0.3, 1.0]), seeds)
    def test_invariants_any_labels(self, y, balance, seed):
        """For any labels: validation rows are the stratified split, never repeated; training
        classes are never reduced and reach their target; repeats cycle (spread <= 1)."""
        m = pd.DataFrame({"path": [f"{lab}/{i}.png" for i, lab in enumerate(y)], "label": y})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out = oversample(m, valid_pct=0.2, **_balance_kwargs(balance), seed=seed)
            _, val = cb.stratified_split(y, val_size=0.2, seed=seed)
        valid = out[out["is_valid"]]
        assert sorted(valid["path"]) == sorted(m["path"].iloc[val])
        assert out["is_valid"].iloc[: len(valid)].all()
        train_in = m.drop(index=val)["label"].value_counts()
        train_out = out[~out["is_valid"]]["label"].value_counts().reindex(train_in.index)
        assert (train_out >= train_in).all()
        alpha = 0.0 if balance == "oversample" else balance
        target = np.round(train_in.max() * (train_in / train_in.max()) ** alpha)
        assert (train_out == np.maximum(target, train_in)).all()
        spread = out[~out["is_valid"]].groupby(["label", "path"]).size().groupby("label")
        assert (spread.max() - spread.min() <= 1).all()

    def test_repeats_cycle_through_the_class(self):
        """Within a class every training image is repeated once before any twice."""
        m = manifest_of(self.COUNTS)
        out = oversample(m, valid_pct=0.2, strategy="oversample", seed=3)
        train = out[~out["is_valid"]]
        per_file = train.groupby(["label", "path"]).size().groupby("label")
        assert (per_file.max() - per_file.min() <= 1).all()

    def test_seed_reproducible_and_columns_kept(self):
        """The same seed gives the same rows; extra manifest columns are kept."""
        m = manifest_of(self.COUNTS)
        m["patient"] = np.arange(len(m)) % 9
        a = oversample(m, valid_pct=0.3, alpha=0.5, seed=11)
        b = oversample(m, valid_pct=0.3, alpha=0.5, seed=11)
        assert a.equals(b)
        assert list(a.columns) == ["path", "label", "patient", "is_valid"]
        assert a.attrs["seed"] == 11

    def test_no_validation(self):
        """valid_pct=0 keeps every row for training."""
        out = oversample(manifest_of(self.COUNTS), valid_pct=0, strategy="oversample", seed=0)
        assert not out["is_valid"].any()
        assert (out["label"].value_counts() == 50).all()

    @pytest.mark.parametrize(
        ("kwargs", "exc", "match"),
        [
            ({"factors": {"cat": 0.5}}, ValueError, "not in the manifest: 'cat'"),
            ({"factors": {"category_1": -1}}, ValueError, "numbers >= 0"),
            ({"factors": [0.5]}, TypeError, "must be a dict"),
            ({"strategy": "undersample"}, ValueError, "`strategy` must be one of 'oversample'"),
            ({"alpha": 2.0}, ValueError, "`alpha` must be a number in"),
            (
                {"strategy": "oversample", "factors": {"category_1": 1}},
                ValueError,
                "not factors and strategy",
            ),
            ({"valid_pct": 1.0}, ValueError, r"`valid_pct` must be a fraction in \[0, 1\)"),
        ],
    )
    def test_bad_arguments(self, kwargs, exc, match):
        """Bad factors, balance and valid_pct are refused with a message."""
        with pytest.raises(exc, match=match):
            oversample(manifest_of(self.COUNTS), **kwargs)

    def test_bad_manifest(self):
        """A manifest without the needed columns says which are missing."""
        with pytest.raises(ValueError, match=r"lacks the columns \['label'\]"):
            oversample(pd.DataFrame({"path": ["a"]}))


# ------------------------------------------------------------------------ export
@pytest.fixture
def data(tmp_path) -> Path:
    return make_tree(tmp_path / "data", {"cat": 12, "dog": 5, "eel": 2})


def plan_for(root: Path, seed: int = 0, **kwargs) -> pd.DataFrame:
    kwargs.setdefault("strategy", "oversample")
    return oversample(quiet_scan(root), valid_pct=0.2, seed=seed, **kwargs)


class TestExport:
    def test_hardlink_adds_no_bytes(self, data, tmp_path):
        """Hard-linked files share the input's inode; oversampled rows repeat names, not bytes."""
        plan = plan_for(data)
        result = export(plan, tmp_path / "out")
        table = assert_fastai_contract(tmp_path / "out", plan)
        assert result.mode == "hardlink"
        assert not result.fell_back
        assert result.n_rows == len(plan) > result.n_files == plan["path"].nunique()
        assert result.n_valid == plan.attrs["n_valid"] == table["is_valid"].sum()
        for name in pd.unique(table["name"]):
            assert os.stat(tmp_path / "out" / name).st_ino == os.stat(data / name).st_ino
        files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
        assert len(files) == result.n_files + 2  # + labels.csv, manifest.json

    def test_copy_and_symlink_modes(self, data, tmp_path):
        """copy makes independent files with equal bytes; symlink points at the inputs."""
        plan = plan_for(data)
        export(plan, tmp_path / "copy", mode="copy")
        export(plan, tmp_path / "link", mode="symlink")
        for name in pd.unique(assert_fastai_contract(tmp_path / "copy", plan)["name"]):
            copied = tmp_path / "copy" / name
            assert os.stat(copied).st_ino != os.stat(data / name).st_ino
            assert copied.read_bytes() == (data / name).read_bytes()
        for name in pd.unique(assert_fastai_contract(tmp_path / "link", plan)["name"]):
            linked = tmp_path / "link" / name
            assert linked.is_symlink()
            assert Path(os.readlink(linked)) == data / name

    def test_mode_none_points_at_inputs(self, data, tmp_path):
        """mode='none' writes only labels.csv, with names that resolve to the input files."""
        plan = plan_for(data)
        result = export(plan, tmp_path / "csv_only", mode="none")
        assert result.n_files == 0
        assert sorted(os.listdir(tmp_path / "csv_only")) == ["labels.csv", "manifest.json"]
        table = assert_fastai_contract(tmp_path / "csv_only", plan)
        for name, path in zip(table["name"], plan["path"]):
            assert os.path.samefile(f"{tmp_path / 'csv_only'}{os.sep}{name}", data / path)

    def test_input_untouched(self, data, tmp_path):
        """Every mode leaves the input tree byte-for-byte unchanged."""
        before = tree_checksum(data)
        for mode in ("hardlink", "copy", "symlink", "none"):
            export(plan_for(data), tmp_path / mode, mode=mode)
        assert tree_checksum(data) == before

    def test_output_inside_input_refused(self, data):
        """An output inside the input tree is refused before anything is written."""
        before = tree_checksum(data)
        with pytest.raises(ValueError, match="inside the input folder"):
            export(plan_for(data), data / "balanced")
        with pytest.raises(ValueError, match="contains the input folder"):
            export(plan_for(data), data.parent, overwrite=True)
        assert tree_checksum(data) == before

    def test_output_containing_absolute_inputs_refused(self, data, tmp_path):
        """With absolute paths (no root), an output that holds input files is refused."""
        plan = plan_for(data)
        absolute = pd.DataFrame(
            {"path": [str(data / p) for p in plan["path"]], "label": plan["label"]}
        )
        before = tree_checksum(data)
        with pytest.raises(ValueError, match="contains input files"):
            export(absolute, data / "cat", overwrite=True)
        assert tree_checksum(data) == before

    def test_non_empty_output_needs_overwrite(self, data, tmp_path):
        """A non-empty output is refused without overwrite and replaced whole with it."""
        out = tmp_path / "out"
        out.mkdir()
        (out / "keep.txt").write_text("user file")
        with pytest.raises(ValueError, match=r"not empty.*overwrite=True"):
            export(plan_for(data), out)
        assert (out / "keep.txt").read_text() == "user file"
        export(plan_for(data), out, overwrite=True)
        assert not (out / "keep.txt").exists()
        assert_fastai_contract(out)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []

    def test_empty_existing_output_is_fine(self, data, tmp_path):
        """An existing empty output folder is used without overwrite."""
        (tmp_path / "out").mkdir()
        export(plan_for(data), tmp_path / "out")
        assert_fastai_contract(tmp_path / "out")

    def test_output_is_a_file(self, data, tmp_path):
        """An output path that is a file is refused."""
        (tmp_path / "out").write_text("x")
        with pytest.raises(ValueError, match="is a file"):
            export(plan_for(data), tmp_path / "out")

    def test_read_only_output(self, data, tmp_path):
        """An output where nothing can be created fails with PermissionError, input untouched."""
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o555)
        out = parent / "out"
        try:
            probe = parent / "probe"
            try:
                probe.mkdir()
                probe.rmdir()
                writable = True  # running as root: permissions do not block us
            except PermissionError:
                writable = False
            if writable:
                out = Path("/sys") / f"classbalance-{uuid.uuid4().hex}"
                try:
                    out.mkdir()
                    out.rmdir()
                    pytest.skip(
                        "no read-only location: chmod does not block root and /sys is writable"
                    )
                except OSError:
                    pass  # /sys refuses new entries: a read-only place even for root
            before = tree_checksum(data)
            with pytest.raises(PermissionError):
                export(plan_for(data), out)
            assert tree_checksum(data) == before
            assert not out.exists()
        finally:
            parent.chmod(0o755)

    def test_missing_file_writes_nothing(self, data, tmp_path):
        """A manifest row whose file vanished fails before writing; a previous output survives."""
        out = tmp_path / "out"
        export(plan_for(data), out)
        before = tree_checksum(out)
        plan = plan_for(data, seed=1)
        plan.loc[len(plan) - 1, "path"] = "cat/vanished.png"
        with pytest.raises(FileNotFoundError, match=r"vanished.png"):
            export(plan, out, overwrite=True)
        assert tree_checksum(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out"]

    def test_progress_counts_the_files_placed(self, data, tmp_path):
        """progress reports positive counts that add up to the files the export placed."""
        reported = []
        result = export(plan_for(data), tmp_path / "out", mode="copy", progress=reported.append)
        assert reported
        assert all(k > 0 for k in reported)
        assert sum(reported) == result.n_files == plan_for(data)["path"].nunique()

    def test_interrupt_mid_export_keeps_old_output(self, tmp_path):
        """An exception raised part-way (Ctrl-C in the progress callback) removes the partial
        output; the previous output stays as it was."""
        data = make_tree(tmp_path / "data", {"a": 600, "b": 100})
        out = tmp_path / "out"
        export(plan_for(data), out)
        before = tree_checksum(out)
        placed = []

        def interrupt(k):
            (partial,) = tmp_path.glob(".out.classbalance-tmp-*")
            on_disk = [p for p in partial.rglob("*") if p.is_file() and p.suffix == ".png"]
            placed.append((k, len(on_disk)))
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            export(plan_for(data, seed=1), out, mode="copy", overwrite=True, progress=interrupt)
        ((reported, on_disk),) = placed  # stopped at the first report ...
        assert 0 < reported == on_disk < 700  # ... part-way, counting what was on disk
        assert tree_checksum(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out"]

    def test_name_clash_refused(self, data, tmp_path):
        """Two different files that would get the same output name are refused up front."""
        plan = plan_for(data)
        other = make_tree(tmp_path / "other", {"cat": 1})
        clash = pd.DataFrame(
            {
                "path": [str(data / "cat" / "0.png"), str(other / "cat" / "0.png")],
                "label": ["cat", "cat"],
            }
        )
        with pytest.raises(ValueError, match=r"same name 'cat/0.png'"):
            export(clash, tmp_path / "out")
        assert not (tmp_path / "out").exists()
        assert len(plan) > 0

    def test_hardlink_falls_back_to_copy_across_file_systems(self, data, tmp_path):
        """Across file systems hard links are impossible: files are copied, with a warning."""
        shm = Path("/dev/shm")
        if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
            pytest.skip("no second file system (/dev/shm) to export to")
        out = shm / f"classbalance-test-{uuid.uuid4().hex}"
        try:
            with pytest.warns(UserWarning, match="Hard links were not possible"):
                result = export(plan_for(data), out)
            assert result.fell_back
            assert result.mode == "copy"
            assert_fastai_contract(out)
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_relative_paths_need_a_root(self, data, tmp_path):
        """A hand-made manifest with relative paths needs root=; absolute paths do not."""
        plan = plan_for(data)
        bare = pd.DataFrame(plan[["path", "label", "is_valid"]].to_dict("list"))
        with pytest.raises(ValueError, match="pass `root=`"):
            export(bare, tmp_path / "a")
        export(bare, tmp_path / "a", root=data)
        assert_fastai_contract(tmp_path / "a", bare)
        absolute = bare.assign(path=[str(data / p) for p in bare["path"]])
        export(absolute, tmp_path / "b")
        assert_fastai_contract(tmp_path / "b", absolute)

    def test_is_valid_must_be_boolean(self, data, tmp_path):
        """An is_valid column of strings ("False" would read as True) is refused up front."""
        plan = plan_for(data)
        plan["is_valid"] = plan["is_valid"].astype(str)
        with pytest.raises(ValueError, match="must hold booleans"):
            export(plan, tmp_path / "out")
        assert not (tmp_path / "out").exists()
        plan["is_valid"] = (plan["is_valid"] == "True").astype(int)
        export(plan, tmp_path / "out")
        assert read_labels_csv(tmp_path / "out")["is_valid"].sum() == plan["is_valid"].sum()

    def test_crash_after_old_output_marked(self, data, tmp_path):
        """Killed after the old output was moved aside and marked: it is restored as it was."""
        out = tmp_path / "out"
        export(plan_for(data), out)
        before = tree_checksum(out)
        aside = tmp_path / ".out.classbalance-old-0badf00d"
        os.replace(out, aside)
        (aside / ".classbalance-partial").write_text("previous output")
        partial = tmp_path / ".out.classbalance-tmp-0badf00d"
        partial.mkdir()
        (partial / ".classbalance-partial").write_text("incomplete")
        with pytest.raises(ValueError, match="not empty"):
            export(plan_for(data, seed=3), out)
        assert tree_checksum(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out"]

    def test_crash_after_rename_leaves_complete_output(self, data, tmp_path):
        """Killed right after the new output was renamed in (marker still there): the next
        run keeps that output and only drops the marker."""
        out = tmp_path / "out"
        export(plan_for(data), out)
        before = tree_checksum(out)
        (out / ".classbalance-partial").write_text("incomplete")
        with pytest.raises(ValueError, match="not empty"):
            export(plan_for(data, seed=4), out)
        assert tree_checksum(out) == before

    def test_stale_old_output_restored(self, data, tmp_path):
        """Killed between moving the old output aside and the new one in: the next run
        restores the old output before doing anything else."""
        out = tmp_path / "out"
        export(plan_for(data), out)
        before = tree_checksum(out)
        os.replace(out, tmp_path / ".out.classbalance-old-deadbeef")
        with pytest.raises(ValueError, match="not empty"):
            export(plan_for(data, seed=3), out)
        assert tree_checksum(out) == before


KILL_SCRIPT = """
import os, sys, threading
sys.path.insert(0, {src!r})
from classbalance.folders import scan, oversample, export

data, out, seed, point = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def stop_here():
    # Tell the parent where we are, then wait for its SIGKILL: a fixed kill point, no race.
    print(point, flush=True)
    threading.Event().wait()


def tick(k):
    if point == "placing":
        stop_here()


real_replace = os.replace


def replace(src, dst):
    real_replace(src, dst)
    if point == "swapping" and ".classbalance-old-" in str(dst):
        stop_here()  # the old output is moved aside, the new one not yet in


os.replace = replace
plan = oversample(scan(data), valid_pct=0.2, strategy="oversample", seed=seed)
export(plan, out, mode="copy", overwrite=True, progress=tick)
print("done", flush=True)
"""


def run_and_kill(script: Path, data: Path, out: Path, seed: int, point: str) -> None:
    """Start an export in a subprocess and SIGKILL it once it reports reaching ``point``."""
    proc = subprocess.Popen(
        [sys.executable, str(script), str(data), str(out), str(seed), point],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == point, f"export did not reach {point!r}: {line!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


class TestInterrupted:
    @pytest.fixture
    def script(self, tmp_path) -> Path:
        script = tmp_path / "export.py"
        script.write_text(textwrap.dedent(KILL_SCRIPT.format(src=SRC)))
        return script

    def test_killed_export_leaves_old_or_nothing(self, tmp_path, script):
        """SIGKILL while files are placed leaves no output (first run) or the previous output
        (rerun); the input is untouched and the next run completes and cleans up."""
        data = make_tree(tmp_path / "data", {"a": 900, "b": 200, "c": 60})
        before_input = tree_checksum(data)
        out = tmp_path / "out"

        run_and_kill(script, data, out, seed=0, point="placing")
        assert not out.exists()
        stale = [p for p in tmp_path.iterdir() if p.name.startswith(".out.classbalance-tmp-")]
        assert len(stale) == 1  # the partial folder, marked as ours

        result = export(plan_for(data, seed=0), out)
        assert assert_fastai_contract(out)["name"].nunique() == result.n_files == 1160
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
        whole = tree_checksum(out)

        run_and_kill(script, data, out, seed=1, point="placing")
        assert tree_checksum(out) == whole
        assert tree_checksum(data) == before_input

    def test_killed_between_old_and_new_output(self, tmp_path, script):
        """SIGKILL right after the old output was moved aside (the new one not yet in): the
        next export puts the old output back before anything else."""
        data = make_tree(tmp_path / "data", {"a": 30, "b": 10})
        out = tmp_path / "out"
        export(plan_for(data, seed=0), out)
        whole = tree_checksum(out)

        run_and_kill(script, data, out, seed=1, point="swapping")
        assert not out.exists()
        with pytest.raises(ValueError, match="not empty"):
            export(plan_for(data, seed=2), out)
        assert tree_checksum(out) == whole
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "export.py", "out"]


# -------------------------------------------------------------------- seed API
SEED_SNIPPET = """
oversampler = Oversampler(PATH_TO_DATA, OUTPUT_DIR)
oversample_dict = {'category_1': 0.5, 'category_2': 0.3}
oversampled_df = oversampler.df_val_train_by_pct(valid_pct=0.2, cats_to_pct=oversample_dict)
oversampler.copy_to_output_with_csv(oversample=True)
"""


class TestOversamplerSeed:
    def test_seed_snippet_runs_unchanged(self, tmp_path, capsys):
        """The seed README runs verbatim: copies, writes labels.csv, prints the valid count."""
        data = make_tree(tmp_path / "data", {"category_1": 40, "category_2": 20, "category_3": 9})
        before = tree_checksum(data)
        namespace = {
            "Oversampler": Oversampler,
            "PATH_TO_DATA": str(data),
            "OUTPUT_DIR": str(tmp_path / "out"),
        }
        exec(SEED_SNIPPET, namespace)
        df = namespace["oversampled_df"]
        n_valid = int(df["is_valid"].sum())
        assert f"Number of validation samples: {n_valid}" in capsys.readouterr().out
        table = assert_fastai_contract(tmp_path / "out", df)
        assert table["is_valid"].iloc[:n_valid].all()
        name = table["name"].iloc[0]
        assert os.stat(tmp_path / "out" / name).st_ino != os.stat(data / name).st_ino  # copies
        train = df[~df["is_valid"]]["label"].value_counts()
        assert train["category_1"] == 32 + 16
        assert train["category_2"] == 16 + 5  # 0.3 * 16 = 4.8
        assert train["category_3"] == 7
        assert tree_checksum(data) == before

    def test_without_oversampling(self, tmp_path):
        """copy_to_output_with_csv(oversample=False) writes the split alone."""
        data = make_tree(tmp_path / "data", {"x": 10, "y": 5})
        o = Oversampler(data, tmp_path / "out", seed=0)
        o.df_val_train_by_pct(valid_pct=0.2, cats_to_pct={"y": 1.0})
        n_valid = o.copy_to_output_with_csv(oversample=False)
        table = read_labels_csv(tmp_path / "out")
        assert len(table) == 15
        assert n_valid == table["is_valid"].sum() == 3
