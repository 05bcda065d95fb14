"""Argument checks shared by the public API.

Messages follow the Keras shape: name the argument in backticks, say what is
allowed, then ``Received: name=value``.
"""

from __future__ import annotations

import numbers
import secrets
from typing import Any

import numpy as np


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type.

    The package's rule is: a wrong type raises ``TypeError``, a wrong value
    ``ValueError``. The checks below raised ``ValueError`` for both before the
    rule was written down, so a wrong type is also a ``ValueError`` (code that
    catches ``ValueError`` keeps working); new code should catch ``TypeError``.
    """


def check_positive_int(value: Any, name: str, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer (bools refused).

    Not an integer (a float, a str, a bool): :class:`ArgumentTypeError`; too
    small: ``ValueError``.
    """
    lowest = 0 if allow_zero else 1
    kind = "non-negative" if allow_zero else "positive"
    message = (
        f"`{name}` must be a {kind} integer (not a bool). Received: {name}={short_repr(value)}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(message)
    if value < lowest:
        raise ValueError(message)
    return int(value)


def resolve_seed(seed: Any, name: str = "seed") -> int:
    """Turn ``seed`` into a non-negative ``int`` that can be recorded and replayed.

    ``None`` draws a fresh 63-bit seed from the OS; a NumPy ``Generator`` is
    asked for one (so passing the same generator state gives the same seed).
    """
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an int >= 0, a numpy.random.Generator or None. "
            f"Received: {name}={short_repr(seed)} of type {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"`{name}` must be >= 0. Received: {name}={seed}")
    return int(seed)


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``key``.

    Every call site passes a key of the same length (``domain, a, b``) so two
    different purposes can never share a stream; a ``SeedSequence`` of the
    whole tuple avoids the ``seed + epoch`` collision between (0, 1) and (1, 0).
    """
    return np.random.default_rng([seed, *key])


def check_fraction(value: Any, name: str, *, inclusive_one: bool = True) -> float:
    """Check ``value`` is a real number in [0, 1] (or [0, 1))."""
    bound = "]" if inclusive_one else ")"
    message = f"`{name}` must be a number in [0, 1{bound}. Received: {name}={short_repr(value)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(message)
    if not np.isfinite(value):
        raise ValueError(message)
    upper_ok = value <= 1 if inclusive_one else value < 1
    if value < 0 or not upper_ok:
        raise ValueError(f"`{name}` must be in [0, 1{bound}. Received: {name}={value}")
    return float(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check ``value`` is one of ``choices``; the message lists them."""
    allowed = ", ".join(repr(c) for c in choices)
    message = f"`{name}` must be one of {allowed}. Received: {name}={short_repr(value)}"
    if not isinstance(value, str):
        raise ArgumentTypeError(message)
    if value not in choices:
        raise ValueError(message)
    return value
