"""Transfer learning for ``compare``: embeddings of a frozen backbone, computed once per image.

``--backbone NAME`` is a Keras application (``MobileNetV3Small``,
``EfficientNetB0``, ``ResNet50``, ... as ``keras.applications`` names them),
built with ``include_top=False`` and global average pooling; or
``module:function`` / ``file.py:function``, a function ``(input_shape) ->
Keras model`` of the user's own whose input is float32 pixels in [0, 255]
(as Keras applications take them) and whose output is ``(batch, d)`` or a
feature map ``(batch, h, w, d)`` (averaged over space). The network only
predicts (``training=False``): it is frozen, and the remedies are compared on
a light head trained on its embeddings (the features path of ``compare``).

Weights: a Keras application loads ``weights="imagenet"`` as Keras loads it
on the user's machine (downloaded once into ``~/.keras``), or ``none``
(random, seeded: the same in every process), or a weights file. A user's
function builds its own weights; a file given is loaded into its model.

Embeddings are cached under a folder (``--embedding-cache``; default
``$CLASSBALANCE_CACHE_DIR`` or ``~/.cache/classbalance``), in a sub-folder per
backbone key (name, weights, image size, channels). Each write is one shard:
``<id>.emb.npy`` (float32 rows, opened as a memmap) and ``<id>.keys.npy`` (the
content hash of each image file, BLAKE2b of its bytes), each written
atomically, the keys last, so a reader sees whole shards only and processes
writing at once never corrupt each other. An image is found again whatever
its name or folder; arrays (an ``.npz``, the Python API) are keyed by the
hash of the whole array and the row.

Examples
--------
>>> import tempfile, numpy as np
>>> from classbalance.compare.embeddings import EmbeddingCache
>>> cache = EmbeddingCache(tempfile.mkdtemp(), "demo")
>>> keys = np.array([b"a" * 32, b"b" * 32])
>>> cache.store(keys, np.eye(2, dtype=np.float32))
>>> found, rows = cache.lookup(np.array([b"b" * 32, b"c" * 32]))
>>> found.tolist(), rows[0].tolist()
([True, False], [0.0, 1.0])
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classbalance._atomic import atomic_path
from classbalance.compare.config import CompareError
from classbalance.compare.models import call_model_function, load_function

__all__ = [
    "DEFAULT_IMAGE_SIZE",
    "Backbone",
    "Embedder",
    "EmbeddingCache",
    "application_names",
    "array_keys",
    "default_cache_dir",
    "file_keys",
    "resolve_backbone",
]

DEFAULT_IMAGE_SIZE = 224  # the ImageNet size: Keras applications' default, and a function's
# Keras applications whose default input is not 224 x 224 (keras.applications' docs).
_SIZES = {
    "InceptionV3": 299, "InceptionResNetV2": 299, "Xception": 299, "NASNetLarge": 331,
    "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300, "EfficientNetB4": 380,
    "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600,
    "EfficientNetV2B1": 240, "EfficientNetV2B2": 260, "EfficientNetV2B3": 300,
    "EfficientNetV2S": 384, "EfficientNetV2M": 480, "EfficientNetV2L": 480,
}  # fmt: skip
_EXAMPLES = ("MobileNetV3Small", "EfficientNetB0", "ResNet50", "ConvNeXtTiny")
_CHUNK = 256  # images decoded and embedded at a time (bounded memory)
_BATCH = 64  # images per model call
_FORMAT = 1  # bump when the stored layout or the embedding rule changes


def application_names() -> list[str]:
    """The Keras applications this Keras offers (``keras.applications``'s model functions)."""
    import keras

    return sorted(n for n in dir(keras.applications) if n[:1].isupper())


def default_cache_dir() -> Path:
    """``$CLASSBALANCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/classbalance``, else ``~/.cache/...``."""
    if os.environ.get("CLASSBALANCE_CACHE_DIR"):
        return Path(os.environ["CLASSBALANCE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "classbalance"


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=16).hexdigest().encode()


def _file_digest(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=16))
    except OSError:
        return b""  # not found again: decoding names the file
    return digest.hexdigest().encode()


def file_keys(root: Path, paths: Sequence[str]) -> np.ndarray:
    """Content keys of image files: the BLAKE2b hash of each file's bytes (``S32``, hex).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.compare.embeddings import file_keys
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.png").write_bytes(b"same"); _ = (d / "b.png").write_bytes(b"same")
    >>> keys = file_keys(d, ["a.png", "b.png"])
    >>> bool(keys[0] == keys[1]), keys.dtype
    (True, dtype('S32'))
    """
    # reading files is per file by nature
    return np.array([_file_digest(root / p) for p in paths], dtype="S32")


def array_keys(x: np.ndarray) -> np.ndarray:
    """Keys of the rows of an image array: the hash of the whole array, then the row number.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.embeddings import array_keys
    >>> keys = array_keys(np.zeros((3, 2, 2, 1), np.uint8))
    >>> len(set(keys.tolist())), keys.dtype
    (3, dtype('S32'))
    """
    x = np.ascontiguousarray(x)
    whole = _digest(f"{x.dtype}{x.shape}".encode() + _digest(memoryview(x).cast("B")))[:24]
    rows = np.char.zfill(np.arange(len(x)).astype("S8"), 8)
    return np.char.add(np.full(len(x), whole, dtype="S24"), rows).astype("S32")


class EmbeddingCache:
    """Embeddings on disk under ``root/key/``, looked up by content key (see the module doc)."""

    def __init__(self, root: str | os.PathLike[str], key: str) -> None:
        self.folder = Path(root) / key

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(found, rows)``: which keys are cached, and their embeddings (zeros where not)."""
        shards = sorted(self.folder.glob("*.keys.npy")) if self.folder.is_dir() else []
        found = np.zeros(len(keys), dtype=bool)
        rows = None
        for shard in shards:  # a few shards: one per run that computed something
            try:
                stored = np.load(shard)
                emb = np.load(shard.with_name(shard.name[: -len(".keys.npy")] + ".emb.npy"),
                              mmap_mode="r")  # fmt: skip
            except (OSError, ValueError):
                continue  # unreadable shard (removed meanwhile): computed again
            order = np.argsort(stored, kind="stable")
            pos = np.minimum(np.searchsorted(stored, keys, sorter=order), len(stored) - 1)
            hit = (stored[order[pos]] == keys) & ~found & (keys != b"")
            if not hit.any():
                continue
            if rows is None:
                rows = np.zeros((len(keys), emb.shape[1]), dtype=np.float32)
            rows[hit] = emb[order[pos[hit]]]
            found |= hit
        return found, rows

    def store(self, keys: np.ndarray, emb: np.ndarray) -> None:
        """Write one shard atomically (embeddings first, keys last); empty keys are not stored."""
        keep = keys != b""
        keys, emb = keys[keep], np.asarray(emb, dtype=np.float32)[keep]
        if not len(keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = _digest(keys.tobytes()).decode()
        for suffix, array in ((".emb.npy", emb), (".keys.npy", keys)):
            with atomic_path(self.folder / f"{name}{suffix}") as tmp, open(tmp, "wb") as fh:
                np.save(fh, array)


@dataclass(frozen=True)
class Backbone:
    """A resolved backbone: what to build, at which size, and the key of its cache."""

    spec: str
    weights: str | None
    image_size: int
    channels: int
    application: bool

    @property
    def key(self) -> str:
        """The cache sub-folder: a readable name and a hash of everything embeddings depend on."""
        ident: dict[str, Any] = {"spec": self.spec, "weights": self.weights, "format": _FORMAT,
                                 "size": self.image_size, "channels": self.channels}  # fmt: skip
        if self.weights not in (None, "imagenet"):  # a weights file: its content
            ident["weights"] = _file_digest(Path(str(self.weights))).decode()
        if not self.application:  # the user's function: its source file's content too
            module = self.spec.rpartition(":")[0]
            source = Path(module) if module.endswith(".py") else _module_file(module)
            ident["source"] = _file_digest(source).decode() if source else ""
        digest = _digest(json.dumps(ident, sort_keys=True).encode()).decode()[:16]
        label = "".join(c if c.isalnum() else "_" for c in self.spec.rpartition(":")[2])
        weights = "file" if self.weights not in (None, "imagenet") else self.weights
        weights = weights or ("none" if self.application else "own")
        return f"{label}-{self.image_size}-{weights}-{digest}"

    def describe(self) -> str:
        weights = f"weights {self.weights}"
        if self.weights is None:
            weights = "random weights" if self.application else "its own weights"
        return f"{self.spec} ({weights}) at {self.image_size}x{self.image_size}"


def _module_file(module: str) -> Path | None:
    loaded = sys.modules.get(module)
    name = getattr(loaded, "__file__", None)
    return Path(name) if name else None


def resolve_backbone(
    spec: str, weights: str | None = None, image_size: int | None = None, channels: str = "auto"
) -> Backbone:
    """Check ``--backbone`` / ``--backbone-weights`` and fix the image size and channels.

    Parameters
    ----------
    spec : str
        A Keras application name or ``"module:function"`` / ``"file.py:function"``.
    weights : str or None
        ``None``: ``"imagenet"`` for an application, the function's own for a
        function; ``"none"``: random (seeded); ``"imagenet"``; a weights file.
    image_size : int or None
        ``None``: what the application expects (224 for most; 299 for
        Inception; EfficientNetB1-B7 their own), 224 for a function.
    channels : {"auto", "1", "3"}
        ``"1"`` for a function on grayscale; RGB otherwise (grayscale is converted).

    Raises
    ------
    CompareError
        An unknown application (naming close and common ones), a function
        that cannot be imported, ``imagenet`` for a function, a missing
        weights file, or one channel for an application.

    Examples
    --------
    >>> from classbalance.compare.embeddings import resolve_backbone
    >>> b = resolve_backbone("EfficientNetB1")
    >>> b.weights, b.image_size, b.channels
    ('imagenet', 240, 3)
    """
    application = ":" not in spec
    if application:
        names = application_names()
        if spec not in names:
            close = difflib.get_close_matches(spec, names, n=3, cutoff=0.6)
            lower = [n for n in names if n.lower() == spec.lower()]
            hint = f" Did you mean {', '.join(lower or close)}?" if lower or close else ""
            raise CompareError(
                f"--backbone {spec!r} is not a Keras application.{hint} Give one of the "
                f"{len(names)} names of keras.applications (e.g. {', '.join(_EXAMPLES)}) or "
                f"'module:function' for your own. Received: backbone={spec!r}"
            )
    else:
        load_function(spec, "--backbone")  # fails now, in one line, if it cannot be imported
    if weights is not None and weights.lower() == "none":
        weights = None
    elif weights is None:
        weights = "imagenet" if application else None
    elif weights != "imagenet" and not Path(weights).is_file():
        raise CompareError(
            "--backbone-weights must be none, imagenet or an existing weights file. "
            f"Received: backbone_weights={weights!r}"
        )
    if weights == "imagenet" and not application:
        raise CompareError(
            f"--backbone-weights imagenet is for Keras applications; {spec} builds its own "
            "weights (give none or a weights file). Received: backbone_weights='imagenet'"
        )
    if application and str(channels) == "1":
        raise CompareError(
            f"{spec} takes RGB images; drop --channels 1 (grayscale is converted to RGB)."
        )
    size = image_size or (_SIZES.get(spec, DEFAULT_IMAGE_SIZE))
    return Backbone(spec, weights, int(size), 1 if str(channels) == "1" else 3, application)


@dataclass
class Embedder:
    """The frozen network of a :class:`Backbone` and its cache: images in, embeddings out.

    Built lazily (a run that finds every image in the cache never builds
    the network). ``computed`` / ``cached`` / ``seconds`` count what it did.
    """

    backbone: Backbone
    cache_dir: str | os.PathLike[str] | None = None
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0
    _model: Any = field(default=None, repr=False)
    _preprocess: Any = field(default=None, repr=False)

    @property
    def cache(self) -> EmbeddingCache:
        root = self.cache_dir if self.cache_dir is not None else default_cache_dir()
        return EmbeddingCache(Path(root) / "embeddings", self.backbone.key)

    def _build(self) -> None:
        import keras

        from classbalance.compare.training import isolated_random_state

        b = self.backbone
        shape = (b.image_size, b.image_size, b.channels)
        with isolated_random_state():  # random weights are the same in every process
            keras.utils.set_random_seed(0)
            if b.application:
                fn = getattr(keras.applications, b.spec)
                try:
                    model = fn(include_top=False, weights=b.weights, input_shape=shape,
                               pooling="avg")  # fmt: skip
                except Exception as exc:  # e.g. no network for the imagenet weights
                    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise CompareError(
                        f"--backbone {b.spec} with weights {b.weights} could not be built: {first}"
                    ) from exc
                self._preprocess = getattr(sys.modules[fn.__module__], "preprocess_input", None)
            else:
                model = self._user_model(keras, shape)
        self._model = model

    def _user_model(self, keras: Any, shape: tuple[int, int, int]) -> Any:
        spec, weights = self.backbone.spec, self.backbone.weights

        def make() -> Any:
            model = load_function(spec, "--backbone")(shape)
            if weights is not None and hasattr(model, "load_weights"):
                model.load_weights(weights)
            return model

        return call_model_function(make, f"backbone function {spec}")

    def _embed(self, images: np.ndarray) -> np.ndarray:
        """Embeddings of uint8 images already at the backbone's size, batch by batch."""
        import keras

        out = []
        for lo in range(0, len(images), _BATCH):
            batch = np.asarray(images[lo : lo + _BATCH], dtype=np.float32)
            n = len(batch)
            if n < _BATCH:  # pad: one batch shape, one compiled step
                batch = np.concatenate([batch, np.repeat(batch[-1:], _BATCH - n, axis=0)])
            if self._preprocess is not None:
                batch = self._preprocess(batch)
            # predict_on_batch: a compiled inference step (twice the speed of an eager call)
            emb = keras.ops.convert_to_numpy(self._model.predict_on_batch(batch))
            if emb.ndim == 4:  # a feature map: average over space
                emb = emb.mean(axis=(1, 2))
            if emb.ndim != 2:
                raise CompareError(
                    f"The backbone {self.backbone.spec} must output (batch, d) or a feature map "
                    f"(batch, h, w, d); its output has shape {emb.shape[1:]} per image."
                )
            out.append(emb[:n].astype(np.float32))
        return np.concatenate(out)

    def embed_images(self, images: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
        """Embeddings of uint8 images (n, size, size, c); cached under ``keys`` when given."""
        if self._model is None:
            self._build()
        start = time.perf_counter()
        emb = self._embed(images)
        self.seconds += time.perf_counter() - start
        self.computed += len(images)
        if keys is not None:
            self.cache.store(keys, emb)
        return emb

    def embed_array(self, x: np.ndarray) -> np.ndarray:
        """Embeddings of an image array of any size (resized here), cached by content."""
        x = fit_images(x, self.backbone)
        keys = array_keys(x)
        found, rows = self.cache.lookup(keys)
        self.cached += int(found.sum())
        if found.all():
            assert rows is not None
            return rows
        missing = np.flatnonzero(~found)
        emb = np.concatenate(
            [self.embed_images(x[idx], keys[idx]) for idx in np.array_split(
                missing, max(1, -(-len(missing) // _CHUNK)))]
        )  # fmt: skip
        if rows is None:
            rows = np.zeros((len(x), emb.shape[1]), dtype=np.float32)
        rows[missing] = emb
        return rows

    def note(self) -> str:
        """One line for the report: what was embedded, how fast, how much came from the cache."""
        rate = f" at {self.computed / self.seconds:.0f} images/s" if self.seconds > 0 else ""
        return (
            f"Embeddings of {self.backbone.describe()}: {self.cached + self.computed} images, "
            f"{self.cached} from the cache, {self.computed} computed{rate} "
            f"(cache: {self.cache.folder})."
        )


def fit_images(x: np.ndarray, backbone: Backbone) -> np.ndarray:
    """uint8 images resized to the backbone's size and channels (a batch at a time)."""
    n, h, w, c = x.shape
    size = backbone.image_size
    if c != backbone.channels:  # grayscale to RGB (or RGB to gray: the channel mean)
        x = np.repeat(x, 3, axis=-1) if c == 1 else x.mean(axis=-1, keepdims=True).astype(np.uint8)
    if (h, w) == (size, size):
        return x
    import keras

    out = np.empty((n, size, size, x.shape[-1]), dtype=np.uint8)
    for lo in range(0, n, _CHUNK):
        part = keras.ops.image.resize(x[lo : lo + _CHUNK].astype(np.float32), (size, size))
        out[lo : lo + _CHUNK] = np.clip(np.round(keras.ops.convert_to_numpy(part)), 0, 255)
    return out
