"""The split-aware check: the same image in two splits of a data set on disk."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import short_repr
from classbalance.layout import (
    LABELS_CSV,
    SPLIT_FOLDERS,
    check_on_unreadable,
    find_split_folders,
    read_class_tree,
    read_split_table,
    skip_or_raise,
)
from classbalance.leakage._hashing import hash_files
from classbalance.leakage._search import DEFAULT_THRESHOLD, key_codes, near_pairs, star_pairs

__all__ = ["LeakageReport", "check_leakage"]


@dataclass
class LeakageReport:
    """What :func:`check_leakage` found.

    Attributes
    ----------
    files : DataFrame
        Every image checked: ``path``, ``split``, ``label`` and its hashes.
    pairs : DataFrame
        Links between duplicates: each copy is linked to the first file of
        its group (not every pair of a large group), so a group that spans
        two splits or two labels shows at least one such link. Columns
        ``path_a``, ``split_a``, ``label_a``,
        ``path_b``, ``split_b``, ``label_b``, ``kind`` (``"bytes"``,
        ``"pixels"`` or ``"near"``), ``distance`` (Hamming, 0 for exact),
        ``cross_split`` and ``label_conflict`` (bools).
    skipped : dict
        Counts of entries not checked: ``non_images``, ``unreadable``,
        ``loops`` (symlink loops not followed), ``broken_links``, ``hidden``.
    threshold : int
        The near-duplicate Hamming threshold used.
    unreadable : list of str
        The files counted in ``skipped["unreadable"]`` (not decodable, or
        named in ``labels.csv`` but missing), relative to the folder checked
        when one folder was given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from PIL import Image
    >>> from classbalance.leakage import check_leakage
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> img = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16))
    >>> for split, label in [("train", "cat"), ("valid", "dog")]:  # one image, two labels
    ...     (root / split / label).mkdir(parents=True)
    ...     img.save(root / split / label / "0.png")
    >>> report = check_leakage(root, near=False)
    >>> len(report.files), len(report.leaks), len(report.conflicts), len(report.within_split)
    (2, 1, 1, 0)
    >>> report.pairs[["split_a", "label_a", "split_b", "label_b", "kind"]].iloc[0].tolist()
    ['train', 'cat', 'valid', 'dog', 'bytes']
    """

    files: pd.DataFrame
    pairs: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)
    threshold: int = DEFAULT_THRESHOLD
    unreadable: list[str] = field(default_factory=list)

    @property
    def leaks(self) -> pd.DataFrame:
        """Pairs whose two files are in different splits."""
        return self.pairs[self.pairs["cross_split"]]

    @property
    def within_split(self) -> pd.DataFrame:
        """Pairs inside one split (e.g. the same image twice in train) with one label."""
        return self.pairs[~self.pairs["cross_split"] & ~self.pairs["label_conflict"]]

    @property
    def conflicts(self) -> pd.DataFrame:
        """Pairs of duplicates under two different labels."""
        return self.pairs[self.pairs["label_conflict"]]

    @property
    def has_leakage(self) -> bool:
        """True if a duplicate pair spans two splits."""
        return bool(self.pairs["cross_split"].any())

    def summary(self) -> dict[str, Any]:
        """Counts by kind: the numbers a CI log needs."""
        p = self.pairs
        return {
            "files": len(self.files),
            "splits": {str(k): int(v) for k, v in self.files["split"].value_counts().items()},
            "leaks": {k: int(((p["kind"] == k) & p["cross_split"]).sum()) for k in _KINDS},
            "within_split": {
                k: int(((p["kind"] == k) & ~p["cross_split"] & ~p["label_conflict"]).sum())
                for k in _KINDS
            },
            "label_conflicts": int(p["label_conflict"].sum()),
            "skipped": dict(self.skipped),
            "threshold": self.threshold,
            "leakage": self.has_leakage,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the summary and every pair."""
        pairs = self.pairs.astype({"distance": int, "cross_split": bool, "label_conflict": bool})
        return {
            **self.summary(),
            "pairs": [
                {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
                for row in pairs.to_dict(orient="records")
            ],
        }

    def __str__(self) -> str:
        s = self.summary()
        splits = ", ".join(f"{k} {v}" for k, v in s["splits"].items())
        lines = [
            f"{s['files']} images checked ({splits})",
            "leakage across splits: "
            + ", ".join(f"{v} {k}" for k, v in s["leaks"].items())
            + (" -- LEAKAGE" if s["leakage"] else ""),
            "duplicates within a split: "
            + ", ".join(f"{v} {k}" for k, v in s["within_split"].items()),
            f"label conflicts: {s['label_conflicts']}",
        ]
        skipped = {k: v for k, v in s["skipped"].items() if v}
        if skipped:
            lines.append("skipped: " + ", ".join(f"{v} {k}" for k, v in skipped.items()))
        return "\n".join(lines)


_KINDS = ("bytes", "pixels", "near")


# -------------------------------------------------------------------- the input
def _scan_split(folder: Path, split: str, skipped: dict[str, int]) -> pd.DataFrame:
    frame = read_class_tree(folder, recursive=True)
    report = frame.attrs["scan_report"]
    skipped["non_images"] += len(report.non_images) + len(report.outside_classes)
    skipped["loops"] += len(report.loops)
    skipped["broken_links"] += len(report.broken_links)
    skipped["hidden"] += report.hidden
    root = Path(report.root)
    return pd.DataFrame(
        {
            "path": [str(root / p) for p in frame["path"].tolist()],
            "split": split,
            "label": frame["label"].astype(str).to_numpy(),
        }
    )


def _from_labels_csv(folder: Path, missing: list[str]) -> pd.DataFrame:
    files, absent = read_split_table(folder)
    missing.extend(os.path.normpath(os.path.join(folder, n)) for n in absent)
    return files


def _collect(source: Any, skipped: dict[str, int], missing: list[str]) -> pd.DataFrame:
    if isinstance(source, Mapping):
        parts = [_scan_split(Path(f), str(s), skipped) for s, f in source.items()]
    elif isinstance(source, (list, tuple)):
        if not 2 <= len(source) <= 3:
            raise ValueError(
                "Give two or three split folders (train, valid[, test]). "
                f"Received {len(source)}: {short_repr(source)}"
            )
        names = list(SPLIT_FOLDERS)
        parts = [_scan_split(Path(f), names[k], skipped) for k, f in enumerate(source)]
    else:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"PATH must be an existing folder. Received: {str(source)!r}")
        if (root / LABELS_CSV).is_file():
            return _from_labels_csv(root, missing)
        found = find_split_folders(root)
        if not found:
            accepted = "/, ".join("|".join(n) for n in SPLIT_FOLDERS.values())
            raise ValueError(
                f"{root} has neither {LABELS_CSV} nor split folders ({accepted}/). Give the split "
                "folders explicitly instead: classbalance leakage TRAIN VALID [TEST]."
            )
        parts = [_scan_split(f, s, skipped) for s, f in found.items()]
    return pd.concat(parts, ignore_index=True)


def check_leakage(
    source: Any,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    near: bool = True,
    on_unreadable: str = "skip",
) -> LeakageReport:
    """Find the same image in two splits (and twice in one), exactly or nearly.

    Parameters
    ----------
    source : path, sequence of 2-3 paths, or dict {split: path}
        - a folder with split sub-folders ``train/``, ``valid/`` (or ``val/``),
          ``test/``, each holding class folders;
        - an exported folder with ``labels.csv`` (``name,label,is_valid``);
        - two or three class-folder trees (train, valid[, test]);
        - a dict naming the splits.
    threshold : int, default=4
        Largest Hamming distance of the 64-bit perceptual hashes counted as
        a near duplicate.
    near : bool, default=True
        Search near duplicates (needs ``imagehash``). Exact duplicates
        (bytes and decoded pixels) are always searched.
    on_unreadable : {"skip", "error"}, default="skip"
        What a file that cannot be decoded (or a ``labels.csv`` row whose
        file is missing) means: skipped, named in the warning and counted in
        ``skipped["unreadable"]``; or an
        :class:`~classbalance.layout.UnreadableImageError` naming the files.

    Returns
    -------
    LeakageReport

    Warns
    -----
    UserWarning
        When files were skipped (non-image, unreadable), with the counts; one
        warning, naming the unreadable files.

    Raises
    ------
    UnreadableImageError
        With ``on_unreadable="error"``: the files that cannot be read, named.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from PIL import Image
    >>> from classbalance.leakage import check_leakage
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> img = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16))
    >>> for split in ["train", "valid"]:
    ...     (root / split / "cat").mkdir(parents=True)
    ...     img.save(root / split / "cat" / "0.png")
    >>> report = check_leakage(root)
    >>> report.has_leakage, report.summary()["leaks"]
    (True, {'bytes': 1, 'pixels': 0, 'near': 0})
    """
    check_on_unreadable(on_unreadable)
    skipped = {"non_images": 0, "unreadable": 0, "loops": 0, "broken_links": 0, "hidden": 0}
    missing: list[str] = []
    files = _collect(source, skipped, missing)
    hashes = hash_files(files["path"].tolist(), pixels=True, near=near)
    ok = hashes["readable"].to_numpy()
    bad = missing + files["path"].to_numpy()[~ok].tolist()
    if isinstance(source, (str, os.PathLike)):  # name them from the folder the user gave
        root = Path(source).expanduser()
        bad = [Path(os.path.relpath(p, root)).as_posix() for p in bad]
    skipped["unreadable"] = len(bad)
    unreadable = skip_or_raise(bad, on_unreadable=on_unreadable)
    files = pd.concat([files, hashes], axis=1)[ok].reset_index(drop=True)
    parts = [", ".join(f"{v} {k}" for k, v in skipped.items() if v and k != "hidden")]
    if unreadable:
        parts.append(unreadable)
    if sum(skipped[k] for k in ("non_images", "unreadable", "broken_links")):
        warnings.warn(
            "Files skipped by the leakage check: " + "; ".join(parts),
            UserWarning,
            stacklevel=2,
        )
    pieces = []
    byte_codes = key_codes(files["bytes_hash"])
    a, b = star_pairs(byte_codes)
    pieces.append(pd.DataFrame({"a": a, "b": b, "kind": "bytes", "distance": 0}))
    pixel_codes = key_codes(files["pixel_hash"])
    a, b = star_pairs(pixel_codes)
    other = byte_codes[a] != byte_codes[b]
    pieces.append(pd.DataFrame({"a": a[other], "b": b[other], "kind": "pixels", "distance": 0}))
    if near and len(files) > 1:
        a, b, d = near_pairs(files["phash"].to_numpy(), threshold=threshold)
        other = pixel_codes[a] != pixel_codes[b]
        pieces.append(
            pd.DataFrame({"a": a[other], "b": b[other], "kind": "near", "distance": d[other]})
        )
    raw = pd.concat(pieces, ignore_index=True)
    a = raw["a"].to_numpy(dtype=np.int64)
    b = raw["b"].to_numpy(dtype=np.int64)
    split = files["split"].to_numpy()
    label = files["label"].to_numpy()
    path = files["path"].to_numpy()
    pairs = pd.DataFrame(
        {
            "path_a": path[a],
            "split_a": split[a],
            "label_a": label[a],
            "path_b": path[b],
            "split_b": split[b],
            "label_b": label[b],
            "kind": raw["kind"].to_numpy(dtype=object),
            "distance": raw["distance"].to_numpy(dtype=np.int64),
            "cross_split": split[a] != split[b],
            "label_conflict": label[a] != label[b],
        }
    )
    return LeakageReport(
        files=files, pairs=pairs, skipped=skipped, threshold=threshold, unreadable=bad
    )
