"""Does cross-validation pick the right remedy on small tabular data more often than one split?

Each *draw* (seeded by its number) takes a small imbalanced development set
and runs ``compare()`` on it twice, with the same strategies, epochs and
number of trainings per strategy:

- **single split**: ``cv=0``, one stratified 60/20/20 train/valid/test split,
  ``seeds = folds x repeats`` trainings per strategy;
- **cross-validation**: ``cv=folds``, ``cv_repeats=repeats``: the same number
  of trainings per strategy, out-of-fold predictions on every sample.

Data (``--data``):

- ``generated`` (default): a population of 60,000 from ``make_classification``
  (3 classes at 80 / 15 / 5 %); the held-out sample (``--n-holdout``) is
  disjoint from every development set. Per draw the rarest class gets
  13 to 51 development samples (uniform, as the issue's real failures had)
  and the whole set 200 to 600 samples (the other classes at their
  population ratio).
- ``breast_cancer``: scikit-learn's ``load_breast_cancer`` made imbalanced:
  per draw 13 to 51 malignant and 200 benign samples are the development
  set; the rest of the data (157 benign, 161 to 199 malignant) is the
  held-out sample.

**The truth of a draw:** every strategy trained on the development set with
``--truth-seeds`` trainings, spread over ``--truth-splits`` train/valid
splits of it whose data seeds differ from the single split's, and scored on
the held-out sample; the *best remedy in hindsight* has the highest mean
held-out balanced accuracy. (The truth must not reuse the single split's
seed: ``compare``'s train/valid split with a fixed test set then draws the
very validation rows of the single split's train/valid/test split, and its
training rows hold the single split's, which correlates the truth with one of
the two methods compared.) Its stability is printed per draw: the share of
bootstrap resamples of the truth's trainings (paired across strategies)
whose best is the same strategy. A pick *agrees* when it is the best, and its
*shortfall* is the best held-out score minus the pick's.

Printed after each draw (a running summary) and at the end: the mean
shortfall of each method and the paired difference (single - CV, > 0: CV's
pick was closer) with a 95% t interval over draws (the primary figure);
the agreement counts with exact (Clopper-Pearson) 95% intervals, the
discordant draws with an exact sign test; the truth's mean stability.

Run: ``nice -n 19 .venv/bin/python benchmarks/bench_compare_cv.py --draws 40``
(about 2 to 3 minutes a draw on 2 busy cores with the defaults).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import markdown_table

STRATEGIES = ["none", "undersample", "balanced_sampling", "class_weight", "focal"]
RARE_RANGE = (13, 51)  # development samples of the rarest class, per draw


def generated(n_holdout: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A large generated population: a development pool and a disjoint held-out sample."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=60_000, n_features=12, n_informative=6, n_redundant=2, n_classes=3,
        n_clusters_per_class=2, weights=[0.80, 0.15, 0.05], class_sep=0.8, flip_y=0.02,
        random_state=0,
    )  # fmt: skip
    order = np.random.default_rng(0).permutation(len(y))
    held, pool = order[:n_holdout], order[n_holdout:]
    return x[pool], y[pool], x[held], y[held]


def draw_generated(
    x: np.ndarray, y: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, None, None]:
    """A development set: the rarest class 13-51 samples, the set 200-600 (other classes at
    their population ratio)."""
    rng = np.random.default_rng([seed, 1])
    rare = int(rng.integers(RARE_RANGE[0], RARE_RANGE[1] + 1))
    n = int(rng.integers(200, 601))
    counts = np.bincount(y)
    rarest = int(np.argmin(counts))
    others = np.delete(np.arange(len(counts)), rarest)
    take = np.zeros(len(counts), dtype=int)
    take[rarest] = rare
    share = counts[others] / counts[others].sum()
    take[others] = np.maximum(np.round(share * (n - rare)).astype(int), rare)
    rows = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c, k in enumerate(take)]
    )
    return x[rows], y[rows], None, None


def draw_breast_cancer(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Development: 200 benign and 13-51 malignant samples; held-out: all the others."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)  # 0: malignant (212), 1: benign (357)
    rng = np.random.default_rng([seed, 2])
    rare = int(rng.integers(RARE_RANGE[0], RARE_RANGE[1] + 1))
    dev = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == 0), size=rare, replace=False),
            rng.choice(np.flatnonzero(y == 1), size=200, replace=False),
        ]
    )
    held = np.setdiff1d(np.arange(len(y)), dev)
    return x[dev], y[dev], x[held], y[held]


def exact_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval of a binomial proportion."""
    from scipy.stats import beta

    a = (1 - level) / 2
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return low, high


def truth_stability(runs, best: str, replicates: int = 2000, seed: int = 0) -> float:
    """Share of bootstrap resamples of the truth's trainings (paired) whose best is ``best``."""
    table = runs.pivot(index="training", columns="strategy", values="balanced_accuracy")
    values = table.to_numpy()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(replicates, len(values)))
    means = values[picks].mean(axis=1)  # (replicates, strategies)
    return float(np.mean(table.columns[np.argmax(means, axis=1)] == best))


def summarize(results: list[dict]) -> None:
    """The paired shortfall (primary), agreement counts (exact intervals) and the sign test."""
    from scipy.stats import binomtest, t

    n = len(results)
    agree = np.array([(r["agree_single"], r["agree_cv"]) for r in results])
    short = np.array([(r["short_single"], r["short_cv"]) for r in results])
    diff = short[:, 0] - short[:, 1]  # > 0: cross-validation's pick was closer to the best
    half = t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
    print(
        f"[{n} draws] mean shortfall: single split {short[:, 0].mean():.4f}, "
        f"CV {short[:, 1].mean():.4f}; paired single - CV {diff.mean():+.4f} "
        f"[95% CI {diff.mean() - half:+.4f}, {diff.mean() + half:+.4f}]"
    )
    for i, name in enumerate(("single split", "cross-validation")):
        k = int(agree[:, i].sum())
        low, high = exact_interval(k, n)
        within = int((short[:, i] <= 0.01).sum())
        print(
            f"  {name:16s}: pick = best held-out in {k}/{n} (95% CI {low:.2f}-{high:.2f}); "
            f"within 0.01 of it in {within}/{n}"
        )
    only_cv = int((agree[:, 1] & ~agree[:, 0]).sum())
    only_single = int((agree[:, 0] & ~agree[:, 1]).sum())
    discordant = only_cv + only_single
    p = binomtest(only_cv, discordant, 0.5).pvalue if discordant else 1.0
    stable = np.array([r["stability"] for r in results])
    print(
        f"  paired: only CV agreed in {only_cv} draws, only the single split in {only_single} "
        f"(exact sign test p = {p:.3f}); truth stability (seed bootstrap) mean "
        f"{stable.mean():.2f}, >= 0.9 in {int((stable >= 0.9).sum())}/{n}; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["generated", "breast_cancer"], default="generated")
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--first-draw", type=int, default=0, help="draw seeds start here")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--n-holdout", type=int, default=10_000, help="generated data only")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--truth-seeds", type=int, default=8, help="trainings per strategy")
    parser.add_argument("--truth-splits", type=int, default=4, help="train/valid splits")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import pandas as pd

    from classbalance.compare import compare

    print("command:", " ".join(sys.argv), flush=True)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    warnings.filterwarnings("ignore", category=UserWarning)  # few-test-sample notes
    if args.data == "generated":
        pool_x, pool_y, hold_x, hold_y = generated(args.n_holdout)
    common = {"strategies": args.strategies.split(","), "epochs": args.epochs, "jobs": args.jobs}
    trainings = args.folds * args.repeats
    rows, results = [], []
    started = time.perf_counter()
    for d in range(args.draws):
        seed = args.first_draw + d
        if args.data == "generated":
            x, y, _, _ = draw_generated(pool_x, pool_y, seed)
        else:
            x, y, hold_x, hold_y = draw_breast_cancer(seed)
        t0 = time.perf_counter()
        single = compare(x, y, seeds=trainings, cv=0, data_seed=seed, **common)
        t1 = time.perf_counter()
        cv = compare(
            x, y, seeds=args.repeats, cv=args.folds, cv_repeats=args.repeats, data_seed=seed,
            **common,
        )  # fmt: skip
        t2 = time.perf_counter()
        per_split = args.truth_seeds // args.truth_splits
        parts = []
        for j in range(args.truth_splits):  # data seeds apart from the single split's
            truth = compare(
                x, y, x_test=hold_x, y_test=hold_y, seeds=per_split, cv=0,
                data_seed=10_000 + 100 * seed + j, **common,
            )  # fmt: skip
            part = truth.runs[["strategy", "seed", "balanced_accuracy"]].copy()
            parts.append(part.assign(training=part["seed"] + j * per_split))
        runs = pd.concat(parts)
        held = runs.groupby("strategy")["balanced_accuracy"].mean()
        best = str(held.idxmax())
        second = float(held.drop(best).max())
        stability = truth_stability(runs, best, seed=seed)
        pick_single, pick_cv = single.bootstrap.best(), cv.bootstrap.best()
        result = {
            "agree_single": pick_single == best, "agree_cv": pick_cv == best,
            "short_single": float(held.max() - held[pick_single]),
            "short_cv": float(held.max() - held[pick_cv]), "stability": stability,
        }  # fmt: skip
        results.append(result)
        rows.append(
            [
                str(seed), f"{len(y)}", str(int(np.bincount(y).min())),
                str(min(single.test_counts.values())), best, f"{held.max():.3f}",
                f"{held.max() - second:.3f}", f"{stability:.2f}", pick_single,
                f"{result['short_single']:.3f}", pick_cv, f"{result['short_cv']:.3f}",
                f"{t1 - t0:.0f} / {t2 - t1:.0f} / {time.perf_counter() - t2:.0f} s",
            ]
        )  # fmt: skip
        print("draw " + " | ".join(rows[-1]), flush=True)
        summarize(results)
    print()
    print(
        markdown_table(
            ["draw", "n (dev)", "rarest (dev)", "rarest (single test)", "best held-out",
             "its score", "gap to 2nd", "stability", "single pick", "shortfall", "CV pick",
             "shortfall", "time single / CV / truth"],
            rows,
        )
    )  # fmt: skip
    summarize(results)
    print(f"total {time.perf_counter() - started:.0f} s, load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
