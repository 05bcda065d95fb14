"""d loss / d logits on the active Keras backend: one helper for every Keras loss test."""

from __future__ import annotations

from typing import Any

import numpy as np


def backend_gradient(loss: Any, y: Any, z: np.ndarray) -> np.ndarray:
    """Gradient of ``loss(y, z)`` (reduced to a scalar by the loss) with respect to ``z``."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        zt = tf.Variable(z)
        with tf.GradientTape() as tape:
            value = loss(y, zt)
        return np.asarray(tape.gradient(value, zt))
    if backend == "torch":
        import torch

        zt = torch.tensor(z, requires_grad=True)
        loss(y, zt).backward()
        return zt.grad.numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda zt: loss(y, zt))(jax.numpy.asarray(z)))
    raise AssertionError(f"no gradient helper for backend {backend}")
