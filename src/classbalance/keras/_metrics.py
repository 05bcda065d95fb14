"""``ImbalanceMetrics``: class-balanced validation metrics in the Keras epoch logs."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import check_positive_int, short_repr
from classbalance.metrics import ImbalanceReport, imbalance_report

keras = require("keras", "classbalance.keras")

__all__ = ["ImbalanceMetrics"]

_LOGGED = {
    "macro_f1": "macro_f1",
    "balanced_accuracy": "balanced_accuracy",
    "g_mean": "g_mean",
    "min_recall": "min_recall",
}


def _numpy(value: Any) -> Any:
    # Batches from tf.data, PyTorch or NumPy all support __array__; no backend round trip.
    return keras.tree.map_structure(np.asarray, value)


class ImbalanceMetrics(keras.callbacks.Callback):
    """Add ``val_macro_f1``, ``val_balanced_accuracy``, ``val_g_mean``, ``val_min_recall`` to logs.

    At the end of every epoch the model predicts the validation data once,
    and :func:`classbalance.imbalance_report` turns the predictions into
    class-balanced metrics that are written into the epoch's ``logs``. So
    ``History``, TensorBoard, ``EarlyStopping(monitor="val_macro_f1",
    mode="max")`` and ``ModelCheckpoint(monitor=..., mode="max")`` can use
    them: put this callback **before** those in the ``callbacks`` list
    (Keras calls callbacks in order, and ``History`` always comes last).

    Parameters
    ----------
    validation_data :
        ``(x, y)`` or ``(x, y, sample_weight)`` arrays; a Keras ``PyDataset``
        (e.g. :class:`~classbalance.keras.BalancedPyDataset`); a
        ``tf.data.Dataset`` or any re-iterable of ``(x, y[, w])`` batches.
        ``y`` may be class indices or one-hot rows. Sample weights are ignored.
    batch_size : int, default=32
        Prediction batch size for array data.
    threshold : float, default=0.5
        For a single sigmoid output unit: predict class 1 at ``p >= threshold``.
    prefix : str, default="val_"
        Prefix of the log keys.

    Attributes
    ----------
    report : ImbalanceReport or None
        The full report of the last epoch (per-class table, confusion matrix).

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
    """

    def __init__(
        self,
        validation_data: Any,
        *,
        batch_size: int = 32,
        threshold: float = 0.5,
        prefix: str = "val_",
    ) -> None:
        super().__init__()
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.threshold = float(threshold)
        if not isinstance(prefix, str):
            raise ValueError(f"`prefix` must be a str. Received: prefix={short_repr(prefix)}")
        self.prefix = prefix
        self.report: ImbalanceReport | None = None
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

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        y, pred = self._predict()
        report = imbalance_report(y, pred, threshold=self.threshold)
        self.report = report
        if logs is not None:
            for key, name in _LOGGED.items():
                logs[self.prefix + key] = report.summary[name]
