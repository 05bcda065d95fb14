"""Data for ``compare``: load once, split once, reuse for every seed and strategy.

Sources (read by :mod:`classbalance.compare.readers`), in the order they are
recognized:

- nothing: the built-in long-tailed digits (balanced test set of 50 per class);
- ``multilabel-demo``: generated long-tailed multi-label features
  (:func:`classbalance.make_long_tailed_multilabel`);
- a folder with ``train/``, ``valid/`` (or ``val/``) and optionally ``test/``
  sub-folders, each a class-folder tree: used as given;
- a class-folder tree of images, a ``.csv`` of numeric features with a label
  column, or an ``.npz`` with arrays ``x`` and ``y``: split stratified;
- multi-label data (``--multilabel``, ``--label-cols``, ``--label-sep``, or an
  ``.npz`` whose ``y`` is multi-hot): split by iterative stratification.

``test=`` names a fixed test set of the same kind as the data; then only
train / valid are split. What depends on the kind of target (encoding,
counts, what to stratify on, the notes) comes from the data's
:class:`~classbalance.compare.task.Task`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

import classbalance as cb
from classbalance.compare.config import CompareError
from classbalance.compare.embeddings import Embedder, resolve_backbone
from classbalance.compare.readers import npz_has_multihot_y, read_part, split_layout, take_rows
from classbalance.compare.task import MULTI_LABEL, SINGLE_LABEL, Task

__all__ = [
    "MULTILABEL_DEMO",
    "DataSplit",
    "assemble",
    "check_part_shape",
    "embed_parts",
    "embedder_for",
    "load_data",
    "source_task",
    "standardize",
    "warn_notes",
]

MULTILABEL_DEMO = "multilabel-demo"


@dataclass
class DataSplit:
    """Train / validation / test arrays and the task they are for.

    ``y_*`` are class codes ``0..K-1`` (single-label) or multi-hot matrices
    of shape (n, n_labels) (multi-label), as ``task`` encodes them;
    ``classes`` holds the class or label names (one logit each). ``x_*`` are
    float32 features (standardized with training statistics) or ``uint8``
    images of shape (n, height, width, channels).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.data import DataSplit
    >>> from classbalance.compare.task import MULTI_LABEL
    >>> Y = np.array([[1, 0], [1, 1], [0, 0]], dtype=np.uint8)
    >>> x = np.zeros((3, 2), np.float32)
    >>> DataSplit(x, Y, x, Y, x, Y, ["a", "b"], "features", "", task=MULTI_LABEL).train_counts
    array([2, 1])
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[Any]
    kind: str  # "features" or "images"
    description: str
    test_source: str = "split"  # "split", "given" (--test or a test/ folder), "builtin"
    notes: list[str] = field(default_factory=list)
    task: Task = SINGLE_LABEL
    image_size: int | None = None  # the side images were read at (None: not an image folder)
    # Cross-validation (classbalance.compare.cv): ``pool`` holds the unsplit (x, y) of data
    # that came as one set (the split above is then one of several possible); ``cv`` the folds.
    pool: tuple[Any, np.ndarray] | None = field(default=None, repr=False)
    cv: Any = field(default=None, repr=False)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def train_counts(self) -> np.ndarray:
        return self.task.counts(self.y_train, self.n_classes)

    @property
    def test_counts(self) -> np.ndarray:
        return self.task.counts(self.y_test, self.n_classes)

    @property
    def val_counts(self) -> np.ndarray:
        return self.task.counts(self.y_val, self.n_classes)


def check_part_shape(key: str, x_part: Any, x_main: Any) -> None:
    """Refuse a ``valid`` / ``test`` part whose samples differ in shape from the training data."""
    if x_part.shape[1:] != x_main.shape[1:]:
        raise CompareError(
            f"The {key} data has samples of shape {x_part.shape[1:]} but the training "
            f"data {x_main.shape[1:]}; they must match."
        )


def standardize(split: dict[str, np.ndarray]) -> None:
    """Standardize ``x_train`` / ``x_val`` / ``x_test`` in place with training statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.data import standardize
    >>> split = {k: np.array([[0.0], [2.0]]) for k in ("x_train", "x_val", "x_test")}
    >>> standardize(split)
    >>> split["x_test"].ravel().tolist()
    [-1.0, 1.0]
    """
    x = split["x_train"]
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    for key in ("x_train", "x_val", "x_test"):
        split[key] = ((split[key] - mean) / std).astype(np.float32)


def source_task(cfg: Any) -> Task:
    """The task of ``cfg.data``: multi-label for the demo, the flags, or an .npz with multi-hot y.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig
    >>> from classbalance.compare.data import source_task
    >>> source_task(CompareConfig()).name, source_task(CompareConfig(label_sep="|")).name
    ('single-label', 'multi-label')
    """
    flagged = cfg.multilabel or cfg.label_cols or cfg.label_sep or cfg.data == MULTILABEL_DEMO
    if flagged or (cfg.data is not None and npz_has_multihot_y(Path(cfg.data))):
        return MULTI_LABEL
    return SINGLE_LABEL


# --------------------------------------------------------------------------- assembly
def _finish(
    arrays: dict[str, Any],
    classes: list[Any],
    task: Task,
    kind: str,
    source: str,
    test_source: str,
    *,
    scale: bool = True,
    warn: bool = True,
) -> DataSplit:
    """Standardize features, describe the data and note (and warn about) what it lacks."""
    if kind == "features" and scale:
        arrays = {k: v.astype(np.float32) if k.startswith("x") else v for k, v in arrays.items()}
        standardize(arrays)
    data = DataSplit(
        **arrays, classes=classes, kind=kind, description="", test_source=test_source, task=task
    )
    data.description = task.describe(source, data)
    data.notes.extend(task.notes(data))
    if warn:
        warn_notes(data, stacklevel=4)
    return data


def warn_notes(data: DataSplit, stacklevel: int = 2) -> None:
    """Warn the data's notes that start with ``Warning: `` (once each)."""
    for note in data.notes:
        if note.startswith("Warning: "):
            warnings.warn(note.removeprefix("Warning: "), UserWarning, stacklevel=stacklevel)


def assemble(parts: dict[str, tuple[Any, Any]], cfg: Any, source: str, task: Task) -> DataSplit:
    """Encode, check and split ``parts`` (``all`` or ``train``, optional ``valid`` / ``test``).

    Each part is ``(x, y)``; the other parts are encoded with the class or
    label names of the main one.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare import CompareConfig
    >>> from classbalance.compare.data import assemble
    >>> from classbalance.compare.task import MULTI_LABEL
    >>> rng = np.random.default_rng(0)
    >>> Y = (rng.random((200, 3)) < 0.3).astype(int)
    >>> data = assemble({"all": (rng.normal(size=(200, 4)), Y)}, CompareConfig(), "x", MULTI_LABEL)
    >>> data.n_classes, data.n_train + len(data.y_val) + len(data.y_test)
    (3, 200)
    """
    main_key = "train" if "train" in parts else "all"
    x_main, labels_main = parts[main_key]
    y_main, classes = task.encode(labels_main, None, source)
    if len(x_main) != len(y_main):
        raise CompareError(f"x has {len(x_main)} samples but y has {len(y_main)}.")
    task.check(classes, source)
    kind = "images" if x_main.ndim == 4 else "features"
    if kind == "features" and x_main.ndim != 2:
        raise CompareError(f"x must be 2-D features or images; got shape {x_main.shape}.")
    arrays: dict[str, Any] = {}
    for key, short in (("valid", "val"), ("test", "test")):
        if key in parts:
            x_part, labels = parts[key]
            check_part_shape(key, x_part, x_main)
            arrays[f"x_{short}"] = x_part
            arrays[f"y_{short}"] = task.encode(labels, classes, f"the {key} data")[0]
    seed = cfg.data_seed
    if "x_val" in arrays and "x_test" in arrays:
        arrays.update(x_train=x_main, y_train=y_main)
    elif "x_test" in arrays:  # --test given: split train / valid only
        train, val = task.split(y_main, val_size=cfg.val_size, seed=seed)
        arrays.update(x_train=take_rows(x_main, train), y_train=y_main[train])
        arrays.update(x_val=take_rows(x_main, val), y_val=y_main[val])
    elif "x_val" in arrays:  # train/ + valid/ without a test set: split test off train
        train, test = task.split(y_main, val_size=cfg.test_size, seed=seed)
        arrays.update(x_train=take_rows(x_main, train), y_train=y_main[train])
        arrays.update(x_test=take_rows(x_main, test), y_test=y_main[test])
    else:
        train, val, test = task.split(
            y_main, val_size=cfg.val_size, test_size=cfg.test_size, seed=seed
        )
        arrays.update(x_train=take_rows(x_main, train), y_train=y_main[train])
        arrays.update(x_val=take_rows(x_main, val), y_val=y_main[val])
        arrays.update(x_test=take_rows(x_main, test), y_test=y_main[test])
    test_source = "given" if "test" in parts else "split"
    # One set, split here: cross-validation may use all of it (classbalance.compare.cv), and
    # warns about the single split's notes only if it keeps that split.
    pooled = len(parts) == 1
    data = _finish(arrays, classes, task, kind, source, test_source, warn=not pooled or cfg.cv == 0)
    if pooled:
        data.pool = (x_main, y_main)
    return data


# --------------------------------------------------------------------------- built-in data
def _digits(cfg: Any) -> DataSplit:
    from classbalance.datasets import long_tailed_digits

    x, y, x_test, y_test = long_tailed_digits(cfg.imbalance_ratio, seed=cfg.data_seed)
    train, val = cb.stratified_split(y, val_size=cfg.val_size, seed=cfg.data_seed)
    arrays = {
        "x_train": x[train], "y_train": y[train], "x_val": x[val], "y_val": y[val],
        "x_test": x_test, "y_test": y_test,
    }  # fmt: skip
    data = _finish(
        arrays, list(range(10)), SINGLE_LABEL, "features", "digits", "builtin", scale=False
    )
    data.description = (
        f"scikit-learn digits, long-tailed (imbalance ratio {cfg.imbalance_ratio:g}, "
        "exponential profile), balanced test set of 50 per class"
    )
    return data


def _multilabel_demo(cfg: Any) -> DataSplit:
    demo = cb.make_long_tailed_multilabel(
        2000, n_val=500, n_test=2000, n_labels=10, n_features=32,
        imbalance_ratio=cfg.imbalance_ratio, seed=cfg.data_seed,
    )  # fmt: skip
    arrays = {
        "x_train": demo.x_train, "y_train": demo.Y_train, "x_val": demo.x_val,
        "y_val": demo.Y_val, "x_test": demo.x_test, "y_test": demo.Y_test,
    }  # fmt: skip
    labels = [f"label{i}" for i in range(10)]
    data = _finish(arrays, labels, MULTI_LABEL, "features", MULTILABEL_DEMO, "builtin")
    data.description = (
        f"generated long-tailed multi-label features (make_long_tailed_multilabel: 10 labels, "
        f"32 features, label rates 0.4 down to 0.4/{cfg.imbalance_ratio:g}); 2000 train / 500 "
        "valid / 2000 test, every label at rate 0.2 in the test set"
    )
    return data


def load_data(cfg: Any) -> DataSplit:
    """Load ``cfg.data`` (or the built-in data) and split it once.

    Parameters
    ----------
    cfg : CompareConfig
        Uses ``data``, ``test``, ``label_col``, ``label_cols``, ``label_sep``,
        ``multilabel``, ``image_size``, ``channels``, ``val_size``,
        ``test_size``, ``imbalance_ratio``, ``data_seed`` and the backbone's
        settings (``backbone``, ``backbone_weights``, ``embedding_cache``:
        images become embeddings, the data features).

    Returns
    -------
    DataSplit
        With the multi-label task for multi-label data (``cfg.multilabel``,
        ``label_cols`` or ``label_sep`` given, an ``.npz`` with a multi-hot
        ``y``, or ``multilabel-demo``).

    Raises
    ------
    CompareError
        A missing path, an unreadable file, a single class, an unknown or
        non-0/1 label column, label sets without ``--label-sep``, or a test
        set whose classes or labels differ from the training data's.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, load_data
    >>> data = load_data(CompareConfig())
    >>> data.kind, data.n_classes, len(data.y_test)
    ('features', 10, 500)
    >>> data = load_data(CompareConfig(data="multilabel-demo"))
    >>> data.task.name, data.y_train.shape, int(data.test_counts.min()) > 300
    ('multi-label', (2000, 10), True)
    """
    task = source_task(cfg)
    if cfg.data is None or (cfg.data == MULTILABEL_DEMO and not Path(cfg.data).exists()):
        if cfg.backbone is not None:
            raise CompareError(
                f"--backbone embeds images; the built-in {cfg.data or 'digits'} are features. "
                f"Give an image folder with --data. Received: backbone={cfg.backbone!r}"
            )
        if cfg.test is not None:
            if cfg.data is None:
                raise CompareError(
                    "--test needs --data (the built-in digits have their own test set)."
                )
            raise CompareError(f"--test needs your own --data ({MULTILABEL_DEMO} has a test set).")
        return _multilabel_demo(cfg) if cfg.data is not None else _digits(cfg)
    path = Path(cfg.data)
    if not path.exists():
        raise CompareError(f"--data {path} does not exist.")
    embedder = embedder_for(cfg)
    derived = cfg.image_size is None and embedder is None
    if embedder is not None:
        cfg = replace(cfg, image_size=embedder.backbone.image_size)
    layout = None if task.multilabel else split_layout(path)
    folders = dict(layout) if layout is not None else {"all": path}
    if cfg.test is not None and "test" in folders:
        raise CompareError(f"{path} has a test/ folder and --test was given too; use one of them.")
    parts: dict[str, tuple[Any, Any]] = {}
    for key, folder in folders.items():  # the main part (train or all) first: it fixes the size
        parts[key] = read_part(folder, cfg, "--data", task, embedder=embedder)
        if cfg.image_size is None and np.ndim(parts[key][0]) == 4:
            cfg = replace(cfg, image_size=int(parts[key][0].shape[1]))
    if cfg.test is not None:
        names = None
        if task.multilabel:  # a test set's labels are read against the training data's
            names = task.encode(parts["all"][1], None, str(path))[1]
        parts["test"] = read_part(Path(cfg.test), cfg, "--test", task, names, embedder)
    data = assemble(parts, cfg, str(path), task)
    data.image_size = cfg.image_size
    if derived and data.kind == "images":
        data.notes.append(
            f"Images read at {cfg.image_size}x{cfg.image_size}: the median shorter side of the "
            "training images, clipped to [8, 64] (--image-size to choose)."
        )
    if embedder is not None:
        data.notes.append(embedder.note())
    return data


def embedder_for(cfg: Any) -> Embedder | None:
    """The :class:`~.embeddings.Embedder` of ``cfg.backbone`` (None without one).

    Examples
    --------
    >>> from classbalance.compare import CompareConfig
    >>> from classbalance.compare.data import embedder_for
    >>> embedder_for(CompareConfig()) is None
    True
    """
    if cfg.backbone is None:
        return None
    backbone = resolve_backbone(cfg.backbone, cfg.backbone_weights, cfg.image_size, cfg.channels)
    return Embedder(backbone, cfg.embedding_cache)


def embed_parts(parts: dict[str, tuple[Any, Any]], cfg: Any) -> tuple[dict[str, Any], list[str]]:
    """Parts of arrays with their images replaced by ``cfg.backbone``'s embeddings, and a note.

    Unchanged (and no note) without a backbone. Raises :class:`CompareError`
    for features with a backbone.
    """
    embedder = embedder_for(cfg)
    if embedder is None:
        return parts, []
    out = {}
    for key, (x, y) in parts.items():
        if np.ndim(x) != 4:
            raise CompareError(
                f"`backbone` embeds images; x has shape {np.shape(x)} (features). Drop "
                f"`backbone`, or give images (n, height, width[, channels]). "
                f"Received: backbone={cfg.backbone!r}"
            )
        out[key] = (embedder.embed_array(x), y)
    return out, [embedder.note()]
