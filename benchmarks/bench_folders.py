"""Export speed and disk cost of image-folder oversampling.

Builds a long-tailed class-folder tree of N small files, then measures
``classbalance.folders.export``:

- files placed per second with hard links (the default) and with copies;
- bytes added on disk by the export, and by the oversampled rows alone
  (50% more rows than the plain split). Bytes are counted from the blocks of
  inodes that are new (not shared with the input), so hard links cost 0.

Targets: hard-link export >= 10,000 files/s; oversampled rows add 0 bytes of
image data (only ``labels.csv`` grows).

Run: ``python benchmarks/bench_folders.py [--n-files 100000] [--dir /tmp]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from classbalance.folders import export, oversample, scan


def build_tree(root: Path, n_files: int, n_classes: int = 10, size: int = 256) -> None:
    """Long-tailed tree: class c has about n * 0.7**c / sum files of ``size`` bytes."""
    shares = 0.7 ** np.arange(n_classes)
    counts = np.floor(shares / shares.sum() * n_files).astype(int)
    counts[0] += n_files - counts.sum()
    payload = os.urandom(size - 8)
    k = 0
    for c, n in enumerate(counts):
        folder = root / f"class_{c:02d}"
        folder.mkdir(parents=True)
        for i in range(n):
            with open(folder / f"img_{i:06d}.png", "wb") as fh:
                # Distinct bytes per file: identical files would be grouped as duplicates.
                fh.write(payload + k.to_bytes(8, "little"))
            k += 1


def new_bytes(out: Path, input_inodes: set[tuple[int, int]]) -> tuple[int, int]:
    """(bytes of new file data, bytes of labels.csv) under ``out``, by allocated blocks."""
    data = 0
    seen: set[tuple[int, int]] = set()
    for dirpath, _, filenames in os.walk(out):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            key = (st.st_dev, st.st_ino)
            if key in input_inodes or key in seen or name in ("labels.csv", "manifest.json"):
                continue
            seen.add(key)
            data += st.st_blocks * 512
    csv = os.lstat(out / "labels.csv").st_blocks * 512
    return data, csv


def timed_export(plan, out: Path, mode: str) -> tuple[float, int]:
    start = time.perf_counter()
    result = export(plan, out, mode=mode)
    return time.perf_counter() - start, result.n_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-files", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="Where to build the tree (default: /tmp).")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="cb-bench-folders-", dir=args.dir))
    try:
        data = base / "data"
        t0 = time.perf_counter()
        build_tree(data, args.n_files)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        manifest = scan(data)
        scan_s = time.perf_counter() - t0
        inodes = set()
        for dirpath, _, filenames in os.walk(data):
            for name in filenames:
                st = os.lstat(os.path.join(dirpath, name))
                inodes.add((st.st_dev, st.st_ino))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            plain = oversample(manifest, valid_pct=0.2, seed=0)
            plan_s = time.perf_counter() - t0
            n_train = int((~plain["is_valid"]).sum())
            # Add 50% of all rows as repeats, spread over classes like the training rows.
            factor = 0.5 * len(plain) / n_train
            grown = oversample(
                manifest, valid_pct=0.2, factors=dict.fromkeys(manifest["label"].unique(), factor),
                seed=0,
            )  # fmt: skip
        rows = []
        for mode in ("hardlink", "copy"):
            for name, plan in (("plain", plain), ("oversampled", grown)):
                out = base / f"out_{mode}_{name}"
                seconds, n_files = timed_export(plan, out, mode)
                data_bytes, csv_bytes = new_bytes(out, inodes)
                rows.append((mode, name, len(plan), n_files, seconds, data_bytes, csv_bytes))
                shutil.rmtree(out)

        print(f"tree: {args.n_files:,} files of 256 B in 10 classes under {base}")
        print(f"build {build_s:.1f} s, scan {scan_s:.2f} s ({args.n_files / scan_s:,.0f} files/s)")
        print(f"split plan with duplicate grouping (reads every file): {plan_s:.2f} s")
        print()
        print("| mode | plan | csv rows | files placed | time (s) | files/s | new file bytes "
              "| labels.csv bytes |")  # fmt: skip
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for mode, name, n_rows, n_files, seconds, data_bytes, csv_bytes in rows:
            print(
                f"| {mode} | {name} | {n_rows:,} | {n_files:,} | {seconds:.2f} | "
                f"{n_files / seconds:,.0f} | {data_bytes:,} | {csv_bytes:,} |"
            )
        by = {(m, n): (d, c) for m, n, _, _, _, d, c in rows}
        for mode in ("hardlink", "copy"):
            extra = by[(mode, "oversampled")][0] - by[(mode, "plain")][0]
            csv_extra = by[(mode, "oversampled")][1] - by[(mode, "plain")][1]
            print(
                f"{mode}: oversampled rows ({len(grown) - len(plain):,} of them) add "
                f"{extra:,} bytes of file data and {csv_extra:,} bytes of labels.csv"
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
