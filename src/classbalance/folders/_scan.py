"""Scan a class-folder tree (``root/<class>/<image>``) into a manifest of paths and labels."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from classbalance._validation import short_repr

__all__ = ["IMAGE_EXTENSIONS", "ScanReport", "scan"]

IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".bmp", ".gif", ".jpeg", ".jpg", ".png", ".ppm", ".tif", ".tiff", ".webp",
)  # fmt: skip


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
