"""Leakage guard at scale: hashing speed and near-duplicate search on many small images.

Builds N small PNG images (16x16 grayscale, smooth random patterns) split
80/20 into ``train/`` and ``valid/`` with two classes, plus planted copies
in ``valid/``: 1% byte-identical, 1% re-encoded (other PNG compression
level) and 1% brightened by 3 levels. Then measures, on files in the page
cache (one warm-up pass first):

- exact-duplicate hashing (file bytes): files/s;
- full hashing (bytes + decoded pixels + 64-bit phash): files/s;
- near-duplicate search over the N hashes (multi-index, threshold 4 and 8);
- ``check_leakage`` end to end, and that it finds every planted copy;
- imagededup's hashing ``PHash().find_duplicates`` if it imports.

Targets: exact-duplicate check >= 20,000 files/s; near search of 100,000
hashes <= 10 s.

Run: ``python benchmarks/bench_leakage.py [--n-files 100000] [--dir /tmp]``

``--save-hashes FILE.npy`` keeps the N perceptual hashes; ``--hashes FILE.npy``
then times only the near search on them (no images built), so two versions
of :func:`~classbalance.leakage.near_pairs` can be timed on the same hashes
(``--repeat`` runs per threshold, ``--thresholds`` which ones).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from _common import markdown_table
from classbalance.leakage import check_leakage, hash_files, near_pairs


def build(root: Path, n: int, seed: int = 0) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(n, 4, 4), dtype=np.uint8)
    paths = []
    for k in range(n):  # one file per image: writing files is per file
        split = "valid" if k % 5 == 0 else "train"
        label = "a" if k % 3 else "b"
        path = root / split / label / f"{k:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(coarse[k]).resize((16, 16), Image.Resampling.BILINEAR).save(path)
        paths.append(path)
    train = [p for k, p in enumerate(paths) if k % 5]
    m = n // 100
    picks = rng.choice(len(train), size=3 * m, replace=False)
    for c, t in enumerate(picks[:m]):
        src = train[t]
        (root / "valid" / src.parent.name / f"copy_{c}.png").write_bytes(src.read_bytes())
    for c, t in enumerate(picks[m : 2 * m]):
        src = train[t]
        with Image.open(src) as img:
            img.save(root / "valid" / src.parent.name / f"recoded_{c}.png", compress_level=0)
    for c, t in enumerate(picks[2 * m :]):
        src = train[t]
        with Image.open(src) as img:
            pixels = np.clip(np.asarray(img).astype(int) + 3, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / "valid" / src.parent.name / f"bright_{c}.png")
    return {"bytes": m, "pixels": m, "near": m}


def search_only(hashes: np.ndarray, thresholds: list[int], repeat: int) -> None:
    """Time :func:`near_pairs` alone on saved hashes; best and all run times."""
    rows = []
    for threshold in thresholds:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            i, _, _ = near_pairs(hashes, threshold=threshold)
            times.append(time.perf_counter() - t0)
        rows.append([f"near search, threshold {threshold}", f"{len(hashes):,} hashes",
                     f"{min(times):.2f}", ", ".join(f"{t:.2f}" for t in times),
                     f"{len(i):,} links"])  # fmt: skip
    print(markdown_table(["step", "items", "best (s)", "runs (s)", "result"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-files", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="Where to build the images (default: /tmp).")
    parser.add_argument("--save-hashes", default=None, help="Save the phash array (.npy).")
    parser.add_argument("--hashes", default=None,
                        help="Time only the near search on saved hashes (.npy).")  # fmt: skip
    parser.add_argument("--thresholds", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--repeat", type=int, default=1, help="Runs per threshold (--hashes).")
    args = parser.parse_args()
    if args.hashes is not None:
        search_only(np.load(args.hashes), args.thresholds, args.repeat)
        return
    base = Path(tempfile.mkdtemp(prefix="cb-bench-leakage-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        planted = build(base, args.n_files)
        build_s = time.perf_counter() - t0
        files = sorted(str(p) for p in base.rglob("*.png"))
        n = len(files)
        hash_files(files, pixels=False, near=False)  # warm the page cache
        rows = []

        t0 = time.perf_counter()
        hash_files(files, pixels=False, near=False)
        exact_s = time.perf_counter() - t0
        rows.append(["hash file bytes (exact duplicates)", f"{n:,}", f"{exact_s:.2f}",
                     f"{n / exact_s:,.0f} files/s"])  # fmt: skip

        t0 = time.perf_counter()
        full = hash_files(files, pixels=True, near=True)
        full_s = time.perf_counter() - t0
        rows.append(["hash bytes + pixels + phash", f"{n:,}", f"{full_s:.2f}",
                     f"{n / full_s:,.0f} files/s"])  # fmt: skip

        hashes = full["phash"].to_numpy()
        if args.save_hashes is not None:
            np.save(args.save_hashes, hashes)
        for threshold in args.thresholds:
            t0 = time.perf_counter()
            i, _, _ = near_pairs(hashes, threshold=threshold)
            search_s = time.perf_counter() - t0
            rows.append([f"near search, threshold {threshold} (multi-index)", f"{n:,} hashes",
                         f"{search_s:.2f}", f"{len(i):,} links"])  # fmt: skip

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check_leakage(base)
        check_s = time.perf_counter() - t0
        found = report.summary()["leaks"]
        leaked = set(report.leaks["path_a"]) | set(report.leaks["path_b"])
        caught = {
            kind: sum(1 for p in leaked if p.rsplit("/", 1)[-1].startswith(prefix))
            for kind, prefix in (("bytes", "copy_"), ("pixels", "recoded_"), ("near", "bright_"))
        }
        verdict = f"leak links {found}; planted copies caught {caught} of {planted}"
        rows.append(["check_leakage end to end", f"{n:,}", f"{check_s:.2f}", verdict])

        try:
            from imagededup.methods import PHash
        except Exception as exc:  # not installed, or its import fails (torchvision)
            rows.append(["imagededup PHash().find_duplicates", "-", "-",
                         f"not run: {type(exc).__name__}: {exc}"])  # fmt: skip
        else:
            t0 = time.perf_counter()
            PHash(verbose=False).find_duplicates(image_dir=str(base / "train"),
                                                 max_distance_threshold=4)  # fmt: skip
            idd_s = time.perf_counter() - t0
            rows.append(["imagededup PHash().find_duplicates (train/ only)", "-",
                         f"{idd_s:.2f}", ""])  # fmt: skip

        print(f"{n:,} PNG files of 16x16 pixels under {base} (built in {build_s:.0f} s)")
        print()
        print(markdown_table(["step", "items", "time (s)", "result"], rows))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
