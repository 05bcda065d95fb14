"""Helpers for tests that build real class-folder trees and check exported folders."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd


def make_tree(root: Path, counts: dict[str, int], ext: str = ".png") -> Path:
    """root/<label>/<i>.png with distinct bytes per file."""
    for label, n in counts.items():
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (folder / f"{i}{ext}").write_bytes(f"{label}:{i}".encode() * 8)
    return root


def tree_checksum(root: Path) -> dict[str, str]:
    """Path -> content hash (files), link target (symlinks) or 'dir'; modes included."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = f"dir:{st.st_mode:o}"
            else:
                out[rel] = f"{st.st_mode:o}:" + hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def read_labels_csv(out_dir: Path) -> pd.DataFrame:
    return pd.read_csv(out_dir / "labels.csv")


def assert_fastai_contract(out_dir: Path, plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """labels.csv is what fastai v2's ImageDataLoaders.from_csv(out_dir, valid_col='is_valid')
    reads: column 0 the name (joined as f'{out_dir}{os.sep}{name}'), column 1 the label, and a
    boolean is_valid column (ColSplitter: .values.astype('bool'))."""
    table = read_labels_csv(out_dir)
    assert list(table.columns) == ["name", "label", "is_valid"]
    assert table["is_valid"].dtype == bool
    for name in pd.unique(table["name"]):
        assert not os.path.isabs(name)
        assert os.path.isfile(f"{out_dir}{os.sep}{name}"), name
    if plan is not None:
        assert len(table) == len(plan)
        assert table["is_valid"].sum() == plan["is_valid"].sum()
        assert table["label"].astype(str).tolist() == plan["label"].astype(str).tolist()
    return table
