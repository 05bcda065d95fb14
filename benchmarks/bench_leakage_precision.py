"""Leakage guard: recall on copies and false positives on distinct images, per threshold.

The labelled pairs of tests/leakage_pairs.py (scikit-learn digits upscaled to 64x64, half
tinted RGB): each base image has five copies -- JPEG at quality 75, resized to 48x48,
cropped by 3 pixels, converted RGB <-> L, brightened by 15% -- and every two distinct bases
of the same digit are a negative pair. Both are measured through the API:

- *pairs*: a pair is reported at threshold T when its files have equal bytes or decoded
  pixels, or perceptual hashes (``hash_files``) within Hamming distance T -- the rule of
  ``near_pairs``;
- *groups*: ``check_leakage(root, threshold=T)`` on the split layout; a pair counts when
  its two files end up in one reported group (links chain: a copy close to two distinct
  images puts them in one group), which is what a user reading the report sees.

imagehash's pHash sets exactly 32 of its 64 bits (a median split), so distances are even:
an odd threshold behaves as the even one below it. Thresholds 0 to 20 in steps of 2.

Run: ``python benchmarks/bench_leakage_precision.py [--per-class 30]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))

from _common import markdown_table
from classbalance.leakage import check_leakage
from leakage_pairs import TRANSFORMS, build_pairs, pair_distances, reported

SHORT = {
    "jpeg_q75": "JPEG q75",
    "resized_48": "resized",
    "cropped_3px": "cropped 3 px",
    "rgb_l_converted": "RGB<->L",
    "brightened_15pct": "brighter 15%",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-class", type=int, default=30, help="Base images per digit.")
    parser.add_argument("--thresholds", default="0,2,4,6,8,10,12,14,16,18,20")
    args = parser.parse_args()
    thresholds = [int(t) for t in args.thresholds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        pairs = build_pairs(Path(tmp), per_class=args.per_class)
        positive, negative = pair_distances(pairs)
        rows = []
        for t in thresholds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                report = check_leakage(tmp, threshold=t)
            _, grouped = reported(pairs, report)
            found = positive <= t
            rows.append(
                [
                    str(t),
                    f"{found.mean():.3f}",
                    *[f"{found[pairs.transform == name].mean():.2f}" for name in TRANSFORMS],
                    f"{(negative <= t).mean():.4f} ({int((negative <= t).sum())})",
                    f"{grouped.mean():.4f} ({int(grouped.sum())})",
                ]
            )
    n_pos, n_neg = len(pairs.positives), len(pairs.negatives)
    print(f"$ python benchmarks/bench_leakage_precision.py --per-class {args.per_class}")
    print(
        f"{len(pairs.paths)} files: {n_pos} copies (positives), {n_neg} pairs of distinct "
        "images of one digit (negatives)\n"
    )
    header = [
        "threshold",
        "recall",
        *[f"recall {SHORT[name]}" for name in TRANSFORMS],
        "FP rate, pairs",
        "FP rate, groups",
    ]
    print(markdown_table(header, rows))
    d = np.sort(negative[negative >= 0])
    print(
        f"\nclosest distinct pairs: distances {d[:5].tolist()}; copies' largest distance "
        + ", ".join(f"{SHORT[n]} {positive[pairs.transform == n].max()}" for n in TRANSFORMS)
    )


if __name__ == "__main__":
    main()
