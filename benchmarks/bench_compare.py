"""Wall time and quality of the main job, ``classbalance compare``, with its defaults and budgets.

Runs in fresh interpreters (imports included), timed from outside, with the
machine's load average before and after (the machine may be shared) and the
CPU seconds of the run's processes:

1. the demo (built-in long-tailed digits, every strategy x 3 seeds x 30 epochs)
   with ``--jobs 1`` and with ``--jobs 2``: the parallel speed-up, and a check
   that both give the same scores;
2. a long-tailed image folder (``train/ valid/ test/``, about 2,000 28x28 RGB
   training images, imbalance ratio 100, balanced test set of 50 per class,
   written by ``classbalance.datasets.write_long_tailed_digit_images`` with
   its defaults), four ways: the default (``--budget 10``: racing when the
   grid does not fit), ``--budget 5``, racing without a budget (``--race
   --budget 0``), and the full grid (``--no-race --budget 0``, the reference);
3. the same folder with ``--backbone MobileNetV3Small --backbone-weights none``
   (default settings otherwise): the frozen network embeds every image once at
   its 224x224 input, then the remedies train a light head on the embeddings.
   Random weights (nothing is downloaded here), so its recommendation is about
   random features: the row is there for the time, which is that of the
   ImageNet weights.

Each row gives the plan's estimate, the wall time, the recommendation reached
and whether its best strategy is within noise of the full grid's (in the full
grid's ``≈`` group).

Targets: demo <= 120 s; the default on the image folder <= 10 minutes, its
best strategy in the full grid's ``≈`` group.

Run: ``.venv/bin/python benchmarks/bench_compare.py [--backend B] [--skip-demo] [--skip-full]
[--skip-backbone] [--default-only]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from _common import markdown_table, timed_compare


def quality(payload: dict) -> str:
    best = payload["summary"][0]
    none = next((r for r in payload["summary"] if r["strategy"] == "none"), None)
    text = f"best `{best['strategy']}` {best['balanced_accuracy']:.3f}"
    return text + (f"; none {none['balanced_accuracy']:.3f}" if none else "")


def planned(payload: dict) -> str:
    plan = payload.get("plan", {}).get("plan")
    if not plan:
        return "-"
    rounds = payload["plan"].get("rounds", [])
    dropped = sum(len(r["dropped"]) for r in rounds)
    what = (
        f"race, {len(payload['runs'])} runs, {dropped} dropped"
        if plan["mode"] == "race"
        else f"grid, {plan['runs']} runs"
    )
    return f"{what}; est. {plan['estimated_seconds']:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "torch", "jax"])
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-full", action="store_true", help="no full-grid reference run")
    parser.add_argument("--skip-backbone", action="store_true", help="no --backbone run")
    parser.add_argument(
        "--default-only", action="store_true", help="of the image runs, only the default one"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_demo:
            demo = {}
            for jobs in (1, 2):
                out = f"{tmp}/demo{jobs}"
                seconds, payload, machine = timed_compare(["--jobs", str(jobs)], args.backend, out)
                demo[jobs] = (seconds, payload)
                target = "<= 120 s: " + ("met" if seconds <= 120 else "MISSED")
                rows.append([f"demo, --jobs {jobs}", planned(payload), f"{seconds:.0f} s",
                             machine, target, quality(payload)])  # fmt: skip
            same = [r["balanced_accuracy"] for r in demo[1][1]["runs"]] == [
                r["balanced_accuracy"] for r in demo[2][1]["runs"]
            ]
            speedup = demo[1][0] / demo[2][0]
            rows.append(["--jobs 2 vs --jobs 1", "", f"{speedup:.2f}x faster", "", "",
                         f"identical scores: {same}"])  # fmt: skip
        from classbalance.datasets import write_long_tailed_digit_images

        counts = write_long_tailed_digit_images(f"{tmp}/images")
        n_train = int(counts["train"].sum())
        image_runs = [
            ("default (--budget 10)", []),
            ("--budget 5", ["--budget", "5"]),
            ("--race --budget 0", ["--race", "--budget", "0"]),
        ]
        if args.default_only:
            del image_runs[1:]
        if not (args.skip_backbone or args.default_only):
            image_runs.append(("--backbone MobileNetV3Small (random weights)",
                               ["--backbone", "MobileNetV3Small", "--backbone-weights", "none",
                                "--embedding-cache", f"{tmp}/cache"]))  # fmt: skip
        if not (args.skip_full or args.default_only):
            image_runs.append(("full grid (--no-race --budget 0)", ["--no-race", "--budget", "0"]))
        results = {}
        for label, extra in image_runs:
            out = f"{tmp}/img-{len(results)}"
            results[label] = timed_compare(["--data", f"{tmp}/images", *extra], args.backend, out)
        reference = results.get("full grid (--no-race --budget 0)")
        group = (
            {r["strategy"] for r in reference[1]["summary"] if r["within_noise_of_best"]}
            if reference
            else set()
        )
        for label, (seconds, payload, machine) in results.items():
            target = ""
            if label.startswith(("default", "--backbone")):
                target = "<= 600 s: " + ("met" if seconds <= 600 else "MISSED")
            best = payload["summary"][0]["strategy"]
            agrees = ""
            if group and not label.startswith("--backbone"):  # other features: not comparable
                agrees = f"; in the full grid's ≈ group: {best in group}"
            rows.append([f"images ({n_train} train, 28x28 RGB, IR 100): {label}",
                         planned(payload), f"{seconds:.0f} s", machine, target,
                         quality(payload) + agrees])  # fmt: skip
            print(f"{label}: {payload['recommendation']}")
    print(f"Keras backend: {args.backend}; {os.cpu_count()} CPU cores")
    header = ["run", "plan", "wall time", "machine", "target", "balanced acc."]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
