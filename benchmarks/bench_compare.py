"""Wall time of the main job: ``classbalance compare`` with its defaults.

All 11 strategies x 3 seeds x 30 epochs on the built-in long-tailed digits,
as ``make demo`` runs it, in a fresh interpreter (imports included), timed
from outside. Target: <= 120 s on this 2-core machine. Also times
``--quick`` (1 seed, 5 epochs), which the tests use.

Run: ``.venv/bin/python benchmarks/bench_compare.py [--backend tensorflow|torch]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import markdown_table


def timed(args: list[str], backend: str) -> float:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "classbalance", "compare", *args, "--out", out],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "torch"])
    args = parser.parse_args()
    rows = []
    for label, cli_args in (
        ("default (11 strategies x 3 seeds x 30 epochs)", []),
        ("--quick (11 strategies x 1 seed x 5 epochs)", ["--quick"]),
    ):
        seconds = timed(cli_args, args.backend)
        verdict = "" if cli_args else ("meets <= 120 s" if seconds <= 120 else "MISSES 120 s")
        rows.append([label, args.backend, f"{seconds:.0f} s", verdict])
    print(markdown_table(["run", "Keras backend", "wall time", "target"], rows))


if __name__ == "__main__":
    main()
