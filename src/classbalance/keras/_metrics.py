"""``ImbalanceMetrics``: class-balanced (or multi-label) validation metrics in the Keras logs."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import ArgumentTypeError, check_positive_int, short_repr
from classbalance.labels import is_multihot
from classbalance.metrics import (
    FREQUENCY_BOUNDS,
    ImbalanceReport,
    MultiLabelReport,
    imbalance_report,
    multilabel_report,
)

keras = require("keras", "classbalance.keras")

__all__ = ["ImbalanceMetrics"]

_LOGGED = {
    "macro_f1": "macro_f1",
    "balanced_accuracy": "balanced_accuracy",
    "g_mean": "g_mean",
    "min_recall": "min_recall",
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh form: no overflow warning for large negative logits.
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def _numpy(value: Any) -> Any:
    # Batches from tf.data, PyTorch or NumPy all support __array__; no backend round trip.
    return keras.tree.map_structure(np.asarray, value)


class ImbalanceMetrics(keras.callbacks.Callback):
    """Add class-balanced (or multi-label) validation metrics to the Keras epoch logs.

    At the end of every epoch the model predicts the validation data once,
    and the predictions are scored; the scores are written into the epoch's
    ``logs``. So ``History``, TensorBoard, ``EarlyStopping(monitor=...,
    mode="max")`` and ``ModelCheckpoint(monitor=..., mode="max")`` can use
    them: put this callback **before** those in the ``callbacks`` list
    (Keras calls callbacks in order, and ``History`` always comes last).

    - Single-label models (softmax, or one sigmoid unit):
      :func:`classbalance.imbalance_report` gives ``val_macro_f1``,
      ``val_balanced_accuracy``, ``val_g_mean`` and ``val_min_recall``.
    - Multi-label models (one sigmoid unit per label, multi-hot ``y``):
      :func:`classbalance.metrics.multilabel_report` gives
      ``val_mAP``, ``val_macro_f1`` and ``val_micro_f1``; with
      ``train_counts``, also ``val_<group>_mAP`` and ``val_<group>_macro_f1``
      for each group of labels present (``head``, ``medium``, ``tail``), e.g.
      ``EarlyStopping(monitor="val_tail_mAP", mode="max")``.

    Parameters
    ----------
    validation_data :
        ``(x, y)`` or ``(x, y, sample_weight)`` arrays; a Keras ``PyDataset``
        (e.g. :class:`~classbalance.keras.BalancedPyDataset`); a
        ``tf.data.Dataset`` or any re-iterable of ``(x, y[, w])`` batches.
        ``y`` may be class indices, one-hot rows, or multi-hot rows
        (multi-label). Sample weights are ignored.
    batch_size : int, default=32
        Prediction batch size for array data.
    threshold : float, default=0.5
        Decision threshold on a sigmoid probability: for a single sigmoid
        output unit (predict class 1 at ``p >= threshold``), and, multi-label,
        for every label (F1 scores; mAP does not depend on it).
    prefix : str, optional
        Prefix of the log keys (default ``"val_"``).
    multilabel : bool or None, default=None
        Score as multi-label. ``None`` decides from the validation ``y`` of
        each epoch: multi-label when it has two or more 0/1 columns and some
        row holds no label or several. Pass ``True`` when every validation
        row happens to hold exactly one label (it would look one-hot).
    from_logits : bool, default=False
        The model outputs logits (no final sigmoid/softmax). Multi-label: a
        label is predicted at ``logit >= log(threshold / (1 - threshold))``,
        which is ``sigmoid(logit) >= threshold``; mAP uses the logits as they
        are (a ranking, unchanged by the sigmoid). Single-label: a single
        output unit goes through the sigmoid; softmax logits need nothing
        (the argmax is the same).
    train_counts : LabelDistribution or array-like of shape (n_labels,), default=None
        Multi-label only: training positives per label
        (``label_distribution(Y_train)`` or ``Y_train.sum(axis=0)``); labels
        are grouped into head / medium / tail by ``group_bounds`` and each
        group's mAP and macro-F1 is logged.
    group_bounds : (int, int), default=(20, 100)
        Multi-label only: tail < low <= medium <= high < head (training
        positives), as in :func:`~classbalance.metrics.multilabel_report`.

    Attributes
    ----------
    report : ImbalanceReport, MultiLabelReport or None
        The full report of the last epoch (per-class or per-label table).

    Examples
    --------
    >>> import numpy as np, keras
    >>> from classbalance.keras import ImbalanceMetrics
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((120, 4)).astype("float32")
    >>> y = (x[:, 0] > 0.8).astype("int64")
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy")
    >>> stop = keras.callbacks.EarlyStopping(monitor="val_macro_f1", mode="max", patience=2)
    >>> history = model.fit(
    ...     x, y, epochs=2, verbose=0, callbacks=[ImbalanceMetrics((x, y)), stop]
    ... )
    >>> sorted(k for k in history.history if k.startswith("val_"))
    ['val_balanced_accuracy', 'val_g_mean', 'val_macro_f1', 'val_min_recall']

    A multi-label model with logits, and the tail labels' mAP:

    >>> Y = (x[:, :3] > [0.3, 0.7, 0.95]).astype("float32")
    >>> multi = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> multi.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    >>> metrics = ImbalanceMetrics((x, Y), from_logits=True, train_counts=Y.sum(axis=0))
    >>> history = multi.fit(x, Y, epochs=2, verbose=0, callbacks=[metrics])
    >>> Y.sum(axis=0).tolist()  # training positives: medium, medium, tail labels
    [92.0, 41.0, 11.0]
    >>> sorted(k for k in history.history if k.endswith("mAP"))
    ['val_mAP', 'val_medium_mAP', 'val_tail_mAP']
    """

    def __init__(
        self,
        validation_data: Any,
        *,
        batch_size: int = 32,
        threshold: float = 0.5,
        prefix: str = "val_",
        multilabel: bool | None = None,
        from_logits: bool = False,
        train_counts: Any = None,
        group_bounds: tuple[int, int] = FREQUENCY_BOUNDS,
    ) -> None:
        super().__init__()
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise ArgumentTypeError(
                f"`threshold` must be a number. Received: threshold={short_repr(threshold)}"
            )
        self.threshold = float(threshold)
        if not isinstance(prefix, str):
            raise ValueError(f"`prefix` must be a str. Received: prefix={short_repr(prefix)}")
        self.prefix = prefix
        if multilabel is not None and not isinstance(multilabel, bool):
            raise ArgumentTypeError(
                "`multilabel` must be True, False or None (decide from the validation labels). "
                f"Received: multilabel={short_repr(multilabel)}"
            )
        if not isinstance(from_logits, bool):
            raise ArgumentTypeError(
                "`from_logits` must be True or False. "
                f"Received: from_logits={short_repr(from_logits)}"
            )
        if from_logits and not 0.0 < self.threshold < 1.0:
            raise ValueError(
                "`threshold` is a probability, so with from_logits=True it must be in (0, 1) "
                f"(it becomes the logit log(t / (1 - t))). Received: threshold={threshold}"
            )
        if train_counts is not None and multilabel is False:
            raise ValueError(
                "`train_counts` (training positives per label) is for multi-label models; "
                "it cannot be used with multilabel=False."
            )
        self.multilabel = multilabel
        self.from_logits = from_logits
        self.train_counts = train_counts
        self.group_bounds = group_bounds
        self.report: ImbalanceReport | MultiLabelReport | None = None
        self._arrays: tuple[Any, Any] | None = None
        self._batches: Any = None
        if isinstance(validation_data, (tuple, list)):
            if len(validation_data) not in (2, 3):
                raise ValueError(
                    "`validation_data` as a tuple must be (x, y) or (x, y, sample_weight). "
                    f"Received a tuple of length {len(validation_data)}."
                )
            self._arrays = (validation_data[0], validation_data[1])
        elif isinstance(validation_data, keras.utils.PyDataset):
            self._batches = validation_data
        elif hasattr(validation_data, "__iter__"):
            if iter(validation_data) is validation_data:
                raise ValueError(
                    "`validation_data` is an iterator or generator, which is used up after one "
                    "epoch. Pass arrays, a keras PyDataset, a tf.data.Dataset or another "
                    "re-iterable of (x, y) batches (e.g. a torch DataLoader)."
                )
            self._batches = validation_data
        else:
            raise ValueError(
                "`validation_data` must be (x, y) arrays, a keras PyDataset, a tf.data.Dataset "
                f"or an iterable of (x, y) batches. Received: validation_data="
                f"{short_repr(validation_data)}"
            )

    def _batch_iter(self) -> Any:
        data = self._batches
        if isinstance(data, keras.utils.PyDataset):
            return (data[i] for i in range(len(data)))
        return iter(data)

    def _predict(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is not None:
            x, y = self._arrays
            return np.asarray(y), self.model.predict(x, batch_size=self.batch_size, verbose=0)
        ys, preds = [], []
        for batch in self._batch_iter():
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise ValueError(
                    "Every validation batch must be (x, y) or (x, y, sample_weight); "
                    f"got {type(batch).__name__}."
                )
            x_b, y_b = _numpy(batch[0]), _numpy(batch[1])
            ys.append(np.asarray(y_b))
            preds.append(_numpy(self.model.predict_on_batch(x_b)))
        if not ys:
            raise ValueError("`validation_data` yielded no batches.")
        return np.concatenate(ys), np.concatenate(preds)

    def _score(self, y: np.ndarray, pred: np.ndarray) -> ImbalanceReport | MultiLabelReport:
        multilabel = self.multilabel if self.multilabel is not None else is_multihot(y)
        if multilabel:
            t = self.threshold
            if self.from_logits:
                t = math.log(t / (1.0 - t))
            return multilabel_report(
                y,
                pred,
                train_counts=self.train_counts,
                thresholds=t,
                group_bounds=self.group_bounds,
            )
        if self.train_counts is not None:
            raise ValueError(
                "`train_counts` was given, but the validation labels are single-label (a class "
                "vector or one-hot rows). Pass multilabel=True if they are multi-hot rows that "
                "each hold one label, or drop `train_counts`."
            )
        if self.from_logits and pred.ndim == 2 and pred.shape[1] == 1:
            pred = _sigmoid(pred)
        return imbalance_report(y, pred, threshold=self.threshold)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        y, pred = self._predict()
        report = self._score(y, pred)
        self.report = report
        if logs is None:
            return
        if isinstance(report, MultiLabelReport):
            for key, value in report.to_dict().items():
                logs[self.prefix + key] = value
        else:
            for key, name in _LOGGED.items():
                logs[self.prefix + key] = report.summary[name]
