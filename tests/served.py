"""What a compare recipe really did to its models, observed at the model's boundary.

:func:`recording_model_fn` gives ``compare`` a model function (the public
``model=`` hook) whose models record every optimizer step from inside the
compiled train step, on every Keras backend: ``Model.compute_loss`` is the
one call each backend's ``train_step`` makes with the batch it was served
(``x``, ``y``, ``sample_weight``), the logits, and the scalar loss it then
differentiates. The records are made where the computation runs (a
``tf.py_function`` in the TensorFlow graph, ``jax.debug.callback`` under
``jit``, plain Python on PyTorch), so they show what the compiled step did,
not what the recipe meant to do: a loss swapped for another, a
``class_weight`` that never reached ``fit``, or a sampler that was not used.

The data put a row id in feature 0 (``row / ID_SCALE``, exact in float32), so
the served rows are known too. ``Model.fit`` is wrapped to snapshot the
weights when each ``fit`` call starts and ends (for cRT's stages).

Nothing here reads the recipe's own bookkeeping (``ctx.info``, ``ctx.steps``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ID_SCALE = 128.0  # row id / 128: exact in float32 for fewer than 2**24 rows


@dataclass
class Step:
    """One optimizer step: the rows served, their labels and weights, the logits, the loss."""

    rows: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    logits: np.ndarray
    loss: float
    stage: int  # which fit() call of the model (0, 1, ...)


@dataclass
class Observed:
    """Everything one model went through: its steps and its weights around each ``fit``."""

    model: Any = None
    steps: list[Step] = field(default_factory=list)
    weights_at_fit_start: list[list[np.ndarray]] = field(default_factory=list)
    weights_at_fit_end: list[list[np.ndarray]] = field(default_factory=list)

    def rows(self, stage: int | None = None) -> np.ndarray:
        """Row ids of every sample served (in order), optionally of one ``fit`` call."""
        chosen = [s.rows for s in self.steps if stage is None or s.stage == stage]
        return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)


def _host(tensor: Any) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _record_on_host(observed: Observed, arrays: list[np.ndarray], has_weight: bool) -> None:
    x, y, logits, loss = arrays[0], arrays[1], arrays[2], arrays[-1]
    weight = arrays[3] if has_weight else None
    rows = np.rint(np.asarray(x)[:, 0] * ID_SCALE).astype(np.int64)
    observed.steps.append(
        Step(
            rows=rows,
            y=np.asarray(y),
            sample_weight=None if weight is None else np.asarray(weight, np.float64),
            logits=np.asarray(logits, np.float64),
            loss=float(loss),
            stage=len(observed.weights_at_fit_start) - 1,
        )
    )


def _record(observed: Observed, x: Any, y: Any, logits: Any, weight: Any, loss: Any) -> None:
    """Copy one step's tensors to the host, from wherever the step runs."""
    import keras

    tensors = [x, y, logits, *([] if weight is None else [weight]), loss]
    has_weight = weight is not None
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if tf.executing_eagerly():
            _record_on_host(observed, [t.numpy() for t in tensors], has_weight)
            return

        def on_host(*values: Any) -> None:
            _record_on_host(observed, [v.numpy() for v in values], has_weight)

        tf.py_function(on_host, tensors, Tout=[])  # a stateful op: the graph runs it
    elif backend == "jax":
        import jax

        jax.debug.callback(
            lambda *values: _record_on_host(observed, list(map(np.asarray, values)), has_weight),
            *tensors,
            ordered=True,
        )
    else:
        _record_on_host(observed, [_host(t) for t in tensors], has_weight)


def recording_model_fn(log: list[Observed], hidden: int = 16) -> Any:
    """A ``compare`` model function: a small MLP that records into ``log`` (one entry a model)."""
    import keras

    class RecordingMLP(keras.Sequential):
        def compute_loss(
            self, x=None, y=None, y_pred=None, sample_weight=None, training=True
        ) -> Any:
            loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
            if training and not isinstance(x, keras.KerasTensor):  # not the symbolic build
                _record(self._observed, x, y, y_pred, sample_weight, loss)
            return loss

        def fit(self, *args: Any, **kwargs: Any) -> Any:
            observed = self._observed
            observed.weights_at_fit_start.append([np.array(w) for w in self.get_weights()])
            history = super().fit(*args, **kwargs)
            if keras.backend.backend() == "jax":
                import jax

                jax.effects_barrier()  # every callback of the steps has run
            observed.weights_at_fit_end.append([np.array(w) for w in self.get_weights()])
            return history

    def model_fn(input_shape: tuple[int, ...], n_outputs: int) -> Any:
        model = RecordingMLP(
            [keras.Input(input_shape), keras.layers.Dense(hidden, activation="relu"),
             keras.layers.Dense(n_outputs)]
        )  # fmt: skip
        observed = Observed(model=model)
        object.__setattr__(model, "_observed", observed)  # kept out of Keras' tracking
        log.append(observed)
        return model

    return model_fn
