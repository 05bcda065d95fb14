"""Multi-label data for ``compare``: multi-hot ``Y``, loaded once, split once.

Sources (each may come with a fixed test set of the same kind, ``--test``):

- an ``.npz`` with ``x`` and a 2-D 0/1 ``y`` that is multi-hot (some row
  with 0 or >= 2 ones; a one-hot ``y`` stays single-label unless
  ``--multilabel`` is given);
- a CSV of numeric feature columns and several 0/1 label columns named by
  ``--label-cols a,b,c``;
- a folder of images with a ``labels.csv`` holding a file column (``fname``,
  ``name`` or ``path``, relative to the folder) and a label-set column
  (``--label-col``; ``labels`` when the CSV has no ``label`` column) whose
  labels are joined by ``--label-sep`` (required: separators are never
  guessed);
- ``--data multilabel-demo``: generated long-tailed multi-label features
  (:func:`classbalance.datasets.make_long_tailed_multilabel`).

Without a test set the data are split by iterative stratification
(:func:`classbalance.stratified_split` on the multi-hot matrix). Labels with
no positive in a split are reported in the notes, never a crash.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import classbalance as cb
from classbalance.compare.data import (
    CompareError,
    DataSplit,
    check_part_shape,
    decode_images,
    load_npz_xy,
    standardize,
    take_rows,
)
from classbalance.files import read_labels
from classbalance.labels import encode_multilabel, is_multihot  # re-exported for runner
from classbalance.layout import FILE_COLUMNS, LABELS_CSV, file_column

__all__ = [
    "MULTILABEL_DEMO",
    "MultiLabelSplit",
    "assemble_multilabel",
    "is_multihot",
    "load_multilabel",
]

MULTILABEL_DEMO = "multilabel-demo"


@dataclass
class MultiLabelSplit(DataSplit):
    """Train / validation / test arrays with multi-hot ``y_*`` of shape (n, n_labels).

    ``classes`` holds the label names (one per column, one logit per label).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.multilabel_data import MultiLabelSplit
    >>> Y = np.array([[1, 0], [1, 1], [0, 0]], dtype=np.uint8)
    >>> x = np.zeros((3, 2), np.float32)
    >>> MultiLabelSplit(x, Y, x, Y, x, Y, ["a", "b"], "features", "").train_counts.tolist()
    [2, 1]
    """

    @property
    def train_counts(self) -> np.ndarray:
        return self.y_train.sum(axis=0, dtype=np.int64)

    @property
    def val_counts(self) -> np.ndarray:
        return self.y_val.sum(axis=0, dtype=np.int64)

    @property
    def test_counts(self) -> np.ndarray:
        return self.y_test.sum(axis=0, dtype=np.int64)


def npz_has_multihot_y(path: Path) -> bool:
    """Whether ``path`` is an ``.npz`` whose ``y`` is multi-hot (reads ``y`` only)."""
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as archive:
            return "y" in archive.files and is_multihot(archive["y"])
    except (OSError, ValueError, EOFError):
        return False  # the single-label reader reports the problem


def wants_multilabel(cfg: Any, path: Path) -> bool:
    """Whether ``--data`` is to be read as multi-label (flags, or an .npz with multi-hot y)."""
    return bool(cfg.multilabel or cfg.label_cols or cfg.label_sep) or npz_has_multihot_y(path)


# --------------------------------------------------------------------------- readers
def _encode(y: Any, labels: list[Any] | None, where: str, sep: str | None = None) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return encode_multilabel(y, classes=labels, sep=sep, name="y")
    except (ValueError, TypeError) as exc:
        message = str(exc).replace("pass `sep`", "pass --label-sep").replace("`sep`", "--label-sep")
        raise CompareError(f"{where}: {message}") from exc


def _read_csv_labels(path: Path, cfg: Any, labels: list[Any] | None) -> tuple[np.ndarray, Any]:
    cols = list(cfg.label_cols or [])
    if not cols:
        raise CompareError(
            f"{path.name}: a multi-label CSV of features needs its 0/1 label columns: "
            "--label-cols a,b,c."
        )
    try:  # the CLI's reader: the same checks and messages as inspect / split / weights
        table = read_labels(path, label_cols=cols)
    except ValueError as exc:
        raise CompareError(str(exc)) from exc
    features = table.frame.drop(columns=cols)
    bad_features = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad_features:
        raise CompareError(
            f"{path.name}: feature columns must be numeric; {bad_features[:5]} are not (name "
            "every label column in --label-cols)."
        )
    if features.shape[1] == 0:
        raise CompareError(f"{path.name} has no feature columns besides the label columns.")
    names = table.classes if labels is None else labels  # --test: the training data's labels
    return features.to_numpy(np.float32), _encode(table.labels, names, path.name)


def _read_folder(path: Path, cfg: Any, labels: list[Any] | None) -> tuple[np.ndarray, Any]:
    table = path / LABELS_CSV
    if not table.is_file():
        raise CompareError(
            f"{path} has no {LABELS_CSV}; a multi-label image folder needs one with a file "
            f"column (one of {', '.join(FILE_COLUMNS)}) and a column of label sets."
        )
    label_col = cfg.label_col
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    if label_col not in frame.columns and label_col == "label" and "labels" in frame.columns:
        label_col = "labels"
    if label_col not in frame.columns:
        raise CompareError(
            f"{table} has no label column {label_col!r}; columns are {list(frame.columns)[:20]}. "
            "Name the column of label sets (--label-col NAME)."
        )
    try:
        file_col = file_column(frame, str(table))
    except ValueError as exc:
        raise CompareError(str(exc)) from exc
    if cfg.label_sep is None:
        raise CompareError(
            f"{table}: give --label-sep, the character that joins labels in column "
            f"{label_col!r} (e.g. --label-sep '|' for 'cat|dog', --label-sep ' ' for 'cat dog'); "
            f"it is never guessed. First value: {frame[label_col].iloc[0]!r}."
        )
    values = frame[label_col].where(frame[label_col] != "", None)  # "" = no label
    enc = _encode(values, labels, str(table), sep=cfg.label_sep)
    x, kept = decode_images(path, frame[file_col].tolist(), cfg.image_size, cfg.channels)
    if len(kept) < len(values):  # unreadable images were skipped (and named): drop their rows
        enc = _encode(values.iloc[kept], enc.labels.tolist(), str(table), sep=cfg.label_sep)
    return x, enc


def _read_any(path: Path, cfg: Any, what: str, labels: list[Any] | None) -> tuple[Any, Any]:
    if not path.exists():
        raise CompareError(f"{what} {path} does not exist.")
    suffix = "folder" if path.is_dir() else path.suffix.lower()
    if cfg.label_cols and suffix != ".csv":
        raise CompareError(f"--label-cols names columns of a CSV; {what} {path.name} is not one.")
    if cfg.label_sep is not None and suffix != "folder":
        raise CompareError(
            f"--label-sep is for a folder with {LABELS_CSV}; {what} {path.name} is not a folder "
            "(a CSV of features takes --label-cols, an .npz a 0/1 y)."
        )
    if path.is_dir():
        return _read_folder(path, cfg, labels)
    if suffix == ".csv":
        return _read_csv_labels(path, cfg, labels)
    if suffix == ".npz":
        x, y = load_npz_xy(path)
        if np.asarray(y).ndim != 2:
            raise CompareError(
                f"{path.name}: multi-label data need a 2-D 0/1 `y` (n_samples, n_labels); its y "
                f"has shape {np.shape(y)}. Drop --multilabel for a class vector."
            )
        if labels is not None and np.shape(y)[1] != len(labels):
            raise CompareError(
                f"{what} {path.name} has {np.shape(y)[1]} label columns but the training data "
                f"{len(labels)}; they must match."
            )
        return x, _encode(y, labels, path.name)
    raise CompareError(
        f"{what} must be a folder with {LABELS_CSV}, a .csv or a .npz file for multi-label "
        f"data; got {path.name}."
    )


# --------------------------------------------------------------------------- assembly
def _stratify_on(Y: np.ndarray) -> np.ndarray:
    return Y[:, 0] if Y.shape[1] == 1 else Y


def _split(Y: np.ndarray, **kwargs: Any) -> tuple[np.ndarray, ...]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cb.stratified_split(_stratify_on(Y), **kwargs)
    except (ValueError, ImportError) as exc:
        raise CompareError(f"Could not split the multi-label data: {exc}") from exc


def _empty_label_notes(data: MultiLabelSplit) -> list[str]:
    notes = []
    names = np.asarray(data.classes, dtype=object)
    for split, counts in (
        ("training", data.train_counts),
        ("validation", data.val_counts),
        ("test", data.test_counts),
    ):
        empty = names[counts == 0].tolist()
        if not empty:
            continue
        effect = {
            "training": "no remedy can learn them; they stay in the scores as they are",
            "validation": "their thresholds stay at 0.5 and they do not count in the "
            "validation mAP",
            "test": "they have no AP and are left out of mAP (macro-F1 counts them, as "
            "scikit-learn does)",
        }[split]
        notes.append(
            f"Warning: labels {[str(v) for v in empty][:10]} have no positive in the {split} "
            f"split: {effect}."
        )
    return notes


def _finish(arrays: dict[str, Any], labels: list[Any], source: str, test_source: str) -> Any:
    kind = "images" if arrays["x_train"].ndim == 4 else "features"
    if kind == "features":
        if arrays["x_train"].ndim != 2:
            raise CompareError(
                f"x must be 2-D features or images; got shape {arrays['x_train'].shape}."
            )
        arrays = {k: v.astype(np.float32) if k.startswith("x") else v for k, v in arrays.items()}
        standardize(arrays)
    data = MultiLabelSplit(
        **arrays, classes=labels, kind=kind, description="", test_source=test_source
    )
    shape = "x".join(map(str, data.input_shape))
    data.description = (
        f"{source} (multi-label {kind}, {shape}; {data.n_classes} labels; {data.n_train} train / "
        f"{len(data.y_val)} valid / {len(data.y_test)} test, test set "
        f"{'given' if test_source == 'given' else 'split by iterative stratification'})"
    )
    data.notes.extend(_empty_label_notes(data))
    for note in data.notes:
        warnings.warn(note.removeprefix("Warning: "), UserWarning, stacklevel=3)
    return data


def _builtin(cfg: Any) -> MultiLabelSplit:
    from classbalance.datasets import make_long_tailed_multilabel

    demo = make_long_tailed_multilabel(
        2000, n_val=500, n_test=2000, n_labels=10, n_features=32,
        imbalance_ratio=cfg.imbalance_ratio, seed=cfg.data_seed,
    )  # fmt: skip
    arrays = {
        "x_train": demo.x_train, "y_train": demo.Y_train, "x_val": demo.x_val,
        "y_val": demo.Y_val, "x_test": demo.x_test, "y_test": demo.Y_test,
    }  # fmt: skip
    data = _finish(arrays, [f"label{i}" for i in range(10)], MULTILABEL_DEMO, "builtin")
    data.description = (
        f"generated long-tailed multi-label features (make_long_tailed_multilabel: 10 labels, "
        f"32 features, label rates 0.4 down to 0.4/{cfg.imbalance_ratio:g}); 2000 train / 500 "
        "valid / 2000 test, every label at rate 0.2 in the test set"
    )
    return data


def load_multilabel(cfg: Any) -> MultiLabelSplit:
    """Load ``cfg.data`` (and ``cfg.test``) as multi-label data and split it once.

    Parameters
    ----------
    cfg : CompareConfig
        Uses ``data``, ``test``, ``label_cols``, ``label_col``, ``label_sep``,
        ``image_size``, ``channels``, ``val_size``, ``test_size``,
        ``imbalance_ratio`` and ``data_seed``.

    Returns
    -------
    MultiLabelSplit

    Raises
    ------
    CompareError
        A missing path, an unknown or non-0/1 label column, strings of labels
        without ``--label-sep`` (or with one that never occurs), a test set
        with other labels than the training data.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig
    >>> from classbalance.compare.multilabel_data import load_multilabel
    >>> data = load_multilabel(CompareConfig(data="multilabel-demo"))
    >>> data.y_train.shape, int(data.test_counts.min()) > 300
    ((2000, 10), True)
    """
    if cfg.data == MULTILABEL_DEMO and not Path(cfg.data).exists():
        if cfg.test is not None:
            raise CompareError(f"--test needs your own --data ({MULTILABEL_DEMO} has a test set).")
        return _builtin(cfg)
    path = Path(cfg.data)
    x_main, enc = _read_any(path, cfg, "--data", None)
    parts: dict[str, tuple[Any, Any]] = {"all": (x_main, enc)}
    if cfg.test is not None:
        parts["test"] = _read_any(Path(cfg.test), cfg, "--test", enc.classes.tolist())
    return assemble_multilabel(parts, cfg, str(path))


def assemble_multilabel(parts: dict[str, tuple[Any, Any]], cfg: Any, source: str) -> Any:
    """Check and split ``parts`` (``all`` or ``train``, optional ``valid`` / ``test``).

    Each part is ``(x, y)`` with ``y`` a multi-hot matrix or label sets (or
    a :class:`~classbalance.labels.MultiHotLabels`); the other parts are
    encoded with the labels of the main one.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare import CompareConfig
    >>> from classbalance.compare.multilabel_data import assemble_multilabel
    >>> rng = np.random.default_rng(0)
    >>> Y = (rng.random((200, 3)) < 0.3).astype(int)
    >>> data = assemble_multilabel({"all": (rng.normal(size=(200, 4)), Y)}, CompareConfig(), "x")
    >>> data.n_classes, data.n_train + len(data.y_val) + len(data.y_test)
    (3, 200)
    """
    main_key = "train" if "train" in parts else "all"
    x_main, y_main = parts[main_key]
    enc = _encode(y_main, None, source)
    Y, labels = enc.Y, enc.classes.tolist()
    if len(x_main) != len(Y):
        raise CompareError(f"x has {len(x_main)} samples but y has {len(Y)}.")
    arrays: dict[str, Any] = {}
    for key, short in (("valid", "val"), ("test", "test")):
        if key in parts:
            x_part, y_part = parts[key]
            check_part_shape(key, x_part, x_main)
            arrays[f"x_{short}"] = x_part
            arrays[f"y_{short}"] = _encode(y_part, labels, f"the {key} data").Y
    seed = cfg.data_seed
    if "x_val" in arrays and "x_test" in arrays:
        arrays.update(x_train=x_main, y_train=Y)
    elif "x_test" in arrays:
        train, val = _split(Y, val_size=cfg.val_size, seed=seed)
        arrays.update(x_train=take_rows(x_main, train), y_train=Y[train])
        arrays.update(x_val=take_rows(x_main, val), y_val=Y[val])
    elif "x_val" in arrays:
        train, test = _split(Y, val_size=cfg.test_size, seed=seed)
        arrays.update(x_train=take_rows(x_main, train), y_train=Y[train])
        arrays.update(x_test=take_rows(x_main, test), y_test=Y[test])
    else:
        train, val, test = _split(Y, val_size=cfg.val_size, test_size=cfg.test_size, seed=seed)
        arrays.update(x_train=take_rows(x_main, train), y_train=Y[train])
        arrays.update(x_val=take_rows(x_main, val), y_val=Y[val])
        arrays.update(x_test=take_rows(x_main, test), y_test=Y[test])
    test_source = "given" if "test" in parts else "split"
    return _finish(arrays, labels, source, test_source)
