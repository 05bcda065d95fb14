"""Long-tail losses for Keras 3, written with ``keras.ops`` only (any backend).

The four softmax losses take integer class labels (like ``sparse_categorical_crossentropy``)
and either probabilities (``from_logits=False``, the Keras default: a softmax
output layer) or logits. With probabilities the losses work on ``log p``,
which equals the logits up to a per-row constant that softmax ignores, so the
margins and prior shifts below mean the same thing either way.

They are registered as Keras serializable objects (package ``classbalance``),
so models compiled with them save and load with ``model.save(...)``.

The per-class constants (weights, margins, priors) come from
:mod:`classbalance._loss_params`, shared with :mod:`classbalance.torch.losses`.

Softmax losses (integer labels) are in ``_softmax``, sigmoid losses (multi-hot
targets) in ``_sigmoid``, the DRW callback in ``_callbacks``; all are
imported from here.
"""

from classbalance.keras.losses._callbacks import DeferredReweighting
from classbalance.keras.losses._sigmoid import AsymmetricLoss, WeightedBinaryCrossentropy
from classbalance.keras.losses._softmax import (
    ClassBalancedLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    SparseFocalLoss,
)

__all__ = [
    "AsymmetricLoss",
    "ClassBalancedLoss",
    "DeferredReweighting",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "SparseFocalLoss",
    "WeightedBinaryCrossentropy",
]
