"""Decoding image files for compare: large JPEGs are decoded at a reduced scale, same picture."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PIL")
from PIL import Image

from classbalance.compare.readers import decode_images


def smooth_photo(width: int, height: int, seed: int) -> np.ndarray:
    """A smooth RGB picture (a few colour blobs), the kind a JPEG stores well."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    out = np.zeros((height, width, 3))
    for _ in range(6):
        cy, cx, r = rng.random(3) * [0.75, 1.0, 0.3] + [0, 0, 0.1]
        out += rng.random(3) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / r**2)[..., None]
    return (255 * out / out.max()).astype(np.uint8)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_large_jpeg_decodes_to_the_full_decode_resized(tmp_path, mode):
    """A 1024x768 JPEG cut to 32 pixels: the reduced-scale decode matches the full decode
    resized (mean absolute difference under 2 grey levels), in colour and in grayscale."""
    names = []
    for i in range(3):
        pixels = smooth_photo(1024, 768, i)
        img = Image.fromarray(pixels if mode == "RGB" else pixels.mean(-1).astype(np.uint8))
        img.save(tmp_path / f"{i}.jpg", quality=92)
        names.append(f"{i}.jpg")
    got, kept = decode_images(tmp_path, names, 32, "auto")
    assert kept.tolist() == [0, 1, 2]
    assert got.shape == (3, 32, 32, 3 if mode == "RGB" else 1)
    for i, name in enumerate(names):
        with Image.open(tmp_path / name) as img:  # no draft: every pixel decoded
            full = img.convert(mode).resize((32, 32), Image.Resampling.BILINEAR)
        want = np.asarray(full, dtype=np.float64).reshape(got[i].shape)
        assert np.abs(got[i] - want).mean() < 2.0


def test_small_images_are_decoded_as_before(tmp_path):
    """An image at or below the target size is decoded in full: pixels exactly as Pillow's."""
    pixels = smooth_photo(28, 28, 0)
    Image.fromarray(pixels).save(tmp_path / "a.jpg", quality=92)
    got, _ = decode_images(tmp_path, ["a.jpg"], 28, "3")
    with Image.open(tmp_path / "a.jpg") as img:
        want = np.asarray(img.convert("RGB"))
    np.testing.assert_array_equal(got[0], want)
