"""Data for ``compare``: load once, split once, reuse for every seed and strategy.

Sources, in the order they are recognized:

- nothing: the built-in long-tailed digits (balanced test set of 50 per class);
- a folder with ``train/``, ``valid/`` (or ``val/``) and optionally ``test/``
  sub-folders, each a class-folder tree (fastai's and ImageNet's layout): used
  as given;
- a class-folder tree of images: split stratified into train / valid / test;
- a ``.csv`` of numeric features with a label column, or an ``.npz`` with
  arrays ``x`` and ``y``: split stratified.

``test=`` names a fixed test set (a class-folder tree, ``.csv`` or ``.npz`` of
the same kind as the data); then only train / valid are split. Images are
decoded once into a ``uint8`` array (a ``np.memmap`` in a cache folder above
:data:`MEMMAP_BYTES`); the model gets them as float pixels in [0, 1].
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import classbalance as cb
from classbalance._optional import require
from classbalance.files import read_npz, read_table
from classbalance.layout import (
    UnreadableImageError,
    check_on_unreadable,
    find_split_folders,
    read_class_tree,
    skip_or_raise,
    unreadable_reason,
)

__all__ = [
    "FEW_SHOT_WARNING",
    "MEMMAP_BYTES",
    "CompareError",
    "DataSplit",
    "as_samples",
    "assemble",
    "check_part_shape",
    "decode_images",
    "load_data",
    "load_npz_xy",
    "standardize",
    "take_rows",
]

MEMMAP_BYTES = 512 * 2**20  # decoded images above this size go to a memmap on disk
FEW_SHOT_WARNING = 10  # warn when the rarest class has fewer test samples than this
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


class CompareError(ValueError):
    """Bad input for ``compare``: the message is one readable line."""


@dataclass
class DataSplit:
    """Train / validation / test arrays with integer labels ``0..K-1``.

    ``x_*`` are float32 features (standardized with training statistics) or
    ``uint8`` images of shape (n, height, width, channels).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[Any]
    kind: str  # "features" or "images"
    description: str
    test_source: str = "split"  # "split", "given" (--test or a test/ folder), "builtin"
    notes: list[str] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def train_counts(self) -> np.ndarray:
        return np.bincount(self.y_train, minlength=self.n_classes)

    @property
    def test_counts(self) -> np.ndarray:
        return np.bincount(self.y_test, minlength=self.n_classes)

    @property
    def val_counts(self) -> np.ndarray:
        return np.bincount(self.y_val, minlength=self.n_classes)


# --------------------------------------------------------------------------- readers
_CACHE: list[Path] = []


def _new_array(shape: tuple[int, ...], dtype: np.dtype, nbytes: int) -> np.ndarray:
    """An empty array; above MEMMAP_BYTES a memmap in a temporary folder removed at exit."""
    if nbytes <= MEMMAP_BYTES:
        return np.empty(shape, dtype=dtype)
    if not _CACHE:
        _CACHE.append(Path(tempfile.mkdtemp(prefix="classbalance-compare-")))
        atexit.register(shutil.rmtree, _CACHE[0], ignore_errors=True)
    fd, name = tempfile.mkstemp(suffix=".npy", dir=_CACHE[0])
    os.close(fd)
    return np.lib.format.open_memmap(name, mode="w+", dtype=dtype, shape=shape)


def check_part_shape(key: str, x_part: Any, x_main: Any) -> None:
    """Refuse a ``valid`` / ``test`` part whose samples differ in shape from the training data."""
    if x_part.shape[1:] != x_main.shape[1:]:
        raise CompareError(
            f"The {key} data has samples of shape {x_part.shape[1:]} but the training "
            f"data {x_main.shape[1:]}; they must match."
        )


def take_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]``, into a memmap when ``x`` is one and the result is large.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.data import take_rows
    >>> take_rows(np.arange(6).reshape(3, 2), np.array([2, 0])).tolist()
    [[4, 5], [0, 1]]
    """
    if not isinstance(x, np.memmap):
        return x[rows]
    out = _new_array((len(rows), *x.shape[1:]), x.dtype, len(rows) * x[:1].nbytes)
    for lo in range(0, len(rows), 4096):  # bounded memory: a chunk of rows at a time
        out[lo : lo + 4096] = x[rows[lo : lo + 4096]]
    return out


def decode_images(
    root: Path, paths: list[str], size: int, channels: str, *, on_unreadable: str = "skip"
) -> tuple[np.ndarray, np.ndarray]:
    """Decode every image once into uint8 (n, size, size, c); memmap when large.

    Images Pillow cannot read are skipped with one warning naming them, or
    raise a :class:`CompareError` naming them with ``on_unreadable="error"``
    (the rule of :mod:`classbalance.layout`). Returns the pixels and the
    positions in ``paths`` of the images decoded.
    """
    image = require("PIL.Image", "compare on an image folder")
    check_on_unreadable(on_unreadable)
    bad: dict[int, str] = {}
    if channels == "auto":  # grayscale only if every image is stored as grayscale
        gray = True
        for i, rel in enumerate(paths):
            try:
                with image.open(root / rel) as img:
                    gray = img.mode in _GRAY_MODES
            except Exception as exc:  # Pillow raises many types for corrupt files
                bad[i] = unreadable_reason(exc)
                continue
            if not gray:
                break
        n_channels = 1 if gray else 3
    else:
        n_channels = int(channels)
    mode = "L" if n_channels == 1 else "RGB"
    shape = (len(paths), size, size, n_channels)
    out = _new_array(shape, np.dtype(np.uint8), int(np.prod(shape)))
    kept = np.zeros(len(paths), dtype=bool)
    n_kept = 0
    for i, rel in enumerate(paths):  # decoding is per file by nature; done once
        if i in bad:
            continue
        try:
            with image.open(root / rel) as img:
                pixels = img.convert(mode).resize((size, size), image.Resampling.BILINEAR)
        except Exception as exc:  # Pillow raises many types for corrupt files
            bad[i] = unreadable_reason(exc)
            continue
        out[n_kept] = np.asarray(pixels, dtype=np.uint8).reshape(size, size, n_channels)
        kept[i] = True
        n_kept += 1
    where = sorted(bad)
    try:
        message = skip_or_raise(
            [Path(paths[i]).as_posix() for i in where],
            on_unreadable=on_unreadable,
            reasons=[bad[i] for i in where],
            where=f" in {root}",
        )
    except UnreadableImageError as exc:
        raise CompareError(str(exc)) from exc
    if n_kept == 0:
        raise CompareError(f"No image under {root} could be read. {message}")
    if message:
        warnings.warn(message, UserWarning, stacklevel=2)
    return out[:n_kept], np.flatnonzero(kept)


def _load_folder(
    path: Path, size: int, channels: str, *, on_unreadable: str = "skip"
) -> tuple[np.ndarray, np.ndarray]:
    try:
        manifest = read_class_tree(path)
    except (FileNotFoundError, ValueError) as exc:
        raise CompareError(f"{path}: {str(exc).splitlines()[0]}") from exc
    if len(manifest) == 0:
        raise CompareError(f"No images found under {path}.")
    paths = manifest["path"].tolist()
    x, kept = decode_images(path, paths, size, channels, on_unreadable=on_unreadable)
    return x, manifest["label"].to_numpy()[kept]


def _load_table(path: Path, label_col: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        frame = read_table(path, label_col=label_col)
    except ValueError as exc:
        raise CompareError(str(exc)) from exc
    features = frame.drop(columns=[label_col])
    bad = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise CompareError(f"Feature columns must be numeric; {bad[:5]} are not.")
    if features.shape[1] == 0:
        raise CompareError(f"{path} has no feature columns besides {label_col!r}.")
    return features.to_numpy(np.float32), frame[label_col].to_numpy()


def load_npz_xy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``x`` (as :func:`as_samples`) and ``y`` of an ``.npz``; a one-line error otherwise.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from classbalance.compare.data import load_npz_xy
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
    >>> np.savez(p, x=np.zeros((2, 3)), y=np.array([0, 1]))
    >>> [a.shape for a in load_npz_xy(p)]
    [(2, 3), (2,)]
    """
    try:
        arrays = read_npz(path)
    except ValueError as exc:
        raise CompareError(str(exc)) from exc
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise CompareError(
            f"{path} must hold arrays named 'x' and 'y'; missing {missing} "
            f"(found {sorted(arrays)})."
        )
    return as_samples(arrays["x"]), arrays["y"]


def as_samples(x: Any) -> np.ndarray:
    """Features as float32 (n, d); images as uint8 (n, h, w, c) (floats in [0, 1] are scaled)."""
    x = np.asarray(x) if not isinstance(x, np.memmap) else x
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 4 and x.dtype != np.uint8:
        scale = 255.0 if float(np.nanmax(x, initial=0)) <= 1.0 else 1.0
        return np.clip(np.round(x * scale), 0, 255).astype(np.uint8)
    if x.ndim != 4:
        return np.asarray(x, dtype=np.float32)
    return x


def _load_any(path: Path, cfg: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not path.exists():
        raise CompareError(f"{what} {path} does not exist.")
    if path.is_dir():
        return _load_folder(path, cfg.image_size, cfg.channels)
    if path.suffix.lower() == ".csv":
        return _load_table(path, cfg.label_col)
    if path.suffix.lower() == ".npz":
        return load_npz_xy(path)
    raise CompareError(
        f"{what} must be a class-folder directory, a .csv or a .npz file; got {path.name}."
    )


def _split_layout(path: Path) -> dict[str, Path] | None:
    """``{"train": ..., "valid": ..., "test": ...}`` for a split-folder layout, else None."""
    if not path.is_dir():
        return None
    try:
        found = find_split_folders(path)
    except ValueError as exc:
        raise CompareError(str(exc)) from exc
    if "train" not in found:
        return None
    if "valid" not in found:
        raise CompareError(
            f"{path} has a train/ folder but no valid/ (or val/) folder; add one, or point "
            "--data at a plain class-folder tree to split it."
        )
    return found


# --------------------------------------------------------------------------- assembly
def _encode(labels: np.ndarray, classes: list[Any] | None, where: str) -> tuple[np.ndarray, list]:
    """Integer codes of ``labels`` against ``classes`` (or new sorted classes)."""
    try:
        enc = cb.encode_labels(labels, name="y", function="compare")
    except (ValueError, TypeError) as exc:
        raise CompareError(f"{where}: {exc}") from exc
    found = enc.classes.tolist()
    if classes is None:
        return enc.codes.astype(np.int64), found
    if sorted(map(str, found)) != sorted(map(str, classes)):
        extra = sorted(set(map(str, found)) - set(map(str, classes)))
        missing = sorted(set(map(str, classes)) - set(map(str, found)))
        raise CompareError(
            f"{where} has different classes than the training data: "
            f"not in training {extra[:5]}, missing {missing[:5]}; every split needs the same "
            "classes."
        )
    lookup = {str(c): i for i, c in enumerate(classes)}
    remap = np.array([lookup[str(c)] for c in found], dtype=np.int64)
    return remap[enc.codes], classes


def _check_classes(classes: list[Any], where: str) -> None:
    if len(classes) < 2:
        raise CompareError(
            f"{where} has a single class ({classes}); comparing remedies for imbalance needs "
            "at least two classes."
        )


def standardize(split: dict[str, np.ndarray]) -> None:
    """Standardize ``x_train`` / ``x_val`` / ``x_test`` in place with training statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.data import standardize
    >>> split = {k: np.array([[0.0], [2.0]]) for k in ("x_train", "x_val", "x_test")}
    >>> standardize(split)
    >>> split["x_test"].ravel().tolist()
    [-1.0, 1.0]
    """
    x = split["x_train"]
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    for key in ("x_train", "x_val", "x_test"):
        split[key] = ((split[key] - mean) / std).astype(np.float32)


def _builtin(cfg: Any) -> DataSplit:
    from classbalance.datasets import long_tailed_digits

    x, y, x_test, y_test = long_tailed_digits(cfg.imbalance_ratio, seed=cfg.data_seed)
    train, val = cb.stratified_split(y, val_size=cfg.val_size, seed=cfg.data_seed)
    return DataSplit(
        x[train], y[train], x[val], y[val], x_test, y_test,
        classes=list(range(10)),
        kind="features",
        description=(
            f"scikit-learn digits, long-tailed (imbalance ratio {cfg.imbalance_ratio:g}, "
            "exponential profile), balanced test set of 50 per class"
        ),
        test_source="builtin",
    )  # fmt: skip


def load_data(cfg: Any) -> DataSplit:
    """Load ``cfg.data`` (or the built-in digits) and split it once.

    Parameters
    ----------
    cfg : CompareConfig
        Uses ``data``, ``test``, ``label_col``, ``image_size``, ``channels``,
        ``val_size``, ``test_size``, ``imbalance_ratio`` and ``data_seed``.

    Returns
    -------
    DataSplit
        A :class:`~classbalance.compare.multilabel_data.MultiLabelSplit` for
        multi-label data (``cfg.multilabel``, ``label_cols`` or ``label_sep``
        given, an ``.npz`` with a multi-hot ``y``, or ``multilabel-demo``).

    Raises
    ------
    CompareError
        A missing path, an unreadable file, a single class, or a test set
        whose classes differ from the training data's.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, load_data
    >>> data = load_data(CompareConfig())
    >>> data.kind, data.n_classes, len(data.y_test)
    ('features', 10, 500)
    """
    from classbalance.compare.multilabel_data import (
        MULTILABEL_DEMO,
        load_multilabel,
        wants_multilabel,
    )

    if cfg.data == MULTILABEL_DEMO or (
        cfg.data is not None and Path(cfg.data).exists() and wants_multilabel(cfg, Path(cfg.data))
    ):
        return load_multilabel(cfg)
    if cfg.data is None:
        if cfg.test is not None:
            raise CompareError("--test needs --data (the built-in digits have their own test set).")
        return _builtin(cfg)
    path = Path(cfg.data)
    if not path.exists():
        raise CompareError(f"--data {path} does not exist.")
    layout = _split_layout(path)
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if layout is not None:
        for key, folder in layout.items():
            parts[key] = _load_folder(folder, cfg.image_size, cfg.channels)
        if cfg.test is not None:
            if "test" in parts:
                raise CompareError(
                    f"{path} has a test/ folder and --test was given too; use one of them."
                )
            parts["test"] = _load_any(Path(cfg.test), cfg, "--test")
    else:
        parts["all"] = _load_any(path, cfg, "--data")
        if cfg.test is not None:
            parts["test"] = _load_any(Path(cfg.test), cfg, "--test")
    return assemble(parts, cfg, str(path))


def assemble(parts: dict[str, tuple[Any, Any]], cfg: Any, source: str) -> DataSplit:
    """Encode, check and split ``parts`` (``all`` or ``train``, optional ``valid``/``test``)."""
    main_key = "train" if "train" in parts else "all"
    x_main, labels_main = parts[main_key]
    if len(x_main) != len(labels_main):
        raise CompareError(f"x has {len(x_main)} samples but y has {len(labels_main)}.")
    y_main, classes = _encode(labels_main, None, source)
    _check_classes(classes, source)
    kind = "images" if x_main.ndim == 4 else "features"
    if kind == "features" and x_main.ndim != 2:
        raise CompareError(f"x must be 2-D features or images; got shape {x_main.shape}.")
    arrays: dict[str, Any] = {}
    for key in ("valid", "test"):
        if key in parts:
            x_part, labels = parts[key]
            check_part_shape(key, x_part, x_main)
            arrays[f"x_{'val' if key == 'valid' else key}"] = x_part
            arrays[f"y_{'val' if key == 'valid' else key}"] = _encode(
                labels, classes, f"the {key} data"
            )[0]
    seed = cfg.data_seed
    if "x_val" in arrays and "x_test" in arrays:
        arrays["x_train"], arrays["y_train"] = x_main, y_main
        test_source = "given"
    elif "x_test" in arrays:  # --test given: split train / valid only
        train, val = cb.stratified_split(y_main, val_size=cfg.val_size, seed=seed)
        arrays.update(x_train=take_rows(x_main, train), y_train=y_main[train])
        arrays.update(x_val=take_rows(x_main, val), y_val=y_main[val])
        test_source = "given"
    elif "x_val" in arrays:  # train/ + valid/ without a test set: split test off train
        train, test = cb.stratified_split(y_main, val_size=cfg.test_size, seed=seed)
        arrays.update(x_train=take_rows(x_main, train), y_train=y_main[train])
        arrays.update(x_test=take_rows(x_main, test), y_test=y_main[test])
        test_source = "split"
    else:
        train, val, test = cb.stratified_split(
            y_main, val_size=cfg.val_size, test_size=cfg.test_size, seed=seed
        )
        arrays.update(x_train=take_rows(x_main, train), y_train=y_main[train])
        arrays.update(x_val=take_rows(x_main, val), y_val=y_main[val])
        arrays.update(x_test=take_rows(x_main, test), y_test=y_main[test])
        test_source = "split"
    if kind == "features":
        arrays = {k: v.astype(np.float32) if k.startswith("x") else v for k, v in arrays.items()}
        standardize(arrays)
    data = DataSplit(**arrays, classes=classes, kind=kind, description="", test_source=test_source)
    shape = "x".join(map(str, data.input_shape))
    data.description = (
        f"{source} ({kind}, {shape}; {data.n_classes} classes; {data.n_train} train / "
        f"{len(data.y_val)} valid / {len(data.y_test)} test, test set "
        f"{'given' if test_source == 'given' else 'split stratified from the data'})"
    )
    rarest = int(data.test_counts.min())
    if test_source == "split":
        data.notes.append(
            f"No test set was given: a stratified split holds the test samples; the rarest "
            f"class has {rarest} test samples."
        )
    if rarest < FEW_SHOT_WARNING:
        message = (
            f"The rarest class has only {rarest} test samples: its recall (and worst-class "
            "recall, G-mean) is mostly noise. Give a larger test set with --test or a test/ "
            "folder."
        )
        data.notes.append("Warning: " + message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return data
