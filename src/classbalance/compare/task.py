"""What differs between a single- and a multi-label comparison, kept in one place: the task.

``compare`` has one code path for loading, training, summarizing and
reporting; each asks the data's :class:`Task` for what depends on the kind of
target:

=====================  =================================  ==================================
                       :data:`SINGLE_LABEL`               :data:`MULTI_LABEL`
=====================  =================================  ==================================
y                      class codes ``(n,)``               multi-hot ``(n, n_labels)``
counts                 samples per class                  positives per label
split                  stratified on the class            iterative stratification
loss, one logit per    class (softmax cross-entropy)      label (binary cross-entropy)
prediction             argmax                             sigmoid, thresholds tuned on valid
primary metric         balanced accuracy (bootstrap       mAP (bootstrap over test rows)
                       within each class)
frequency groups       head / medium / tail classes       head / medium / tail labels
recipes                ``RECIPES["single-label"]``        ``RECIPES["multi-label"]``
=====================  =================================  ==================================

Examples
--------
>>> import numpy as np
>>> from classbalance.compare.task import MULTI_LABEL, SINGLE_LABEL, task_of
>>> task_of(np.array([0, 2, 1])).name, task_of(np.array([[1, 1], [0, 0]])).name
('single-label', 'multi-label')
>>> SINGLE_LABEL.counts(np.array([0, 0, 2]), 3).tolist()
[2, 0, 1]
>>> MULTI_LABEL.counts(np.array([[1, 1], [1, 0]]), 2).tolist()
[2, 1]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

import classbalance as cb
from classbalance.compare.config import CompareError
from classbalance.compare.ranking import mean_average_precision, sigmoid
from classbalance.compare.recipes import MIN_VAL_PER_CLASS_FOR_TAU, RECIPES, Recipe
from classbalance.compare.stats import (
    SHOT_GROUPS,
    Bootstrap,
    bootstrap_balanced_accuracy,
    bootstrap_multilabel,
    group_recalls,
)
from classbalance.compare.summary import paired_gain, threshold_sentence
from classbalance.labels import is_multihot
from classbalance.metrics import FREQUENCY_GROUPS, balanced_accuracy, frequency_groups

__all__ = [
    "FEW_SHOT_WARNING",
    "METRICS",
    "MULTI_LABEL",
    "SINGLE_LABEL",
    "TASKS",
    "Column",
    "Task",
    "task_of",
]

METRICS = ("balanced_accuracy", "macro_f1", "g_mean", "min_recall", "accuracy")
FEW_SHOT_WARNING = 10  # warn when the rarest class has fewer test samples than this


class Column(NamedTuple):
    """A column of the printed table: ``style`` is value, interval or groups (``key`` a pattern)."""

    header: str
    key: str
    style: str


class GroupFigure(NamedTuple):
    """A bar chart of the frequency groups' summary columns (``column`` a pattern)."""

    file: str
    column: str
    legend: str
    ylabel: str
    title: str


class Task:
    """What a comparison needs to know about its kind of target (see the module docstring).

    Two instances exist, :data:`SINGLE_LABEL` and :data:`MULTI_LABEL`; they
    pickle by name, so a worker process gets the same object back.

    Examples
    --------
    >>> SINGLE_LABEL.primary, MULTI_LABEL.primary, MULTI_LABEL.items  # in classbalance.compare
    ('balanced_accuracy', 'mAP', 'labels')
    """

    name: str
    multilabel: bool
    primary: str  # the summary column (and bootstrap) the ranking and recommendation use
    primary_text: str
    primary_header: str
    items: str  # "classes" or "labels"
    group_names: tuple[str, str, str] = FREQUENCY_GROUPS
    columns: tuple[Column, ...]  # the table's columns between "vs none" and "steps"
    table_title: str
    histogram_file: str  # training counts per class / positives per label
    group_figure: GroupFigure | None = None
    _constant: str

    def __reduce__(self) -> str:
        return self._constant

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    @property
    def recipes(self) -> dict[str, Recipe]:
        """The recipes of this task, by name."""
        return RECIPES[self.name]

    def strategies(self, names: Sequence[str] | None, kind: str) -> list[str]:
        """Check ``names`` against this task's recipes for data of ``kind``; default: all that fit.

        Raises
        ------
        CompareError
            An unknown name (the message lists this task's recipes), or an
            image-only recipe for feature data.
        """
        registry = self.recipes
        if not names:
            return [n for n, r in registry.items() if kind == "images" or not r.images_only]
        unknown = [n for n in names if n not in registry]
        if unknown:
            raise CompareError(
                f"Unknown strategies {unknown} for {self.name} data; choose from: "
                f"{', '.join(registry)}."
            )
        images_only = [n for n in names if registry[n].images_only]
        if kind == "features" and images_only:
            raise CompareError(f"{images_only} work on images only; the data are features.")
        return list(names)

    def groups(self, train_counts: np.ndarray) -> dict[str, np.ndarray]:
        """Indices of the classes / labels in each frequency group (by training count).

        Both tasks use :func:`classbalance.metrics.frequency_groups` (head > 100,
        medium 20–100, tail < 20 training samples).
        """
        return dict(zip(self.group_names, frequency_groups(train_counts).values(), strict=True))

    # -- data ------------------------------------------------------------------------------
    def encode(self, y: Any, names: list[Any] | None, where: str) -> tuple[np.ndarray, list[Any]]:
        """``y`` as this task's array and its class / label names (``names``: those of training)."""
        raise NotImplementedError

    def counts(self, y: np.ndarray, n: int) -> np.ndarray:
        """Samples per class / positives per label."""
        raise NotImplementedError

    def split(self, y: np.ndarray, **kwargs: Any) -> tuple[np.ndarray, ...]:
        """:func:`classbalance.stratified_split` on what this task stratifies on."""
        raise NotImplementedError

    def check(self, names: list[Any], where: str) -> None:
        """Refuse training data this task cannot compare on (default: accept)."""

    def describe(self, source: str, data: Any) -> str:
        """One line: the source, kind, shape, sizes and where the test set came from."""
        shape = "x".join(map(str, data.input_shape))
        kind = f"{self.kind_prefix}{data.kind}"
        test = "given" if data.test_source == "given" else self.split_phrase
        return (
            f"{source} ({kind}, {shape}; {data.n_classes} {self.items}; {data.n_train} train / "
            f"{len(data.y_val)} valid / {len(data.y_test)} test, test set {test})"
        )

    def notes(self, data: Any) -> list[str]:
        """Notes on the data for the report; those starting ``Warning: `` are also warned."""
        raise NotImplementedError

    # -- training --------------------------------------------------------------------------
    def loss(self) -> Any:
        """The default Keras loss on one logit per class / label."""
        raise NotImplementedError

    def val_score(self, y_val: np.ndarray, scores: np.ndarray) -> float:
        """The validation score that selects a run's best epoch (higher is better)."""
        raise NotImplementedError

    def score_run(self, data: Any, predict: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
        """Test (and validation) scores of one trained predictor.

        Returns the run's metrics (a ``val_`` score among them), ``details``
        to merge into the run's details, and ``_``-prefixed arrays for the
        summary (``_pred``: predicted codes or probabilities).
        """
        raise NotImplementedError

    # -- summary ---------------------------------------------------------------------------
    def bootstrap(
        self, data: Any, predictions: dict[str, np.ndarray], rows: list[dict], seed: int,
        n_replicates: int = 2000,
    ) -> dict[str, Bootstrap]:  # fmt: skip
        """Paired bootstraps of every interval metric; ``[self.primary]`` ranks the strategies."""
        raise NotImplementedError

    def summary_columns(
        self,
        name: str,
        boots: dict[str, Bootstrap],
        means: dict[str, float],
        predictions: np.ndarray,
        data: Any,
    ) -> dict[str, Any]:
        """The summary's columns of strategy ``name`` between ``vs none`` and ``steps``."""
        raise NotImplementedError

    def recommendation_tail(self, boots: dict[str, Bootstrap]) -> str:
        """A sentence added to the recommendation (default: none)."""
        return ""

    # -- report ----------------------------------------------------------------------------
    def group_sentence(self, train_counts: np.ndarray) -> str:
        """The report's line on the frequency groups."""
        raise NotImplementedError

    def figures_sentence(self, result: Any) -> str:
        """The report's closing line on the figures."""
        raise NotImplementedError

    # The report's wording (classbalance.compare.report)
    report_title: str
    counts_phrase: str  # "counts per class" / "positives per label"
    kind_prefix: str
    split_phrase: str
    model_note: str
    budget_note: str
    rule_lines: tuple[str, ...]  # "How it was measured": selection, tau / thresholds, intervals
    scores_heading: str


# --------------------------------------------------------------------------- single-label
class SingleLabel(Task):
    name = "single-label"
    multilabel = False
    primary = "balanced_accuracy"
    primary_text = "balanced accuracy"
    primary_header = "balanced acc. [95% CI]"
    items = "classes"
    columns = (
        Column("macro-F1", "macro_f1", "value"),
        Column("worst-class recall", "min_recall", "value"),
        Column("head / medium / tail recall", "{}_recall", "groups"),
    )
    table_title = "Test-set balanced accuracy, 95% bootstrap intervals (best first)"
    histogram_file = "class_histogram.png"
    group_figure = GroupFigure(
        "shot_groups.png",
        "{}_recall",
        "{}",
        "mean recall of the group's classes",
        "Recall by training frequency (>100, 20–100, <20 samples)",
    )
    report_title = "# classbalance compare"
    counts_phrase = "counts per class"
    kind_prefix = ""
    split_phrase = "split stratified from the data"
    model_note = ""
    budget_note = (
        "sampled recipes draw n_train samples per epoch, the ensemble splits the epochs among "
        "its members"
    )
    rule_lines = (
        "- Model selection on validation only: each run kept the weights of its epoch with the "
        "best validation balanced accuracy (restore best).",
        "- Post-hoc tau (`posthoc_adjust`, `tau_norm`): 1 (for logit adjustment Bayes-optimal "
        "for the balanced error), tuned on validation only "
        f"when every class has >= {MIN_VAL_PER_CLASS_FOR_TAU} validation samples; the tau used "
        "is in results.json (`details`).",
        "- Intervals: 95% percentile bootstrap (2,000 replicates) over the test samples "
        "(resampled within each class) and the seeds, paired across strategies. "
        "`vs none` is the paired difference to no remedy; ≈ marks the strategies whose "
        "difference to the best has an interval reaching 0 (within noise of the best).",
    )
    scores_heading = "## Test-set scores, best first"
    _constant = "SINGLE_LABEL"

    def encode(self, y: Any, names: list[Any] | None, where: str) -> tuple[np.ndarray, list[Any]]:
        try:
            enc = cb.encode_labels(y, name="y", function="compare")
        except (ValueError, TypeError) as exc:
            raise CompareError(f"{where}: {exc}") from exc
        found = enc.classes.tolist()
        if names is None:
            return enc.codes.astype(np.int64), found
        if sorted(map(str, found)) != sorted(map(str, names)):
            extra = sorted(set(map(str, found)) - set(map(str, names)))
            missing = sorted(set(map(str, names)) - set(map(str, found)))
            raise CompareError(
                f"{where} has different classes than the training data: "
                f"not in training {extra[:5]}, missing {missing[:5]}; every split needs the same "
                "classes."
            )
        lookup = {str(c): i for i, c in enumerate(names)}
        remap = np.array([lookup[str(c)] for c in found], dtype=np.int64)
        return remap[enc.codes], names

    def counts(self, y: np.ndarray, n: int) -> np.ndarray:
        return np.bincount(y, minlength=n)

    def split(self, y: np.ndarray, **kwargs: Any) -> tuple[np.ndarray, ...]:
        return cb.stratified_split(y, **kwargs)

    def check(self, names: list[Any], where: str) -> None:
        if len(names) < 2:
            raise CompareError(
                f"{where} has a single class ({names}); comparing remedies for imbalance needs "
                "at least two classes."
            )

    def notes(self, data: Any) -> list[str]:
        rarest = int(data.test_counts.min())
        notes = []
        if data.test_source == "split":
            notes.append(
                f"No test set was given: a stratified split holds the test samples; the rarest "
                f"class has {rarest} test samples."
            )
        if rarest < FEW_SHOT_WARNING:
            notes.append(
                f"Warning: The rarest class has only {rarest} test samples: its recall (and "
                "worst-class recall, G-mean) is mostly noise. Give a larger test set with --test "
                "or a test/ folder."
            )
        return notes

    def loss(self) -> Any:
        import keras

        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def val_score(self, y_val: np.ndarray, scores: np.ndarray) -> float:
        return balanced_accuracy(y_val, scores.argmax(axis=1))

    def score_run(self, data: Any, predict: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
        pred = predict(data.x_test).argmax(axis=1)
        val_pred = predict(data.x_val).argmax(axis=1)
        classes = list(range(data.n_classes))
        report = cb.imbalance_report(data.y_test, pred, classes=classes)
        summary = report.to_dict()["summary"]
        val_report = cb.imbalance_report(data.y_val, val_pred, classes=classes)
        return {
            **{m: float(summary[m]) for m in METRICS},
            "val_balanced_accuracy": float(val_report.summary["balanced_accuracy"]),
            "details": {},
            "_pred": pred.astype(np.int64),
            "_confusion": np.asarray(report.confusion),
        }

    def bootstrap(
        self, data: Any, predictions: dict[str, np.ndarray], rows: list[dict], seed: int,
        n_replicates: int = 2000,
    ) -> dict[str, Bootstrap]:  # fmt: skip
        kwargs = {"seed": seed, "n_replicates": n_replicates}
        return {self.primary: bootstrap_balanced_accuracy(data.y_test, predictions, **kwargs)}

    def summary_columns(
        self,
        name: str,
        boots: dict[str, Bootstrap],
        means: dict[str, float],
        predictions: np.ndarray,
        data: Any,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {m: means[m] for m in METRICS[1:]}
        groups = self.groups(data.train_counts)
        recalls = group_recalls(data.y_test, predictions, groups, data.n_classes)
        entry.update({f"{g}_recall": v for g, v in recalls.items()})
        return entry

    def group_sentence(self, train_counts: np.ndarray) -> str:
        counts = np.asarray(train_counts)
        parts = []
        for name, low, high in SHOT_GROUPS:
            n = int(((counts >= low) if high is None else (counts >= low) & (counts <= high)).sum())
            bound = (
                f"> {low - 1}"
                if high is None
                else (f"< {high + 1}" if low == 0 else f"{low}–{high}")
            )
            parts.append(f"{name}-shot ({bound} training samples): {n} classes")
        return "Shot groups: " + "; ".join(parts)

    def figures_sentence(self, result: Any) -> str:
        return (
            "Figures: `class_histogram.png` (training counts), `strategies.png` (balanced "
            "accuracy with 95% intervals), `shot_groups.png` (recall of head / medium / tail "
            "classes), "
            + ("`confusion_none.png` and " if "none" in result.confusions else "")
            + "`confusion_best.png` (row-normalized confusion matrices, summed over seeds). "
            "Every run can be re-run from results.json (strategy, seed, configuration)."
        )


# --------------------------------------------------------------------------- multi-label
# Labels without positives in a split are reported once, in the data's notes.
_NO_VALIDATION_POSITIVE = r"Labels .* have no positive in `Y_val`"


class MultiLabel(Task):
    name = "multi-label"
    multilabel = True
    primary = "mAP"
    primary_text = "mAP"
    primary_header = "mAP [95% CI]"
    items = "labels"
    columns = (
        Column("tail mAP [95% CI]", "tail_mAP", "interval"),
        Column("head / medium / tail mAP", "{}_mAP", "groups"),
        Column("macro-F1 @0.5 [95% CI]", "macro_f1", "interval"),
        Column("macro-F1 tuned [95% CI]", "macro_f1_tuned", "interval"),
    )
    table_title = "Multi-label test-set mAP and macro-F1, 95% bootstrap intervals (best mAP first)"
    histogram_file = "label_histogram.png"
    report_title = "# classbalance compare (multi-label)"
    counts_phrase = "positives per label"
    kind_prefix = "multi-label "
    split_phrase = "split by iterative stratification"
    model_note = ", one logit per label"
    budget_note = "class-aware sampling draws n_train samples per epoch"
    rule_lines = (
        "- Loss: binary cross-entropy from logits unless the recipe changes it. Model selection "
        "on validation only: each run kept the weights of its epoch with the best validation "
        "mAP (restore best).",
        "- Thresholds: `macro-F1 @0.5` predicts a label when its probability is >= 0.5; "
        "`macro-F1 tuned` uses one threshold per label maximizing F1 on the validation split "
        "(tune_thresholds), applied unchanged to the test set (labels without validation "
        "positives keep 0.5). mAP does not depend on thresholds.",
        "- Intervals: 95% percentile bootstrap (2,000 replicates) over the test rows (not "
        "stratified) and the seeds, paired across strategies and metrics. `vs none` is the "
        "paired mAP difference to no remedy; ≈ marks the strategies whose mAP difference to the "
        "best has an interval reaching 0 (within noise of the best).",
    )
    scores_heading = "## Test-set scores, best mAP first"
    _constant = "MULTI_LABEL"

    def encode_labels(
        self, y: Any, names: list[Any] | None, where: str, sep: str | None = None
    ) -> Any:
        """:func:`classbalance.encode_multilabel`, its errors as one-line ``CompareError``."""
        try:
            return cb.encode_multilabel(y, classes=names, sep=sep, name="y")
        except (ValueError, TypeError) as exc:
            message = str(exc).replace("pass `sep`", "pass --label-sep")
            raise CompareError(f"{where}: {message.replace('`sep`', '--label-sep')}") from exc

    def encode(self, y: Any, names: list[Any] | None, where: str) -> tuple[np.ndarray, list[Any]]:
        enc = self.encode_labels(y, names, where)
        return enc.Y, enc.classes.tolist()

    def counts(self, y: np.ndarray, n: int) -> np.ndarray:
        return y.sum(axis=0, dtype=np.int64)

    def split(self, y: np.ndarray, **kwargs: Any) -> tuple[np.ndarray, ...]:
        try:
            return cb.stratified_split(y[:, 0] if y.shape[1] == 1 else y, **kwargs)
        except (ValueError, ImportError) as exc:
            raise CompareError(f"Could not split the multi-label data: {exc}") from exc

    def notes(self, data: Any) -> list[str]:
        notes = []
        names = np.asarray(data.classes, dtype=object)
        effects = {
            "training": "no remedy can learn them; they stay in the scores as they are",
            "validation": "their thresholds stay at 0.5 and they do not count in the "
            "validation mAP",
            "test": "they have no AP and are left out of mAP (macro-F1 counts them, as "
            "scikit-learn does)",
        }
        for split, counts in (
            ("training", data.train_counts),
            ("validation", data.val_counts),
            ("test", data.test_counts),
        ):
            empty = names[counts == 0].tolist()
            if empty:
                notes.append(
                    f"Warning: labels {[str(v) for v in empty][:10]} have no positive in the "
                    f"{split} split: {effects[split]}."
                )
        return notes

    def loss(self) -> Any:
        import keras

        return keras.losses.BinaryCrossentropy(from_logits=True)

    def val_score(self, y_val: np.ndarray, scores: np.ndarray) -> float:
        return mean_average_precision(y_val, scores)

    def score_run(self, data: Any, predict: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
        val_scores = sigmoid(predict(data.x_val))
        test_scores = sigmoid(predict(data.x_test))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", _NO_VALIDATION_POSITIVE, UserWarning)
            tuned = cb.tune_thresholds(data.y_val, val_scores, "f1", default=0.5)
        counts = data.train_counts
        plain = cb.multilabel_report(data.y_test, test_scores, train_counts=counts, thresholds=0.5)
        at_tuned = cb.multilabel_report(
            data.y_test, test_scores, train_counts=counts, thresholds=tuned
        )
        groups = plain.to_dict()
        return {
            "mAP": plain.mAP,
            "macro_f1": plain.macro_f1,
            "macro_f1_tuned": at_tuned.macro_f1,
            "micro_f1": plain.micro_f1,
            "micro_f1_tuned": at_tuned.micro_f1,
            **{f"{g}_mAP": groups.get(f"{g}_mAP") for g in self.group_names},
            "val_mAP": mean_average_precision(data.y_val, val_scores),
            "details": {"thresholds": [round(float(t), 4) for t in tuned.thresholds]},
            "_pred": test_scores.astype(np.float32),
            "_thresholds": tuned.thresholds,
        }

    def bootstrap(
        self, data: Any, predictions: dict[str, np.ndarray], rows: list[dict], seed: int,
        n_replicates: int = 2000,
    ) -> dict[str, Bootstrap]:  # fmt: skip
        names, by = list(predictions), np.atleast_2d  # thresholds: (seeds, 1 or rows, labels)
        thresholds = {
            n: np.stack([by(r["_thresholds"]) for r in rows if r["strategy"] == n]) for n in names
        }
        decisions = {
            "macro_f1": {n: predictions[n] >= 0.5 for n in names},
            "macro_f1_tuned": {n: predictions[n] >= thresholds[n] for n in names},
        }
        groups = self.groups(data.train_counts)
        return bootstrap_multilabel(
            data.y_test, predictions, decisions, groups=groups, seed=seed,
            n_replicates=n_replicates,
        )  # fmt: skip

    def summary_columns(
        self,
        name: str,
        boots: dict[str, Bootstrap],
        means: dict[str, float],
        predictions: np.ndarray,
        data: Any,
    ) -> dict[str, Any]:
        i = boots[self.primary].names.index(name)
        entry: dict[str, Any] = {}
        for g in self.group_names:
            key = f"{g}_mAP"
            if key in boots:
                entry[key] = float(boots[key].estimate[i])
                entry[f"{key}_low"], entry[f"{key}_high"] = boots[key].interval(name)
            else:
                entry[key] = None
        for rule in ("macro_f1", "macro_f1_tuned"):
            entry[rule] = float(boots[rule].estimate[i])
            entry[f"{rule}_low"], entry[f"{rule}_high"] = boots[rule].interval(name)
        gain = paired_gain(boots, name)
        entry.update(tuned_gain=gain[0], tuned_gain_low=gain[1], tuned_gain_high=gain[2])
        return entry

    def recommendation_tail(self, boots: dict[str, Bootstrap]) -> str:
        return threshold_sentence(boots, boots[self.primary].best())

    def group_sentence(self, train_counts: np.ndarray) -> str:
        groups = self.groups(train_counts)
        _, low, high = SHOT_GROUPS[1]
        return (
            f"Label groups by training positives: head (> {high}): {len(groups['head'])} labels; "
            f"medium ({low}–{high}): {len(groups['medium'])}; tail (< {low}): "
            f"{len(groups['tail'])}"
        )

    def figures_sentence(self, result: Any) -> str:
        return (
            "Figures: `label_histogram.png` (training positives per label), `strategies.png` "
            "(mAP with 95% intervals). The tuned thresholds of every run are in results.json "
            "(`details`); every run can be re-run from it (strategy, seed, configuration)."
        )


SINGLE_LABEL = SingleLabel()
MULTI_LABEL = MultiLabel()
TASKS: dict[str, Task] = {t.name: t for t in (SINGLE_LABEL, MULTI_LABEL)}


def task_of(y: Any) -> Task:
    """:data:`MULTI_LABEL` for a multi-hot ``y`` (a row with 0 or >= 2 ones), else single-label."""
    return MULTI_LABEL if is_multihot(y) else SINGLE_LABEL
