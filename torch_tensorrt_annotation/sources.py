"""Deterministic source fingerprints of Python functions and what they reference.

Op names and cache keys must be equal in every process on every machine for the same code, so a fingerprint is
built from source text (or, when no source file exists, from code objects' stable parts), never from ids or
addresses.
"""

from __future__ import annotations

import enum
import hashlib
import inspect
import sys
import textwrap
import types
from collections.abc import Callable, Iterable
from typing import Any


def source_of(fn: Any) -> str:
    """Source text of a function (dedented), or a stable rendering of its code object when there is no file.
    Generated functions (declarative launches, meta_impls) carry their own description instead."""
    declared = getattr(fn, "__tta_declarative__", None)
    if declared is not None:
        return declared
    target = inspect.unwrap(fn) if callable(fn) else fn
    try:
        return textwrap.dedent(inspect.getsource(target))
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is None:
            return f"<{type(target).__qualname__}>"
        return _code_text(code)


def _code_text(code: types.CodeType) -> str:
    consts = [(_code_text(c) if isinstance(c, types.CodeType) else repr(c)) for c in code.co_consts]
    return f"{code.co_name}|{code.co_code.hex()}|{code.co_names}|{code.co_varnames}|{consts}"


def _code_names(code: types.CodeType) -> Iterable[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def referenced(fn: Callable, predicate: Callable[[Any], bool]) -> list[Any]:
    """Objects satisfying `predicate` that fn's code can name: globals, closure cells and `module.attr` chains."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    names = set(_code_names(code))
    g = getattr(fn, "__globals__", {})
    candidates = [g[n] for n in sorted(names) if n in g]
    for cell in fn.__closure__ or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:  # empty cell
            pass
    for value in list(candidates):
        if isinstance(value, types.ModuleType):
            candidates.extend(getattr(value, n) for n in sorted(names) if hasattr(value, n))
    found, seen = [], set()
    for value in candidates:
        if predicate(value) and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    return found


# Packages whose functions are not the user's: their code belongs to a version (in the artifact cache key), and
# following them would hash their internals into op names.
_LIBRARIES = frozenset({"triton", "torch", "cutlass", "cuda", "numpy", "torch_tensorrt_annotation", "tensorrt",
                        "torch_tensorrt", "jax", "cupy"}) | frozenset(getattr(sys, "stdlib_module_names", ()))
_PLAIN = (int, float, bool, str, bytes, complex, type(None))


def _plain_repr(value: Any, depth: int = 0) -> str | None:
    """A process-independent rendering of a plain value (numbers, strings, containers of them, and wrappers such as
    Triton's `tl.constexpr` whose `.value` is plain); None for anything else (objects, functions, modules)."""
    if depth > 4:
        return None
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_plain_repr(v, depth + 1) for v in value]
        if any(i is None for i in items):
            return None
        if isinstance(value, (set, frozenset)):
            items.sort()
        return f"{type(value).__name__}({', '.join(items)})"  # type: ignore[arg-type]
    if isinstance(value, dict):
        pairs = [(_plain_repr(k, depth + 1), _plain_repr(v, depth + 1)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(pairs)) + "}"  # type: ignore[arg-type]
    inner = getattr(value, "value", _MISSING) if type(value).__name__.lower() == "constexpr" else _MISSING
    if inner is not _MISSING:
        text = _plain_repr(inner, depth + 1)
        return None if text is None else f"constexpr({text})"
    return None


_MISSING = object()


def is_library_function(fn: Any) -> bool:
    module = str(getattr(inspect.unwrap(fn), "__module__", "") or "")
    return module.split(".")[0] in _LIBRARIES


def global_values(fn: Callable, *, follow: Callable[[Any], Any] | None = None) -> list[str]:
    """`module.name=value` for every plain module-level (or closure) value that `fn` can read, and, recursively,
    that the user's own Python functions it references can read (library functions are not followed).

    Such values reach a recorded launch (a grid divisor, a block size, a flag) without appearing in the source text
    that an op name hashes, so they are hashed too. `follow(obj)` may return a further function to visit for an
    object that is neither plain nor a function (a backend's kernel wrapper), or None."""
    out: dict[str, str] = {}
    seen: set[int] = set()
    queue: list[Any] = [fn]
    while queue:
        current = queue.pop(0)
        current = inspect.unwrap(current) if callable(current) else current
        code = getattr(current, "__code__", None)
        if id(current) in seen or code is None:
            continue
        seen.add(id(current))
        names = sorted(set(_code_names(code)))
        g = getattr(current, "__globals__", {})
        owner = str(g.get("__name__", ""))
        values: list[tuple[str, Any]] = [(n, g[n]) for n in names if n in g]
        for name, cell in zip(code.co_freevars, current.__closure__ or ()):
            try:
                values.append((name, cell.cell_contents))
            except ValueError:  # an empty cell
                pass
        for name, value in list(values):
            if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] not in _LIBRARIES:
                values += [(f"{name}.{n}", getattr(value, n)) for n in names if hasattr(value, n)]
        for name, value in values:
            text = _plain_repr(value)
            if text is not None:
                if len(text) > 256:  # a large table: its digest, not its text
                    text = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
                out[f"{owner}.{name}"] = text
            elif isinstance(value, types.FunctionType):
                if not is_library_function(value):
                    queue.append(value)
            elif follow is not None and not isinstance(value, (type, types.ModuleType)):
                further = follow(value)
                if further is not None:
                    queue.append(further)
    return [f"{k}={v}" for k, v in sorted(out.items())]
