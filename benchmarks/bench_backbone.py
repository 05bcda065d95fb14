"""Transfer learning in ``classbalance compare --backbone``: embedding speed and the cache.

1. Embedding throughput (images/s) of the frozen network at its input size
   (224x224 RGB), batched as ``compare`` does it, for MobileNetV3Small and
   EfficientNetB0. Random weights (nothing is downloaded here): the cost is
   that of the ImageNet weights.
2. Two ``classbalance compare --backbone MobileNetV3Small`` runs in fresh
   interpreters on the same folder (a long-tailed ``train/ valid/ test/``
   folder of 96x96 RGB digits written by
   ``classbalance.datasets.write_long_tailed_digit_images``: about 2,000
   training images, imbalance ratio 100, a balanced test set of 50 per
   class), timed from outside: the first embeds every image, the second finds
   every embedding in the cache. Each row gives the wall time, the CPU
   seconds, the cache line of the report and the recommendation.
3. Loading that folder in this process (``load_data``) with an empty cache
   and again with the cache filled: the seconds the embedding costs, and what
   a cache hit costs (hashing every file and looking the hashes up).

Run: ``.venv/bin/python benchmarks/bench_backbone.py [--backend B] [--head N] [--args "..."]
[--skip-rates] [--skip-runs]`` (``--args``: compare options of both runs; default ``--quick
--budget 0``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import markdown_table, timed_compare


def embedding_rate(name: str, n: int = 256) -> tuple[float, float]:
    """Images per second and per CPU second of the frozen ``name`` on ``n`` random images.

    After one warm-up batch (building and compiling the network). The CPU
    seconds are the process's, all threads: on a shared machine the wall rate
    falls with the load, the rate per CPU second much less.
    """
    import numpy as np

    from classbalance.compare.embeddings import Embedder, resolve_backbone

    backbone = resolve_backbone(name, "none")
    embedder = Embedder(backbone, tempfile.mkdtemp())
    size = backbone.image_size
    images = np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    embedder.embed_images(images[:64])  # builds and compiles the network
    start, cpu = time.perf_counter(), time.process_time()
    embedder.embed_images(images)
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def load_seconds(work: Path, backend: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of ``load_data`` on ``work/data``, cache ``work/cache-load``."""
    import warnings

    from classbalance.compare import CompareConfig, load_data

    cache = str(work / "cache-load")
    cfg = CompareConfig(data=str(work / "data"), backbone="MobileNetV3Small",
                        backbone_weights="none", embedding_cache=cache)  # fmt: skip
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        data = load_data(cfg.resolved())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    note = data.notes[-1].split(": ", 1)[1].split(" (cache")[0]
    return seconds, cpu, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--head", type=int, default=800, help="training images of digit 0")
    parser.add_argument("--args", default="--quick --budget 0", help="compare options")
    parser.add_argument("--skip-rates", action="store_true")
    parser.add_argument("--skip-runs", action="store_true")
    opts = parser.parse_args()
    os.environ["KERAS_BACKEND"] = opts.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    rows = []
    if not opts.skip_rates:
        for name in ("MobileNetV3Small", "EfficientNetB0"):
            load = os.getloadavg()[0]
            rate, per_cpu = embedding_rate(name)
            rows.append([name, "224x224x3", f"{rate:.0f}", f"{per_cpu:.0f}", f"{load:.1f}"])
        print(f"Embedding throughput (Keras backend {opts.backend}, batches of 64):\n")
        header = ["backbone", "input", "images/s", "images per CPU s", "load"]
        print(markdown_table(header, rows), "\n", flush=True)

    from classbalance.datasets import write_long_tailed_digit_images

    work = Path(tempfile.mkdtemp(prefix="bench-backbone-"))
    counts = write_long_tailed_digit_images(work / "data", head=opts.head, size=96)
    n = sum(int(c.sum()) for c in counts.values())
    args = ["--data", str(work / "data"), "--backbone", "MobileNetV3Small",
            "--backbone-weights", "none", "--embedding-cache", str(work / "cache"),
            *shlex.split(opts.args)]  # fmt: skip
    print(f"{n} images of 96x96 ({int(counts['train'].sum())} train) in {work / 'data'}\n")
    rows = []
    for run in ("empty cache", "cache filled"):
        seconds, cpu, note = load_seconds(work, opts.backend)
        rows.append([run, f"{seconds:.1f} s", f"{cpu:.1f} CPU s", note])
    print("load_data in this process (MobileNetV3Small, random weights, 224x224):\n")
    print(markdown_table(["load", "wall", "cpu", "embeddings"], rows), "\n", flush=True)
    if opts.skip_runs:
        return
    rows = []
    for run in ("first (embeds)", "second (cache)"):
        seconds, payload, machine = timed_compare(args, opts.backend, str(work / f"out{len(rows)}"))
        cache = next(n for n in payload["notes"] if n.startswith("Embeddings of"))
        cached = cache.split(": ", 1)[1].split(" (cache")[0]
        rows.append([run, f"{seconds:.0f} s", machine, cached, payload["recommendation"]])
    print(
        f"compare {' '.join(args[2:])} on {n} images of 96x96 "
        f"({int(counts['train'].sum())} train), Keras backend {opts.backend}:\n"
    )
    print(markdown_table(["run", "wall", "machine", "embeddings", "recommendation"], rows))


if __name__ == "__main__":
    main()
