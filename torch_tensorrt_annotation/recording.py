"""Recording a user's launch function with symbolic proxies, guarded specialization style.

The launch function is ordinary host code: `N = x.shape[-1]; kernel[(triton.cdiv(N, BLOCK),)](x, out, N, ...)`.
To turn it into an ahead-of-time launch, we call it once with proxies instead of tensors:

- a `SymTensor` answers `.shape`, `.size()`, `.numel()`, `.stride()`, `.dtype` with symbolic values;
- a `SymInt` wraps a `symbolic.Expr` and supports `+ - * // %` with ints on either side, plus `min`, `max`,
  `triton.cdiv` and `triton.next_power_of_2` (also when a helper in another module calls them), and bit operations;
- anything that needs a Python value of a dim (`if N > 1024`, `int(N)`, `range(N)`, a value for a `tl.constexpr`,
  `num_warps` computed from dims) asks the active `ShapeContext`, which takes the value for the recording's dims and
  records a **guard**, the model `torch.compile(dynamic=True)` uses. The plan (and the artifact compiled from it) is
  valid for exactly the shapes where every guard still holds; other shapes record again.

Design note: why our own expressions rather than torch's `SymInt`/`ShapeEnv` (which `meta_shapes.py` does use for
`meta_impl`). (1) Launch geometry must lower one-to-one to TensorRT's shape expressions (+ - * // cdiv min max);
ShapeEnv canonicalises into sympy forms (FloorDiv of sums for cdiv, PythonMod, bitwise sympy functions for Triton's
`next_power_of_2`) that would need a lossy translation back, and messages and artifacts would no longer read like
the user's code (`cdiv(in0.numel(), 256)`). (2) A TensorRT build needs a third mode besides "symbolic" and
"guarded": decisions on static dims taken, decisions on dynamic dims decided by the profile's min/max or refused
with the dim and the line; here that is `symbolic.bounds` (interval arithmetic over a small closed set of
operations), with no global ShapeEnv state to reset between tactics. (3) Cost: recording a cached plugin stays in
the millisecond range, with no sympy simplification per operation. Duck sizing and 0/1 specialization, torch's two
surprises, do not arise: every dim is its own symbol (tensor, axis) whatever its example value, and a dim of 0 or 1
is specialized only if the launch code decides on it, and then guarded like any other decision.

The backend intercepts the kernel launch itself and reports it to the active `Recorder`.
"""

from __future__ import annotations

import builtins
import linecache
import math
import operator
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
PY_CMP = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
          "ne": operator.ne}


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


class ShapesUnknown(Exception):
    """Internal: a recording without example shapes (the structural check at plugin creation) met a decision on a
    dim. The check stops there; the launch is recorded again, with shapes, when it is compiled."""


@dataclass(frozen=True)
class Guard:
    """`expr` evaluated to `value` when the launch was recorded; the recording holds for shapes where it still does."""

    expr: S.Expr
    value: int
    location: str = ""


class ShapeContext:
    """What one recording knows about the dims, and the guards its decisions recorded.

    - `hints` (eager, `plugin.compile`): example shapes. Dims stay symbolic; a Python decision on a dim (a branch,
      `int()`, `range()`, a comparison, a value for a `tl.constexpr` or a launch option) takes the value the example
      shapes give it and records a guard.
    - `profile` (a TensorRT build): a decision is taken when the profile's min/max decide it for every shape in
      range, which is always the case for decisions on static dims (min == max); a decision on a dynamic dim that
      the range does not decide is refused with the dim, the user's line and the fixes. Dims stay symbolic either
      way, so an int passed to a runtime kernel parameter stays a runtime (extra) argument, as in eager.
    - neither (the check at plugin creation): a decision stops the check (`ShapesUnknown`).
    """

    def __init__(self, hints: S.Shapes | None = None, profile: S.Profile | None = None,
                 names: Mapping[tuple[str, int], str] | None = None, where: str = ""):
        self.hints, self.profile, self.names, self.where = hints, profile, dict(names or {}), where
        self.guards: list[Guard] = []
        self._seen: set = set()

    def _guard(self, expr: S.Expr, value: int, location: str = "") -> None:
        if isinstance(expr, S.Const) or (expr, value) in self._seen:
            return
        self._seen.add((expr, value))
        self.guards.append(Guard(expr, value, location))

    def decide(self, expr: S.Expr, what: str, location: str | None = None) -> int:
        """The value of `expr` for this recording, guarded. `what` says what the launch function did with it;
        `location` is the user's line (default: the innermost frame outside tta and Triton)."""
        if isinstance(expr, S.Const):
            return expr.value
        location = location or user_location()
        if self.profile is not None:
            span = S.bounds(expr, self.profile)
            if span is not None and span[0] == span[1]:
                self._guard(expr, span[0], location)
                return span[0]
            raise self._refusal(expr, what, span, location)
        if self.hints is not None:
            value = expr.evaluate(self.hints)
            self._guard(expr, value, location)
            return value
        raise ShapesUnknown(what)

    def _refusal(self, expr: S.Expr, what: str, span, location: str) -> RecordingError:
        assert self.profile is not None
        dims = S.dynamic_dims(expr, self.profile)
        described = []
        for label in dims:
            role, index, axis = _parse_label(label)
            lo, hi = self.profile.range(role, index, axis)
            name = self.names.get((role, index), label.split(".")[0])
            kind = "input" if role == S.INPUT else "output"
            described.append(f"dim {axis} of {kind} '{name}' ({label}, profile range [{lo}, {hi}])")
        values = f"it takes values in [{span[0]}, {span[1]}] over the profile" if span else "its range is unknown"
        unknown = " (TensorRT gave no min/max for it)" if any(
            self.profile.range(*_parse_label(label)) == S.UNKNOWN_RANGE for label in dims) else ""
        return RecordingError(
            f"{self.where}At {location}, the launch function {what} `{expr}`, which depends on the dynamic "
            f"{'; '.join(described) or 'dims'}{unknown}: {values}, so one TensorRT artifact cannot serve every "
            "shape of the optimization profile. Fix: make that dim static in the profile (min == opt == max), "
            "narrow the profile so that the decision is the same for all of it, or make the choice a config value "
            "(one tactic per choice)."
        )


def _parse_label(label: str) -> tuple[str, int, int]:
    tensor, _, rest = label.partition(".shape[")
    role = S.INPUT if tensor.startswith("in") else S.OUTPUT
    return role, int(tensor.lstrip("inout")), int(rest.rstrip("]"))


def current_context() -> ShapeContext | None:
    return getattr(_active, "shapes", None)


class shape_context:
    """`with shape_context(ctx):` makes `ctx` the ShapeContext of recordings on this thread."""

    def __init__(self, ctx: ShapeContext):
        self.ctx = ctx

    def __enter__(self) -> ShapeContext:
        self.previous = current_context()
        _active.shapes = self.ctx
        return self.ctx

    def __exit__(self, *exc) -> None:
        _active.shapes = self.previous


def decide(expr: S.Expr, what: str, location: str | None = None) -> int:
    """The value of a dim expression the launch function needs as a Python value (see ShapeContext.decide)."""
    ctx = current_context()
    if ctx is None:
        if isinstance(expr, S.Const):
            return expr.value
        raise ShapesUnknown(what)
    return ctx.decide(expr, what, location)


def concrete(value: Any, what: str, location: str | None = None) -> Any:
    """A SymInt made a Python int (guarded); anything else unchanged."""
    return decide(value.expr, what, location) if isinstance(value, SymInt) else value


class SymBool:
    """Result of comparing symbolic dims. Its truth value is decided by the recording's ShapeContext (guarded)."""

    __slots__ = ("expr",)

    def __init__(self, expr: S.Expr):
        self.expr = expr

    def __bool__(self):
        return bool(decide(self.expr, "branched on"))

    def __repr__(self):
        return f"SymBool({self.expr})"


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

    def _cmp(self, op: str, other) -> "SymBool | bool":
        if isinstance(other, float) and not isinstance(other, bool):
            if not math.isfinite(other):
                return PY_CMP[op](0, other)  # every int compares the same with inf / nan
            if op in ("eq", "ne"):
                if not other.is_integer():
                    return op == "ne"
                other = int(other)
            else:  # an int compares with a float as with the float's floor / ceiling
                other = math.floor(other) if op in ("le", "gt") else math.ceil(other)
        if not isinstance(other, (SymInt, int)):
            return NotImplemented
        return SymBool(S.py_op(op, self.expr, _unwrap(other, op)))

    def __lt__(self, o):
        return self._cmp("lt", o)

    def __le__(self, o):
        return self._cmp("le", o)

    def __gt__(self, o):
        return self._cmp("gt", o)

    def __ge__(self, o):
        return self._cmp("ge", o)

    def __eq__(self, o):
        return self._cmp("eq", o)

    def __ne__(self, o):
        return self._cmp("ne", o)

    __hash__ = None  # type: ignore[assignment]  # unhashable, like TensorRT's symbolic ints: equality is symbolic

    def __bool__(self):
        return bool(decide(S.py_op("ne", self.expr, 0), "tested the truth of"))

    def __index__(self):
        return decide(self.expr, "used as a Python int (index, range, slice or int())")

    __int__ = __index__

    def __float__(self):
        return float(decide(self.expr, "converted to float"))

    def __truediv__(self, o):
        raise RecordingError(
            f"True division '/' of tensor dims gives a float, which TensorRT cannot pass to an AOT kernel "
            f"({self.expr} / {o!r} at {user_location()}). Fix: use '//' or triton.cdiv."
        )

    __rtruediv__ = __truediv__

    def _bits(self, op: str, other, reverse=False):
        if not isinstance(other, (SymInt, int)) or isinstance(other, bool):
            return NotImplemented
        a, b = (_unwrap(other, op), self.expr) if reverse else (self.expr, _unwrap(other, op))
        return wrap(S.py_op(op, a, b))

    def __and__(self, o):
        return self._bits("and", o)

    def __rand__(self, o):
        return self._bits("and", o, True)

    def __or__(self, o):
        return self._bits("or", o)

    def __ror__(self, o):
        return self._bits("or", o, True)

    def __xor__(self, o):
        return self._bits("xor", o)

    def __rxor__(self, o):
        return self._bits("xor", o, True)

    def __lshift__(self, o):
        return self._bits("lshift", o)

    def __rlshift__(self, o):
        return self._bits("lshift", o, True)

    def __rshift__(self, o):
        return self._bits("rshift", o)

    def __rrshift__(self, o):
        return self._bits("rshift", o, True)

    def __invert__(self):
        return wrap(S.binop("sub", -1, self.expr))

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
        raise RecordingError(
            f"'{item}' is not supported on a tensor while the launch is recorded ({self._name}.{item} at "
            f"{user_location()}). Supported: .shape, .size(i), .numel(), .stride(i), .dtype, .dim(), "
            ".element_size(). Fix: pass whole tensors to the kernel and derive sizes with those."
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


class RankUnknown(ShapesUnknown):
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
