"""Wall time and quality of the main job, ``classbalance compare``, with its defaults.

Three runs in fresh interpreters (imports included), timed from outside:

1. the demo (built-in long-tailed digits, every strategy x 3 seeds x 30 epochs)
   with ``--jobs 1`` and with ``--jobs 2``: the parallel speed-up, and a check
   that both give the same scores;
2. a long-tailed image folder (``train/ valid/ test/``, about 2,000 28x28 RGB
   training images, imbalance ratio 100, balanced test set of 50 per class,
   written by ``classbalance.datasets.write_long_tailed_digit_images``) with
   default settings.

Targets: demo <= 120 s; image folder <= 10 minutes; best strategy >= 0.90
balanced accuracy on the digits and >= 0.80 on the images.

Run: ``.venv/bin/python benchmarks/bench_compare.py [--backend tensorflow|torch|jax]``.
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


def timed(args: list[str], backend: str, out: str) -> tuple[float, dict]:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "classbalance", "compare", *args, "--out", out],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    return seconds, json.loads((Path(out) / "results.json").read_text())


def quality(payload: dict) -> str:
    best = payload["summary"][0]
    none = next((r for r in payload["summary"] if r["strategy"] == "none"), None)
    text = f"best `{best['strategy']}` {best['balanced_accuracy']:.3f}"
    return text + (f"; none {none['balanced_accuracy']:.3f}" if none else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "torch", "jax"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        demo = {}
        for jobs in (1, 2):
            seconds, payload = timed(["--jobs", str(jobs)], args.backend, f"{tmp}/demo{jobs}")
            demo[jobs] = (seconds, payload)
            target = "<= 120 s: " + ("met" if seconds <= 120 else "MISSED")
            rows.append([f"demo, --jobs {jobs}", f"{seconds:.0f} s", target, quality(payload)])
        same = [r["balanced_accuracy"] for r in demo[1][1]["runs"]] == [
            r["balanced_accuracy"] for r in demo[2][1]["runs"]
        ]
        speedup = demo[1][0] / demo[2][0]
        rows.append(
            ["--jobs 2 vs --jobs 1", f"{speedup:.2f}x faster", "", f"identical scores: {same}"]
        )
        from classbalance.datasets import write_long_tailed_digit_images

        counts = write_long_tailed_digit_images(f"{tmp}/images", imbalance_ratio=100, head=800)
        n_train = int(counts["train"].sum())
        seconds, payload = timed(["--data", f"{tmp}/images"], args.backend, f"{tmp}/img")
        target = "<= 600 s: " + ("met" if seconds <= 600 else "MISSED")
        jobs = payload["config"]["jobs"]
        rows.append(
            [
                f"image folder ({n_train} train images, 28x28 RGB, IR 100), --jobs {jobs}",
                f"{seconds:.0f} s",
                target,
                quality(payload),
            ]
        )
    print(f"Keras backend: {args.backend}; {os.cpu_count()} CPU cores")
    print(markdown_table(["run (default settings)", "wall time", "target", "balanced acc."], rows))


if __name__ == "__main__":
    main()
