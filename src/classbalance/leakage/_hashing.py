"""Content hashes of files: bytes, decoded pixels and a 64-bit perceptual hash.

Nothing here knows about folders or splits: it hashes a list of paths.
Files are only opened for reading.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["hash_files"]

_READ_CHUNK = 1 << 20


def _file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            digest = hashlib.blake2b(digest_size=16)
            while chunk := fh.read(_READ_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _image_digests(path: str, want_pixels: bool, want_phash: bool) -> tuple[str | None, Any]:
    from PIL import Image

    imagehash = _imagehash() if want_phash else None
    try:
        with Image.open(path) as img:
            img.load()
            mode = "RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB"
            canon = img.convert(mode)
    except Exception:  # Pillow raises many types for corrupt or non-image files
        return None, None
    pixel = None
    if want_pixels:
        digest = hashlib.blake2b(f"{mode}{canon.size}".encode(), digest_size=16)
        digest.update(canon.tobytes())
        pixel = digest.hexdigest()
    bits = imagehash.phash(canon).hash.ravel() if imagehash is not None else None
    return pixel, bits


def _imagehash() -> Any:
    from classbalance._optional import require

    return require("imagehash", "near-duplicate search")


def hash_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    pixels: bool = True,
    near: bool = True,
) -> pd.DataFrame:
    """Content hashes of files: bytes, decoded pixels and a 64-bit perceptual hash.

    Parameters
    ----------
    paths : sequence of paths
        Files to hash (only read).
    pixels : bool, default=True
        Decode each image (Pillow) and hash its pixels (catches re-encoded copies).
    near : bool, default=True
        Also compute ``imagehash.phash`` (64 bits) for near-duplicate search.

    Returns
    -------
    DataFrame
        One row per path: ``bytes_hash`` (hex, None if unreadable),
        ``pixel_hash`` (hex, None if not decodable or not asked),
        ``phash`` (uint64, 0 where missing) and ``readable`` (bool: the file
        could be read and, when ``pixels`` or ``near``, decoded).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.leakage import hash_files
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.bin").write_bytes(b"same"); _ = (d / "b.bin").write_bytes(b"same")
    >>> h = hash_files([d / "a.bin", d / "b.bin", d / "gone.bin"], pixels=False, near=False)
    >>> h["bytes_hash"].iloc[0] == h["bytes_hash"].iloc[1], h["readable"].tolist()
    (True, [True, True, False])
    """
    names = [os.fspath(p) for p in paths]
    n = len(names)
    # One open per file: reading files is inherently per file.
    byte_hashes = [_file_digest(p) for p in names]
    readable = np.array([h is not None for h in byte_hashes], dtype=bool)
    pixel_hashes: list[str | None] = [None] * n
    phash = np.zeros(n, dtype=np.uint64)
    if pixels or near:
        from classbalance._optional import require

        require("PIL.Image", "Pixel and perceptual hashing")
        if near:
            _imagehash()
        bits = np.zeros((n, 64), dtype=bool)
        for k in np.flatnonzero(readable).tolist():
            pixel, b = _image_digests(names[k], pixels, near)
            if pixel is None and b is None:
                readable[k] = False
                continue
            pixel_hashes[k] = pixel
            if b is not None:
                bits[k] = b
        if near:
            phash = np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)
    return pd.DataFrame(
        {
            "bytes_hash": pd.array(byte_hashes, dtype=object),
            "pixel_hash": pd.array(pixel_hashes, dtype=object),
            "phash": phash,
            "readable": readable,
        }
    )
