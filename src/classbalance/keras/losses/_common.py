"""Shared plumbing of the Keras losses: the Keras import, serialization helpers, argument checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance._validation import ArgumentTypeError, short_repr

keras = require("keras", "classbalance.keras.losses")
ops = keras.ops

_PACKAGE = "classbalance"  # the Keras serialization package of every loss


def as_list(value: np.ndarray | None) -> list[float] | None:
    return None if value is None else np.asarray(value, dtype=np.float64).tolist()


def check_from_logits(from_logits: Any) -> bool:
    if not isinstance(from_logits, bool):
        raise ArgumentTypeError(  # a TypeError, and a ValueError for callers of old versions
            f"`from_logits` must be True or False. Received: from_logits={short_repr(from_logits)}"
        )
    return from_logits
