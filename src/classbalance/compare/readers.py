"""Readers of ``compare``'s sources: image folders, CSV tables, ``.npz`` archives.

Single-label data:

- a class-folder tree of images (``root/<class>/<image>``), or ``train/``,
  ``valid/`` (or ``val/``) and optionally ``test/`` sub-folders of such trees
  (fastai's and ImageNet's layout; :func:`split_layout`);
- a ``.csv`` of numeric features with a label column (``--label-col``);
- an ``.npz`` with arrays ``x`` and ``y``.

Multi-label data:

- an ``.npz`` with ``x`` and a 2-D 0/1 ``y`` that is multi-hot (some row
  with 0 or >= 2 ones; a one-hot ``y`` stays single-label unless
  ``--multilabel`` is given);
- a CSV of numeric feature columns and several 0/1 label columns named by
  ``--label-cols a,b,c``;
- a folder of images with a ``labels.csv`` holding a file column (``fname``,
  ``name`` or ``path``, relative to the folder) and a label-set column
  (``--label-col``; ``labels`` when the CSV has no ``label`` column) whose
  labels are joined by ``--label-sep`` (required: separators are never
  guessed).

Images are decoded once into a ``uint8`` array (a ``np.memmap`` in a cache
folder above :data:`MEMMAP_BYTES`); the model gets them as float pixels in
[0, 1]. Their side is ``--image-size``, by default the median shorter side of
the training images clipped to [8, 64] (:func:`image_size_of`). With
``--backbone`` each image becomes the embedding of a frozen network instead,
looked up by content in the cache first (:mod:`classbalance.compare.embeddings`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance._optional import require
from classbalance.compare.config import CompareError
from classbalance.compare.embeddings import Embedder, file_keys
from classbalance.compare.task import MULTI_LABEL, Task, task_of
from classbalance.files import read_labels, read_npz, read_table
from classbalance.layout import (
    FILE_COLUMNS,
    LABELS_CSV,
    UnreadableImageError,
    check_on_unreadable,
    file_column,
    find_split_folders,
    read_class_tree,
    skip_or_raise,
    unreadable_reason,
)

__all__ = [
    "LABELS_CSV",
    "MEMMAP_BYTES",
    "as_samples",
    "decode_images",
    "image_size_of",
    "load_npz_xy",
    "npz_has_multihot_y",
    "read_images",
    "read_part",
    "split_layout",
    "take_rows",
]

MEMMAP_BYTES = 512 * 2**20  # decoded images above this size go to a memmap on disk
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}
_EMBED_CHUNK = 256  # images decoded and embedded at a time with --backbone


def read_part(
    path: Path,
    cfg: Any,
    what: str,
    task: Task,
    names: list[Any] | None = None,
    embedder: Embedder | None = None,
) -> tuple[Any, Any]:
    """``(x, y)`` of the source ``path`` (``what``: ``--data`` or ``--test``) for ``task``.

    ``y`` is what :meth:`Task.encode` takes: class labels, or encoded
    multi-hot labels (against ``names``, the training data's, for ``--test``).
    With an ``embedder`` (``--backbone``), images become embeddings (features).
    """
    if task.multilabel:
        x, y = _read_multilabel(path, cfg, what, names, embedder)
    else:
        x, y = _load_any(path, cfg, what, embedder)
    if embedder is None or path.is_dir():  # a folder's images were embedded as they were read
        return x, y
    if np.ndim(x) == 4:  # an .npz of images
        x = embedder.embed_array(x)
    else:
        raise CompareError(
            f"--backbone embeds images; {what} {path.name} holds features (shape "
            f"{np.shape(x)[1:]} per sample). Drop --backbone, or give an image folder."
        )
    return x, y


# --------------------------------------------------------------------------- single-label
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


def take_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]``, into a memmap when ``x`` is one and the result is large.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.readers import take_rows
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
    shape = (len(paths), size, size, n_channels)
    out = _new_array(shape, np.dtype(np.uint8), int(np.prod(shape)))
    kept = _decode_into(out, root, paths, bad)
    _report_unreadable(root, paths, bad, on_unreadable, int(kept.sum()))
    return out[: int(kept.sum())], np.flatnonzero(kept)


def _decode_into(out: np.ndarray, root: Path, paths: list[str], bad: dict[int, str]) -> np.ndarray:
    """Decode ``paths`` (but those in ``bad``) into the first rows of ``out``; which were kept.

    A JPEG larger than the target is decoded at a reduced scale (Pillow's
    ``draft``: the DCT's 1/2, 1/4 or 1/8, never below the target size), then
    resized, which spares most of the decoding of large photos.

    Files Pillow cannot read are added to ``bad`` with the reason.
    """
    image = require("PIL.Image", "compare on an image folder")
    size, n_channels = out.shape[1], out.shape[3]
    mode = "L" if n_channels == 1 else "RGB"
    kept = np.zeros(len(paths), dtype=bool)
    n_kept = 0
    for i, rel in enumerate(paths):  # decoding is per file by nature; done once
        if i in bad:
            continue
        try:
            with image.open(root / rel) as img:
                img.draft(mode, (size, size))  # JPEG: decode at 1/2..1/8 scale, >= size
                pixels = img.convert(mode).resize((size, size), image.Resampling.BILINEAR)
        except Exception as exc:  # Pillow raises many types for corrupt files
            bad[i] = unreadable_reason(exc)
            continue
        out[n_kept] = np.asarray(pixels, dtype=np.uint8).reshape(size, size, n_channels)
        kept[i] = True
        n_kept += 1
    return kept


def _report_unreadable(
    root: Path, paths: list[str], bad: dict[int, str], on_unreadable: str, n_kept: int
) -> None:
    """One warning naming the unreadable images, or the error (``on_unreadable="error"``)."""
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
        warnings.warn(message, UserWarning, stacklevel=3)


def image_size_of(root: Path, paths: list[str]) -> int:
    """The default image side: the median shorter side of (up to 256 of) the images, in [8, 64].

    A folder of 28x28 images keeps 28; photos are cut to 64, which a CNN
    trained from scratch on a CPU can afford (its cost grows with the
    square of the side). Unreadable files are left to the decoding.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> from classbalance.compare.readers import image_size_of
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i, side in enumerate([20, 28, 300]):
    ...     Image.new("L", (side, side + 5)).save(d / f"{i}.png")
    >>> image_size_of(d, ["0.png", "1.png", "2.png"]), image_size_of(d, ["2.png"])
    (28, 64)
    """
    image = require("PIL.Image", "compare on an image folder")
    step = max(1, len(paths) // 256)
    sides = []
    for rel in paths[::step]:  # reads headers only, of an evenly spaced sample
        try:
            with image.open(root / rel) as img:
                sides.append(min(img.size))
        except Exception:  # the decoding names unreadable files
            continue
    return int(np.clip(np.median(sides), 8, 64)) if sides else 28


def _embed_files(
    root: Path, paths: list[str], embedder: Embedder, on_unreadable: str
) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of image files: from the cache by content, else decoded and embedded in chunks."""
    check_on_unreadable(on_unreadable)
    keys = file_keys(root, paths)
    found, rows = embedder.cache.lookup(keys)
    embedder.cached += int(found.sum())
    ok = found.copy()
    bad: dict[int, str] = {}
    size, n_channels = embedder.backbone.image_size, embedder.backbone.channels
    missing = np.flatnonzero(~found)
    for lo in range(0, len(missing), _EMBED_CHUNK):  # bounded memory: a chunk of images at a time
        chunk = missing[lo : lo + _EMBED_CHUNK]
        pixels = np.empty((len(chunk), size, size, n_channels), dtype=np.uint8)
        chunk_bad: dict[int, str] = {}
        kept = _decode_into(pixels, root, [paths[i] for i in chunk], chunk_bad)
        bad.update({int(chunk[j]): reason for j, reason in chunk_bad.items()})
        if not kept.any():
            continue
        emb = embedder.embed_images(pixels[: int(kept.sum())], keys[chunk[kept]])
        if rows is None:
            rows = np.zeros((len(paths), emb.shape[1]), dtype=np.float32)
        rows[chunk[kept]] = emb
        ok[chunk[kept]] = True
    _report_unreadable(root, paths, bad, on_unreadable, int(ok.sum()))
    assert rows is not None
    return rows[ok], np.flatnonzero(ok)


def read_images(
    root: Path, paths: list[str], cfg: Any, embedder: Embedder | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of image files (``cfg.image_size``, else :func:`image_size_of`), or embeddings.

    With an ``embedder`` (``--backbone``) the result is float32 embeddings
    (n, d), each image decoded and embedded once for all runs (cached on
    disk). Returns the array and the positions in ``paths`` of the images read.
    """
    if embedder is not None:
        return _embed_files(root, paths, embedder, cfg.on_unreadable)
    size = cfg.image_size or image_size_of(root, paths)
    return decode_images(root, paths, size, cfg.channels, on_unreadable=cfg.on_unreadable)


def _load_folder(
    path: Path, cfg: Any, embedder: Embedder | None = None
) -> tuple[np.ndarray, np.ndarray]:
    try:
        manifest = read_class_tree(path)
    except (FileNotFoundError, ValueError) as exc:
        raise CompareError(f"{path}: {str(exc).splitlines()[0]}") from exc
    if len(manifest) == 0:
        raise CompareError(f"No images found under {path}.")
    paths = manifest["path"].tolist()
    x, kept = read_images(path, paths, cfg, embedder)
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
    >>> from classbalance.compare.readers import load_npz_xy
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


def _load_any(
    path: Path, cfg: Any, what: str, embedder: Embedder | None
) -> tuple[np.ndarray, np.ndarray]:
    if not path.exists():
        raise CompareError(f"{what} {path} does not exist.")
    if path.is_dir():
        return _load_folder(path, cfg, embedder)
    if path.suffix.lower() == ".csv":
        return _load_table(path, cfg.label_col)
    if path.suffix.lower() == ".npz":
        return load_npz_xy(path)
    raise CompareError(
        f"{what} must be a class-folder directory, a .csv or a .npz file; got {path.name}."
    )


def split_layout(path: Path) -> dict[str, Path] | None:
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


# --------------------------------------------------------------------------- multi-label
def npz_has_multihot_y(path: Path) -> bool:
    """Whether ``path`` is an ``.npz`` whose ``y`` is multi-hot (reads ``y`` only)."""
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as archive:
            return "y" in archive.files and task_of(archive["y"]) is MULTI_LABEL
    except (OSError, ValueError, EOFError):
        return False  # the single-label reader reports the problem


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
    return features.to_numpy(np.float32), MULTI_LABEL.encode_labels(table.labels, names, path.name)


def _read_folder(
    path: Path, cfg: Any, labels: list[Any] | None, embedder: Embedder | None = None
) -> tuple[np.ndarray, Any]:
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
    enc = MULTI_LABEL.encode_labels(values, labels, str(table), sep=cfg.label_sep)
    x, kept = read_images(path, frame[file_col].tolist(), cfg, embedder)
    if len(kept) < len(values):  # unreadable images were skipped (and named): drop their rows
        enc = MULTI_LABEL.encode_labels(
            values.iloc[kept], enc.classes.tolist(), str(table), sep=cfg.label_sep
        )
    return x, enc


def _read_multilabel(
    path: Path, cfg: Any, what: str, labels: list[Any] | None, embedder: Embedder | None
) -> tuple[Any, Any]:
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
        return _read_folder(path, cfg, labels, embedder)
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
        return x, MULTI_LABEL.encode_labels(y, labels, path.name)
    raise CompareError(
        f"{what} must be a folder with {LABELS_CSV}, a .csv or a .npz file for multi-label "
        f"data; got {path.name}."
    )
