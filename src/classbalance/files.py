"""Reading labels (and arrays) from files: the one reader the CLI and ``compare`` share.

Formats: a class-folder tree (``root/<class>/<image>``), a CSV or TSV table
with a label column, ``.npy`` labels, and ``.npz`` archives (labels named
``y``, ``labels`` or ``label``, or chosen with ``key``). Every failure is a
``ValueError`` (``FileNotFoundError`` for a missing path) with a one-line
message that names the file and says what to do.

Multi-label targets are read here too (``LabelFile.multilabel``): a 0/1
array with some row holding no label or several (a one-hot array stays
single-label), several 0/1 columns of a table (``label_cols``), or a table
column of label sets joined by a separator (``label_sep``). The separator is
never guessed: without ``label_sep`` a label column is single-label, and
strings holding ``|``, ``;`` or ``,`` add a note that names the separator to
pass if the rows are label sets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance.labels import encode_multilabel, is_multihot
from classbalance.layout import read_class_tree

__all__ = ["LABEL_KEYS", "LABEL_SEPARATORS", "LabelFile", "read_labels", "read_npz", "read_table"]

# Array names of an .npz archive taken as labels, in this order.
LABEL_KEYS = ("y", "labels", "label")
# A single-label column with strings holding one of these gets a note: they join label sets
# in CSV files ("cat|dog"), and the separator is never guessed (class names may hold them).
LABEL_SEPARATORS = ("|", ";", ",")


@dataclass
class LabelFile:
    """Labels read from a file, with what is needed to write a split back.

    Attributes
    ----------
    labels : ndarray
        One label per sample (class vector or one-hot matrix); for multi-label
        data a uint8 multi-hot matrix of shape (n_samples, n_labels).
    frame : DataFrame
        The table the labels came from (the CSV, the folder manifest, or an
        ``index`` column for arrays).
    classes : list or None
        Declared classes (class folders, including empty ones); for
        multi-label data the label names, one per column of ``labels``;
        else None.
    notes : list of str
        Problems found while reading (e.g. unreadable images in a folder).
    kind : {"folder", "csv", "array"}
    multilabel : bool
        True when ``labels`` is a multi-hot matrix (several labels per sample).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.files import read_labels
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = p.write_text("file,label\\na.png,cat\\nb.png,dog\\nc.png,cat\\n")
    >>> data = read_labels(p)
    >>> data.kind, data.labels.tolist(), data.classes, data.multilabel
    ('csv', ['cat', 'dog', 'cat'], None, False)
    >>> data.frame.columns.tolist(), data.notes
    (['file', 'label'], [])
    """

    labels: np.ndarray
    frame: pd.DataFrame
    classes: list[Any] | None = None
    notes: list[str] = field(default_factory=list)
    kind: str = "array"
    multilabel: bool = False


def _table_sep(target: Path) -> str:
    return "\t" if target.suffix.lower() == ".tsv" else ","


def _read_frame(target: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(target, sep=_table_sep(target))
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"Could not read {target.name} as a table: {first}") from exc


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
    frame = _read_frame(target)
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


def _shown(value: Any) -> str:
    """A cell value for an error message: ``'x'``, ``2``, or ``a missing value``."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return "a missing value"
    return repr(value.item() if isinstance(value, np.generic) else value)


def _label_cols_matrix(frame: pd.DataFrame, label_cols: Sequence[str], name: str) -> np.ndarray:
    """The 0/1 label columns of a table as a uint8 matrix; a bad value names its column."""
    cols = list(label_cols)
    if not cols or not all(isinstance(c, str) and c for c in cols):
        raise ValueError(
            f"`label_cols` must name one or more columns (--label-cols a,b,c). "
            f"Received: label_cols={cols!r}"
        )
    if len(set(cols)) != len(cols):
        raise ValueError(f"`label_cols` repeats a column. Received: label_cols={cols!r}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} has no label columns {missing}; columns are {list(frame.columns)[:20]}. "
            "Name the 0/1 label columns with --label-cols a,b,c."
        )
    values = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    bad = ~((values == 0) | (values == 1))  # NaN (missing or non-numeric) lands here too
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: label column {cols[col]!r} must hold only 0 and 1 (one column per label, "
            f"--label-cols); found {_shown(frame[cols[col]].iloc[row])} in row {row} "
            f"({int(bad.sum())} such values). For one column of label sets use "
            "--label-col NAME --label-sep SEP instead."
        )
    return values.astype(np.uint8)


def _joined_strings_note(column: pd.Series, col: str, name: str) -> list[str]:
    """A note when a single-label string column looks like joined label sets (never guessed)."""
    if not pd.api.types.is_string_dtype(column) and column.dtype != object:  # numbers
        return []
    strings = column.dropna().astype(str)
    for sep in LABEL_SEPARATORS:
        hits = strings[strings.str.contains(sep, regex=False)]
        if not hits.empty:
            return [
                f"{name}: label column {col!r} holds strings containing {sep!r} (e.g. "
                f"{hits.iloc[0]!r}, {hits.shape[0]} of {strings.shape[0]} rows); they are read "
                "as single-label class names. If each row is a set of labels, pass the "
                f"separator: --label-sep {sep!r} (it is never guessed)."
            ]
    return []


def _read_csv_labels(
    target: Path, label_col: str | None, label_cols: Sequence[str] | None, label_sep: str | None
) -> LabelFile:
    if label_cols is not None:
        if label_col is not None or label_sep is not None:
            raise ValueError(
                "`label_cols` (0/1 columns, one per label) cannot be combined with `label_col` "
                "or `label_sep` (one column of label sets); pass one form. Received: "
                f"label_cols={list(label_cols)!r}, label_col={label_col!r}, "
                f"label_sep={label_sep!r}"
            )
        if isinstance(label_cols, str):
            raise TypeError(
                "`label_cols` must be a list of column names, e.g. ['a', 'b']. "
                f"Received: label_cols={label_cols!r}"
            )
        cols = list(label_cols)
        frame = _read_frame(target)
        Y = _label_cols_matrix(frame, cols, target.name)
        return LabelFile(Y, frame, cols, [], "csv", multilabel=True)
    col = label_col or "label"
    frame = read_table(target, label_col=col)
    if label_sep is None:
        notes = _joined_strings_note(frame[col], col, target.name)
        return LabelFile(frame[col].to_numpy(), frame, None, notes, "csv")
    if not isinstance(label_sep, str) or not label_sep:
        raise ValueError(
            f"`label_sep` must be a non-empty string (--label-sep '|'). "
            f"Received: label_sep={label_sep!r}"
        )
    column = frame[col]
    filled = column.notna().to_numpy()
    if not pd.api.types.is_string_dtype(column) and column.dtype != object and filled.any():
        first = int(np.flatnonzero(filled)[0])
        raise ValueError(
            f"{target.name}: --label-sep {label_sep!r} needs label column {col!r} to hold "
            f"strings of labels; row {first} holds {_shown(column.iloc[first])}. "
            "Drop --label-sep for a single-label column."
        )
    # The cells as written: a label named "NA", "None" or "null" is a label; only "" is none.
    raw = pd.read_csv(
        target,
        sep=_table_sep(target),
        usecols=[col],
        dtype=str,
        keep_default_na=False,
    )[col]
    column = raw.where(raw != "", None)
    enc = encode_multilabel(column.astype(object), sep=label_sep, name=f"label column {col!r}")
    return LabelFile(enc.Y, frame, enc.classes.tolist(), [], "csv", multilabel=True)


def read_labels(
    path: str | os.PathLike[str],
    *,
    label_col: str | None = None,
    key: str | None = None,
    label_cols: Sequence[str] | None = None,
    label_sep: str | None = None,
    verify: bool = False,
    on_unreadable: str = "skip",
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
    label_cols : sequence of str, default=None
        Multi-label table: the 0/1 columns, one per label (the label names).
    label_sep : str, default=None
        Multi-label table: the separator joining the labels of a row in
        ``label_col`` (``"|"`` for ``"cat|dog"``); an empty or missing cell
        is a row with no label. Without it the column is single-label (never
        guessed); strings containing ``|``, ``;`` or ``,`` add a note to
        ``notes`` naming the separator to pass if the rows are label sets.
    verify : bool, default=False
        Class folder: open every image and skip those Pillow cannot read
        (named in ``notes``); see :func:`classbalance.layout.scan`.
    on_unreadable : {"skip", "error"}, default="skip"
        Class folder: ``"error"`` opens every image and raises an
        :class:`~classbalance.layout.UnreadableImageError` naming those
        Pillow cannot read, instead of skipping them.

    Returns
    -------
    LabelFile
        ``multilabel`` is True for ``label_cols``, ``label_sep``, or a
        2-D 0/1 array with some row holding no label or several.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from classbalance.files import read_labels
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
    >>> np.savez(p, x=np.zeros((3, 2)), y=np.array([0, 1, 1]))
    >>> read_labels(p).labels.tolist()
    [0, 1, 1]
    >>> t = p.with_name("tags.csv")
    >>> _ = t.write_text("file,tags\\na.png,cat|dog\\nb.png,dog\\nc.png,\\n")
    >>> data = read_labels(t, label_col="tags", label_sep="|")
    >>> data.multilabel, data.classes, data.labels.tolist()
    (True, ['cat', 'dog'], [[1, 1], [0, 1], [0, 0]])
    """
    target = Path(path)
    if target.is_dir():
        if label_cols is not None or label_sep is not None:
            raise ValueError(
                "`label_cols` and `label_sep` are for a CSV table; a class folder has one "
                f"label per image. Received: path={str(path)!r}"
            )
        # What the reader skipped is returned as notes (the CLI prints them), not warned.
        frame = read_class_tree(target, verify=verify, on_unreadable=on_unreadable)
        report = frame.attrs["scan_report"]
        return LabelFile(
            frame["label"].to_numpy(), frame, list(report.classes), report.problems, "folder"
        )
    if not target.exists():
        raise FileNotFoundError(f"PATH does not exist: {str(path)!r}")
    suffix = target.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_csv_labels(target, label_col, label_cols, label_sep)
    if suffix in (".npy", ".npz"):
        if label_cols is not None or label_sep is not None:
            raise ValueError(
                f"`label_cols` and `label_sep` are for a CSV table; {target.name} holds arrays "
                "(a multi-hot `y` of shape (n_samples, n_labels) is read as multi-label as is)."
            )
        y = np.asarray(_npz_labels(target, key))
        if y.ndim == 0:
            raise ValueError(f"The labels in {target.name} are a single value, not an array.")
        frame = pd.DataFrame({"index": np.arange(y.shape[0])})
        if y.ndim == 1:
            frame["label"] = y
        if is_multihot(y):
            names = list(range(y.shape[1]))
            return LabelFile(y.astype(np.uint8), frame, names, [], "array", multilabel=True)
        return LabelFile(y, frame, None, [], "array")
    raise ValueError(
        "PATH must be a class-folder tree, a .csv/.tsv file or .npy/.npz labels. "
        f"Received: {str(path)!r}"
    )
