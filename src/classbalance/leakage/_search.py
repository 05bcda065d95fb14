"""Near-duplicate search over 64-bit hashes (multi-index hashing), and duplicate groups.

Nothing here knows about folders or splits: it links items of a hash array.
See the package docstring for the method.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import check_positive_int
from classbalance.leakage._hashing import hash_files

__all__ = ["DEFAULT_THRESHOLD", "duplicate_groups", "near_pairs"]

DEFAULT_THRESHOLD = 4
# Candidate pairs compared per step (bounds the temporaries of the near search).
_PAIR_CHUNK = 1 << 22
# Probes (value x mask) looked up per step, and the widest block given a dense table.
_PROBE_CHUNK = 1 << 21
_DENSE_BITS = 22


def star_pairs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    a, b = star_pairs(inverse)
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


def key_codes(values: pd.Series) -> np.ndarray:
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
    codes = pd.factorize(key_codes(hashes["bytes_hash"]))[0].astype(np.int64)
    if not near:
        return codes
    ai, aj = star_pairs(codes)
    bi, bj = star_pairs(key_codes(hashes["pixel_hash"]))
    ok = np.flatnonzero(hashes["readable"].to_numpy())
    ci, cj, _ = near_pairs(hashes["phash"].to_numpy()[ok], threshold=threshold)
    i = np.concatenate([ai, bi, ok[ci]])
    j = np.concatenate([aj, bj, ok[cj]])
    return pd.factorize(_components(n, i, j))[0].astype(np.int64)
