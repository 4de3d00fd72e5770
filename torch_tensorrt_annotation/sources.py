"""Deterministic source fingerprints of Python functions and what they reference.

Op names and cache keys must be equal in every process on every machine for the same code, so a fingerprint is
built from source text (or, when no source file exists, from code objects' stable parts), never from ids or
addresses.
"""

from __future__ import annotations

import inspect
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
