"""Leakage guard: the same image in two splits, found by content and perceptual hashes.

Three kinds of duplicates, from strict to loose:

- ``"bytes"``: identical files (BLAKE2b of the file bytes);
- ``"pixels"``: identical decoded pixels in different files (a re-encoded
  or re-compressed copy);
- ``"near"``: 64-bit perceptual hashes (``imagehash.phash``) within a
  Hamming distance ``threshold`` (a resized, re-compressed or slightly
  brightened copy).

A pair of duplicates in two splits is *leakage*; a pair inside one split is
reported too (it weights that image twice). A pair whose two labels differ
is a *label conflict*, reported apart.

Near-duplicate search is not all-pairs (multi-index hashing, Norouzi,
Punjani and Fleet, CVPR 2012). The 64 bits are cut into ``m`` blocks: two
hashes within distance ``threshold`` are within ``threshold // m`` of each
other on at least one block (pigeonhole), so each block key is probed with
every mask of at most ``threshold // m`` bits and only hashes whose key
matches a probe are compared, with one vectorized XOR and
``np.bitwise_count`` per candidate pair. ``m`` is chosen per threshold from
an estimate of probes times expected bucket size (3 blocks of about 21 bits
and radius 2 at threshold 8 on 100,000 hashes). A pair is kept only from
the first block where it is within the block radius, so it is found once.

Nothing here writes to the input: files are only opened for reading.

Examples
--------
>>> import numpy as np
>>> from classbalance.leakage import near_pairs
>>> hashes = np.array([0b1011, 0b1010, 1 << 40, 0b1011], dtype=np.uint64)
>>> i, j, d = near_pairs(hashes, threshold=2)
>>> list(zip(i.tolist(), j.tolist(), d.tolist()))  # item 3 repeats item 0: linked to it only
[(0, 1, 1), (0, 3, 0)]
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import check_positive_int, short_repr

__all__ = [
    "LeakageReport",
    "check_leakage",
    "duplicate_groups",
    "hash_files",
    "near_pairs",
]

SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "valid": "valid",
    "val": "valid",
    "validation": "valid",
    "test": "test",
    "testing": "test",
}
DEFAULT_THRESHOLD = 4
_READ_CHUNK = 1 << 20
# Candidate pairs compared per step (bounds the temporaries of the near search).
_PAIR_CHUNK = 1 << 22
# Probes (value x mask) looked up per step, and the widest block given a dense table.
_PROBE_CHUNK = 1 << 21
_DENSE_BITS = 22


# ----------------------------------------------------------------------- hashing
def _file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            digest = hashlib.blake2b(digest_size=16)
            while chunk := fh.read(_READ_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _image_digests(path: str, want_pixels: bool, want_phash: bool) -> tuple[str | None, Any]:
    from PIL import Image

    imagehash = _imagehash() if want_phash else None
    try:
        with Image.open(path) as img:
            img.load()
            mode = "RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB"
            canon = img.convert(mode)
    except Exception:  # Pillow raises many types for corrupt or non-image files
        return None, None
    pixel = None
    if want_pixels:
        digest = hashlib.blake2b(f"{mode}{canon.size}".encode(), digest_size=16)
        digest.update(canon.tobytes())
        pixel = digest.hexdigest()
    bits = imagehash.phash(canon).hash.ravel() if imagehash is not None else None
    return pixel, bits


def _imagehash() -> Any:
    from classbalance._optional import require

    return require("imagehash", "near-duplicate search")


def hash_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    pixels: bool = True,
    near: bool = True,
) -> pd.DataFrame:
    """Content hashes of files: bytes, decoded pixels and a 64-bit perceptual hash.

    Parameters
    ----------
    paths : sequence of paths
        Files to hash (only read).
    pixels : bool, default=True
        Decode each image (Pillow) and hash its pixels (catches re-encoded copies).
    near : bool, default=True
        Also compute ``imagehash.phash`` (64 bits) for near-duplicate search.

    Returns
    -------
    DataFrame
        One row per path: ``bytes_hash`` (hex, None if unreadable),
        ``pixel_hash`` (hex, None if not decodable or not asked),
        ``phash`` (uint64, 0 where missing) and ``readable`` (bool: the file
        could be read and, when ``pixels`` or ``near``, decoded).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.leakage import hash_files
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.bin").write_bytes(b"same"); _ = (d / "b.bin").write_bytes(b"same")
    >>> h = hash_files([d / "a.bin", d / "b.bin", d / "gone.bin"], pixels=False, near=False)
    >>> h["bytes_hash"].iloc[0] == h["bytes_hash"].iloc[1], h["readable"].tolist()
    (True, [True, True, False])
    """
    names = [os.fspath(p) for p in paths]
    n = len(names)
    # One open per file: reading files is inherently per file.
    byte_hashes = [_file_digest(p) for p in names]
    readable = np.array([h is not None for h in byte_hashes], dtype=bool)
    pixel_hashes: list[str | None] = [None] * n
    phash = np.zeros(n, dtype=np.uint64)
    if pixels or near:
        from classbalance._optional import require

        require("PIL.Image", "Pixel and perceptual hashing")
        if near:
            _imagehash()
        bits = np.zeros((n, 64), dtype=bool)
        for k in np.flatnonzero(readable).tolist():
            pixel, b = _image_digests(names[k], pixels, near)
            if pixel is None and b is None:
                readable[k] = False
                continue
            pixel_hashes[k] = pixel
            if b is not None:
                bits[k] = b
        if near:
            phash = np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)
    return pd.DataFrame(
        {
            "bytes_hash": pd.array(byte_hashes, dtype=object),
            "pixel_hash": pd.array(pixel_hashes, dtype=object),
            "phash": phash,
            "readable": readable,
        }
    )


# ------------------------------------------------------------------- pair search
def _star_pairs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Link every member of a group of equal codes to the group's first member.

    ``m - 1`` pairs per group of ``m`` (not ``m * (m - 1) / 2``): they connect
    the group, which is all a split or a leakage verdict needs.
    """
    n = codes.shape[0]
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    order = np.argsort(codes, kind="stable")
    k = codes[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(k[1:], k[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    first = order[np.flatnonzero(new)][group]
    member = ~new
    a, b = first[member], order[member]
    return np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)


def _blocks(m: int) -> list[tuple[int, int]]:
    """``m`` contiguous bit blocks covering the 64 bits: (shift, width)."""
    edges = np.linspace(0, 64, m + 1).round().astype(int)
    return [(int(lo), int(hi - lo)) for lo, hi in itertools.pairwise(edges)]


def _n_masks(width: int, radius: int) -> int:
    """Number of ``width``-bit masks with at most ``radius`` bits set."""
    return sum(math.comb(width, k) for k in range(radius + 1))


def _plan(n: int, threshold: int) -> tuple[int, int]:
    """Blocks ``m`` and block radius ``threshold // m`` of least estimated cost.

    Cost per block: probes per value times (probe cost + expected bucket size
    ``n / 2**width``, each candidate costing about as much as a few probes).
    A probe into a dense bucket table (blocks up to ``_DENSE_BITS`` wide) is
    cheaper than a binary search.
    """
    best = (math.inf, threshold + 1)
    for m in range(2, threshold + 2):
        radius = threshold // m
        cost = 0.0
        for _, width in _blocks(m):
            probe = 1.0 if width <= _DENSE_BITS else 4.0
            cost += _n_masks(width, radius) * (probe + 3.0 * n / 2.0**width)
        best = min(best, (cost, m))
    m = best[1]
    return m, threshold // m


def _masks(width: int, radius: int) -> np.ndarray:
    """All nonzero ``width``-bit masks with at most ``radius`` bits set (int64)."""
    bits = np.int64(1) << np.arange(width, dtype=np.int64)
    out = [
        np.bitwise_or.reduce(bits[np.array(list(itertools.combinations(range(width), k)))], axis=1)
        for k in range(1, radius + 1)
    ]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _expand(
    a: np.ndarray, lo: np.ndarray, count: np.ndarray, order: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs ``(a[k], order[lo[k] + t])`` for ``t < count[k]``, in chunks of candidates."""
    keep = count > 0
    a, lo, count = a[keep], lo[keep], count[keep]
    if a.size == 0:
        return
    cum = np.cumsum(count)
    start = 0
    while start < a.size:
        done = int(cum[start - 1]) if start else 0
        stop = max(int(np.searchsorted(cum, done + _PAIR_CHUNK, side="right")), start + 1)
        c = count[start:stop]
        total = int(cum[stop - 1]) - done
        first = np.repeat(cum[start:stop] - c - done, c)
        slot = np.repeat(lo[start:stop], c) + (np.arange(total) - first)
        yield np.repeat(a[start:stop], c), order[slot]
        start = stop


def _block_candidates(
    keys: np.ndarray, width: int, masks: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs of values whose block keys differ by ``0`` or one of ``masks``, each once.

    Equal keys give pairs ``(a, c)`` with ``a < c``; keys differing by a mask
    are probed from the smaller key only (``key ^ mask > key``), so every
    unordered pair within the block radius is produced exactly once.
    """
    n = keys.shape[0]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if width <= _DENSE_BITS:
        start = np.zeros((1 << width) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=1 << width), out=start[1:])

        def bounds(probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return start[probe], start[probe + 1]
    else:

        def bounds(probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return (
                np.searchsorted(sorted_keys, probe, side="left"),
                np.searchsorted(sorted_keys, probe, side="right"),
            )

    # Equal keys: members after a value in its bucket (stable order: larger index).
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    _, end = bounds(keys)
    yield from _expand(np.arange(n), pos + 1, end - pos - 1, order)
    if masks.size == 0:
        return
    step = max(1, _PROBE_CHUNK // masks.size)
    for lo_v in range(0, n, step):
        k = keys[lo_v : lo_v + step, None]
        probe = k ^ masks[None, :]
        up = probe > k
        a = np.broadcast_to(np.arange(lo_v, lo_v + k.shape[0])[:, None], probe.shape)[up]
        probe = probe[up]
        lo, hi = bounds(probe)
        yield from _expand(a, lo, hi - lo, order)


def _near_value_pairs(
    uniq: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(a, c)``, ``a < c``, of distinct sorted values within ``threshold``, each once."""
    m, radius = _plan(uniq.shape[0], threshold)
    blocks = _blocks(m)
    found_a: list[np.ndarray] = []
    found_c: list[np.ndarray] = []
    found_d: list[np.ndarray] = []
    for b, (shift, width) in enumerate(blocks):
        keys = ((uniq >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.int64)
        for a, c in _block_candidates(keys, width, _masks(width, radius)):
            x = uniq[a] ^ uniq[c]
            dist = np.bitwise_count(x).astype(np.int64)
            keep = dist <= threshold
            for shift2, width2 in blocks[:b]:  # found already from an earlier block?
                part = (x >> np.uint64(shift2)) & np.uint64((1 << width2) - 1)
                keep &= np.bitwise_count(part) > radius
            a, c = a[keep], c[keep]
            found_a.append(np.minimum(a, c))
            found_c.append(np.maximum(a, c))
            found_d.append(dist[keep])
    if not found_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    return np.concatenate(found_a), np.concatenate(found_c), np.concatenate(found_d)


def near_pairs(
    hashes: Any, *, threshold: int = DEFAULT_THRESHOLD
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of 64-bit hashes within Hamming distance ``threshold``, without all-pairs.

    Items with equal hashes are linked to the first of them, and a pair of
    distinct hash values within the threshold is reported between the first
    items holding them: the pairs connect every group of near duplicates
    with ``O(n)`` links rather than listing every pair of a large group.

    Parameters
    ----------
    hashes : array-like of uint64, shape (n,)
        Perceptual hashes (e.g. ``hash_files(...)["phash"]``).
    threshold : int, default=4
        Largest Hamming distance counted as a near duplicate (0 to 32).
        Search time grows with it (and with the number of pairs found):
        ``m`` blocks, each probed with every mask of at most
        ``threshold // m`` bits, ``m`` picked by a cost estimate.

    Returns
    -------
    i, j, distance : ndarray
        Pairs with ``i < j``, sorted, each once.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.leakage import near_pairs
    >>> i, j, d = near_pairs(np.array([7, 7, 7, 6, 1 << 50], dtype=np.uint64), threshold=1)
    >>> list(zip(i.tolist(), j.tolist(), d.tolist()))
    [(0, 1, 0), (0, 2, 0), (0, 3, 1)]
    """
    h = np.ascontiguousarray(np.asarray(hashes, dtype=np.uint64))
    threshold = check_positive_int(threshold, "threshold", allow_zero=True)
    if threshold > 32:
        raise ValueError(
            f"`threshold` must be at most 32 of 64 bits (a distance of {threshold} is not a "
            "near duplicate). Typical values: 2 to 8."
        )
    uniq, inverse = np.unique(h, return_inverse=True)
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    found_d: list[np.ndarray] = []
    # Equal hashes (distance 0): each item linked to the first item of its value.
    a, b = _star_pairs(inverse)
    found_i.append(a)
    found_j.append(b)
    found_d.append(np.zeros(a.shape[0], dtype=np.int64))
    # Distinct values within the threshold: only values close on a block are compared.
    if threshold > 0 and uniq.shape[0] > 1:
        ua, uc, ud = _near_value_pairs(uniq, threshold)
        if ua.size:
            # A value pair is reported between the first items holding the two values.
            first = np.full(uniq.shape[0], h.shape[0], dtype=np.int64)
            np.minimum.at(first, inverse, np.arange(h.shape[0]))
            ia, ic = first[ua], first[uc]
            found_i.append(np.minimum(ia, ic))
            found_j.append(np.maximum(ia, ic))
            found_d.append(ud)
    i, j, d = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)
    order = np.lexsort((j, i))
    return i[order].astype(np.int64), j[order].astype(np.int64), d[order]


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes given edges ``(i, j)``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(i.shape[0], dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def _key_codes(values: pd.Series) -> np.ndarray:
    """Integer code per row; missing values get a code of their own (never grouped)."""
    codes = pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


def duplicate_groups(
    paths: Sequence[str | os.PathLike[str]],
    *,
    near: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
) -> np.ndarray:
    """A group id per file: files that are duplicates of each other share one.

    Used as ``groups`` of a stratified split so duplicates never straddle
    two splits. Byte-identical files are always grouped; with ``near=True``
    also files with identical pixels and perceptual near duplicates
    (transitively: a chain of near duplicates is one group). Unreadable
    files are groups of their own.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.leakage import duplicate_groups
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name, data in [("a", b"x"), ("b", b"y"), ("c", b"x")]:
    ...     _ = (d / name).write_bytes(data)
    >>> duplicate_groups([d / "a", d / "b", d / "c"]).tolist()
    [0, 1, 0]
    """
    hashes = hash_files(paths, pixels=near, near=near)
    n = len(hashes)
    codes = pd.factorize(_key_codes(hashes["bytes_hash"]))[0].astype(np.int64)
    if not near:
        return codes
    ai, aj = _star_pairs(codes)
    bi, bj = _star_pairs(_key_codes(hashes["pixel_hash"]))
    ok = np.flatnonzero(hashes["readable"].to_numpy())
    ci, cj, _ = near_pairs(hashes["phash"].to_numpy()[ok], threshold=threshold)
    i = np.concatenate([ai, bi, ok[ci]])
    j = np.concatenate([aj, bj, ok[cj]])
    return pd.factorize(_components(n, i, j))[0].astype(np.int64)


# ------------------------------------------------------------------ the report
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
    """

    files: pd.DataFrame
    pairs: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)
    threshold: int = DEFAULT_THRESHOLD

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
    from classbalance.folders import scan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # counted below instead
        frame = scan(folder, recursive=True)
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


def _from_labels_csv(folder: Path, skipped: dict[str, int]) -> pd.DataFrame:
    table = pd.read_csv(folder / "labels.csv")
    missing = [c for c in ("name", "label", "is_valid") if c not in table.columns]
    if missing:
        raise ValueError(
            f"{folder / 'labels.csv'} lacks the columns {missing}; it needs name,label,is_valid "
            "(what `classbalance oversample` writes)."
        )
    table = table.drop_duplicates(["name", "is_valid"])  # oversampled rows repeat a file
    paths = [os.path.normpath(os.path.join(folder, n)) for n in table["name"].astype(str)]
    exists = np.array([os.path.isfile(p) for p in paths], dtype=bool)
    skipped["unreadable"] += int((~exists).sum())
    frame = pd.DataFrame(
        {
            "path": paths,
            "split": np.where(table["is_valid"].astype(bool).to_numpy(), "valid", "train"),
            "label": table["label"].astype(str).to_numpy(),
        }
    )
    return frame[exists].reset_index(drop=True)


def _collect(source: Any, skipped: dict[str, int]) -> pd.DataFrame:
    if isinstance(source, Mapping):
        parts = [_scan_split(Path(f), str(s), skipped) for s, f in source.items()]
    elif isinstance(source, (list, tuple)):
        if not 2 <= len(source) <= 3:
            raise ValueError(
                "Give two or three split folders (train, valid[, test]). "
                f"Received {len(source)}: {short_repr(source)}"
            )
        names = ["train", "valid", "test"]
        parts = [_scan_split(Path(f), names[k], skipped) for k, f in enumerate(source)]
    else:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"PATH must be an existing folder. Received: {str(source)!r}")
        if (root / "labels.csv").is_file():
            return _from_labels_csv(root, skipped)
        found = {
            SPLIT_NAMES[e.name.lower()]: Path(e.path)
            for e in sorted(os.scandir(root), key=lambda e: e.name)
            if e.is_dir() and e.name.lower() in SPLIT_NAMES
        }
        if len(found) < 1:
            raise ValueError(
                f"{root} has neither labels.csv nor split folders (train/, valid/ or val/, "
                "test/). Give the split folders explicitly instead: "
                "classbalance leakage TRAIN VALID [TEST]."
            )
        parts = [_scan_split(f, s, skipped) for s, f in found.items()]
    return pd.concat(parts, ignore_index=True)


def check_leakage(
    source: Any,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    near: bool = True,
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

    Returns
    -------
    LeakageReport

    Warns
    -----
    UserWarning
        When files were skipped (non-image, unreadable), with the counts.

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
    skipped = {"non_images": 0, "unreadable": 0, "loops": 0, "broken_links": 0, "hidden": 0}
    files = _collect(source, skipped)
    hashes = hash_files(files["path"].tolist(), pixels=True, near=near)
    ok = hashes["readable"].to_numpy()
    skipped["unreadable"] += int((~ok).sum())
    files = pd.concat([files, hashes], axis=1)[ok].reset_index(drop=True)
    if sum(skipped[k] for k in ("non_images", "unreadable", "broken_links")):
        warnings.warn(
            "Files skipped by the leakage check: "
            + ", ".join(f"{v} {k}" for k, v in skipped.items() if v and k != "hidden"),
            UserWarning,
            stacklevel=2,
        )
    pieces = []
    byte_codes = _key_codes(files["bytes_hash"])
    a, b = _star_pairs(byte_codes)
    pieces.append(pd.DataFrame({"a": a, "b": b, "kind": "bytes", "distance": 0}))
    pixel_codes = _key_codes(files["pixel_hash"])
    a, b = _star_pairs(pixel_codes)
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
    return LeakageReport(files=files, pairs=pairs, skipped=skipped, threshold=threshold)
