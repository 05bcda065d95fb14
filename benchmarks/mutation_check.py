"""Mutation check: does the test suite notice small deliberate bugs?

Each bug in ``BUGS`` is a one-line change found by its exact text (so it fails loudly,
"NOT APPLIED", when the code has moved or changed: update the list). The script copies
``src/``, ``tests/`` and ``pyproject.toml`` to a scratch directory, checks that the tests
named for each bug pass there unchanged, then for each bug: applies it, runs those test
files with PYTHONPATH pointing at the scratch copy (the installed ``classbalance`` script
then runs the scratch code too), reverts it, and prints which test failed first -- or
NOT CAUGHT. The repository itself is never modified.

Run from the repository root (about 10 minutes on 2 cores; ``--only`` picks bugs by name):
``python benchmarks/mutation_check.py [--only interval-90,threshold-12] [--workers 2]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

from _common import markdown_table

ROOT = Path(__file__).resolve().parents[1]

# Where things live, before and after the package's re-organisation: the first candidate
# file holding the text is mutated. Test files that do not exist are skipped.
STATS = ("src/classbalance/compare/stats.py",)
LEAKAGE_SEARCH = ("src/classbalance/leakage.py", "src/classbalance/leakage/_search.py")
LEAKAGE_CHECK = (
    "src/classbalance/leakage.py",
    "src/classbalance/leakage/_check.py",
    "src/classbalance/layout.py",
)
RESAMPLING = (
    "src/classbalance/multilabel_resampling.py",
    "src/classbalance/resampling.py",
    "src/classbalance/resampling/_random.py",
)
RECIPES = (
    "src/classbalance/compare/recipes.py",
    "src/classbalance/compare/runner.py",
    "src/classbalance/compare/task.py",
    "src/classbalance/compare/training.py",
)
SAMPLING = ("src/classbalance/sampling.py", "src/classbalance/_targets.py")
WEIGHTS = ("src/classbalance/weights.py",)
CLI_LEAKAGE = ("src/classbalance/cli.py", "src/classbalance/cli/leakage.py")

STATS_TESTS = ("tests/test_interval_calibration.py", "tests/test_compare_stats.py")
LEAKAGE_TESTS = ("tests/test_leakage.py", "tests/test_leakage_precision.py")
CLAIMS_TESTS = ("tests/test_compare_recipe_claims.py",)
RESAMPLING_TESTS = (
    "tests/test_multilabel_resampling.py",
    "tests/test_resampling.py",
    "tests/test_resampling_boundary.py",
)
SAMPLING_TESTS = (
    "tests/test_sampling.py",
    "tests/test_invariant_suite.py",
    "tests/test_batches.py",
    "tests/test_multilabel_sampling.py",
    "tests/test_sampling_over_epochs.py",
)


@dataclass(frozen=True)
class Bug:
    """One deliberate bug: replace ``old`` (found exactly once) by ``new`` in a file."""

    name: str
    what: str
    files: tuple[str, ...]
    old: str
    new: str
    tests: tuple[str, ...]  # test files (or file::node ids); missing files are skipped


BUGS = [
    Bug(
        "interval-90",
        "compare's 95% intervals computed at 90%",
        STATS,
        "    tail = (1.0 - level) / 2.0 * 100.0",
        "    tail = (1.0 - 0.90) / 2.0 * 100.0",
        STATS_TESTS,
    ),
    Bug(
        "interval-80",
        "compare's 95% intervals computed at 80%",
        STATS,
        "    tail = (1.0 - level) / 2.0 * 100.0",
        "    tail = (1.0 - 0.80) / 2.0 * 100.0",
        STATS_TESTS,
    ),
    Bug(
        "interval-2x",
        "compare's intervals twice as wide",
        STATS,
        "    return float(low), float(high)",
        "    return float(1.5 * low - 0.5 * high), float(1.5 * high - 0.5 * low)",
        STATS_TESTS,
    ),
    Bug(
        "bootstrap-unpaired",
        "bootstrap: each strategy scored on its own order of the draws (no pairing)",
        STATS,
        "            for m, values in score(s, rows, np.repeat(equal, b, axis=0)).items():",
        "            for m, values in score(\n"
        "                s, rows[rng.permutation(b)], np.repeat(equal, b, axis=0)\n"
        "            ).items():",
        STATS_TESTS,
    ),
    Bug(
        "bootstrap-unstratified",
        "bootstrap: test samples redrawn over all classes (class strata ignored)",
        STATS,
        "    sizes = [n_test] if strata_sizes is None else [int(m) for m in strata_sizes]",
        "    sizes = [n_test]",
        STATS_TESTS,
    ),
    Bug(
        "threshold-12",
        "leakage: default near-duplicate threshold 12 (was 4)",
        LEAKAGE_SEARCH,
        "DEFAULT_THRESHOLD = 4",
        "DEFAULT_THRESHOLD = 12",
        LEAKAGE_TESTS,
    ),
    Bug(
        "threshold-19",
        "leakage: default near-duplicate threshold 19",
        LEAKAGE_SEARCH,
        "DEFAULT_THRESHOLD = 4",
        "DEFAULT_THRESHOLD = 19",
        LEAKAGE_TESTS,
    ),
    Bug(
        "cli-threshold-12",
        "leakage CLI: --threshold default 12 while the API's stays 4",
        CLI_LEAKAGE,
        "    type=click.IntRange(0, 32),\n    default=4,",
        "    type=click.IntRange(0, 32),\n    default=12,",
        ("tests/test_leakage_precision.py",),
    ),
    Bug(
        "export-dedup-name",
        "leakage: labels.csv rows de-duplicated on name only",
        LEAKAGE_CHECK,
        'table = table.drop_duplicates([name, "is_valid"])',
        "table = table.drop_duplicates([name])",
        LEAKAGE_TESTS,
    ),
    Bug(
        "ml-rus-boundary",
        "ML-RUS: a label leaves only above MeanIR (>= becomes >)",
        RESAMPLING,
        "left = cum.max(axis=1) / own >= dist.mean_ir",
        "left = cum.max(axis=1) / own > dist.mean_ir",
        RESAMPLING_TESTS,
    ),
    Bug(
        "ml-ros-boundary",
        "ML-ROS: a label leaves only below MeanIR (<= becomes <)",
        RESAMPLING,
        "left = cum.max(axis=1) / own <= dist.mean_ir",
        "left = cum.max(axis=1) / own < dist.mean_ir",
        RESAMPLING_TESTS,
    ),
    Bug(
        "class-weight-dropped",
        "compare: RunContext.fit drops class_weight",
        RECIPES,
        '                kwargs["class_weight"] = class_weight',
        "                pass",
        ("tests/test_compare_recipe_claims.py",),
    ),
    Bug(
        "sampling-iid",
        "sampling engine: i.i.d. draws within a class instead of fresh permutations",
        SAMPLING,
        "                rng.permuted(perms, axis=1, out=perms)",
        "                perms[:] = rng.integers(0, n_c, size=perms.shape)",
        SAMPLING_TESTS,
    ),
    Bug(
        "sampling-epoch-shuffle",
        "sampling engine: the epoch left out of the shuffle's seed",
        SAMPLING,
        "rng_for(self.seed, _SHUFFLE, e, 0), self._index_dtype)",
        "rng_for(self.seed, _SHUFFLE, 0, 0), self._index_dtype)",
        SAMPLING_TESTS,
    ),
    Bug(
        "sampling-same-permutation",
        "sampling engine: every cycle through a class repeats one permutation",
        SAMPLING,
        "                rng = rng_for(self.seed, _STREAM, c, block)",
        "                rng = rng_for(self.seed, _STREAM, c, 0)",
        SAMPLING_TESTS,
    ),
    Bug(
        "sampling-ties-epoch",
        "sampling engine: the epoch left out of the rounding ties' seed",
        SAMPLING,
        "ties = rng_for(self.seed, TIES, epoch, 0)",
        "ties = rng_for(self.seed, TIES, 0, 0)",
        SAMPLING_TESTS,
    ),
    Bug(
        "weights-factor",
        'weights: "balanced" (scikit-learn\'s formula) twice too large',
        WEIGHTS,
        "    out[present] = counts.sum() / (present.sum() * counts[present])",
        "    out[present] = 2 * counts.sum() / (present.sum() * counts[present])",
        ("tests/test_weights.py", "tests/test_weights_unnormalized.py"),
    ),
    Bug(
        "sampling-recipe-dropped",
        "compare: the sampling recipes train on the natural order (sampling= not passed)",
        RECIPES,
        "ctx.fit(ctx.model(augment=augment), sampling=sampling)",
        "ctx.fit(ctx.model(augment=augment))",
        CLAIMS_TESTS,
    ),
    Bug(
        "logit-adjustment-dropped",
        "compare: logit_adjusted_loss trains with tau = 0 (plain cross-entropy)",
        RECIPES,
        "LogitAdjustedLoss(_counts(ctx), tau=1.0, from_logits=True)",
        "LogitAdjustedLoss(_counts(ctx), tau=0.0, from_logits=True)",
        CLAIMS_TESTS,
    ),
    Bug(
        "focal-gamma-0",
        "compare: focal_loss trains with gamma = 0 (plain cross-entropy)",
        RECIPES,
        "SparseFocalLoss(gamma=2.0, from_logits=True)",
        "SparseFocalLoss(gamma=0.0, from_logits=True)",
        CLAIMS_TESTS,
    ),
    Bug(
        "weights-strategy-ignored",
        "compare: every weight recipe gets the 'balanced' weights",
        RECIPES,
        "cb.class_weights(ctx.data.y_train, strategy, classes=",
        'cb.class_weights(ctx.data.y_train, "balanced", classes=',
        CLAIMS_TESTS,
    ),
    Bug(
        "posthoc-not-applied",
        "compare: posthoc_adjust returns the logits unadjusted",
        RECIPES,
        "cb.adjust_logits(logits, counts, tau=tau)",
        "(logits)",
        CLAIMS_TESTS,
    ),
    Bug(
        "crt-not-frozen",
        "compare: cRT's second stage trains every layer",
        RECIPES,
        "layer.trainable = False",
        "layer.trainable = True",
        CLAIMS_TESTS,
    ),
    Bug(
        "ensemble-one-subset",
        "compare: every ensemble member trains on the same undersampled subset",
        RECIPES,
        "rows=np.sort(sampler.plan(m))",
        "rows=np.sort(sampler.plan(0))",
        CLAIMS_TESTS,
    ),
]


def scratch_copy(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for part in ("src", "tests"):
        shutil.copytree(ROOT / part, target / part, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")


def locate(bug: Bug, root: Path) -> tuple[Path | None, str]:
    """The file holding ``bug.old`` exactly once, or None and why not."""
    counts = []
    for name in bug.files:
        path = root / name
        if path.is_file():
            n = path.read_text().count(bug.old)
            counts.append(f"{name}: {n}")
            if n == 1:
                return path, name
    return None, "text found " + (", ".join(counts) or "in no candidate file (none exist)")


def run_tests(root: Path, tests: list[str], workers: int, timeout: float) -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(root / "src"), KERAS_BACKEND="tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-rf", "-p", "no:cacheprovider"]
    command += ["--timeout", str(int(timeout))]  # a loaded machine must not read as a bug
    if workers > 1:
        command += ["-n", str(workers)]
    try:
        done = subprocess.run(
            command + tests, cwd=root, env=env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    found = re.findall(r"^FAILED (.+?)(?: - .*)?$", output, flags=re.MULTILINE)
    if found:
        return found[0]
    errors = re.findall(r"^ERROR (\S+)", output, flags=re.MULTILINE)
    return f"error: {errors[0]}" if errors else output.strip().splitlines()[-1][:80]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="Comma-separated bug names.")
    parser.add_argument("--workers", type=int, default=1, help="pytest-xdist workers.")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds per run.")
    args = parser.parse_args()
    chosen = set(filter(None, args.only.split(",")))
    unknown = chosen - {b.name for b in BUGS}
    if unknown:
        parser.error(f"unknown bug names {sorted(unknown)}; known: {[b.name for b in BUGS]}")
    bugs = [b for b in BUGS if not chosen or b.name in chosen]
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        root = Path(tmp)
        scratch_copy(root)
        baseline: dict[tuple[str, ...], str] = {}
        for bug in bugs:
            tests = [t for t in bug.tests if (root / t.split("::")[0]).is_file()]
            path, where = locate(bug, root)
            if path is None:
                rows.append([bug.name, bug.what, "-", f"NOT APPLIED ({where}): update BUGS"])
                continue
            if not tests:
                rows.append([bug.name, bug.what, where, "NO TEST FILE: update BUGS"])
                continue
            key = tuple(tests)
            if key not in baseline:  # the tests must pass on the unchanged copy
                code, output = run_tests(root, tests, args.workers, args.timeout)
                baseline[key] = "" if code == 0 else first_failure(output)
            if baseline[key]:
                rows.append([bug.name, bug.what, where, f"BASELINE FAILS: {baseline[key]}"])
                continue
            original = path.read_text()
            path.write_text(original.replace(bug.old, bug.new))
            try:
                code, output = run_tests(root, tests, args.workers, args.timeout)
            finally:
                path.write_text(original)
            verdict = "NOT CAUGHT" if code == 0 else f"caught by {first_failure(output)}"
            rows.append([bug.name, bug.what, where, verdict])
            print(f"{bug.name}: {verdict}", file=sys.stderr, flush=True)
    print("$ python benchmarks/mutation_check.py" + (f" --only {args.only}" if chosen else ""))
    print(markdown_table(["bug", "what", "file", "verdict"], rows))
    caught = sum(r[3].startswith("caught") for r in rows)
    print(f"\n{caught} of {len(rows)} caught in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
