"""Recording a user's launch function with symbolic proxies.

The launch function is ordinary host code: `N = x.shape[-1]; kernel[(triton.cdiv(N, BLOCK),)](x, out, N, ...)`.
To turn it into an ahead-of-time launch, we call it once with proxies instead of tensors:

- a `SymTensor` answers `.shape`, `.size()`, `.numel()`, `.stride()`, `.dtype` with symbolic values;
- a `SymInt` wraps a `symbolic.Expr` and supports `+ - * // %` with ints on either side, plus `min`, `max`,
  `triton.cdiv` and `triton.next_power_of_2`;
- anything that would need a concrete dim (`if N > 1024`, `int(N)`, `range(N)`) raises a RecordingError that names
  the rule, the line in the user's code and the fix.

The backend intercepts the kernel launch itself and reports it to the active `Recorder`.
"""

from __future__ import annotations

import builtins
import linecache
import os
import sys
import threading
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import symbolic as S
from .errors import RecordingError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_location() -> str:
    """'file.py:12: <source line>' for the innermost frame outside this package and the backends' libraries."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        internal = filename.startswith(_PACKAGE_DIR) or f"{os.sep}triton{os.sep}" in filename
        if not internal:
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
            return f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}"
        frame = frame.f_back
    return "<unknown location>"


def _data_dependent(what: str) -> RecordingError:
    return RecordingError(
        f"A recorded launch must be the same for every input shape, but the launch function {what} at "
        f"{user_location()}. Tensor dims are symbolic while the launch is recorded, so they cannot steer Python "
        "control flow or become Python ints. Fix: compute the value with +, -, *, //, min, max, triton.cdiv or "
        "triton.next_power_of_2 and pass it to the kernel, move the decision into the kernel, or make it a config "
        "value (one tactic per choice)."
    )


class SymBool:
    """Result of comparing symbolic dims. Its truth value depends on the shape, so using it raises."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __bool__(self):
        raise _data_dependent(f"branched on `{self.text}`")


def _unwrap(value: Any, op: str) -> S.Expr:
    if isinstance(value, SymInt):
        return value.expr
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordingError(
            f"Launch geometry is integer arithmetic over tensor dims, but the launch function applied '{op}' to a "
            f"tensor dim and a {type(value).__name__} ({value!r}) at {user_location()}. TensorRT passes only int32 "
            "values to an AOT kernel. Fix: keep shape arithmetic in ints; pass float constants as op attributes or "
            "config values."
        )
    return S.Const(value)


class SymInt:
    """An int-like proxy for a symbolic expression of tensor dims."""

    __slots__ = ("expr",)

    def __init__(self, expr: S.Expr):
        self.expr = expr

    def _bin(self, op: str, other, reverse=False):
        a, b = (_unwrap(other, op), self.expr) if reverse else (self.expr, _unwrap(other, op))
        return wrap(S.binop(op, a, b))

    def __add__(self, o):
        return self._bin("add", o)

    def __radd__(self, o):
        return self._bin("add", o, True)

    def __sub__(self, o):
        return self._bin("sub", o)

    def __rsub__(self, o):
        return self._bin("sub", o, True)

    def __mul__(self, o):
        return self._bin("mul", o)

    def __rmul__(self, o):
        return self._bin("mul", o, True)

    def __floordiv__(self, o):
        return self._bin("floordiv", o)

    def __rfloordiv__(self, o):
        return self._bin("floordiv", o, True)

    def __mod__(self, o):
        return self._bin("mod", o)

    def __rmod__(self, o):
        return self._bin("mod", o, True)

    def __neg__(self):
        return wrap(S.binop("sub", 0, self.expr))

    def __pos__(self):
        return self

    def _cmp(self, symbol: str, other) -> SymBool:
        other_text = str(other.expr) if isinstance(other, SymInt) else repr(other)
        return SymBool(f"{self.expr} {symbol} {other_text}")

    def __lt__(self, o):
        return self._cmp("<", o)

    def __le__(self, o):
        return self._cmp("<=", o)

    def __gt__(self, o):
        return self._cmp(">", o)

    def __ge__(self, o):
        return self._cmp(">=", o)

    def __eq__(self, o):
        return self._cmp("==", o)

    def __ne__(self, o):
        return self._cmp("!=", o)

    __hash__ = None  # type: ignore[assignment]  # unhashable, like TensorRT's symbolic ints: equality is symbolic

    def __bool__(self):
        raise _data_dependent(f"tested the truth of `{self.expr}`")

    def __index__(self):
        raise _data_dependent(f"used `{self.expr}` as a Python int (index, range, slice or int())")

    __int__ = __index__

    def __float__(self):
        raise _data_dependent(f"converted `{self.expr}` to float")

    def __truediv__(self, o):
        raise RecordingError(
            f"True division '/' of tensor dims gives a float, which TensorRT cannot pass to an AOT kernel "
            f"({self.expr} / {o!r} at {user_location()}). Fix: use '//' or triton.cdiv."
        )

    __rtruediv__ = __truediv__

    def _bits(self, *_):
        raise RecordingError(
            f"Bit operations on tensor dims are not supported ({self.expr} at {user_location()}). "
            "Fix: use triton.next_power_of_2, min, max, // or % instead."
        )

    __and__ = __or__ = __xor__ = __lshift__ = __rshift__ = __invert__ = _bits
    __rand__ = __ror__ = __rxor__ = __rlshift__ = __rrshift__ = _bits

    def __repr__(self):
        return f"SymInt({self.expr})"


def launch_dims(values, error) -> tuple[S.Expr, S.Expr, S.Expr]:
    """Grid or block dims as three Exprs (missing ones are 1). Each value must be an int or a SymInt; for anything
    else `error(position, value)` builds the RecordingError to raise."""
    dims = []
    for i, v in enumerate(values):
        if isinstance(v, SymInt):
            dims.append(v.expr)
        elif isinstance(v, int) and not isinstance(v, bool):
            dims.append(S.Const(v))
        else:
            raise error(i, v)
    dims += [S.Const(1)] * (3 - len(dims))
    return (dims[0], dims[1], dims[2])


def wrap(expr: S.Expr) -> "SymInt | int":
    """Constants stay plain ints so that literal-only arithmetic behaves exactly like Python."""
    return expr.value if isinstance(expr, S.Const) else SymInt(expr)


def _symbolic_reduction(op: str, builtin):
    """min / max that build a symbolic expression when any argument is a SymInt, else defer to the builtin."""

    def reduce(*args, **kwargs):
        values = list(args[0] if len(args) == 1 else args)
        if kwargs or not any(isinstance(v, SymInt) for v in values):
            return builtin(*args, **kwargs)
        result = _unwrap(values[0], op)
        for v in values[1:]:
            result = S.binop(op, result, _unwrap(v, op))
        return wrap(result)

    reduce.__name__ = op
    return reduce


sym_min = _symbolic_reduction("min", builtins.min)
sym_max = _symbolic_reduction("max", builtins.max)


def sym_cdiv(x, y):
    if isinstance(x, SymInt) or isinstance(y, SymInt):
        return wrap(S.binop("cdiv", _unwrap(x, "cdiv"), _unwrap(y, "cdiv")))
    return -(-x // y)


def sym_next_power_of_2(n):
    if isinstance(n, SymInt):
        return wrap(S.next_pow2(n.expr))
    return S._next_pow2(n)


class SymShape(tuple):
    """A tensor's shape as a tuple of SymInts. `shape[-1]` stays "the last dim" rather than becoming a fixed
    axis, so expressions read like the user's code."""

    _tensor: "SymTensor"

    def __new__(cls, tensor: "SymTensor", dims):
        shape = super().__new__(cls, dims)
        shape._tensor = tensor
        return shape

    def __getitem__(self, index):
        if isinstance(index, int) and not isinstance(index, bool):
            return self._tensor.size(index)
        return super().__getitem__(index)


class SymTensor:
    """Stands in for an input or output tensor while a launch is recorded.

    `rank=None` means the rank is not known yet (a check at spec creation, before any example input exists);
    negative and positive axes still work, but anything that needs the rank raises `RankUnknown`.
    """

    def __init__(self, role: str, index: int, name: str, dtype, rank: int | None):
        self._role, self._index, self._name, self._dtype, self._rank = role, index, name, dtype, rank

    # identity ------------------------------------------------------------------------------------------------
    @property
    def tta_role(self) -> tuple[str, int]:
        return (self._role, self._index)

    def __repr__(self):
        return f"SymTensor({self._role} {self._index} '{self._name}', dtype={self._dtype}, rank={self._rank})"

    # shape idioms --------------------------------------------------------------------------------------------
    def _need_rank(self, what: str) -> int:
        if self._rank is None:
            raise RankUnknown(what)
        return self._rank

    def _check_axis(self, axis) -> int:
        if isinstance(axis, SymInt) or isinstance(axis, bool) or not isinstance(axis, int):
            raise RecordingError(
                f"A dim index must be a literal int, got {axis!r} for {self._name} at {user_location()}."
            )
        if self._rank is not None and not -self._rank <= axis < self._rank:
            raise RecordingError(
                f"Dim {axis} is out of range for '{self._name}' of rank {self._rank} at {user_location()}."
            )
        return axis

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        return wrap(S.Dim(self._role, self._index, self._check_axis(dim)))

    @property
    def shape(self):
        if self._rank is None:
            return _AgnosticShape(self)
        return SymShape(self, [wrap(S.Dim(self._role, self._index, a)) for a in range(self._rank)])

    def stride(self, dim: int | None = None):
        if dim is None:
            return tuple(self.stride(a) for a in range(self._need_rank("x.stride()")))
        return wrap(S.Stride(self._role, self._index, self._check_axis(dim)))

    def numel(self):
        return wrap(S.Numel(self._role, self._index))

    def nelement(self):
        return self.numel()

    def dim(self) -> int:
        return self._need_rank("x.dim()")

    @property
    def ndim(self) -> int:
        return self._need_rank("x.ndim")

    def __len__(self):
        return wrap(S.Dim(self._role, self._index, 0))

    @property
    def dtype(self):
        return self._dtype

    def element_size(self) -> int:
        import torch

        return torch.empty((), dtype=self._dtype).element_size()

    @property
    def device(self):
        import torch

        return torch.device("cuda")

    @property
    def is_cuda(self):
        return True

    def is_contiguous(self, *args, **kwargs):
        return True  # AOT kernels see contiguous (LINEAR) tensors; the eager op makes inputs contiguous

    def contiguous(self, *args, **kwargs):
        return self

    def data_ptr(self):
        raise RecordingError(
            f"The launch function read a raw pointer ({self._name}.data_ptr()) at {user_location()}. "
            "A recorded launch passes tensors to the kernel directly. Fix: pass the tensor itself."
        )

    def __getattr__(self, item):
        zero = (" To start an output as zeros (a kernel that accumulates with atomics), declare it instead: "
                "tta.custom_plugin(..., zeroed_outputs=('out',))." if item in ("zero_", "fill_") else "")
        raise RecordingError(
            f"'{item}' is not supported on a tensor while the launch is recorded ({self._name}.{item} at "
            f"{user_location()}). Supported: .shape, .size(i), .numel(), .stride(i), .dtype, .dim(), "
            f".element_size(). Fix: pass whole tensors to the kernel and derive sizes with those.{zero}"
        )

    def _no_math(self, *_):
        raise RecordingError(
            f"Tensor arithmetic or slicing on '{self._name}' is not supported in a launch function "
            f"(at {user_location()}): TensorRT passes the tensor's base pointer to the kernel. Fix: pass the "
            "tensor and apply offsets inside the kernel."
        )

    __add__ = __radd__ = __sub__ = __mul__ = __getitem__ = __truediv__ = _no_math


class _AgnosticShape:
    """`x.shape` when the rank is unknown: indexing works, anything needing the rank raises RankUnknown."""

    def __init__(self, tensor: SymTensor):
        self._t = tensor

    def __getitem__(self, axis):
        if isinstance(axis, slice):
            raise RankUnknown("x.shape[a:b]")
        return self._t.size(axis)

    def __len__(self):
        raise RankUnknown("len(x.shape)")

    def __iter__(self):
        raise RankUnknown("iterating x.shape")


class RankUnknown(Exception):
    """Internal: a check without example inputs met code that needs a tensor's rank. The check is deferred."""


@dataclass
class RecordedLaunch:
    """What one `kernel[grid](...)` call looked like, before backend-specific classification."""

    kernel: Any
    grid: Any
    args: tuple
    kwargs: dict
    location: str


@dataclass
class Recorder:
    """Collects the kernel launches made while a launch function runs. Exactly one is expected."""

    launch_fn_name: str
    launches: list[RecordedLaunch] = field(default_factory=list)

    def on_launch(self, kernel, grid, args, kwargs):
        self.launches.append(RecordedLaunch(kernel, grid, tuple(args), dict(kwargs), user_location()))


_active = threading.local()


def active_recorder() -> Recorder | None:
    return getattr(_active, "recorder", None)


def _symbolic_globals(fn: Callable, overrides: Mapping[int, Any]) -> dict:
    """A copy of fn's globals in which min/max and known helper functions are symbolic.

    Copying (instead of patching builtins or the triton module) keeps the change local to this one call and
    invisible to other threads. Nested functions defined inside `fn` (a `grid=lambda meta: ...`) share it.
    """
    g = dict(fn.__globals__)
    g.setdefault("min", sym_min)  # a module that defines its own min/max keeps it
    g.setdefault("max", sym_max)
    for name, value in list(g.items()):
        replacement = overrides.get(id(value))
        if replacement is not None:
            g[name] = replacement
    return g


def symbolic_copy(fn: Callable, overrides: Mapping[int, Any]) -> Callable:
    """fn, rebuilt over `_symbolic_globals` (same code, defaults and closure)."""
    code = getattr(fn, "__code__", None)
    if code is None:  # a callable object: call it as is
        return fn
    clone = types.FunctionType(code, _symbolic_globals(fn, overrides), fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__kwdefaults__ = fn.__kwdefaults__
    return clone


def run_recording(launch_fn: Callable, args: Sequence, kwargs: Mapping, overrides: Mapping[int, Any]) -> Recorder:
    """Run launch_fn(*args, **kwargs) with a Recorder active on this thread and return it."""
    recorder = Recorder(getattr(launch_fn, "__name__", repr(launch_fn)))
    previous = active_recorder()
    _active.recorder = recorder
    try:
        symbolic_copy(launch_fn, overrides)(*args, **kwargs)
    finally:
        _active.recorder = previous
    return recorder
