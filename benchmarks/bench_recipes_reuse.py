"""Recipes reusing `none`'s model: wall time, steps and quality, this tree against an older one.

``classbalance compare --quick --no-race --budget 0`` (every strategy, 1 seed, 5 epochs, the
whole grid) on the built-in digits and on a long-tailed image folder (about 2,000 28x28 RGB
training images, imbalance ratio 100, written by
``classbalance.datasets.write_long_tailed_digit_images`` with its defaults), once with the
sources of ``--before`` (a ``src`` folder, e.g. ``git archive`` of an older commit) and once
with this tree's, in fresh interpreters timed from outside (imports included), one after the
other. The machine may be shared: its load average is printed with each run.

Per strategy: balanced accuracy and the ``steps`` the run trained itself (``+n``: on the shared
`none` model), before and after; then the wall times, their ratio and the steps trained in all.

Run: ``.venv/bin/python benchmarks/bench_recipes_reuse.py --before /tmp/before/src``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import markdown_table

HERE = Path(__file__).resolve().parents[1] / "src"


def timed(src: Path, args: list[str], out: str, backend: str) -> tuple[float, dict, str]:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(src))
    load = os.getloadavg()[0]
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "classbalance", "compare", "--quick", "--no-race", "--budget", "0",
         *args, "--out", out],
        check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    payload = json.loads((Path(out) / "results.json").read_text())
    return seconds, payload, f"load {load:.1f} -> {os.getloadavg()[0]:.1f}"


def steps(row: dict) -> str:
    return f"+{row['steps']}" if row.get("base") else str(row["steps"])


def total_steps(payload: dict) -> int:
    shared = payload.get("shared_models")
    if shared:
        return int(shared["total_steps"])
    return sum(int(r["steps"]) for r in payload["runs"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=Path, help="src folder of the old code")
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "torch", "jax"])
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        from classbalance.datasets import write_long_tailed_digit_images

        counts = write_long_tailed_digit_images(f"{tmp}/images")
        datasets = [("images", ["--data", f"{tmp}/images"])]
        if not args.skip_demo:
            datasets.insert(0, ("digits (demo)", []))
        timing_rows = []
        for label, extra in datasets:
            results = {}
            for which, src in (("before", args.before), ("after", HERE)):
                results[which] = timed(src, extra, f"{tmp}/{label[:6]}-{which}", args.backend)
            before, after = results["before"][1], results["after"][1]
            runs = {w: {r["strategy"]: r for r in results[w][1]["runs"]} for w in results}
            names = list(dict.fromkeys([*runs["before"], *runs["after"]]))
            rows = []
            for name in names:
                cells = []
                for which in ("before", "after"):
                    row = runs[which].get(name)
                    cells.append("-" if row is None else f"{row['balanced_accuracy']:.3f}")
                for which in ("before", "after"):
                    row = runs[which].get(name)
                    cells.append("-" if row is None else steps(row))
                seconds = runs["after"].get(name, {}).get("train_seconds")
                cells.append("-" if seconds is None else f"{seconds:.1f} s")
                rows.append([name, *cells])
            print(f"\n{label}: 1 seed, {after['config']['epochs']} epochs")
            print(markdown_table(
                ["strategy", "bal. acc. before", "after", "steps before", "after",
                 "train time after"], rows,
            ))  # fmt: skip
            tb, ta = results["before"][0], results["after"][0]
            timing_rows.append([label, f"{tb:.0f} s", f"{ta:.0f} s", f"{tb / ta:.2f}x",
                                f"{total_steps(before)} -> {total_steps(after)}",
                                f"{results['before'][2]}; {results['after'][2]}"])  # fmt: skip
        print(f"\nImages: {int(counts['train'].sum())} train. Keras backend {args.backend}; "
              f"{os.cpu_count()} CPU cores")  # fmt: skip
        print(markdown_table(
            ["data", "wall before", "wall after", "speed-up", "steps trained in all", "machine"],
            timing_rows,
        ))  # fmt: skip


if __name__ == "__main__":
    main()
