"""Data for the command-line tests: a class-folder tree and a table with multi-label columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from folder_helpers import make_tree


@pytest.fixture
def tree(tmp_path) -> Path:
    """cat 20, dog 6, solo 1, an empty class folder and a non-image file."""
    root = make_tree(tmp_path / "data", {"cat": 20, "dog": 6, "solo": 1})
    (root / "empty").mkdir()
    (root / "cat" / "notes.txt").write_text("x")
    return root


@pytest.fixture
def tag_table(tmp_path) -> tuple[Path, list[str], np.ndarray]:
    """A CSV with both multi-label forms: a `tags` column of label sets and 0/1 columns."""
    tags = ["cat|dog", "dog", None, "bird|dog", "dog", "cat|dog|bird", "dog", None, "cat", "dog"]
    names = ["bird", "cat", "dog", "eel"]  # eel: a label column with no positive
    Y = np.array([[int(t is not None and n in t.split("|")) for n in names] for t in tags])
    frame = pd.DataFrame({"file": [f"x{i}.png" for i in range(10)], "tags": tags})
    frame[names] = Y
    path = tmp_path / "tags.csv"
    frame.to_csv(path, index=False)
    return path, names, Y
