"""Image folders: scan class sub-folders, split and oversample, export with ``labels.csv``.

The layout is the one fastai, Keras' ``image_dataset_from_directory`` and the
seed ``Oversampler`` assume: ``root/<class>/<image>``. Oversampling repeats
*rows* of ``labels.csv``, not bytes: the exported files are hard links by
default, so a class oversampled twice costs no disk space.

Safety rules: the input tree is only ever read; the output is written into a
temporary sibling and renamed into place at the end, so an interrupted run
leaves the old output or the new one, never half of one; a non-empty output
is replaced only with ``overwrite=True``; an output inside the input is
refused.

Examples
--------
>>> from classbalance.folders import scan, oversample, export
>>> manifest = scan("data/")                                  # doctest: +SKIP
>>> plan = oversample(manifest, valid_pct=0.2, balance="max", seed=0)  # doctest: +SKIP
>>> export(plan, "data_balanced/").n_valid                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import hashlib
import json
import numbers
import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance._atomic import atomic_write_text
from classbalance._streams import FOLDERS
from classbalance._validation import check_choice, resolve_seed, rng_for, short_repr
from classbalance.labels import EncodedLabels, encode_labels
from classbalance.sampling import BalancedSampler, alpha_shares
from classbalance.split import stratified_split

__all__ = [
    "IMAGE_EXTENSIONS",
    "ExportResult",
    "Oversampler",
    "ScanReport",
    "export",
    "oversample",
    "scan",
]

IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".bmp", ".gif", ".jpeg", ".jpg", ".png", ".ppm", ".tif", ".tiff", ".webp",
)  # fmt: skip
EXPORT_MODES = ("hardlink", "copy", "symlink", "none")
LABELS_CSV = "labels.csv"
MANIFEST_JSON = "manifest.json"
_TMP_TAG = ".classbalance-tmp-"
_OLD_TAG = ".classbalance-old-"
_MARKER = ".classbalance-partial"


# --------------------------------------------------------------------------- scan
@dataclass
class ScanReport:
    """What :func:`scan` found besides the images it listed.

    Attributes
    ----------
    root : Path
        The scanned folder (absolute).
    classes : list of str
        Every class folder, sorted, including empty ones.
    empty_classes : list of str
        Class folders without a single image.
    non_images : list of str
        Files skipped because their extension is not an image extension.
    unreadable : list of str
        Images Pillow could not read (only with ``verify=True``).
    broken_links : list of str
        Symlinks whose target is missing, or that loop.
    loops : list of str
        Directory symlinks not followed because they lead back to a folder
        already visited.
    outside_classes : list of str
        Files directly in ``root`` (they have no class folder).
    hidden : int
        Hidden files and folders skipped (names starting with ``.``).
    """

    root: Path
    classes: list[str] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    non_images: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)
    outside_classes: list[str] = field(default_factory=list)
    hidden: int = 0

    @property
    def problems(self) -> list[str]:
        """One line per kind of skipped entry (empty when nothing was skipped)."""
        lines = []
        for label, items in (
            ("empty class folders", self.empty_classes),
            ("non-image files skipped", self.non_images),
            ("unreadable images skipped", self.unreadable),
            ("broken symlinks skipped", self.broken_links),
            ("symlink loops not followed", self.loops),
            ("files outside class folders skipped", self.outside_classes),
        ):
            if items:
                shown = ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")
                lines.append(f"{len(items)} {label}: {shown}")
        return lines

    def __str__(self) -> str:
        head = f"Scanned {self.root}: {len(self.classes)} class folders"
        if self.hidden:
            head += f", {self.hidden} hidden entries skipped"
        return "\n".join([head, *self.problems])


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _check_extensions(extensions: Any) -> tuple[str, ...]:
    if isinstance(extensions, str) or not isinstance(extensions, Iterable):
        raise TypeError(
            "`extensions` must be a sequence of file extensions such as ('.png', '.jpg'). "
            f"Received: extensions={short_repr(extensions)}"
        )
    out = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
    if not out:
        raise ValueError("`extensions` is empty; give at least one extension such as '.png'.")
    return out


def _walk_class(
    folder: Path,
    root: Path,
    extensions: tuple[str, ...],
    recursive: bool,
    report: ScanReport,
    visited: set[tuple[int, int]],
) -> list[str]:
    """Relative POSIX paths of the images under one class folder (symlinks followed once)."""
    found: list[str] = []
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            report.unreadable.append(f"{current.relative_to(root).as_posix()}/ ({exc.strerror})")
            continue
        subdirs = []
        for entry in entries:
            rel = Path(entry.path).relative_to(root).as_posix()
            if _is_hidden(entry.name):
                report.hidden += 1
                continue
            try:
                st = os.stat(entry.path)  # follows symlinks; ELOOP / ENOENT when broken
            except OSError:
                report.broken_links.append(rel)
                continue
            if os.path.isdir(entry.path):
                if not recursive:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in visited:
                    report.loops.append(rel)
                    continue
                visited.add(key)
                subdirs.append(Path(entry.path))
                continue
            if os.path.splitext(entry.name)[1].lower() in extensions:
                found.append(rel)
            else:
                report.non_images.append(rel)
        stack.extend(reversed(subdirs))
    return found


def _unreadable_images(root: Path, paths: list[str]) -> list[str]:
    from classbalance._optional import require

    image = require("PIL.Image", "scan(verify=True)")
    bad = []
    for rel in paths:  # one open per file: reading images is inherently per file
        try:
            with image.open(root / rel) as img:
                img.verify()
        except Exception:  # Pillow raises many types for corrupt files
            bad.append(rel)
    return bad


def scan(
    root: str | os.PathLike[str],
    *,
    extensions: Iterable[str] = IMAGE_EXTENSIONS,
    recursive: bool = False,
    verify: bool = False,
) -> pd.DataFrame:
    """List the images of a class-folder tree (``root/<class>/<image>``).

    Parameters
    ----------
    root : path
        Folder with one sub-folder per class.
    extensions : sequence of str, default=IMAGE_EXTENSIONS
        File extensions counted as images (case-insensitive).
    recursive : bool, default=False
        Also list images in sub-folders of each class folder (the class is
        still the top folder). Directory symlinks are followed once; a link
        back to a folder already visited is reported, not followed.
    verify : bool, default=False
        Open every image with Pillow and skip (and report) those it cannot
        read. Slower: reads every file.

    Returns
    -------
    DataFrame
        Columns ``path`` (POSIX path relative to ``root``, starting with the
        class folder) and ``label`` (the class folder name), sorted by label
        then path. ``df.attrs["root"]`` is the absolute root and
        ``df.attrs["scan_report"]`` a :class:`ScanReport`.

    Raises
    ------
    FileNotFoundError
        ``root`` does not exist or is not a folder.
    ValueError
        ``root`` has no class folders, or no images at all.

    Warns
    -----
    UserWarning
        When entries were skipped (non-image files, unreadable images, broken
        symlinks, files outside class folders, empty classes), with a summary.
        Hidden files (``.DS_Store``) are skipped silently.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.folders import scan
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["cat/1.png", "cat/2.png", "dog/1.png"]:
    ...     (root / name).parent.mkdir(exist_ok=True)
    ...     _ = (root / name).write_bytes(b"")
    >>> scan(root)["label"].value_counts().to_dict()
    {'cat': 2, 'dog': 1}
    """
    if not isinstance(recursive, bool) or not isinstance(verify, bool):
        raise TypeError(
            f"`recursive` and `verify` must be bools. Received: recursive={recursive!r}, "
            f"verify={verify!r}"
        )
    exts = _check_extensions(extensions)
    root_path = Path(root).expanduser()
    if not root_path.is_dir():
        raise FileNotFoundError(
            f"`root` must be an existing folder with one sub-folder per class. "
            f"Received: root={str(root)!r}"
        )
    root_path = root_path.resolve()
    report = ScanReport(root=root_path)
    visited: set[tuple[int, int]] = set()
    paths: list[str] = []
    labels: list[str] = []
    for entry in sorted(os.scandir(root_path), key=lambda e: e.name):
        if _is_hidden(entry.name):
            report.hidden += 1
            continue
        try:
            st = os.stat(entry.path)
        except OSError:
            report.broken_links.append(entry.name)
            continue
        if not os.path.isdir(entry.path):
            report.outside_classes.append(entry.name)
            continue
        visited.add((st.st_dev, st.st_ino))
        report.classes.append(entry.name)
        found = _walk_class(Path(entry.path), root_path, exts, recursive, report, visited)
        if verify and found:
            bad = set(_unreadable_images(root_path, found))
            report.unreadable.extend(sorted(bad))
            found = [p for p in found if p not in bad]
        if not found:
            report.empty_classes.append(entry.name)
        paths.extend(found)
        labels.extend([entry.name] * len(found))
    if not report.classes:
        raise ValueError(
            f"`root` has no class folders: expected root/<class>/<image>, but {root_path} "
            f"contains {len(report.outside_classes)} files and no sub-folders."
        )
    if not paths:
        raise ValueError(
            f"`root` has {len(report.classes)} class folders but no images with extensions "
            f"{', '.join(exts)}.\n{report}"
        )
    frame = pd.DataFrame({"path": paths, "label": labels})
    frame.attrs["root"] = str(root_path)
    frame.attrs["scan_report"] = report
    if report.problems:
        warnings.warn(str(report), UserWarning, stacklevel=2)
    return frame


# ---------------------------------------------------------------------- oversample
def _check_manifest(manifest: Any, columns: tuple[str, ...] = ("path", "label")) -> pd.DataFrame:
    if not isinstance(manifest, pd.DataFrame):
        raise TypeError(
            "`manifest` must be a DataFrame with columns 'path' and 'label' (from `scan`). "
            f"Received: manifest of type {type(manifest).__name__}"
        )
    missing = [c for c in columns if c not in manifest.columns]
    if missing:
        raise ValueError(
            f"`manifest` lacks the columns {missing}; it needs {list(columns)}. "
            f"Received columns: {list(manifest.columns)[:10]}"
        )
    if len(manifest) == 0:
        raise ValueError("`manifest` is empty; there is nothing to split or export.")
    return manifest


def _target_counts(
    counts: np.ndarray,
    classes: np.ndarray,
    factors: Mapping[Any, Any] | None,
    balance: Any,
) -> np.ndarray:
    """Training rows per class after oversampling (never fewer than ``counts``).

    ``factors`` adds a fraction of each class (the seed's ``{'cat': 0.5}``);
    ``balance`` is ``"max"`` or an ``alpha`` meaning what it means for
    :class:`~classbalance.BalancedSampler`: class shares proportional to
    ``n_c ** alpha``, here at the epoch size where the largest class keeps
    its ``n_max`` rows (``n_max * (n_c / n_max) ** alpha``), so no class shrinks.
    """
    if factors is not None and balance is not None:
        raise ValueError(
            "Pass either `factors` or `balance`, not both. "
            f"Received: factors={short_repr(factors)}, balance={balance!r}"
        )
    targets = counts.astype(np.int64)
    if factors is not None:
        if not isinstance(factors, Mapping):
            raise TypeError(
                "`factors` must be a dict {label: fraction to add}, e.g. {'cat': 0.5}. "
                f"Received: factors={short_repr(factors)}"
            )
        position = {str(c): i for i, c in enumerate(classes.tolist())}
        for label, pct in factors.items():
            i = position.get(str(label))
            if i is None:
                raise ValueError(
                    f"`factors` names a class that is not in the manifest: {label!r}. "
                    f"Classes: {classes.tolist()[:20]}"
                )
            if (
                isinstance(pct, bool)
                or not isinstance(pct, numbers.Real)
                or not np.isfinite(pct)
                or pct < 0
            ):
                raise ValueError(
                    f"`factors` values must be numbers >= 0 (0.5 adds 50% more rows). "
                    f"Received: {label!r}: {pct!r}"
                )
            targets[i] = counts[i] + int(np.floor(float(pct) * counts[i] + 0.5))  # half up
        return targets
    if balance is None:
        return targets
    if isinstance(balance, str):
        check_choice(balance, "balance", ("max",))
        alpha = 0.0
    elif isinstance(balance, numbers.Real) and not isinstance(balance, bool) and 0 <= balance <= 1:
        alpha = float(balance)
    else:
        raise ValueError(
            "`balance` must be 'max' (every class up to the largest) or an alpha in [0, 1] "
            f"(class sizes ∝ n_c**alpha, never reduced). Received: balance={balance!r}"
        )
    shares = alpha_shares(counts, alpha)
    present = counts > 0
    scaled = np.round(counts.max() * shares[present] / shares.max()).astype(np.int64)
    targets[present] = np.maximum(scaled, counts[present])
    return targets


def _training_plan(train_codes: np.ndarray, targets: np.ndarray, seed: int) -> np.ndarray:
    """Positions into the training rows, ``targets[c]`` of class ``c``: an engine plan.

    The engine's epoch 0 with fixed target counts: each class's stream of
    fresh permutations starts with every member once, so every image is kept
    and the repeats cycle through the class (every image once before any twice).
    """
    n_classes = len(targets)
    counts = np.bincount(train_codes, minlength=n_classes)
    if np.array_equal(targets, counts) or np.count_nonzero(counts) < 2:
        if not np.array_equal(targets, counts):
            warnings.warn(
                "Only one class has training rows; there is nothing to balance it against, "
                "so no rows are repeated.",
                UserWarning,
                stacklevel=3,
            )
        return np.arange(len(train_codes))
    labels = EncodedLabels(train_codes, np.arange(n_classes), "vector")
    plan_seed = int(rng_for(seed, FOLDERS, 0, 0).integers(0, 2**63 - 1))
    sampler = BalancedSampler(
        labels, {c: int(t) for c, t in enumerate(targets.tolist())}, seed=plan_seed
    )
    return np.concatenate(sampler.class_plans(0))


def oversample(
    manifest: pd.DataFrame,
    *,
    valid_pct: float = 0.2,
    factors: Mapping[Any, float] | None = None,
    balance: str | float | None = None,
    duplicates: str | None = "bytes",
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Split off a stratified validation set, then repeat training rows.

    Parameters
    ----------
    manifest : DataFrame
        Columns ``path`` and ``label`` (from :func:`scan`); other columns are kept.
    valid_pct : float, default=0.2
        Fraction of each class held out for validation (stratified, see
        :func:`~classbalance.stratified_split`); ``0`` for none.
    factors : dict {label: fraction}, default=None
        Extra training rows per class as a fraction of its training rows: the
        seed's ``{'category_1': 0.5}`` adds 50% more rows of ``category_1``.
    balance : "max" or float in [0, 1], default=None
        ``"max"``: every class up to the largest training class. A float
        ``alpha`` means what it means for :class:`~classbalance.BalancedSampler`
        (class shares ``∝ n_c ** alpha``), at the size where the largest class
        keeps its rows: ``n_max * (n_c / n_max) ** alpha`` (0 is ``"max"``, 1
        changes nothing); classes are never reduced. The repeated rows are a
        plan of the sampling engine (target counts, epoch 0).
    duplicates : {"bytes", "near"} or None, default="bytes"
        Keep duplicates in one split, so that no image is both trained on and
        validated on: ``"bytes"`` groups byte-identical files, ``"near"``
        also re-encoded copies (same pixels) and perceptual near duplicates
        (see :func:`classbalance.leakage.duplicate_groups`; needs
        ``imagehash``). The files are read, so their location must be known
        (``attrs["root"]`` from :func:`scan`, or absolute paths); a manifest
        of relative names without a root is split without grouping. When
        duplicates exist, the split is a grouped stratified split.
    seed : int, numpy Generator or None, default=None
        Seed of the split and of which rows are repeated.

    Returns
    -------
    DataFrame
        The manifest's columns plus ``is_valid`` (bool). Validation rows come
        first; they are never repeated. Training rows follow, each repeat next
        to its original. ``attrs`` keep ``root`` and add ``seed``,
        ``n_valid`` and ``n_duplicate_groups`` (groups of 2 or more files
        kept together).

    Examples
    --------
    >>> import pandas as pd
    >>> from classbalance.folders import oversample
    >>> m = pd.DataFrame({"path": [f"a/{i}.png" for i in range(8)] + ["b/0.png", "b/1.png"],
    ...                   "label": ["a"] * 8 + ["b"] * 2})
    >>> out = oversample(m, valid_pct=0.2, balance="max", seed=0)
    >>> out.groupby(["is_valid", "label"]).size().to_dict()
    {(False, 'a'): 7, (False, 'b'): 7, (True, 'a'): 1, (True, 'b'): 1}
    """
    manifest = _check_manifest(manifest)
    seed = resolve_seed(seed)
    if (
        isinstance(valid_pct, bool)
        or not isinstance(valid_pct, numbers.Real)
        or not 0 <= valid_pct < 1
    ):
        raise ValueError(
            f"`valid_pct` must be a fraction in [0, 1). Received: valid_pct={short_repr(valid_pct)}"
        )
    labels = manifest["label"].to_numpy()
    encoded = encode_labels(labels, name="manifest['label']", function="oversample")
    codes, classes = encoded.codes, encoded.classes
    n = len(manifest)
    groups = _duplicate_groups(manifest, duplicates) if valid_pct > 0 else None
    n_groups = 0 if groups is None else int((np.bincount(groups) > 1).sum())
    if valid_pct > 0:
        train, val = stratified_split(
            labels, val_size=float(valid_pct), groups=groups if n_groups else None, seed=seed
        )
    else:
        train, val = np.arange(n), np.zeros(0, dtype=np.int64)
    train_codes = codes[train]
    counts = np.bincount(train_codes, minlength=classes.shape[0])
    targets = _target_counts(counts, classes, factors, balance)
    train_rows = np.sort(train[_training_plan(train_codes, targets, seed)], kind="stable")
    rows = np.concatenate([val, train_rows])
    out = manifest.iloc[rows].reset_index(drop=True)
    out["is_valid"] = np.arange(rows.shape[0]) < val.shape[0]
    out.attrs = {
        **manifest.attrs,
        "seed": seed,
        "n_valid": int(val.shape[0]),
        "n_duplicate_groups": n_groups,
    }
    return out


def _source_paths(manifest: pd.DataFrame) -> list[str] | None:
    """Absolute path of every row, or None if relative paths have no known root."""
    raw = manifest["path"].astype(str).tolist()
    root = manifest.attrs.get("root")
    if root is None:
        return raw if all(os.path.isabs(p) for p in raw) else None
    return [p if os.path.isabs(p) else os.path.join(str(root), p) for p in raw]


def _duplicate_groups(manifest: pd.DataFrame, duplicates: str | None) -> np.ndarray | None:
    """Group id per row (duplicates share one), or None when not asked or not possible."""
    if duplicates is None:
        return None
    check_choice(duplicates, "duplicates", ("bytes", "near"))
    paths = _source_paths(manifest)
    if paths is None:
        return None
    from classbalance.leakage import duplicate_groups

    return duplicate_groups(paths, near=duplicates == "near")


# -------------------------------------------------------------------------- export
@dataclass
class ExportResult:
    """What :func:`export` wrote.

    Attributes
    ----------
    out_dir : Path
    n_rows : int
        Rows of ``labels.csv`` (oversampled rows included).
    n_valid : int
        Validation rows.
    n_files : int
        Distinct files placed in ``out_dir`` (0 with ``mode="none"``).
    mode : str
        The mode used; ``"copy"`` if hard links fell back to copies.
    fell_back : bool
        True if hard links were impossible (another file system) and files
        were copied instead.
    """

    out_dir: Path
    n_rows: int
    n_valid: int
    n_files: int
    mode: str
    fell_back: bool = False


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return True


def _resolve_out(out_dir: Path) -> Path:
    """Absolute path of ``out_dir`` with symlinks resolved (even if it does not exist yet)."""
    return out_dir.expanduser().resolve()


def _names(
    manifest: pd.DataFrame, root: Path | None, out_dir: Path, mode: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Source file and ``labels.csv`` name of every row (names keep ``label/filename``).

    Plain strings rather than ``Path`` objects: at 100,000 files pathlib's
    parsing costs more than the hard links themselves.
    """
    raw = manifest["path"].astype(str).to_numpy()
    labels = manifest["label"].astype(str).to_numpy()
    uniq, inverse = np.unique(raw, return_inverse=True)
    first_label = pd.Series(labels).groupby(inverse).first().tolist()
    root_str = str(root) if root is not None else None
    sources: list[str] = []
    names: list[str] = []
    for p, label in zip(uniq.tolist(), first_label):
        if os.path.isabs(p):
            sources.append(p)
            names.append(f"{label}/{os.path.basename(p)}")
            continue
        if root_str is None:
            raise ValueError(
                "`manifest` has relative paths but no root: pass `root=` (the folder the "
                "paths are relative to), or a manifest from `scan`, which records it."
            )
        sources.append(os.path.join(root_str, p))
        names.append(p.replace(os.sep, "/"))
    names_arr = np.asarray(names, dtype=object)
    if len(set(names)) != len(names):
        dup = pd.Series(names_arr)[pd.Series(names_arr).duplicated()].iloc[0]
        raise ValueError(
            f"Two different files would be exported under the same name {dup!r}; give files "
            "of one class distinct file names."
        )
    if mode == "none":
        # labels.csv must point at the originals; fastai joins `out_dir/` + name.
        names_arr = np.asarray(
            [os.path.relpath(s, out_dir).replace(os.sep, "/") for s in sources], dtype=object
        )
    return sources, names_arr, inverse


def _is_valid_column(manifest: pd.DataFrame) -> np.ndarray:
    """The ``is_valid`` column as bools; strings like "False" are refused, not read as True."""
    if "is_valid" not in manifest.columns:
        return np.zeros(len(manifest), dtype=bool)
    values = manifest["is_valid"].to_numpy()
    if values.dtype == bool:
        return values
    if values.dtype.kind in "iuf" and np.isin(values, (0, 1)).all():
        return values.astype(bool)
    raise ValueError(
        "`manifest['is_valid']` must hold booleans (or 0/1). "
        f"Received values such as {pd.unique(values)[:3].tolist()} of dtype {values.dtype}."
    )


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _provenance_json(
    manifest: pd.DataFrame,
    sources: list[str],
    names: np.ndarray,
    inverse: np.ndarray,
    is_valid: np.ndarray,
    mode: str,
    provenance: Mapping[str, Any] | None,
) -> str:
    """``manifest.json``: who wrote the export, and each file's source, hash, split, repeats."""
    from classbalance import __version__

    key = inverse.astype(np.int64) * 2 + is_valid.astype(np.int64)
    uniq, first, repeats = np.unique(key, return_index=True, return_counts=True)
    file_of = uniq // 2
    used = np.unique(file_of)
    hashes = np.empty(len(sources), dtype=object)
    hashes[used] = [_sha256(sources[i]) for i in used.tolist()]  # one read per file
    rows = pd.DataFrame(
        {
            "name": names[file_of],
            "source": np.asarray(sources, dtype=object)[file_of],
            "sha256": hashes[file_of],
            "label": manifest["label"].astype(str).to_numpy()[first],
            "split": np.where(uniq % 2 == 1, "valid", "train"),
            "repeats": repeats,
        }
    )
    seed = manifest.attrs.get("seed")
    payload = {
        "classbalance_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "arguments": dict(provenance) if provenance is not None else None,
        "seed": None if seed is None else int(seed),
        "mode": mode,
        "source_root": manifest.attrs.get("root"),
        "n_rows": int(key.shape[0]),
        "n_valid_rows": int(is_valid.sum()),
        "files": rows.to_dict(orient="records"),
    }
    return json.dumps(payload, indent=1, ensure_ascii=False, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"`provenance` holds a value JSON cannot store: {short_repr(value)}")


def _place(src: str, dst: str, mode: str, state: dict[str, Any]) -> None:
    if mode == "symlink":
        os.symlink(os.path.abspath(src), dst)
        return
    if mode == "hardlink" and not state["fell_back"]:
        try:
            os.link(src, dst, follow_symlinks=True)
            return
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
                raise
            state["fell_back"] = True
            state["reason"] = exc.strerror or str(exc)
    shutil.copy2(src, dst)


def _cleanup_stale(out_dir: Path) -> None:
    """Remove temporary siblings left by an interrupted export; restore a lone old output."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith(f".{out_dir.name}{_OLD_TAG}") and entry.is_dir():
            if not out_dir.exists():
                # Interrupted between moving the old output aside and the new one in.
                os.replace(entry, out_dir)
                with contextlib.suppress(FileNotFoundError):
                    (out_dir / _MARKER).unlink()
            elif (entry / _MARKER).exists():
                shutil.rmtree(entry, ignore_errors=True)
        elif (
            entry.name.startswith(f".{out_dir.name}{_TMP_TAG}")
            and entry.is_dir()
            and (entry / _MARKER).exists()
        ):
            shutil.rmtree(entry, ignore_errors=True)
    if (out_dir / _MARKER).is_file() and (out_dir / LABELS_CSV).is_file():
        # Interrupted right after the new output was renamed into place: it is complete.
        (out_dir / _MARKER).unlink()


def export(
    manifest: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    mode: str = "hardlink",
    overwrite: bool = False,
    root: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> ExportResult:
    """Write the images and a fastai-ready ``labels.csv`` into ``out_dir``.

    Parameters
    ----------
    manifest : DataFrame
        Columns ``path``, ``label`` and optionally ``is_valid`` (from
        :func:`oversample`; without it every row is training). Rows may repeat
        a path (oversampling): the file is placed once, the row repeated.
    out_dir : path
        Output folder. Must not be inside the input folder (nor contain it).
    mode : {"hardlink", "copy", "symlink", "none"}, default="hardlink"
        How files are placed under ``out_dir/<label>/<filename>``.
        ``"hardlink"`` costs no disk space; across file systems it falls back
        to copying and warns. Hard-linked files share their bytes with the
        input: editing an output file in place edits the input too (replacing
        it, as most tools do, does not). ``"symlink"`` links to the absolute
        input path. ``"none"`` writes only ``labels.csv``, with names relative
        to ``out_dir`` pointing at the input files.
    overwrite : bool, default=False
        Replace a non-empty ``out_dir`` (all of it). Without it, a non-empty
        ``out_dir`` is refused.
    root : path, default=None
        Folder the manifest's relative paths are relative to; default
        ``manifest.attrs["root"]`` (set by :func:`scan`).
    progress : callable, default=None
        Called with the number of files placed since the last call.
    provenance : dict, default=None
        What produced the export (the command and its arguments), recorded
        as ``arguments`` in ``manifest.json``; must be JSON-serializable.

    Returns
    -------
    ExportResult
        ``n_valid`` is the validation count (what the seed printed).

    Raises
    ------
    ValueError
        ``out_dir`` inside the input, or non-empty without ``overwrite``.
    FileNotFoundError
        A file of the manifest is missing (nothing is written).

    Notes
    -----
    ``labels.csv`` has columns ``name,label,is_valid`` (``name`` relative to
    ``out_dir``), the contract of fastai v2's
    ``ImageDataLoaders.from_csv(out_dir, csv_fname="labels.csv", valid_col="is_valid")``.
    ``manifest.json`` beside it records the provenance: classbalance version,
    ``arguments`` (from ``provenance``), the seed (``manifest.attrs["seed"]``),
    and per file and split its ``name``, ``source`` path, ``sha256`` of its
    bytes, ``label``, ``split`` and ``repeats`` (rows in ``labels.csv``), so
    an exported data set can be audited and reproduced.
    Everything is written into a temporary sibling ``.<out_dir>.classbalance-tmp-*``
    that is renamed to ``out_dir`` at the end; a crash leaves the previous
    output (or none) plus a temporary folder that the next export removes.

    Examples
    --------
    >>> from classbalance.folders import scan, oversample, export
    >>> plan = oversample(scan("data/"), balance="max", seed=0)   # doctest: +SKIP
    >>> export(plan, "out/", mode="hardlink").n_valid            # doctest: +SKIP
    """
    manifest = _check_manifest(manifest)
    mode = check_choice(mode, "mode", EXPORT_MODES)
    if not isinstance(overwrite, bool):
        raise TypeError(f"`overwrite` must be a bool. Received: overwrite={overwrite!r}")
    root_value = root if root is not None else manifest.attrs.get("root")
    root_path = Path(root_value).expanduser().resolve() if root_value is not None else None
    out = _resolve_out(Path(out_dir))
    sources, names, inverse = _names(manifest, root_path, out, mode)
    if root_path is not None:
        if _inside(out, root_path):
            raise ValueError(
                f"`out_dir` is inside the input folder {root_path}; the input tree is never "
                f"written to. Choose an output outside it. Received: out_dir={str(out_dir)!r}"
            )
        if _inside(root_path, out):
            raise ValueError(
                f"`out_dir` contains the input folder {root_path}; replacing it would delete the "
                f"input. Received: out_dir={str(out_dir)!r}"
            )
    out_prefix = str(out) + os.sep
    folders_of = [os.path.dirname(s) for s in sources]
    real_dirs = {d: os.path.realpath(d) + os.sep for d in set(folders_of)}
    inside_out = [
        s
        for s, d in zip(sources, folders_of)
        if real_dirs[d].startswith(out_prefix)
        or (os.path.islink(s) and os.path.realpath(s).startswith(out_prefix))
    ]
    if inside_out:
        raise ValueError(
            f"`out_dir` contains input files (e.g. {str(inside_out[0])!r}); writing the output "
            "would replace them. Choose an output folder elsewhere. "
            f"Received: out_dir={str(out_dir)!r}"
        )
    is_valid = _is_valid_column(manifest)
    missing = [s for s in sources if not os.path.isfile(s)]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} files of the manifest do not exist, e.g. {missing[0]!r}. "
            "Nothing was written."
        )
    _cleanup_stale(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"`out_dir` exists and is a file, not a folder. Received: {str(out)!r}")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValueError(
            f"`out_dir` is not empty: {str(out)!r}. Pass overwrite=True (CLI: --overwrite) to "
            "replace it, or choose another folder."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    tmp = out.parent / f".{out.name}{_TMP_TAG}{token}"
    tmp.mkdir()
    (tmp / _MARKER).write_text("incomplete classbalance export; safe to delete\n")
    state: dict[str, Any] = {"fell_back": False, "reason": ""}
    try:
        n_files = 0
        if mode != "none":
            for folder in sorted({os.path.dirname(n) for n in names.tolist()}):
                (tmp / folder).mkdir(parents=True, exist_ok=True)
            done = 0
            tmp_str = str(tmp)
            for src, name in zip(sources, names.tolist()):  # one filesystem call per file
                _place(src, os.path.join(tmp_str, name), mode, state)
                done += 1
                if progress is not None and done % 256 == 0:
                    progress(256)
            n_files = len(sources)
            if progress is not None and done % 256:
                progress(done % 256)
        table = pd.DataFrame(
            {"name": names[inverse], "label": manifest["label"].to_numpy(), "is_valid": is_valid}
        )
        atomic_write_text(tmp / LABELS_CSV, table.to_csv(index=False))
        atomic_write_text(
            tmp / MANIFEST_JSON,
            _provenance_json(manifest, sources, names, inverse, is_valid, mode, provenance),
        )
        # A crash at any point below is repaired by the next export's _cleanup_stale.
        if out.is_dir() and any(out.iterdir()):
            old = out.parent / f".{out.name}{_OLD_TAG}{token}"
            os.replace(out, old)
            (old / _MARKER).write_text("previous classbalance output; safe to delete\n")
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)  # replaces an empty folder atomically on POSIX
        (out / _MARKER).unlink()
    except BaseException:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if state["fell_back"]:
        warnings.warn(
            f"Hard links were not possible into {out} ({state['reason']}; the output is on "
            "another file system?); files were copied instead.",
            UserWarning,
            stacklevel=2,
        )
    used = "copy" if state["fell_back"] else mode
    return ExportResult(
        out_dir=out,
        n_rows=len(table),
        n_valid=int(is_valid.sum()),
        n_files=n_files,
        mode=used,
        fell_back=bool(state["fell_back"]),
    )


# ------------------------------------------------------------------------ seed API
class Oversampler:
    """The seed's fastai ``Oversampler``, as a thin wrapper over scan/oversample/export.

    Runs the seed README unchanged::

        oversampler = Oversampler(PATH_TO_DATA, OUTPUT_DIR)
        oversample_dict = {'category_1': 0.5, 'category_2': 0.3}
        oversampled_df = oversampler.df_val_train_by_pct(valid_pct=0.2, cats_to_pct=oversample_dict)
        oversampler.copy_to_output_with_csv(oversample=True)

    Parameters
    ----------
    path : path
        Input folder, one sub-folder per class (:func:`scan`).
    out : path
        Output folder (:func:`export`).
    seed : int, numpy Generator or None, default=None
        Seed of the split and the repeats.

    Attributes
    ----------
    df : DataFrame
        ``path`` and ``label`` of every image (:func:`scan`).
    oversampled_df : DataFrame or None
        The last result of :meth:`df_val_train_by_pct`.
    n_valid : int or None
        Validation rows of that result.

    Examples
    --------
    >>> from classbalance.folders import Oversampler
    >>> o = Oversampler("data/", "out/", seed=0)                  # doctest: +SKIP
    >>> df = o.df_val_train_by_pct(valid_pct=0.2, cats_to_pct={"cat": 0.5})  # doctest: +SKIP
    >>> o.copy_to_output_with_csv(oversample=True)               # doctest: +SKIP
    Number of validation samples: 40
    40
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        out: str | os.PathLike[str],
        *,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.path = Path(path)
        self.out = Path(out)
        self.seed = resolve_seed(seed)
        self.df = scan(self.path)
        self.oversampled_df: pd.DataFrame | None = None
        self._split_df: pd.DataFrame | None = None
        self.n_valid: int | None = None

    def df_val_train_by_pct(
        self, valid_pct: float = 0.2, cats_to_pct: Mapping[Any, float] | None = None
    ) -> pd.DataFrame:
        """Stratified validation split, then oversample training rows by ``cats_to_pct``.

        Returns the DataFrame (validation rows first, ``is_valid`` column).
        """
        self._split_df = oversample(self.df, valid_pct=valid_pct, seed=self.seed)
        self.oversampled_df = oversample(
            self.df, valid_pct=valid_pct, factors=cats_to_pct or None, seed=self.seed
        )
        self.n_valid = int(self.oversampled_df.attrs["n_valid"])
        return self.oversampled_df

    def copy_to_output_with_csv(self, oversample: bool = True, overwrite: bool = False) -> int:
        """Copy the images into ``out`` with ``labels.csv``; print and return the validation count.

        ``oversample=False`` writes the split without the repeated rows.
        """
        if self.oversampled_df is None:
            self.df_val_train_by_pct()
        frame = self.oversampled_df if oversample else self._split_df
        assert frame is not None
        provenance = {
            "api": "classbalance.folders.Oversampler",
            "path": str(self.path),
            "out": str(self.out),
            "seed": self.seed,
            "oversample": oversample,
        }
        result = export(frame, self.out, mode="copy", overwrite=overwrite, provenance=provenance)
        print(f"Number of validation samples: {result.n_valid}")
        return result.n_valid
