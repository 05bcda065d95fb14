"""The on-disk contract: how a data set is laid out in folders and files, read in one place.

``folders``, ``leakage``, ``compare`` and the command line read data sets from
disk; what the layout means is decided here, once:

- a *class-folder tree* is ``root/<class>/<image>``; images are recognized by
  extension (:data:`IMAGE_EXTENSIONS`, case-insensitive); hidden entries (a
  name starting with ``.``, like ``.DS_Store``) are skipped and counted;
  :func:`scan` lists one;
- a data set split on disk has *split folders* ``train/``, ``valid/`` and
  ``test/``, each a class-folder tree; the names accepted for each split are
  :data:`SPLIT_FOLDERS` (case-insensitive): :func:`find_split_folders`;
- ``labels.csv`` (:data:`LABELS_CSV`) is the table beside the images: an
  export writes :data:`LABELS_CSV_COLUMNS` (``name,label,is_valid``, fastai's
  ``ImageDataLoaders.from_csv``); a reader finds the file column under one
  of :data:`FILE_COLUMNS` (``fname``, ``name``, ``path``: paths relative to the
  folder): :func:`file_column`, :func:`read_split_table`;
- ``manifest.json`` (:data:`MANIFEST_JSON`) records an export's provenance;
- an *unreadable image* (Pillow cannot open or decode it: truncated, corrupt,
  not an image) is skipped with one warning that names the files (the first
  few and the count) and counted in the result; ``on_unreadable="error"``
  (the command line's ``--strict-images``) makes it an
  :class:`UnreadableImageError` naming them instead. Images are checked where
  they are opened: by :func:`scan` with ``verify=True`` (or
  ``on_unreadable="error"``), by the leakage check, by ``compare``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance._unreadable import ON_UNREADABLE, check_on_unreadable, listing, unreadable_reason
from classbalance._validation import short_repr

__all__ = [
    "FILE_COLUMNS",
    "IMAGE_EXTENSIONS",
    "LABELS_CSV",
    "LABELS_CSV_COLUMNS",
    "MANIFEST_JSON",
    "ON_UNREADABLE",
    "SPLIT_FOLDERS",
    "ScanReport",
    "UnreadableImageError",
    "check_on_unreadable",
    "file_column",
    "find_split_folders",
    "is_hidden",
    "read_class_tree",
    "read_split_table",
    "scan",
    "skip_or_raise",
    "unreadable_reason",
]

IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".bmp", ".gif", ".jpeg", ".jpg", ".png", ".ppm", ".tif", ".tiff", ".webp",
)  # fmt: skip
# Folder names of each split, in the order the splits are listed (matched case-insensitively).
SPLIT_FOLDERS: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "valid": ("valid", "val", "validation"),
    "test": ("test", "testing"),
}
LABELS_CSV = "labels.csv"
# What an export writes: fastai's ImageDataLoaders.from_csv(path, valid_col="is_valid").
LABELS_CSV_COLUMNS = ("name", "label", "is_valid")
# The file column of a labels.csv, in the order looked for (paths relative to its folder).
FILE_COLUMNS = ("fname", "name", "path")
MANIFEST_JSON = "manifest.json"
# Unreadable files named in a warning or an error; the rest are counted.


def is_hidden(name: str) -> bool:
    """Whether a file or folder name is hidden (every reader skips it): ``.DS_Store``, ``.git``.

    Examples
    --------
    >>> from classbalance.layout import is_hidden
    >>> is_hidden(".DS_Store"), is_hidden("cat.png")
    (True, False)
    """
    return name.startswith(".")


# ------------------------------------------------------------------ split folders
def find_split_folders(root: str | os.PathLike[str]) -> dict[str, Path]:
    """The split folders of ``root``: ``{"train": ..., "valid": ..., "test": ...}``, those present.

    A split's folder is any of its :data:`SPLIT_FOLDERS` names, in any case
    (``val/`` and ``Validation/`` are the validation split). What a caller
    needs of them (``train/`` at least, a ``valid/`` too) is the caller's rule.

    Raises
    ------
    ValueError
        Two folders name the same split (``valid/`` and ``val/``): which one
        holds the split is not guessed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.layout import find_split_folders
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["Test", "train"]:
    ...     (root / name).mkdir()
    >>> list(find_split_folders(root))
    ['train', 'test']
    """
    lookup = {name: split for split, names in SPLIT_FOLDERS.items() for name in names}
    found: dict[str, list[Path]] = {}
    with os.scandir(root) as entries:
        for entry in entries:
            split = lookup.get(entry.name.lower())
            if split is not None and entry.is_dir():
                found.setdefault(split, []).append(Path(entry.path))
    for split, paths in found.items():
        if len(paths) > 1:
            names = ", ".join(sorted(f"{p.name}/" for p in paths))
            raise ValueError(
                f"{root} has {len(paths)} folders for the {split} split ({names}); keep one "
                "of them (which one holds the split is not guessed)."
            )
    return {split: found[split][0] for split in SPLIT_FOLDERS if split in found}


# ---------------------------------------------------------------------- labels.csv
def file_column(frame: pd.DataFrame, where: str) -> str:
    """The file column of a ``labels.csv``: the first of :data:`FILE_COLUMNS` it has.

    Raises
    ------
    ValueError
        The table has none of them; the message names ``where`` and the columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from classbalance.layout import file_column
    >>> file_column(pd.DataFrame(columns=["fname", "tags"]), "labels.csv")
    'fname'
    """
    found = next((c for c in FILE_COLUMNS if c in frame.columns), None)
    if found is None:
        raise ValueError(
            f"{where} has no file column; name one of {list(FILE_COLUMNS)} (paths relative to "
            f"its folder). Columns are {list(frame.columns)[:20]}."
        )
    return found


def read_split_table(folder: str | os.PathLike[str]) -> tuple[pd.DataFrame, list[str]]:
    """An exported folder's ``labels.csv`` as one row per file and split.

    The table needs a file column (:func:`file_column`), ``label`` and
    ``is_valid`` (what :func:`classbalance.folders.export` writes). Rows that
    repeat a file in one split (oversampling) are kept once.

    Returns
    -------
    files : DataFrame
        Columns ``path`` (absolute), ``split`` (``"train"`` or ``"valid"``)
        and ``label`` (str), for the files that exist.
    missing : list of str
        Names in the table whose file does not exist (relative to ``folder``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.layout import read_split_table
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> rows = "name,label,is_valid\\na.png,x,False\\nb.png,y,True\\n"
    >>> _ = (root / "labels.csv").write_text(rows)
    >>> _ = (root / "a.png").write_bytes(b"")
    >>> files, missing = read_split_table(root)
    >>> files["split"].tolist(), missing
    (['train'], ['b.png'])
    """
    root = Path(folder)
    where = root / LABELS_CSV
    table = pd.read_csv(where)
    name = file_column(table, str(where))
    missing_cols = [c for c in ("label", "is_valid") if c not in table.columns]
    if missing_cols:
        raise ValueError(
            f"{where} lacks the columns {missing_cols}; it needs "
            f"{','.join(LABELS_CSV_COLUMNS)} (what `classbalance oversample` writes)."
        )
    table = table.drop_duplicates([name, "is_valid"])  # oversampled rows repeat a file
    names = table[name].astype(str).tolist()
    paths = [os.path.normpath(os.path.join(root, n)) for n in names]
    exists = np.array([os.path.isfile(p) for p in paths], dtype=bool)
    files = pd.DataFrame(
        {
            "path": paths,
            "split": np.where(table["is_valid"].astype(bool).to_numpy(), "valid", "train"),
            "label": table["label"].astype(str).to_numpy(),
        }
    )
    missing = [n for n, ok in zip(names, exists.tolist()) if not ok]
    return files[exists].reset_index(drop=True), missing


# --------------------------------------------------------------- unreadable images
class UnreadableImageError(ValueError):
    """Images that cannot be read, with ``on_unreadable="error"``; ``files`` names them.

    Examples
    --------
    >>> from classbalance.layout import UnreadableImageError
    >>> UnreadableImageError("1 images cannot be read: a/0.png", ["a/0.png"]).files
    ['a/0.png']
    """

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


def skip_or_raise(
    files: Sequence[str],
    *,
    on_unreadable: str,
    reasons: Sequence[str] | None = None,
    where: str = "",
) -> str:
    """Apply the unreadable-image rule to ``files``: raise, or return the one warning line.

    ``files`` are the unreadable images as they are to be named (relative to
    the folder read, where there is one), ``reasons`` why each failed. With
    ``on_unreadable="error"`` an :class:`UnreadableImageError` names them;
    with ``"skip"`` the line to put in the caller's single warning is
    returned (``""`` when ``files`` is empty), so a reader that reports other
    problems too still warns once.

    Examples
    --------
    >>> from classbalance.layout import skip_or_raise
    >>> skip_or_raise(["a/0.png"], on_unreadable="skip", reasons=["image file is truncated"])
    '1 unreadable images skipped: a/0.png (image file is truncated)'
    >>> skip_or_raise(["a/0.png"], on_unreadable="error", where=" in data/")
    Traceback (most recent call last):
    ...
    classbalance.layout.UnreadableImageError: 1 images cannot be read in data/: a/0.png. ...
    """
    check_on_unreadable(on_unreadable)
    if not files:
        return ""
    shown = listing(list(files), reasons)
    if on_unreadable == "error":
        raise UnreadableImageError(
            f"{len(files)} images cannot be read{where}: {shown}. Replace or remove them, or "
            "skip them with a warning (on_unreadable='skip'; on the command line, leave out "
            "--strict-images).",
            list(files),
        )
    return f"{len(files)} unreadable images skipped{where}: {shown}"


# ------------------------------------------------------------------ class folders
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
        Images Pillow could not read (only checked with ``verify=True`` or
        ``on_unreadable="error"``), and sub-folders that could not be listed.
    broken_links : list of str
        Symlinks whose target is missing, or that loop.
    loops : list of str
        Directory symlinks not followed because they lead back to a folder
        already visited.
    outside_classes : list of str
        Files directly in ``root`` (they have no class folder).
    hidden : int
        Hidden files and folders skipped (names starting with ``.``).

    Examples
    --------
    >>> from pathlib import Path
    >>> from classbalance.layout import ScanReport
    >>> ScanReport(Path("data"), classes=["cat", "dog"], empty_classes=["dog"]).problems
    ['1 empty class folders: dog']
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
            if is_hidden(entry.name):
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


def _unreadable_images(root: Path, paths: list[str]) -> dict[str, str]:
    """``{path: reason}`` of the images Pillow cannot open and verify."""
    from classbalance._optional import require

    image = require("PIL.Image", "scan(verify=True)")
    bad = {}
    for rel in paths:  # one open per file: reading images is inherently per file
        try:
            with image.open(root / rel) as img:
                img.verify()
        except Exception as exc:  # Pillow raises many types for corrupt files
            bad[rel] = unreadable_reason(exc)
    return bad


def read_class_tree(
    root: str | os.PathLike[str],
    *,
    extensions: Iterable[str] = IMAGE_EXTENSIONS,
    recursive: bool = False,
    verify: bool = False,
    on_unreadable: str = "skip",
) -> pd.DataFrame:
    """:func:`scan` without its warning: what was skipped is in ``attrs["scan_report"]`` only.

    For readers that report the skipped entries their own way (counts in a
    leakage report, notes of the command line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.layout import read_class_tree
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "cat").mkdir()
    >>> _ = (root / "cat" / "1.png").write_bytes(b"")
    >>> _ = (root / "cat" / "notes.txt").write_text("x")
    >>> frame = read_class_tree(root)
    >>> len(frame), frame.attrs["scan_report"].non_images
    (1, ['cat/notes.txt'])
    """
    if not isinstance(recursive, bool) or not isinstance(verify, bool):
        raise TypeError(
            f"`recursive` and `verify` must be bools. Received: recursive={recursive!r}, "
            f"verify={verify!r}"
        )
    exts = _check_extensions(extensions)
    check_on_unreadable(on_unreadable)
    verify = verify or on_unreadable == "error"
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
    reasons: dict[str, str] = {}
    for entry in sorted(os.scandir(root_path), key=lambda e: e.name):
        if is_hidden(entry.name):
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
            bad = _unreadable_images(root_path, found)
            reasons.update(bad)
            report.unreadable.extend(sorted(bad))
            found = [p for p in found if p not in bad]
        if not found:
            report.empty_classes.append(entry.name)
        paths.extend(found)
        labels.extend([entry.name] * len(found))
    bad_images = sorted(reasons)
    skip_or_raise(
        bad_images,
        on_unreadable=on_unreadable,
        reasons=[reasons[p] for p in bad_images],
        where=f" in {root_path}",
    )
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
    return frame


def scan(
    root: str | os.PathLike[str],
    *,
    extensions: Iterable[str] = IMAGE_EXTENSIONS,
    recursive: bool = False,
    verify: bool = False,
    on_unreadable: str = "skip",
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
        Open every image with Pillow (header, and checksums where the format
        has them) and skip those it cannot read, reported with the rest.
        Slower: reads every file. Without it no image is opened: a truncated
        file is listed, and found where it is decoded (leakage, compare).
    on_unreadable : {"skip", "error"}, default="skip"
        What an image Pillow cannot read means: skipped and reported, or an
        :class:`UnreadableImageError` naming the files (``"error"`` opens
        every image, as ``verify=True``).

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
    UnreadableImageError
        With ``on_unreadable="error"``: images Pillow cannot read, named.

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
    frame = read_class_tree(
        root,
        extensions=extensions,
        recursive=recursive,
        verify=verify,
        on_unreadable=on_unreadable,
    )
    report = frame.attrs["scan_report"]
    if report.problems:
        warnings.warn(str(report), UserWarning, stacklevel=2)
    return frame
