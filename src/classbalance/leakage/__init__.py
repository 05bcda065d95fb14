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

from classbalance.leakage._check import LeakageReport, check_leakage
from classbalance.leakage._hashing import hash_files
from classbalance.leakage._search import duplicate_groups, near_pairs

__all__ = [
    "LeakageReport",
    "check_leakage",
    "duplicate_groups",
    "hash_files",
    "near_pairs",
]
