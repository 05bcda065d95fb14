"""Reading labels (and arrays) from files: the one reader the CLI and ``compare`` share.

Formats: a class-folder tree (``root/<class>/<image>``), a CSV or TSV table
with a label column, ``.npy`` labels, and ``.npz`` archives (labels named
``y``, ``labels`` or ``label``, or chosen with ``key``). Every failure is a
``ValueError`` (``FileNotFoundError`` for a missing path) with a one-line
message that names the file and says what to do.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LABEL_KEYS", "LabelFile", "read_labels", "read_npz", "read_table"]

# Array names of an .npz archive taken as labels, in this order.
LABEL_KEYS = ("y", "labels", "label")


@dataclass
class LabelFile:
    """Labels read from a file, with what is needed to write a split back.

    Attributes
    ----------
    labels : ndarray
        One label per sample (class vector or one-hot matrix).
    frame : DataFrame
        The table the labels came from (the CSV, the folder manifest, or an
        ``index`` column for arrays).
    classes : list or None
        Declared classes (class folders, including empty ones), else None.
    notes : list of str
        Problems found while reading (e.g. unreadable images in a folder).
    kind : {"folder", "csv", "array"}
    """

    labels: np.ndarray
    frame: pd.DataFrame
    classes: list[Any] | None = None
    notes: list[str] = field(default_factory=list)
    kind: str = "array"


def read_table(path: str | os.PathLike[str], *, label_col: str = "label") -> pd.DataFrame:
    """Read a CSV (or ``.tsv``) table that must hold ``label_col``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.files import read_table
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("f,label\\n1,a\\n2,b\\n")
    >>> read_table(p)["label"].tolist()
    ['a', 'b']
    """
    target = Path(path)
    sep = "\t" if target.suffix.lower() == ".tsv" else ","
    try:
        frame = pd.read_csv(target, sep=sep)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"Could not read {target.name} as a table: {first}") from exc
    if label_col not in frame.columns:
        raise ValueError(
            f"{target.name} has no label column {label_col!r}; columns are "
            f"{list(frame.columns)[:20]}. Name the label column (--label-col NAME)."
        )
    return frame


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` archive (or the one array of a ``.npy`` file, as ``"arr_0"``).

    Pickled objects are refused; a file that is not a NumPy archive (a text
    file named ``.npz``) gives a one-line ``ValueError``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from classbalance.files import read_npz
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
    >>> np.savez(p, x=np.zeros((2, 3)), y=np.array([0, 1]))
    >>> sorted(read_npz(p))
    ['x', 'y']
    """
    target = Path(path)
    kind = ".npy array" if target.suffix.lower() == ".npy" else ".npz archive"
    try:
        loaded = np.load(target, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"arr_0": loaded}
        with loaded:
            return {name: loaded[name] for name in loaded.files}
    except (OSError, ValueError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "pickle" in reason:
            reason = "it is not a NumPy file (or it holds pickled objects, which are refused)"
        raise ValueError(f"Could not read {target.name} as a NumPy {kind}: {reason}.") from exc


def _npz_labels(target: Path, key: str | None) -> np.ndarray:
    arrays = read_npz(target)
    if target.suffix.lower() == ".npy":
        return arrays["arr_0"]
    names = list(arrays)
    if key is not None:
        if key not in arrays:
            raise ValueError(f"{target.name} has no array {key!r}; it holds {names}.")
        return arrays[key]
    chosen = next((n for n in LABEL_KEYS if n in arrays), None)
    if chosen is None:
        raise ValueError(
            f"{target.name} holds arrays {names} but none named {', '.join(LABEL_KEYS)}; "
            "choose the labels with --key NAME."
        )
    return arrays[chosen]


def read_labels(
    path: str | os.PathLike[str], *, label_col: str | None = None, key: str | None = None
) -> LabelFile:
    """Read the labels of a class-folder tree, a CSV/TSV table, or ``.npy``/``.npz`` arrays.

    Parameters
    ----------
    path : path
        A folder ``root/<class>/<image>``, a ``.csv``/``.tsv``/``.txt``
        table, a ``.npy`` label array or an ``.npz`` archive.
    label_col : str, default=None
        Label column of a table (default ``"label"``).
    key : str, default=None
        Array of an ``.npz`` archive (default: the first of ``y``, ``labels``,
        ``label``; an archive without them is refused rather than guessed).

    Returns
    -------
    LabelFile

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from classbalance.files import read_labels
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
    >>> np.savez(p, x=np.zeros((3, 2)), y=np.array([0, 1, 1]))
    >>> read_labels(p).labels.tolist()
    [0, 1, 1]
    """
    target = Path(path)
    if target.is_dir():
        from classbalance.folders import scan

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the scan report is returned as notes instead
            frame = scan(target)
        report = frame.attrs["scan_report"]
        return LabelFile(
            frame["label"].to_numpy(), frame, list(report.classes), report.problems, "folder"
        )
    if not target.exists():
        raise FileNotFoundError(f"PATH does not exist: {str(path)!r}")
    suffix = target.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        col = label_col or "label"
        frame = read_table(target, label_col=col)
        return LabelFile(frame[col].to_numpy(), frame, None, [], "csv")
    if suffix in (".npy", ".npz"):
        y = np.asarray(_npz_labels(target, key))
        if y.ndim == 0:
            raise ValueError(f"The labels in {target.name} are a single value, not an array.")
        frame = pd.DataFrame({"index": np.arange(y.shape[0])})
        if y.ndim == 1:
            frame["label"] = y
        return LabelFile(y, frame, None, [], "array")
    raise ValueError(
        "PATH must be a class-folder tree, a .csv/.tsv file or .npy/.npz labels. "
        f"Received: {str(path)!r}"
    )
