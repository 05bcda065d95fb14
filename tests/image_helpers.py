"""Real image files made from scikit-learn's digits (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits


def digit_array(i: int, size: int = 16) -> np.ndarray:
    """Digit image ``i`` of load_digits as uint8 pixels of shape (size, size)."""
    from PIL import Image

    images = load_digits().images
    pixels = (images[i % len(images)] * (255 / 16)).astype(np.uint8)
    return np.asarray(Image.fromarray(pixels).resize((size, size), Image.Resampling.BILINEAR))


def save_png(path: Path, pixels: np.ndarray, *, compress_level: int = 6) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.clip(np.asarray(pixels), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, format="PNG", compress_level=compress_level)
    return path


def digit_tree(root: Path, counts: dict[int, int], size: int = 16) -> Path:
    """root/<digit>/<k>.png: ``counts[d]`` distinct images of digit ``d``."""
    digits = load_digits()
    for d, n in counts.items():
        members = np.flatnonzero(digits.target == d)[:n]
        assert len(members) == n, f"digits has only {len(members)} images of {d}"
        for k, i in enumerate(members):
            save_png(root / str(d) / f"{k}.png", digit_array(int(i), size))
    return root
