"""ML-ROS / ML-RUS: the vectorized plans against a one-sample-at-a-time Python loop.

Labels: ``n`` samples x ``L`` labels, label ``l`` present independently with
probability ``0.4 * 0.01 ** (l / (L - 1))`` (rates 0.4 down to 0.004), uint8.
For each method, side by side in one run on the same labels (median of 5
after a warm-up; the loop: of 3): ``cb.ml_ros`` / ``cb.ml_rus`` with
``percentage=0.25``, and a straightforward loop that does one clone or
deletion per Python iteration with incrementally updated counts (the
fastest form of the published algorithm written as a loop; implementations
that recompute IRLbl from the whole matrix at every step are much slower).
Both compute ``label_distribution`` once (IRLbl, MeanIR, and SCUMBLE, which
resampling does not need); its time is printed, and the last column is the
speed-up without it.

Run: ``.venv/bin/python benchmarks/bench_resampling.py [--n 100000 --labels 50]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import classbalance as cb
from _common import markdown_table, median_time


def make_labels(n: int, n_labels: int, seed: int = 0) -> np.ndarray:
    prob = 0.4 * 0.01 ** (np.arange(n_labels) / (n_labels - 1))
    return (np.random.default_rng(seed).random((n, n_labels)) < prob).astype(np.uint8)


def loop_ros(Y: np.ndarray, percentage: float, seed: int) -> np.ndarray:
    """ML-ROS, one clone per iteration."""
    rng = np.random.default_rng(seed)
    dist = cb.label_distribution(Y)
    counts = dist.counts.astype(np.int64)
    active = [
        int(lab) for lab in np.flatnonzero(np.isfinite(dist.irlbl) & (dist.irlbl > dist.mean_ir))
    ]
    bags = {lab: np.flatnonzero(Y[:, lab]) for lab in active}
    budget = int(np.floor(percentage * len(Y) + 0.5))
    clones = []
    while budget and active:
        staying = []
        for lab in active:
            if not budget:
                break
            row = bags[lab][rng.integers(len(bags[lab]))]
            clones.append(row)
            counts += Y[row]
            budget -= 1
            if counts.max() / counts[lab] > dist.mean_ir:
                staying.append(lab)
        active = staying
    return np.sort(np.r_[np.arange(len(Y)), np.asarray(clones, dtype=np.int64)])


def loop_rus(Y: np.ndarray, percentage: float, seed: int) -> np.ndarray:
    """ML-RUS, one deletion per iteration (deleted rows dropped from a bag when drawn)."""
    rng = np.random.default_rng(seed)
    dist = cb.label_distribution(Y)
    counts = dist.counts.astype(np.int64)
    finite = np.isfinite(dist.irlbl)
    minority = finite & (dist.irlbl > dist.mean_ir)
    active = [int(lab) for lab in np.flatnonzero(finite & (dist.irlbl < dist.mean_ir))]
    deletable = ~Y[:, minority].any(axis=1)
    bags = {lab: list(np.flatnonzero((Y[:, lab] == 1) & deletable)) for lab in active}
    alive = np.ones(len(Y), dtype=bool)
    budget = int(np.floor(percentage * len(Y) + 0.5))
    while budget and active:
        staying = []
        for lab in active:
            if not budget:
                break
            bag = bags[lab]
            row = -1
            while bag:
                k = int(rng.integers(len(bag)))
                bag[k], bag[-1] = bag[-1], bag[k]
                row = bag.pop()
                if alive[row]:
                    break
                row = -1
            if row < 0:
                continue
            alive[row] = False
            counts -= Y[row]
            budget -= 1
            if counts[lab] and counts.max() / counts[lab] < dist.mean_ir:
                staying.append(lab)
        active = staying
    return np.flatnonzero(alive)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--percentage", type=float, default=0.25)
    args = parser.parse_args()
    Y = make_labels(args.n, args.labels)
    t_dist = median_time(lambda: cb.label_distribution(Y))
    rows = []
    for name, ours, loop in (("ML-ROS", cb.ml_ros, loop_ros), ("ML-RUS", cb.ml_rus, loop_rus)):
        _, info = ours(Y, percentage=args.percentage, seed=0, return_info=True)
        t_ours = median_time(lambda ours=ours: ours(Y, percentage=args.percentage, seed=0))
        t_loop = median_time(lambda loop=loop: loop(Y, args.percentage, 0), repeats=3)
        ref = loop(Y, args.percentage, 0)
        rows.append(
            [
                name,
                f"{info.n_changed:,} ({info.stop})",
                f"{abs(ref.size - len(Y)):,}",
                f"{info.before.mean_ir:.2f} -> {info.after.mean_ir:.2f}",
                f"{t_ours * 1e3:.0f} ms",
                f"{t_loop * 1e3:.0f} ms",
                f"{t_loop / t_ours:.1f}x",
                f"{(t_loop - t_dist) / max(t_ours - t_dist, 1e-9):.1f}x",
            ]
        )
    print(
        f"{args.n:,} samples x {args.labels} labels, percentage={args.percentage}; "
        f"label_distribution (inside both) {t_dist * 1e3:.0f} ms"
    )
    header = ["method", "changed", "loop changed", "MeanIR", "vectorized", "loop", "speed-up"]
    print(markdown_table([*header, "without label_distribution"], rows))


if __name__ == "__main__":
    main()
