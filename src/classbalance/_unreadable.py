"""What an unreadable image means, in one place (re-exported by :mod:`classbalance.layout`).

Every command that opens images skips an unreadable one with one warning
naming it, or, with ``on_unreadable="error"`` (``--strict-images``), stops
with an error naming it; :func:`classbalance.layout.skip_or_raise` applies
the rule, these are its parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from classbalance._validation import check_choice

__all__ = ["ON_UNREADABLE", "check_on_unreadable", "listing", "unreadable_reason"]

ON_UNREADABLE = ("skip", "error")
_SHOWN = 5


def check_on_unreadable(on_unreadable: Any) -> str:
    """Check the ``on_unreadable`` argument: ``"skip"`` or ``"error"``.

    Examples
    --------
    >>> from classbalance.layout import check_on_unreadable
    >>> check_on_unreadable("skip")
    'skip'
    >>> check_on_unreadable("ignore")
    Traceback (most recent call last):
    ...
    ValueError: ...
    """
    return check_choice(on_unreadable, "on_unreadable", ON_UNREADABLE)


def unreadable_reason(exc: BaseException) -> str:
    """Why an image could not be read, in one line (Pillow's message, or the error's type).

    Examples
    --------
    >>> from classbalance.layout import unreadable_reason
    >>> unreadable_reason(OSError("image file is truncated"))
    'image file is truncated'
    >>> unreadable_reason(ValueError())
    'ValueError'
    """
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__


def listing(files: Sequence[str], reasons: Sequence[str] | None) -> str:
    """The first few ``files`` (with their reasons), and how many more."""
    shown = [
        f"{f} ({reasons[k]})" if reasons is not None and reasons[k] else f
        for k, f in enumerate(files[:_SHOWN])
    ]
    more = len(files) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")
