"""A labelled set of image pairs for the leakage guard: copies (positives) and distinct
images of the same class (negatives), made from scikit-learn's digits (no downloads).

Base images: ``load_digits`` 8x8 digits upscaled to 64x64 (bilinear); every other one is
tinted RGB, the rest grayscale. Copies of each base (the changes a data set picks up when an
image is saved twice): JPEG at quality 75, resized to 48x48, cropped by 3 pixels at the left
and top, converted RGB <-> L, brightened by 15%. Negatives: every pair of distinct bases of
the same digit (the hardest negatives a digit set has: same shape, other hand).

Layout, so that ``check_leakage(root)`` sees every labelled pair: ``root/<split>/<digit>/``;
the first half of each digit's bases are in ``train``, the rest in ``valid``, and each copy
is in the *other* split than its base (every copy is a leak). Negatives are within a split
or across.

Used by tests/test_leakage_precision.py and benchmarks/bench_leakage_precision.py.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIZE = 64
TRANSFORMS = ("jpeg_q75", "resized_48", "cropped_3px", "rgb_l_converted", "brightened_15pct")


def _base_images(per_class: int):
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = [], []
    tints = np.array([[1.0, 0.85, 0.6], [0.6, 0.9, 1.0], [0.9, 0.6, 0.9]])
    for c in range(10):
        for k, i in enumerate(np.flatnonzero(digits.target == c)[:per_class]):
            pixels = (digits.images[i] * (255 / 16)).astype(np.uint8)
            gray = Image.fromarray(pixels).resize((SIZE, SIZE), Image.Resampling.BILINEAR)
            if k % 2:
                rgb = np.asarray(gray)[:, :, None] * tints[(k // 2) % 3]
                images.append(Image.fromarray(rgb.astype(np.uint8), mode="RGB"))
            else:
                images.append(gray)
            labels.append(c)
    return images, np.array(labels)


def _copy(image, transform: str):
    """The image changed by ``transform``, and the format to save it in."""
    from PIL import Image, ImageEnhance

    if transform == "jpeg_q75":
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=75)
        return Image.open(io.BytesIO(buffer.getvalue())), "JPEG"
    if transform == "resized_48":
        return image.resize((48, 48), Image.Resampling.BILINEAR), "PNG"
    if transform == "cropped_3px":
        return image.crop((3, 3, SIZE, SIZE)), "PNG"
    if transform == "rgb_l_converted":
        return image.convert("L" if image.mode == "RGB" else "RGB"), "PNG"
    if transform == "brightened_15pct":
        return ImageEnhance.Brightness(image).enhance(1.15), "PNG"
    raise ValueError(f"unknown transform {transform!r}")


@dataclass
class PairSet:
    """Files on disk and the labelled pairs between them (indices into ``paths``)."""

    paths: list[Path]
    labels: np.ndarray  # digit of each file
    positives: np.ndarray  # (n, 2): base, copy
    transform: np.ndarray  # name of the change of each positive
    negatives: np.ndarray  # (m, 2): two distinct bases of one digit


def build_pairs(root: Path, per_class: int = 30) -> PairSet:
    """Write the bases and their copies under ``root`` and list the labelled pairs."""
    images, labels = _base_images(per_class)
    rank = np.concatenate([np.arange(np.sum(labels == c)) for c in range(10)])
    split = np.where(rank < per_class // 2, "train", "valid")
    paths, file_labels, positives, transform = [], [], [], []
    for b, image in enumerate(images):  # one file per image: writing files is per file
        path = root / split[b] / str(labels[b]) / f"base_{b:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, format="PNG")
        paths.append(path)
        file_labels.append(labels[b])
    for b, image in enumerate(images):
        other = "valid" if split[b] == "train" else "train"
        for name in TRANSFORMS:
            changed, fmt = _copy(image, name)
            suffix = "jpg" if fmt == "JPEG" else "png"
            path = root / other / str(labels[b]) / f"copy_{b:04d}_{name}.{suffix}"
            changed.save(path, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
            positives.append((b, len(paths)))
            transform.append(name)
            paths.append(path)
            file_labels.append(labels[b])
    negatives = [
        pair
        for c in range(10)
        for pair in itertools.combinations(np.flatnonzero(labels == c).tolist(), 2)
    ]
    return PairSet(
        paths=paths,
        labels=np.array(file_labels),
        positives=np.array(positives),
        transform=np.array(transform),
        negatives=np.array(negatives),
    )


def reported(pairs: PairSet, report) -> tuple[np.ndarray, np.ndarray]:
    """Which labelled pairs a :class:`~classbalance.leakage.LeakageReport` puts together.

    The report links each duplicate to the first file of its group (not every pair), so
    a labelled pair counts as reported when its two files are in one group (a connected
    component of the report's links), as a user reading the groups would see them.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = {str(p): k for k, p in enumerate(pairs.paths)}
    a = np.array([index[p] for p in report.pairs["path_a"]], dtype=np.int64)
    b = np.array([index[p] for p in report.pairs["path_b"]], dtype=np.int64)
    n = len(pairs.paths)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    group = connected_components(graph, directed=False)[1]

    def together(index_pairs: np.ndarray) -> np.ndarray:
        return group[index_pairs[:, 0]] == group[index_pairs[:, 1]]

    return together(pairs.positives), together(pairs.negatives)


def pair_distances(pairs: PairSet) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every positive and negative pair as the leakage guard sees it.

    Hashes through :func:`classbalance.leakage.hash_files`: identical bytes or decoded
    pixels count as distance -1 (always reported); otherwise the Hamming distance of the
    two 64-bit perceptual hashes.
    """
    from classbalance.leakage import hash_files

    h = hash_files(pairs.paths)
    phash = h["phash"].to_numpy(dtype=np.uint64)
    exact = [h["bytes_hash"].to_numpy(), h["pixel_hash"].to_numpy()]

    def distance(index: np.ndarray) -> np.ndarray:
        a, b = index[:, 0], index[:, 1]
        d = np.bitwise_count(phash[a] ^ phash[b]).astype(np.int64)
        for column in exact:
            d[(column[a] == column[b]) & (column[a] != None)] = -1  # noqa: E711
        return d

    return distance(pairs.positives), distance(pairs.negatives)


def curve(positive: np.ndarray, negative: np.ndarray, thresholds) -> list[dict]:
    """Recall on the copies and false-positive rate on distinct pairs at each threshold."""
    return [
        {
            "threshold": int(t),
            "recall": float(np.mean(positive <= t)),
            "false_positive_rate": float(np.mean(negative <= t)),
            "false_positives": int(np.sum(negative <= t)),
        }
        for t in thresholds
    ]
