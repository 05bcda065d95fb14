"""Reading one batch of rows out of whatever holds the data.

The engine decides indices from labels; this module is the only place that
touches ``x`` and ``y``, once per batch, with one vectorized read per array.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Leaf = Any


def _is_h5_like(obj: Any) -> bool:
    # h5py/zarr datasets: have a shape, are not NumPy arrays, and want sorted reads.
    module = type(obj).__module__ or ""
    return module.split(".")[0] in {"h5py", "zarr"}


def _is_path_list(obj: Any) -> bool:
    if isinstance(obj, np.ndarray):
        return (
            obj.ndim == 1
            and obj.dtype.kind in "OUS"
            and obj.size > 0
            and isinstance(obj.flat[0], (str, bytes, os.PathLike))
        )
    return (
        isinstance(obj, (list, tuple))
        and len(obj) > 0
        and isinstance(obj[0], (str, bytes, os.PathLike))
    )


class Gatherer:
    """Gathers rows ``idx`` from a (possibly nested) structure of arrays."""

    def __init__(
        self,
        data: Any,
        name: str,
        loader: Callable[[Any], Any] | None = None,
        *,
        inputs: bool = True,
    ) -> None:
        self.name = name
        self.inputs = inputs
        self.loader = loader
        self.structure = self._wrap(data, name, top=True)
        self.length = self._common_length()

    # Each node is ("dict", {k: node}) | ("seq", type, [nodes]) | ("leaf", kind, obj)
    def _wrap(self, data: Any, name: str, top: bool = False) -> tuple:
        if isinstance(data, Mapping):
            if not data:
                raise ValueError(f"`{name}` is an empty dict.")
            return ("dict", {k: self._wrap(v, f"{name}[{k!r}]") for k, v in data.items()})
        if top and self.loader is not None:
            if isinstance(data, (str, bytes)):
                raise TypeError(f"`{name}` must be a sequence of paths, not a single path.")
            return ("leaf", "paths", list(data) if not isinstance(data, np.ndarray) else data)
        if self.inputs and _is_path_list(data):
            raise TypeError(
                f"`{name}` looks like a list of file paths; pass `loader=` (a function that reads "
                "one path into an array, e.g. with Pillow) so batches can be loaded."
            )
        if (
            isinstance(data, (list, tuple))
            and data
            and all(hasattr(v, "shape") and hasattr(v, "__getitem__") for v in data)
        ):
            return ("seq", type(data), [self._wrap(v, f"{name}[{i}]") for i, v in enumerate(data)])
        if isinstance(data, np.memmap):
            return ("leaf", "sorted", data)
        if isinstance(data, np.ndarray):
            if data.ndim == 0:
                raise ValueError(f"`{name}` must have a sample axis; got a 0-d array.")
            return ("leaf", "array", data)
        if _is_h5_like(data):
            return ("leaf", "sorted", data)
        if hasattr(data, "shape") and hasattr(data, "__getitem__") and hasattr(data, "__len__"):
            module = (type(data).__module__ or "").split(".")[0]
            if module in {"torch", "tensorflow", "jax", "jaxlib"}:
                return ("leaf", "array", np.asarray(data))
            return ("leaf", "sorted", data)
        try:
            arr = np.asarray(data)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"`{name}` must be an array, a dict/list/tuple of arrays, an h5py dataset, a "
                f"memmap, or paths with `loader=`. Received type {type(data).__name__}."
            ) from exc
        if arr.ndim == 0:
            raise TypeError(f"`{name}` must be array-like with a sample axis. Received: {data!r}")
        return ("leaf", "array", arr)

    def _lengths(self, node: tuple, name: str, out: list[tuple[str, int]]) -> None:
        if node[0] == "dict":
            for k, child in node[1].items():
                self._lengths(child, f"{name}[{k!r}]", out)
        elif node[0] == "seq":
            for i, child in enumerate(node[2]):
                self._lengths(child, f"{name}[{i}]", out)
        else:
            out.append((name, len(node[2])))

    def _common_length(self) -> int:
        found: list[tuple[str, int]] = []
        self._lengths(self.structure, self.name, found)
        lengths = {n for _, n in found}
        if len(lengths) > 1:
            detail = ", ".join(f"{k} has {n}" for k, n in found)
            raise ValueError(f"The arrays in `{self.name}` differ in length ({detail}).")
        return found[0][1]

    def _take_leaf(self, kind: str, obj: Any, idx: np.ndarray) -> Any:
        if kind == "array":
            # Indices come from the plan and are in range, so "clip" skips the
            # bounds check (and the extra buffer "raise" needs).
            return np.take(obj, idx, axis=0, mode="clip")
        if kind == "sorted":
            # Disk-backed arrays read fastest (h5py: only) with increasing, unique indices.
            uniq, inverse = np.unique(idx, return_inverse=True)
            block = np.asarray(obj[uniq])
            return np.take(block, inverse, axis=0)
        items = [self.loader(obj[int(i)]) for i in idx]  # type: ignore[misc]
        return np.stack([np.asarray(v) for v in items])

    def _take(self, node: tuple, idx: np.ndarray) -> Any:
        if node[0] == "dict":
            return {k: self._take(child, idx) for k, child in node[1].items()}
        if node[0] == "seq":
            return node[1](self._take(child, idx) for child in node[2])
        return self._take_leaf(node[1], node[2], idx)

    def in_memory(self) -> Any:
        """The nested dict/tuple of in-memory NumPy arrays behind the data, or None."""
        return _in_memory(self.structure)

    def take(self, idx: np.ndarray) -> Any:
        """Rows ``idx`` of every array, in the same structure as the input."""
        return self._take(self.structure, idx)

    def leaf(self, key: Any) -> Any:
        """The array at ``key`` of a dict/list/tuple structure (for ``labels=``)."""
        node = self.structure
        if node[0] == "dict":
            if key not in node[1]:
                raise ValueError(
                    f"`labels` names {key!r}, which is not a key of `{self.name}` "
                    f"(keys: {list(node[1])})."
                )
            child = node[1][key]
        elif node[0] == "seq":
            n = len(node[2])
            if isinstance(key, bool) or not isinstance(key, int) or not -n <= key < n:
                raise ValueError(
                    f"`labels` must be an index into `{self.name}` (0..{len(node[2]) - 1}). "
                    f"Received: labels={key!r}"
                )
            child = node[2][key]
        else:
            raise ValueError(
                f"`labels` can name an output only when `{self.name}` is a dict, list or tuple."
            )
        if child[0] != "leaf":
            raise ValueError(f"`labels`={key!r} must name an array, not a nested structure.")
        return child[2]


def _in_memory(node: tuple) -> Any:
    if node[0] == "dict":
        out = {k: _in_memory(child) for k, child in node[1].items()}
        return None if any(v is None for v in out.values()) else out
    if node[0] == "seq":
        parts = tuple(_in_memory(child) for child in node[2])
        return None if any(p is None for p in parts) else parts
    return node[2] if node[1] == "array" and isinstance(node[2], np.ndarray) else None
