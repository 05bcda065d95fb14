"""Which remedy works on my data? Train the same model under each strategy and compare.

The main job of ``classbalance compare``. Every strategy is a named recipe built
only from the public API; all share the model, optimizer, batch size, epochs
and seeds. Scores come from a held-out test set that no strategy and no knob
ever sees (knobs are fixed defaults or chosen on the validation split).

Default data: scikit-learn's bundled digits made long-tailed (exponential
profile, imbalance ratio 50) with a balanced test set carved out first.

Examples
--------
>>> from classbalance.compare import STRATEGIES, CompareConfig
>>> len(STRATEGIES), CompareConfig(quick=True).resolved().epochs
(11, 5)
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import classbalance as cb
from classbalance._optional import require
from classbalance._validation import check_positive_int

__all__ = [
    "STRATEGIES",
    "CompareConfig",
    "CompareError",
    "CompareResult",
    "DataSplit",
    "load_data",
    "run_compare",
    "write_report",
]

METRICS = ("balanced_accuracy", "macro_f1", "g_mean", "min_recall", "accuracy")


class CompareError(ValueError):
    """Bad input for ``compare``: the message is one readable line."""


@dataclass
class DataSplit:
    """Train / validation / test arrays with integer labels ``0..K-1``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[Any]
    kind: str  # "features" or "images"
    description: str

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def train_counts(self) -> np.ndarray:
        return np.bincount(self.y_train, minlength=self.n_classes)


@dataclass
class CompareConfig:
    """Settings of one comparison (all recorded in ``results.json``)."""

    data: str | None = None
    strategies: Sequence[str] | None = None
    seeds: int = 3
    epochs: int = 30
    batch_size: int = 32
    imbalance_ratio: float = 50.0
    label_col: str = "label"
    image_size: int = 28
    val_size: float = 0.2
    test_size: float = 0.2
    learning_rate: float = 3e-3
    quick: bool = False
    out: str = "compare-report"

    def resolved(self) -> CompareConfig:
        """Apply ``quick`` (1 seed, 5 epochs) and validate."""
        cfg = CompareConfig(**asdict(self))
        if cfg.quick:
            cfg.seeds = 1
            cfg.epochs = min(cfg.epochs, 5)
        cfg.seeds = check_positive_int(cfg.seeds, "seeds")
        cfg.epochs = check_positive_int(cfg.epochs, "epochs")
        cfg.batch_size = check_positive_int(cfg.batch_size, "batch_size")
        names = list(cfg.strategies) if cfg.strategies else list(STRATEGIES)
        unknown = [n for n in names if n not in STRATEGIES]
        if unknown:
            raise CompareError(
                f"Unknown strategies {unknown}; choose from: {', '.join(STRATEGIES)}."
            )
        cfg.strategies = names
        if not cfg.imbalance_ratio >= 1:
            raise CompareError(f"--imbalance-ratio must be >= 1, got {cfg.imbalance_ratio}.")
        return cfg


# --------------------------------------------------------------------------- data
def _builtin(cfg: CompareConfig, seed: int) -> DataSplit:
    from classbalance.datasets import long_tailed_digits

    x, y, x_test, y_test = long_tailed_digits(cfg.imbalance_ratio, seed=seed)
    train, val = cb.stratified_split(y, val_size=cfg.val_size, seed=seed)
    return DataSplit(
        x[train],
        y[train],
        x[val],
        y[val],
        x_test,
        y_test,
        classes=list(range(10)),
        kind="features",
        description=(
            f"scikit-learn digits, long-tailed (imbalance ratio {cfg.imbalance_ratio:g}, "
            "exponential profile), balanced test set of 50 per class"
        ),
    )


def _load_images(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    from classbalance.folders import scan

    image = require("PIL.Image", "compare on an image folder")
    manifest = scan(path)
    if len(manifest) == 0:
        raise CompareError(f"No images found under {path}.")
    arrays = []
    for rel in manifest["path"]:
        with image.open(path / rel) as img:
            arrays.append(np.asarray(img.convert("L").resize((size, size)), dtype=np.float32))
    x = np.stack(arrays)[..., None] / 255.0
    return x, manifest["label"].to_numpy()


def _load_table(path: Path, label_col: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CompareError(f"Could not read {path} as CSV: {str(exc).splitlines()[0]}") from exc
    if label_col not in frame.columns:
        raise CompareError(
            f"{path} has no label column {label_col!r} (columns: {list(frame.columns)[:10]}); "
            "name it with --label-col."
        )
    features = frame.drop(columns=[label_col])
    bad = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise CompareError(f"Feature columns must be numeric; {bad[:5]} are not.")
    if features.shape[1] == 0:
        raise CompareError(f"{path} has no feature columns besides {label_col!r}.")
    return features.to_numpy(np.float32), frame[label_col].to_numpy()


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("x", "y") if k not in data.files]
            if missing:
                raise CompareError(
                    f"{path} must hold arrays named 'x' and 'y'; missing {missing} "
                    f"(found {data.files})."
                )
            x, y = data["x"], data["y"]
    except (OSError, ValueError) as exc:
        if isinstance(exc, CompareError):
            raise
        raise CompareError(f"Could not read {path} as .npz: {exc}") from exc
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    return x, y


def load_data(cfg: CompareConfig, seed: int = 0) -> DataSplit:
    """Load ``cfg.data`` (or the built-in digits) and split it.

    A class-folder tree becomes grayscale images of ``image_size``; a CSV
    becomes numeric features with labels in ``label_col``; an ``.npz`` holds
    ``x`` and ``y``. User data is split stratified into train / validation /
    test; features are standardized with training statistics only.
    """
    if cfg.data is None:
        return _builtin(cfg, seed)
    path = Path(cfg.data)
    if not path.exists():
        raise CompareError(f"--data {path} does not exist.")
    if path.is_dir():
        x, labels = _load_images(path, cfg.image_size)
    elif path.suffix.lower() == ".csv":
        x, labels = _load_table(path, cfg.label_col)
    elif path.suffix.lower() == ".npz":
        x, labels = _load_npz(path)
    else:
        raise CompareError(
            f"--data must be a class-folder directory, a .csv or a .npz file; got {path.name}."
        )
    if len(x) != len(labels):
        raise CompareError(f"x has {len(x)} samples but y has {len(labels)}.")
    try:
        enc = cb.encode_labels(labels, name="y", function="compare")
    except (ValueError, TypeError) as exc:
        raise CompareError(str(exc)) from exc
    if int((enc.counts() > 0).sum()) < 2:
        raise CompareError(
            f"{path} has a single class ({enc.classes.tolist()}); comparing remedies for "
            "imbalance needs at least two classes."
        )
    y = enc.codes.astype(np.int64)
    train, val, test = cb.stratified_split(
        y, val_size=cfg.val_size, test_size=cfg.test_size, seed=seed
    )
    kind = "images" if x.ndim == 4 else "features"
    if kind == "features":
        if x.ndim != 2:
            raise CompareError(f"x must be 2-D features or images; got shape {x.shape}.")
        mean = x[train].mean(axis=0)
        std = x[train].std(axis=0)
        x = (x - mean) / np.where(std > 0, std, 1.0)
    return DataSplit(
        x[train],
        y[train],
        x[val],
        y[val],
        x[test],
        y[test],
        classes=enc.classes.tolist(),
        kind=kind,
        description=f"{path} ({len(y)} samples, {enc.n_classes} classes, stratified "
        f"train/val/test {1 - cfg.val_size - cfg.test_size:.0%}/{cfg.val_size:.0%}/"
        f"{cfg.test_size:.0%})",
    )


# --------------------------------------------------------------------------- models
@dataclass
class _Context:
    keras: Any
    data: DataSplit
    cfg: CompareConfig
    seed: int

    def model(self, loss: Any = None) -> Any:
        """A fresh compiled model (logits out), seeded."""
        keras = self.keras
        keras.utils.set_random_seed(self.seed)
        d = self.data
        if d.kind == "features":
            layers = [
                keras.Input(d.x_train.shape[1:]),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(d.n_classes),
            ]
        else:
            layers = [
                keras.Input(d.x_train.shape[1:]),
                keras.layers.Conv2D(16, 3, activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Conv2D(32, 3, activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(d.n_classes),
            ]
        model = keras.Sequential(layers)
        model.compile(
            optimizer=keras.optimizers.Adam(self.cfg.learning_rate),
            loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=False,
        )
        return model

    def fit(self, model: Any, **kwargs: Any) -> Any:
        d = self.data
        if "x" not in kwargs:
            kwargs.update(x=d.x_train, y=d.y_train, batch_size=self.cfg.batch_size, shuffle=True)
        model.fit(epochs=self.cfg.epochs, verbose=0, **kwargs)
        return model

    def logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        # A direct call per chunk: model.predict() would trace a predict function
        # for every model, a second of overhead per run on this small data.
        chunks = [
            self.keras.ops.convert_to_numpy(model(x[i : i + 1024], training=False))
            for i in range(0, len(x), 1024)
        ]
        return np.concatenate(chunks)


Predictor = Callable[[np.ndarray], np.ndarray]  # x -> class scores (logits or probabilities)


@dataclass(frozen=True)
class Recipe:
    """A named remedy: how to train, and what it is."""

    name: str
    description: str
    train: Callable[[_Context], Predictor]


def _plain(ctx: _Context) -> Predictor:
    model = ctx.fit(ctx.model())
    return lambda x: ctx.logits(model, x)


def _weighted(strategy: str) -> Callable[[_Context], Predictor]:
    def train(ctx: _Context) -> Predictor:
        weights = cb.class_weights(ctx.data.y_train, strategy, classes=range(ctx.data.n_classes))
        model = ctx.fit(ctx.model(), class_weight=weights)
        return lambda x: ctx.logits(model, x)

    return train


def _sampled(**sampling: Any) -> Callable[[_Context], Predictor]:
    def train(ctx: _Context) -> Predictor:
        from classbalance.keras import BalancedPyDataset

        data = BalancedPyDataset(
            ctx.data.x_train, ctx.data.y_train, ctx.cfg.batch_size, seed=ctx.seed, **sampling
        )
        model = ctx.fit(ctx.model(), x=data)
        return lambda x: ctx.logits(model, x)

    return train


def _with_loss(make_loss: Callable[[_Context], Any]) -> Callable[[_Context], Predictor]:
    def train(ctx: _Context) -> Predictor:
        model = ctx.fit(ctx.model(make_loss(ctx)))
        return lambda x: ctx.logits(model, x)

    return train


def _focal(ctx: _Context) -> Any:
    from classbalance.keras.losses import SparseFocalLoss

    return SparseFocalLoss(gamma=2.0, from_logits=True)


def _class_balanced(ctx: _Context) -> Any:
    from classbalance.keras.losses import ClassBalancedLoss

    return ClassBalancedLoss(
        np.maximum(ctx.data.train_counts, 1), beta=0.999, loss="focal", gamma=1.0, from_logits=True
    )


def _logit_adjusted(ctx: _Context) -> Any:
    from classbalance.keras.losses import LogitAdjustedLoss

    return LogitAdjustedLoss(np.maximum(ctx.data.train_counts, 1), tau=1.0, from_logits=True)


POSTHOC_TAUS = (0.0, 0.5, 1.0, 1.5, 2.0)


def _posthoc(ctx: _Context) -> Predictor:
    from sklearn.metrics import balanced_accuracy_score

    model = ctx.fit(ctx.model())
    counts = np.maximum(ctx.data.train_counts, 1)
    val_logits = ctx.logits(model, ctx.data.x_val)
    # tau is chosen on the validation split only, never on the test set.
    scores = [
        balanced_accuracy_score(
            ctx.data.y_val, cb.adjust_logits(val_logits, counts, tau=t).argmax(axis=1)
        )
        for t in POSTHOC_TAUS
    ]
    tau = POSTHOC_TAUS[int(np.argmax(scores))]
    return lambda x: cb.adjust_logits(ctx.logits(model, x), counts, tau=tau)


def _ensemble(ctx: _Context) -> Predictor:
    keras = ctx.keras

    def build() -> Any:
        model = ctx.model()
        # The ensemble averages probabilities: add a softmax to the logits model.
        out = keras.layers.Softmax()(model.outputs[0])
        member = keras.Model(model.inputs, out)
        member.compile(
            optimizer=keras.optimizers.Adam(ctx.cfg.learning_rate),
            loss="sparse_categorical_crossentropy",
            jit_compile=False,
        )
        return member

    ensemble = cb.BalancedEnsemble(
        build,
        n_members=5,
        strategy="undersample",
        fit_kwargs={"epochs": ctx.cfg.epochs, "batch_size": ctx.cfg.batch_size, "verbose": 0},
        seed=ctx.seed,
        verbose=0,
    )
    ensemble.fit(ctx.data.x_train, ctx.data.y_train)
    return lambda x: np.log(np.clip(ensemble.predict_proba(x), 1e-12, None))


STRATEGIES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe("none", "plain cross-entropy, shuffled batches (the baseline)", _plain),
        Recipe(
            "class_weight",
            "fit(class_weight=cb.class_weights(y)) — 'balanced'",
            _weighted("balanced"),
        ),
        Recipe(
            "class_weight_effective",
            "class weights from effective numbers (Cui et al. 2019, beta=0.999)",
            _weighted("effective"),
        ),
        Recipe(
            "oversample",
            "BalancedPyDataset(strategy='oversample'): every class up to the largest",
            _sampled(strategy="oversample"),
        ),
        Recipe(
            "undersample",
            "BalancedPyDataset(strategy='undersample'): a fresh subset of each class every epoch",
            _sampled(strategy="undersample"),
        ),
        Recipe(
            "sqrt_sampling",
            "BalancedPyDataset(alpha=0.5): p(class) ∝ sqrt(n_class), epoch of n samples",
            _sampled(alpha=0.5),
        ),
        Recipe("focal", "SparseFocalLoss(gamma=2) (Lin et al. 2017)", _with_loss(_focal)),
        Recipe(
            "class_balanced_loss",
            "ClassBalancedLoss(counts, beta=0.999, focal gamma=1) (Cui et al. 2019)",
            _with_loss(_class_balanced),
        ),
        Recipe(
            "logit_adjusted_loss",
            "LogitAdjustedLoss(counts, tau=1) — Balanced Softmax (Menon et al. 2021)",
            _with_loss(_logit_adjusted),
        ),
        Recipe(
            "posthoc_adjust",
            "plain training, then adjust_logits(tau) with tau chosen on validation",
            _posthoc,
        ),
        Recipe(
            "ensemble",
            "BalancedEnsemble of 5 models, each on a different undersampled subset",
            _ensemble,
        ),
    ]
}


# --------------------------------------------------------------------------- running
@dataclass
class CompareResult:
    """Per-run rows, the summary per strategy, and what is needed to replay it."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    config: CompareConfig
    data_description: str
    train_counts: dict[str, int]
    confusions: dict[str, np.ndarray] = field(default_factory=dict)
    classes: list[Any] = field(default_factory=list)
    backend: str = ""
    seconds: float = 0.0


def _scores(y_true: np.ndarray, scores: np.ndarray, classes: list[Any]) -> tuple[dict, np.ndarray]:
    report = cb.imbalance_report(y_true, scores.argmax(axis=1), classes=list(range(len(classes))))
    summary = report.to_dict()["summary"]
    return {m: float(summary[m]) for m in METRICS}, np.asarray(report.confusion)


def run_compare(
    cfg: CompareConfig, *, progress: Callable[[str, int, int], None] | None = None
) -> CompareResult:
    """Train every strategy for every seed; return per-run and summary tables.

    Parameters
    ----------
    cfg : CompareConfig
    progress : callable(label, done, total), default=None
        Called before each run (for a progress bar).

    Returns
    -------
    CompareResult
        ``runs`` (one row per strategy and seed) and ``summary`` (mean and
        std per strategy, best balanced accuracy first).

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, run_compare
    >>> result = run_compare(CompareConfig(strategies=["none", "class_weight"], seeds=1, epochs=2))
    >>> len(result.runs), list(result.summary.columns[:2])
    (2, ['balanced_accuracy_mean', 'macro_f1_mean'])
    """
    cfg = cfg.resolved()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = require("keras", "classbalance compare")
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    confusions: dict[str, np.ndarray] = {}
    total = len(cfg.strategies) * cfg.seeds
    done = 0
    first: DataSplit | None = None
    for seed in range(cfg.seeds):
        data = load_data(cfg, seed=seed)
        first = first or data
        for name in cfg.strategies:
            if progress is not None:
                progress(f"{name} (seed {seed})", done, total)
            ctx = _Context(keras, data, cfg, seed)
            t0 = time.perf_counter()
            predict = STRATEGIES[name].train(ctx)
            train_time = time.perf_counter() - t0
            metrics, confusion = _scores(data.y_test, predict(data.x_test), data.classes)
            rows.append({"strategy": name, "seed": seed, **metrics, "train_seconds": train_time})
            confusions[name] = confusions.get(name, 0) + confusion
            done += 1
    if progress is not None:
        progress("done", done, total)
    assert first is not None
    runs = pd.DataFrame(rows)
    grouped = runs.groupby("strategy", sort=False)
    summary = pd.DataFrame(
        {
            **{f"{m}_mean": grouped[m].mean() for m in METRICS},
            **{f"{m}_std": grouped[m].std(ddof=1).fillna(0.0) for m in METRICS},
            "train_seconds_mean": grouped["train_seconds"].mean(),
        }
    ).sort_values("balanced_accuracy_mean", ascending=False)
    return CompareResult(
        runs=runs,
        summary=summary,
        config=cfg,
        data_description=first.description,
        train_counts={str(c): int(n) for c, n in zip(first.classes, first.train_counts)},
        confusions=confusions,
        classes=first.classes,
        backend=keras.backend.backend(),
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- report
def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.3f} ± {std:.3f}"


def summary_rows(result: CompareResult) -> list[list[str]]:
    """The printed table: strategy, metrics as mean ± std, training time."""
    rows = []
    for name, row in result.summary.iterrows():
        rows.append(
            [
                str(name),
                _fmt(row["balanced_accuracy_mean"], row["balanced_accuracy_std"]),
                _fmt(row["macro_f1_mean"], row["macro_f1_std"]),
                _fmt(row["g_mean_mean"], row["g_mean_std"]),
                _fmt(row["min_recall_mean"], row["min_recall_std"]),
                f"{row['train_seconds_mean']:.1f} s",
            ]
        )
    return rows


SUMMARY_HEADER = [
    "strategy",
    "balanced acc.",
    "macro-F1",
    "G-mean",
    "worst-class recall",
    "train time",
]


def _markdown(result: CompareResult) -> str:
    cfg = result.config
    lines = [
        "# classbalance compare",
        "",
        f"Data: {result.data_description}.",
        f"Training counts per class: {result.train_counts}.",
        f"Model: small {'CNN' if cfg.data and Path(cfg.data).is_dir() else 'MLP'}, Adam "
        f"lr={cfg.learning_rate}, batch {cfg.batch_size}, {cfg.epochs} epochs, seeds "
        f"0..{cfg.seeds - 1}; Keras backend {result.backend}; {result.seconds:.0f} s in all on "
        f"{os.cpu_count()} CPU cores ({platform.machine()}).",
        "",
        "Test-set scores, mean ± std over seeds, best first:",
        "",
        "| " + " | ".join(SUMMARY_HEADER) + " |",
        "|" + "---|" * len(SUMMARY_HEADER),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in summary_rows(result)]
    lines += ["", "Strategies:", ""]
    lines += [f"- `{n}`: {STRATEGIES[n].description}" for n in cfg.strategies]
    lines += [
        "",
        "Nothing was tuned on the test set: knobs are fixed defaults, except the post-hoc "
        "tau, chosen on the validation split. Each row can be re-run from results.json "
        "(strategy, seed, configuration).",
        "",
        "Figures: `class_histogram.png` (training counts), `strategies.png` (balanced "
        "accuracy per strategy), "
        + ("`confusion_none.png` and " if "none" in result.confusions else "")
        + "`confusion_best.png` (row-normalized confusion matrices, summed over seeds).",
    ]
    return "\n".join(lines) + "\n"


def write_report(result: CompareResult, out_dir: str | Path) -> list[Path]:
    """Write results.csv, results.json, report.md and the PNG figures into ``out_dir``.

    Existing files of the same names are replaced (each atomically); other
    files in ``out_dir`` are left alone.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    csv_path = out / "results.csv"
    _atomic_write_text(csv_path, result.runs.to_csv(index=False))
    written.append(csv_path)
    payload = {
        "config": asdict(result.config),
        "data": result.data_description,
        "train_counts": result.train_counts,
        "backend": result.backend,
        "seconds": result.seconds,
        "runs": result.runs.to_dict(orient="records"),
        "summary": result.summary.reset_index().to_dict(orient="records"),
    }
    json_path = out / "results.json"
    _atomic_write_text(json_path, json.dumps(payload, indent=2, default=str))
    written.append(json_path)
    md_path = out / "report.md"
    _atomic_write_text(md_path, _markdown(result))
    written.append(md_path)
    written += _figures(result, out)
    return written


def _figures(result: CompareResult, out: Path) -> list[Path]:
    try:
        from classbalance import plots
    except ImportError:
        return []
    paths = []
    counts = cb.ClassDistribution(
        np.array(list(result.train_counts)), np.array(list(result.train_counts.values()))
    )
    paths.append(out / "class_histogram.png")
    plots.plot_class_histogram(counts, path=paths[-1])
    paths.append(out / "strategies.png")
    plots.plot_strategy_comparison(result.summary, metric="balanced_accuracy", path=paths[-1])
    best = str(result.summary.index[0])
    for tag, name in (("none", "none"), ("best", best)):
        if name in result.confusions:
            paths.append(out / f"confusion_{tag}.png")
            plots.plot_confusion_matrix(
                confusion=result.confusions[name],
                classes=result.classes,
                normalize="true",
                title=f"{name} (summed over seeds)",
                path=paths[-1],
            )
    return paths


# --------------------------------------------------------------------------- command
def _print_table(result: CompareResult) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Test-set scores, mean ± std over seeds (best first)")
    for i, name in enumerate(SUMMARY_HEADER):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in summary_rows(result):
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:  # pipes and CI logs: don't squeeze the table to 80 columns
        console = Console(width=max(console.width, 130))
    console.print(table)


def _compare_command() -> Any:
    import click

    @click.command(name="compare")
    @click.option(
        "--data",
        type=str,
        default=None,
        help="Class-folder image tree, CSV of numeric features, or .npz with x and y. "
        "Default: built-in long-tailed digits.",
    )
    @click.option(
        "--strategies",
        type=str,
        default=None,
        help=f"Comma-separated subset of: {', '.join(STRATEGIES)}.",
    )
    @click.option("--seeds", type=int, default=3, show_default=True, help="Seeds 0..N-1.")
    @click.option("--epochs", type=int, default=30, show_default=True)
    @click.option("--batch-size", type=int, default=32, show_default=True)
    @click.option(
        "--imbalance-ratio",
        type=float,
        default=50.0,
        show_default=True,
        help="Built-in data only: largest / smallest class.",
    )
    @click.option(
        "--label-col",
        type=str,
        default="label",
        show_default=True,
        help="CSV only: the label column.",
    )
    @click.option(
        "--image-size",
        type=int,
        default=28,
        show_default=True,
        help="Image folders only: images are resized to this square size.",
    )
    @click.option("--quick", is_flag=True, help="1 seed and at most 5 epochs (smoke test).")
    @click.option(
        "--backend",
        type=click.Choice(["tensorflow", "torch", "jax"]),
        default=None,
        help="Keras backend (default: KERAS_BACKEND or tensorflow).",
    )
    @click.option(
        "--out",
        type=str,
        default="compare-report",
        show_default=True,
        help="Folder for results.csv, results.json, report.md and PNGs.",
    )
    def compare(
        data: str | None,
        strategies: str | None,
        seeds: int,
        epochs: int,
        batch_size: int,
        imbalance_ratio: float,
        label_col: str,
        image_size: int,
        quick: bool,
        backend: str | None,
        out: str,
    ) -> None:
        """Train the same model under each remedy and compare (the main job)."""
        if backend:
            if "keras" in __import__("sys").modules and os.environ.get("KERAS_BACKEND") != backend:
                raise CompareError("--backend must be chosen before Keras is imported.")
            os.environ["KERAS_BACKEND"] = backend
        cfg = CompareConfig(
            data=data,
            strategies=[s.strip() for s in strategies.split(",") if s.strip()]
            if strategies
            else None,
            seeds=seeds,
            epochs=epochs,
            batch_size=batch_size,
            imbalance_ratio=imbalance_ratio,
            label_col=label_col,
            image_size=image_size,
            quick=quick,
            out=out,
        ).resolved()
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("{task.description:<36}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("loading", total=len(cfg.strategies) * cfg.seeds)

            def progress(label: str, done: int, total: int) -> None:
                bar.update(task, description=label, completed=done)

            result = run_compare(cfg, progress=progress)
        _print_table(result)
        written = write_report(result, out)
        click.echo(
            f"{len(result.runs)} runs in {result.seconds:.0f} s (Keras backend {result.backend}); "
            f"wrote {', '.join(p.name for p in written)} to {out}/"
        )

    return compare


def __getattr__(name: str) -> Any:
    # The click command is built on first access so importing this module needs no click.
    if name == "compare":
        command = _compare_command()
        globals()["compare"] = command
        return command
    raise AttributeError(f"module 'classbalance.compare' has no attribute {name!r}")
