"""State dicts for exact resume: where a pass stands, and what it was a pass of.

Plans depend only on ``(seed, epoch)``, so a sampler's or a stream's place in
training is two numbers: the epoch of the pass in progress and how many items
(indices, batches or samples) it has served. The state also carries a
*fingerprint* of what produced the plans (seed, strategy, data size, class
counts); :func:`check_state` refuses a state whose fingerprint differs and
names the difference, so a checkpoint is never resumed on other data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from classbalance._validation import short_repr

__all__ = ["check_state", "fingerprint", "make_state"]

_VERSION = 1


def fingerprint(
    *, seed: int, strategy: Any, n_samples: int, counts: np.ndarray, **extra: Any
) -> dict[str, Any]:
    """What the plans depend on, as plain values (counts as a short digest)."""
    digest = hashlib.sha256(np.ascontiguousarray(counts, dtype=np.int64).tobytes()).hexdigest()
    out = {
        "seed": int(seed),
        "strategy": repr(strategy),
        "n_samples": int(n_samples),
        "class_counts": digest[:16],
    }
    out.update(extra)
    return out


def make_state(fp: dict[str, Any], epoch: int, position: int, unit: str) -> dict[str, Any]:
    """A state dict: the fingerprint, the epoch of the pass and ``position`` ``unit``s served."""
    return {"version": _VERSION, **fp, "epoch": int(epoch), unit: int(position)}


def check_state(state: Any, fp: dict[str, Any], unit: str, owner: str) -> tuple[int, int]:
    """``(epoch, position)`` of ``state``, refused if it is not a state of the same plans."""
    if not isinstance(state, Mapping) or "epoch" not in state or unit not in state:
        raise ValueError(
            f"{owner}.load_state_dict() needs a dict made by {owner}.state_dict() (with 'epoch' "
            f"and {unit!r}). Received: {short_repr(state)}"
        )
    diffs = [
        f"{key}: saved {state.get(key)!r}, here {value!r}"
        for key, value in fp.items()
        if state.get(key) != value
    ]
    if diffs:
        raise ValueError(
            f"This state was saved by another {owner} (different plans); resuming from it would "
            f"not continue the saved run. Differences: {'; '.join(diffs)}. Build the {owner} "
            "with the same labels, strategy and seed as the saved run."
        )
    epoch, position = state["epoch"], state[unit]
    for name, value in (("epoch", epoch), (unit, position)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"State {name!r} must be an int >= 0. Received: {name}={value!r}")
    return int(epoch), int(position)
