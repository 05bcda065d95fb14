"""Training callbacks that change a loss during training: deferred re-weighting (DRW)."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._loss_params import class_balanced_weights
from classbalance._validation import check_positive_int, short_repr
from classbalance.keras.losses._common import keras

__all__ = ["DeferredReweighting"]


class DeferredReweighting(keras.callbacks.Callback):
    """Deferred re-weighting (DRW) for :class:`LDAMLoss`: class weights from ``start_epoch``.

    Train with unweighted LDAM first, then switch on class-balanced weights
    ``(1 - beta) / (1 - beta**n_c)`` (scaled to sum to K) for the remaining
    epochs. Cao et al. (NeurIPS 2019) use ``start_epoch=160`` of 200 and
    ``beta=0.9999``. Pass the same loss object given to ``compile``; the
    callback rebuilds the train function once at the switch so every backend
    (including compiled TensorFlow graphs) sees the new weights.

    Parameters
    ----------
    loss : LDAMLoss or ClassBalancedLoss-like
        A loss with ``class_counts`` and a settable ``class_weight``.
    start_epoch : int
        First epoch (0-based, as in Keras callbacks) trained with weights.
    beta : float in [0, 1), default=0.9999

    Examples
    --------
    >>> import numpy as np, keras
    >>> from classbalance.keras.losses import DeferredReweighting, LDAMLoss
    >>> x = np.random.default_rng(0).random((60, 4)).astype("float32")
    >>> y = np.r_[np.zeros(50), np.ones(10)].astype("int64")
    >>> loss = LDAMLoss([50, 10], scale=1.0, from_logits=True)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> model.compile("sgd", loss)
    >>> drw = DeferredReweighting(loss, start_epoch=1)
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[drw])
    >>> loss.class_weight.round(3).tolist()
    [0.334, 1.666]
    """

    def __init__(self, loss: Any, start_epoch: int, beta: float = 0.9999) -> None:
        super().__init__()
        if not hasattr(loss, "class_counts") or not hasattr(loss, "class_weight"):
            raise ValueError(
                "`loss` must be a classbalance LDAMLoss (it needs `class_counts` and "
                f"`class_weight`). Received: loss={short_repr(loss)}"
            )
        self.loss = loss
        self.start_epoch = check_positive_int(start_epoch, "start_epoch", allow_zero=True)
        self.weights = class_balanced_weights(np.asarray(loss.class_counts), beta)
        self.beta = float(beta)
        self.active = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.active or epoch < self.start_epoch:
            return
        self.loss.class_weight = self.weights.copy()
        self.active = True
        # Compiled train steps captured the old weights as constants; retrace once.
        if self.model is not None and hasattr(self.model, "make_train_function"):
            self.model.make_train_function(force=True)
