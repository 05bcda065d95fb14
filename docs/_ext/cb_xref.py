"""Resolve docstring cross-references to the name under which an object is documented.

The API reference documents each object once, under its public name (``classbalance.
encode_multilabel``), while docstrings may name it by its defining module
(``classbalance.labels.encode_multilabel``) or relative to it (``tune_threshold`` inside
``classbalance.thresholds``). A reference that fails to resolve is looked up by *identity*:
the same Python object documented under another name gets the link. A reference to a real
object that has no page of its own (an instance attribute such as ``seed``, a private module)
is rendered as code without a link. A reference to a name that does not exist still fails
the build (``nitpicky = True`` with ``-W``).
"""

from __future__ import annotations

import importlib
from typing import Any

_MISSING = object()


def _lookup(dotted: str) -> Any:
    """The object named ``dotted`` (module, then attributes), or ``_MISSING``."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _instance_attribute(owner: Any, name: str) -> bool:
    """``name`` is an attribute that instances of the class ``owner`` get in ``__init__``."""
    if not isinstance(owner, type):
        return False
    if name in getattr(owner, "__annotations__", {}):
        return True
    for klass in owner.__mro__:  # set as ``self.<name>`` by some method of the class
        for member in vars(klass).values():
            if name in getattr(getattr(member, "__code__", None), "co_names", ()):
                return True
    return False


def _documented(env: Any) -> dict[int, str]:
    cache = getattr(env, "_cb_documented", None)
    if cache is None:
        cache = {}
        for name, entry in env.domains["py"].objects.items():
            if entry.aliased:
                continue
            obj = _lookup(name)
            if obj is not _MISSING and not isinstance(obj, (str, int, float, bool, type(None))):
                cache.setdefault(id(obj), name)
        env._cb_documented = cache
    return cache


def _candidates(node: Any) -> list[str]:
    """Where the target may live: as written, in the page's module and class, and in the
    modules that define the documented object (a docstring's names are relative to them)."""
    target = node["reftarget"].lstrip("~.")
    module, klass = node.get("py:module"), node.get("py:class")
    names = [target]
    if module:
        names.append(f"{module}.{target}")
        if klass:
            names.append(f"{module}.{klass}.{target}")
    documented = _lookup(node["refdoc"].rpartition("/")[2])
    home = getattr(documented, "__module__", None)
    while home:
        names.append(f"{home}.{target}")
        if isinstance(documented, type):
            names.append(f"{home}.{documented.__name__}.{target}")
        home = home.rpartition(".")[0]
    return names


def missing_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    documented = _documented(env)
    domain = env.domains["py"]
    for name in _candidates(node):
        obj = _lookup(name)
        if obj is _MISSING:
            owner_name, _, attr = name.rpartition(".")
            owner = _lookup(owner_name) if owner_name else _MISSING
            if owner is not _MISSING and _instance_attribute(owner, attr):
                return contnode
            continue
        canonical = documented.get(id(obj))
        if canonical is not None:
            ref = domain.resolve_xref(
                env, node["refdoc"], app.builder, "obj", canonical, node, contnode
            )
            if ref is not None:
                return ref
        return contnode  # a real object without a page of its own: code, no link
    return None


def setup(app: Any) -> dict[str, Any]:
    app.connect("missing-reference", missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
