"""Models for ``compare``: the defaults, and the user's own ``(input_shape, n_classes) -> model``.

A model function returns an *uncompiled* Keras model whose output is one
logit per class. For images, ``compare`` puts ``Rescaling(1/255)`` in front:
the function's model receives float32 pixels in [0, 1], shape
``(height, width, channels)``. A PyTorch ``nn.Module`` can be used on the
torch backend through ``keras.layers.TorchModuleWrapper``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from classbalance.compare.config import CompareError

__all__ = [
    "ModelFn",
    "build_model",
    "call_model_function",
    "default_model",
    "load_function",
    "resolve_model",
]

ModelFn = Callable[[tuple[int, ...], int], Any]


def _mlp(keras: Any, input_shape: tuple[int, ...], n_classes: int) -> Any:
    # 256 units with dropout 0.5 rather than 64 plain units: over three draws of the
    # long-tailed digits (data_seed 0, 1, 2) the best remedy scored 0.905 / 0.841 / 0.896
    # against 0.885 / 0.836 / 0.883, and no remedy got worse.
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(n_classes),
        ],
        name="mlp",
    )


def _conv_bn(keras: Any, x: Any, filters: int, strides: int = 1, relu: bool = True) -> Any:
    x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.layers.ReLU()(x) if relu else x


def _residual_cnn(keras: Any, input_shape: tuple[int, ...], n_classes: int) -> Any:
    """A small ResNet: a strided stem, two stages of one residual block, pooling, logits.

    About 120,000 parameters and 3 M multiply-adds per 28x28 RGB image: a
    run of about 2,000 images x 30 epochs took about 22 s per CPU core here
    (``benchmarks/bench_compare.py``: 42 runs in 473 s on 2 workers). Batch
    normalization and the skip connections make plain training on
    long-tailed data far less fragile than a bare two-layer CNN.
    """
    inputs = keras.Input(input_shape)
    x = _conv_bn(keras, inputs, 24, strides=2 if input_shape[0] >= 24 else 1)
    for filters in (32, 64):
        x = _conv_bn(keras, x, filters, strides=2)
        shortcut = x
        y = _conv_bn(keras, x, filters)
        y = _conv_bn(keras, y, filters, relu=False)
        x = keras.layers.ReLU()(keras.layers.Add()([shortcut, y]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(n_classes)(x)
    return keras.Model(inputs, outputs, name="residual_cnn")


def default_model(input_shape: tuple[int, ...], n_classes: int) -> Any:
    """The default model: an MLP (256 units, dropout) for features, a small residual CNN for images.

    Examples
    --------
    >>> from classbalance.compare.models import default_model
    >>> default_model((64,), 10).output_shape
    (None, 10)
    >>> default_model((28, 28, 3), 5).name
    'residual_cnn'
    """
    import keras

    if len(input_shape) == 1:
        return _mlp(keras, input_shape, n_classes)
    return _residual_cnn(keras, input_shape, n_classes)


def load_function(spec: str, option: str = "--model") -> Callable[..., Any]:
    """The function named by ``"module:function"`` or ``"path/to/file.py:function"``.

    ``option`` names the option in the errors (``--model``, ``--backbone``).

    Examples
    --------
    >>> from classbalance.compare.models import load_function
    >>> load_function("classbalance.compare.models:default_model").__name__
    'default_model'
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise CompareError(
            f"{option} must be 'module:function' or 'path/to/file.py:function'; got {spec!r}."
        )
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise CompareError(f"{option} {spec}: file {path} does not exist.")
            name = f"classbalance_user_model_{abs(hash(str(path.resolve())))}"
            module = sys.modules.get(name)
            if module is None:
                module_spec = importlib.util.spec_from_file_location(name, path)
                assert module_spec is not None
                assert module_spec.loader is not None
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[name] = module
                module_spec.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))
            module = importlib.import_module(module_name)
    except CompareError:
        raise
    except Exception as exc:  # any import-time failure of user code is reported in one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CompareError(f"{option} {spec}: could not import {module_name}: {first}") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise CompareError(f"{option} {spec}: {module_name} has no function {attr!r}.")
    return fn


def resolve_model(model: str | ModelFn | None) -> ModelFn:
    """The model function for a ``--model`` spec, a callable, or ``None`` (the default)."""
    if model is None:
        return default_model
    if isinstance(model, str):
        return load_function(model)
    if callable(model):
        return model
    raise CompareError(
        f"`model` must be 'module:function', a callable or None; got {type(model).__name__}."
    )


def call_model_function(make: Callable[[], Any], what: str) -> Any:
    """``make()``, which must return a Keras model; any failure is one CompareError naming ``what``.

    Examples
    --------
    >>> from classbalance.compare.models import call_model_function
    >>> call_model_function(lambda: 1 / 0, "model function f")
    Traceback (most recent call last):
    ...
    classbalance.compare.config.CompareError: The model function f failed: division by zero
    """
    import keras

    try:
        model = make()
    except CompareError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CompareError(f"The {what} failed: {first}") from exc
    if not isinstance(model, keras.Model):
        raise CompareError(f"The {what} must return a Keras model; got {type(model).__name__}.")
    return model


def build_model(model: str | ModelFn | None, data: Any) -> Any:
    """A fresh logits model for ``data`` (images get ``Rescaling(1/255)`` in front).

    Raises
    ------
    CompareError
        The function fails, returns something that is not a Keras model, or
        its output is not ``(batch, n_classes)``.
    """
    import keras

    fn = resolve_model(model)
    name = getattr(fn, "__name__", repr(fn))
    inner = call_model_function(
        lambda: fn(data.input_shape, data.n_classes), f"model function {name}"
    )
    if data.kind == "images":
        inputs = keras.Input(data.input_shape)
        outputs = inner(keras.layers.Rescaling(1.0 / 255)(inputs))
        wrapped = keras.Model(inputs, outputs, name=f"{inner.name}_on_pixels")
    else:
        wrapped = inner
    probe = keras.ops.convert_to_numpy(wrapped(data.x_train[:2].astype("float32"), training=False))
    if probe.ndim != 2 or probe.shape[-1] != data.n_classes:
        raise CompareError(
            f"The model function {name} must output one logit per class, shape "
            f"(batch, {data.n_classes}); its output has shape {probe.shape[1:]} per batch."
        )
    return wrapped
