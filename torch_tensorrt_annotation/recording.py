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
import contextlib
import linecache
import math
import operator
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from . import symbolic
from .errors import RecordingError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PY_CMP = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
          "ne": operator.ne}


def user_location() -> str:
    """'file.py:12: <source line>' for the innermost frame outside this package and the backends' libraries."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        internal = (filename.startswith(_PACKAGE_DIR) or f"{os.sep}triton{os.sep}" in filename
                    or frame.f_code.co_filename.startswith("<"))  # generated code (a dataclass __init__)
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

    expr: symbolic.Expr
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

    def __init__(self, hints: symbolic.Shapes | None = None, profile: symbolic.Profile | None = None,
                 names: Mapping[tuple[str, int], str] | None = None, where: str = ""):
        self.hints, self.profile, self.names, self.where = hints, profile, dict(names or {}), where
        # per output: the input it updates in place, or None (the op schema's aliases)
        self.aliases: tuple[int | None, ...] = ()
        self.guards: list[Guard] = []
        self._seen: set = set()

    def _guard(self, expr: symbolic.Expr, value: int, location: str = "") -> None:
        if isinstance(expr, symbolic.Const) or (expr, value) in self._seen:
            return
        self._seen.add((expr, value))
        self.guards.append(Guard(expr, value, location))

    def decide(self, expr: symbolic.Expr, what: str, location: str | None = None) -> int:
        """The value of `expr` for this recording, guarded. `what` says what the launch function did with it;
        `location` is the user's line (default: the innermost frame outside tta and Triton)."""
        if isinstance(expr, symbolic.Const):
            return expr.value
        location = location or user_location()
        if self.profile is not None:
            span = symbolic.bounds(expr, self.profile)
            if span is not None and span[0] == span[1]:
                self._guard(expr, span[0], location)
                return span[0]
            raise self._refusal(expr, what, span, location)
        if self.hints is not None:
            value = expr.evaluate(self.hints)
            self._guard(expr, value, location)
            return value
        raise ShapesUnknown(what)

    def _refusal(self, expr: symbolic.Expr, what: str, span, location: str) -> RecordingError:
        assert self.profile is not None
        dims = symbolic.dynamic_dims(expr, self.profile)
        described = []
        for label in dims:
            role, index, axis = _parse_label(label)
            lo, hi = self.profile.range(role, index, axis)
            name = self.names.get((role, index), label.split(".")[0])
            kind = "input" if role == symbolic.INPUT else "output"
            described.append(f"dim {axis} of {kind} '{name}' ({label}, profile range [{lo}, {hi}])")
        values = f"it takes values in [{span[0]}, {span[1]}] over the profile" if span else "its range is unknown"
        unknown = " (TensorRT gave no min/max for it)" if any(
            self.profile.range(*_parse_label(label)) == symbolic.UNKNOWN_RANGE for label in dims) else ""
        return RecordingError(
            f"{self.where}At {location}, the launch function {what} `{expr}`, which depends on the dynamic "
            f"{'; '.join(described) or 'dims'}{unknown}: {values}, so one TensorRT artifact cannot serve every "
            "shape of the optimization profile. Fix: make that dim static in the profile (min == opt == max), "
            "narrow the profile so that the decision is the same for all of it, or make the choice a config value "
            "(one tactic per choice)."
        )


def _parse_label(label: str) -> tuple[str, int, int]:
    tensor, _, rest = label.partition(".shape[")
    role = symbolic.INPUT if tensor.startswith("in") else symbolic.OUTPUT
    return role, int(tensor.lstrip("inout")), int(rest.rstrip("]"))


# What recordings on this thread use: `shapes` (a ShapeContext), `recorder` (a Recorder), `allocate` (an op body's
# output allocator). Each is set for the span of a `with`, by `_thread_setting`.
_active = threading.local()


@contextlib.contextmanager
def _thread_setting(name: str, value: Any) -> Iterator[Any]:
    """`with _thread_setting(name, value) as value:` `_active.<name>` is `value` on this thread, then again what it
    was before."""
    previous = getattr(_active, name, None)
    setattr(_active, name, value)
    try:
        yield value
    finally:
        setattr(_active, name, previous)


def current_context() -> ShapeContext | None:
    return getattr(_active, "shapes", None)


def shape_context(ctx: ShapeContext) -> AbstractContextManager[ShapeContext]:
    """`with shape_context(ctx):` makes `ctx` the ShapeContext of recordings on this thread."""
    return _thread_setting("shapes", ctx)


def decide(expr: symbolic.Expr, what: str, location: str | None = None) -> int:
    """The value of a dim expression the launch function needs as a Python value (see ShapeContext.decide)."""
    ctx = current_context()
    if ctx is None:
        if isinstance(expr, symbolic.Const):
            return expr.value
        raise ShapesUnknown(what)
    return ctx.decide(expr, what, location)


def concrete(value: Any, what: str, location: str | None = None) -> Any:
    """A SymInt made a Python int (guarded); anything else unchanged."""
    return decide(value.expr, what, location) if isinstance(value, SymInt) else value


class SymBool:
    """Result of comparing symbolic dims. Its truth value is decided by the recording's ShapeContext (guarded)."""

    __slots__ = ("expr",)

    def __init__(self, expr: symbolic.Expr):
        self.expr = expr

    def __bool__(self):
        return bool(decide(self.expr, "branched on"))

    def __repr__(self):
        return f"SymBool({self.expr})"


def _unwrap(value: Any, op: str) -> symbolic.Expr:
    if isinstance(value, SymInt):
        return value.expr
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordingError(
            f"Launch geometry is integer arithmetic over tensor dims, but the launch function applied '{op}' to a "
            f"tensor dim and a {type(value).__name__} ({value!r}) at {user_location()}. TensorRT passes only int32 "
            "values to an AOT kernel. Fix: keep shape arithmetic in ints; pass float constants as op attributes or "
            "config values."
        )
    return symbolic.Const(int(value))


class AttrFloat(float):
    """A float op attribute while a launch is recorded: a plain float to the launch function, and, passed straight
    to a runtime (non-constexpr) kernel parameter, a runtime fp32 scalar (`symbolic.Scalar`) rather than a baked
    constant. Arithmetic on it gives plain floats, which are constants of the recorded launch."""

    tta_attr: tuple[int, str]

    def __new__(cls, value: float, index: int, name: str):
        obj = super().__new__(cls, value)
        obj.tta_attr = (index, name)
        return obj


class AttrInt(int):
    """An int op attribute while a launch is recorded (see AttrFloat): passed straight to a runtime kernel parameter,
    a runtime int32 scalar."""

    tta_attr: tuple[int, str]

    def __new__(cls, value: int, index: int, name: str):
        obj = super().__new__(cls, value)
        obj.tta_attr = (index, name)
        return obj


def attribute_proxies(names: Sequence[str], values: Sequence[Any]) -> list:
    """The attribute values a launch function is recorded with: floats and ints marked with their schema position
    (bools stay bools: TensorRT has no 1-byte kernel parameter, they are baked in)."""
    out: list[Any] = []
    for i, (name, value) in enumerate(zip(names, values)):
        if isinstance(value, float):
            out.append(AttrFloat(value, i, name))
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(AttrInt(value, i, name))
        else:
            out.append(value)
    return out


def scalar_extra(value, *, specialize_one: bool = True) -> "tuple[symbolic.Expr, str] | None":
    """How a Python number passed to a runtime (non-constexpr) kernel parameter is passed by TensorRT, as Triton's
    own launcher would pass it: (expression of its int32 bits, 'fp32' or 'i32'), or None when it is baked into the
    kernel instead (bools; ints outside int32, which TensorRT cannot pass; the int 1, which Triton itself
    specializes unless the parameter is do_not_specialize). An op attribute becomes a `symbolic.Scalar`, so that
    one artifact serves every attribute value."""
    attr = getattr(value, "tta_attr", None)
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if attr is not None:
            return symbolic.Scalar(attr[0], attr[1], "fp32"), "fp32"
        return symbolic.Const(symbolic.float32_bits(value)), "fp32"
    if isinstance(value, int):
        if not symbolic.fits_int32(value):
            return None
        if attr is not None:
            return symbolic.Scalar(attr[0], attr[1], "i32"), "i32"
        if value == 1 and specialize_one:
            return None
        return symbolic.Const(int(value)), "i32"
    return None


def plain(value):
    """An attribute proxy as the plain Python value (for constants baked into a kernel)."""
    if isinstance(value, AttrFloat):
        return float(value)
    if isinstance(value, AttrInt):
        return int(value)
    return value


def _with_binary_operators(cls):
    """Gives `cls` the dunder method of each binary Python operator and of its reflection (`__add__` and `__radd__`
    for "add": each op's name is its dunder's): `cls._bin(op, other, reverse)` for the arithmetic that TensorRT
    lowers, `cls._bits(op, other, reverse)` for the Python-only bit operations."""

    def dunder(name: str, method, op: str, reverse: bool):
        def apply(self, other):
            return method(self, op, other, reverse)

        apply.__name__, apply.__qualname__ = name, f"{cls.__qualname__}.{name}"
        return apply

    for method, ops in ((cls._bin, ("add", "sub", "mul", "floordiv", "mod")),
                        (cls._bits, ("and", "or", "xor", "lshift", "rshift"))):
        for op in ops:
            for name, reverse in ((f"__{op}__", False), (f"__r{op}__", True)):
                setattr(cls, name, dunder(name, method, op, reverse))
    return cls


@_with_binary_operators
class SymInt:
    """An int-like proxy for a symbolic expression of tensor dims. Its binary operators (+ - * // % & | ^ << >>,
    either way round) are set by `_with_binary_operators`."""

    __slots__ = ("expr",)

    def __init__(self, expr: symbolic.Expr):
        self.expr = expr

    def _bin(self, op: str, other, reverse=False):
        a, b = (_unwrap(other, op), self.expr) if reverse else (self.expr, _unwrap(other, op))
        return wrap(symbolic.binop(op, a, b))

    def __neg__(self):
        return wrap(symbolic.binop("sub", 0, self.expr))

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
        return SymBool(symbolic.py_op(op, self.expr, _unwrap(other, op)))

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
        return bool(decide(symbolic.py_op("ne", self.expr, 0), "tested the truth of"))

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
        return wrap(symbolic.py_op(op, a, b))

    def __invert__(self):
        return wrap(symbolic.binop("sub", -1, self.expr))

    def bit_length(self) -> int:
        """`n.bit_length()`, as a library's own next-power-of-2 helper uses it (`1 << (n - 1).bit_length()`).
        Decided for the shapes at hand and guarded as `next_power_of_2(n + 1)` (for n >= 0 that is
        `1 << n.bit_length()`), so every n of the same bit length reuses the recording; a negative n is
        decided as a Python int."""
        if decide(symbolic.py_op("ge", self.expr, 0), "took the bit length of"):
            above = symbolic.next_pow2(symbolic.binop("add", self.expr, 1))
            return decide(above, "took the bit length of").bit_length() - 1
        return int(self).bit_length()

    def __repr__(self):
        return f"SymInt({self.expr})"


def launch_dims(values, error) -> tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]:
    """Grid or block dims as three Exprs (missing ones are 1). Each value must be an int or a SymInt; for anything
    else `error(position, value)` builds the RecordingError to raise."""
    dims = []
    for i, v in enumerate(values):
        if isinstance(v, SymInt):
            dims.append(v.expr)
        elif isinstance(v, int) and not isinstance(v, bool):
            dims.append(symbolic.Const(int(v)))
        else:
            raise error(i, v)
    dims += [symbolic.Const(1)] * (3 - len(dims))
    return (dims[0], dims[1], dims[2])


def wrap(expr: symbolic.Expr) -> "SymInt | int":
    """Constants stay plain ints so that literal-only arithmetic behaves exactly like Python."""
    return expr.value if isinstance(expr, symbolic.Const) else SymInt(expr)


def _symbolic_reduction(op: str, builtin):
    """min / max that build a symbolic expression when any argument is a SymInt, else defer to the builtin."""

    def reduce(*args, **kwargs):
        values = list(args[0] if len(args) == 1 else args)
        if kwargs or not any(isinstance(v, SymInt) for v in values):
            return builtin(*args, **kwargs)
        result = _unwrap(values[0], op)
        for v in values[1:]:
            result = symbolic.binop(op, result, _unwrap(v, op))
        return wrap(result)

    reduce.__name__ = op
    return reduce


sym_min = _symbolic_reduction("min", builtins.min)
sym_max = _symbolic_reduction("max", builtins.max)


def sym_cdiv(x, y):
    if isinstance(x, SymInt) or isinstance(y, SymInt):
        return wrap(symbolic.binop("cdiv", _unwrap(x, "cdiv"), _unwrap(y, "cdiv")))
    return -(-x // y)


def sym_next_power_of_2(n):
    if isinstance(n, SymInt):
        return wrap(symbolic.next_pow2(n.expr))
    return symbolic._next_pow2(n)


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

    A view (`view`, `reshape`, `flatten`, `unsqueeze`, `squeeze`, `expand`, `triton.reinterpret`) is a SymTensor
    of the same op tensor (the same pointer) with its own symbolic `shape`, `strides` and `dtype`.
    """

    def __init__(self, role: str, index: int, name: str, dtype, rank: int | None, *,
                 shape: "tuple[symbolic.Expr, ...] | None" = None, strides: "tuple[symbolic.Expr, ...] | None" = None,
                 numel: "symbolic.Expr | None" = None, base_dtype=None):
        self._role, self._index, self._name, self._dtype, self._rank = role, index, name, dtype, rank
        if shape is not None:
            self._rank = len(shape)
        self._shape, self._strides, self._numel = shape, strides, numel
        self._base_dtype = dtype if base_dtype is None else base_dtype

    # identity ------------------------------------------------------------------------------------------------
    @property
    def tta_role(self) -> tuple[str, int]:
        return (self._role, self._index)

    @property
    def tta_reinterpreted_dtype(self):
        """The element type the kernel sees when a view changed it (`view(dtype)`, `triton.reinterpret`), else
        None: the op tensor's own dtype."""
        return None if self._dtype == self._base_dtype else self._dtype

    def __repr__(self):
        return f"SymTensor({self._role} {self._index} '{self._name}', dtype={self._dtype}, rank={self._rank})"

    # shape idioms --------------------------------------------------------------------------------------------
    def _need_rank(self, what: str) -> int:
        if self._rank is None:
            raise RankUnknown(what)
        return self._rank

    def _check_axis(self, axis, rank: int | None = None) -> int:
        rank = self._rank if rank is None else rank
        if isinstance(axis, SymInt) or isinstance(axis, bool) or not isinstance(axis, int):
            raise RecordingError(
                f"A dim index must be a literal int, got {axis!r} for {self._name} at {user_location()}."
            )
        if rank is not None and not -rank <= axis < rank:
            raise RecordingError(
                f"Dim {axis} is out of range for '{self._name}' of rank {rank} at {user_location()}."
            )
        return axis

    def _dims(self, what: str) -> list[symbolic.Expr]:
        """This tensor's shape as Exprs (the op tensor's Dims, or the view's own)."""
        if self._shape is not None:
            return list(self._shape)
        return [symbolic.Dim(self._role, self._index, a) for a in range(self._need_rank(what))]

    def _stride_exprs(self, what: str) -> list[symbolic.Expr]:
        if self._strides is not None:
            return list(self._strides)
        if self._shape is None:
            return [symbolic.Stride(self._role, self._index, a) for a in range(self._need_rank(what))]
        return _contiguous_strides(self._shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        axis = self._check_axis(dim)
        if self._shape is not None:
            return wrap(self._shape[axis])
        return wrap(symbolic.Dim(self._role, self._index, axis))

    @property
    def shape(self):
        if self._rank is None:
            return _AgnosticShape(self)
        return SymShape(self, [wrap(e) for e in self._dims("x.shape")])

    def stride(self, dim: int | None = None):
        if dim is None:
            return tuple(wrap(e) for e in self._stride_exprs("x.stride()"))
        axis = self._check_axis(dim)
        if self._shape is None:
            return wrap(symbolic.Stride(self._role, self._index, axis))
        return wrap(self._stride_exprs("x.stride(i)")[axis])

    def _numel_expr(self) -> symbolic.Expr:
        if self._numel is not None:
            return self._numel
        if self._shape is None:
            return symbolic.Numel(self._role, self._index)
        return _product(self._shape)

    def numel(self):
        return wrap(self._numel_expr())

    def nelement(self):
        return self.numel()

    def dim(self) -> int:
        return self._need_rank("x.dim()")

    @property
    def ndim(self) -> int:
        return self._need_rank("x.ndim")

    def __len__(self):
        return self.size(0)

    @property
    def dtype(self):
        return self._dtype

    def element_size(self) -> int:
        return _element_size(self._dtype)

    @property
    def device(self):
        import torch

        return torch.device("cuda")

    @property
    def is_cuda(self):
        return True

    def is_contiguous(self, *args, **kwargs):
        # AOT kernels see contiguous (LINEAR) tensors; the eager op makes inputs contiguous. Only an expanded view
        # (a stride 0) is not.
        return self._strides is None

    # views: the same pointer, a new symbolic shape ---------------------------------------------------------------
    def _view(self, shape, *, strides=None, numel=None, dtype=None) -> "SymTensor":
        return SymTensor(self._role, self._index, self._name, self._dtype if dtype is None else dtype, None,
                         shape=tuple(shape), strides=None if strides is None else tuple(strides),
                         numel=numel, base_dtype=self._base_dtype)

    def _need_contiguous(self, what: str) -> None:
        if self._strides is not None:
            raise _scratch(f"{self._name}.{what} of an expanded (stride 0) view, which copies")

    def contiguous(self, *args, **kwargs):
        self._need_contiguous("contiguous()")
        return self

    def to(self, *args, **kwargs):
        """`x.to(dtype)`, `x.to(device)`, `x.to(other)`: torch returns the tensor itself when nothing changes (library
        host code casts to the dtype it already has), and so does the recording; a real conversion, or `copy=True`,
        allocates a new tensor and is refused like any scratch allocation."""
        dtype = kwargs.get("dtype")
        for arg in args:
            if _is_dtype(arg):
                dtype = arg
            elif isinstance(arg, SymTensor):
                dtype = arg.dtype
        if kwargs.get("copy") or (dtype is not None and dtype != self._dtype):
            raise _scratch(f"{self._name}.to({dtype})")
        return self  # a device (the recording is not on any) or non_blocking changes nothing

    def view(self, *shape):
        if len(shape) == 1 and _is_dtype(shape[0]):
            return self._dtype_view(shape[0])
        self._need_contiguous("view()")
        return self._reshaped(shape, "view")

    def reshape(self, *shape):
        self._need_contiguous("reshape()")
        return self._reshaped(shape, "reshape")

    def view_as(self, other):
        return self.view(*other.shape) if isinstance(other, SymTensor) else self.view(other.shape)

    reshape_as = view_as

    def _reshaped(self, shape, what: str) -> "SymTensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, _AgnosticShape)):
            shape = tuple(shape[0])
        numel = self._numel_expr()
        exprs: list[symbolic.Expr | None] = []
        inferred = None
        for position, size in enumerate(shape):
            if isinstance(size, int) and not isinstance(size, bool) and size == -1:
                if inferred is not None:
                    raise RecordingError(f"{self._name}.{what}{tuple(shape)} infers more than one dim (-1) at "
                                         f"{user_location()}; at most one can be -1.")
                inferred = position
                exprs.append(None)
            else:
                exprs.append(_unwrap(size, what))
        if inferred is not None:
            known = _product([e for e in exprs if e is not None])
            exprs[inferred] = numel if known == symbolic.Const(1) else symbolic.binop("floordiv", numel, known)
        return self._view([e for e in exprs if e is not None], numel=numel)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        if start_dim == 0 and end_dim == -1:
            self._need_contiguous("flatten()")
            return self._view([self._numel_expr()], numel=self._numel_expr())
        dims = self._dims("x.flatten(start, end)")
        start = self._check_axis(start_dim) % len(dims)
        end = self._check_axis(end_dim) % len(dims)
        self._need_contiguous("flatten()")
        return self._view(dims[:start] + [_product(dims[start:end + 1])] + dims[end + 1:], numel=self._numel_expr())

    def unsqueeze(self, dim: int):
        dims = self._dims("x.unsqueeze(d)")
        axis = self._check_axis(dim, len(dims) + 1) % (len(dims) + 1)
        strides = None
        if self._strides is not None:
            after = symbolic.binop("mul", self._strides[axis], dims[axis]) if axis < len(dims) else symbolic.Const(1)
            strides = self._strides[:axis] + (after,) + self._strides[axis:]
        return self._view(dims[:axis] + [symbolic.Const(1)] + dims[axis:], strides=strides, numel=self._numel_expr())

    def squeeze(self, dim: int | None = None):
        dims = self._dims("x.squeeze()")
        axes = range(len(dims)) if dim is None else [self._check_axis(dim) % len(dims)]
        keep = list(range(len(dims)))
        for axis in axes:
            if dims[axis] == symbolic.Const(1):
                keep.remove(axis)
            elif not isinstance(dims[axis], symbolic.Const):
                raise RecordingError(
                    f"{self._name}.squeeze({'' if dim is None else dim}) at {user_location()} depends on whether "
                    f"`{dims[axis]}` is 1, which the recorded launch cannot know. Fix: use "
                    f"{self._name}.view(...) / reshape(...) with the shape you expect, or squeeze a dim of "
                    "literal size 1 (one made by unsqueeze or view)."
                )
        strides = None if self._strides is None else tuple(self._strides[a] for a in keep)
        return self._view([dims[a] for a in keep], strides=strides, numel=self._numel_expr())

    def expand(self, *sizes):
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, _AgnosticShape)):
            sizes = tuple(sizes[0])
        dims, strides = self._dims("x.expand(...)"), self._stride_exprs("x.expand(...)")
        new = len(sizes) - len(dims)
        if new < 0:
            raise RecordingError(f"{self._name}.expand{tuple(sizes)} has fewer dims than the tensor's {len(dims)} "
                                 f"at {user_location()}.")
        out_dims, out_strides = [], []
        for position, size in enumerate(sizes):
            existing = position - new
            if existing < 0:  # a new leading dim: stride 0
                if isinstance(size, int) and size == -1:
                    raise RecordingError(f"{self._name}.expand: -1 is not allowed for a new leading dim at "
                                         f"{user_location()}.")
                out_dims.append(_unwrap(size, "expand"))
                out_strides.append(symbolic.Const(0))
                continue
            size_expr = dims[existing] if isinstance(size, int) and size == -1 else _unwrap(size, "expand")
            if size_expr == dims[existing]:
                out_dims.append(dims[existing])
                out_strides.append(strides[existing])
            elif dims[existing] == symbolic.Const(1):
                out_dims.append(size_expr)
                out_strides.append(symbolic.Const(0))
            else:
                raise RecordingError(
                    f"{self._name}.expand{tuple(sizes)} at {user_location()} broadcasts dim {existing} "
                    f"(`{dims[existing]}`), which is only valid if it is 1; the recorded launch cannot know that. "
                    f"Fix: view the tensor with a literal 1 there first (e.g. {self._name}.view(1, -1)), or pass -1 "
                    "to keep the dim."
                )
        if all(s != symbolic.Const(0) for s in out_strides) and self._strides is None:
            return self._view(out_dims, numel=self._numel_expr())
        return self._view(out_dims, strides=out_strides)

    def expand_as(self, other):
        return self.expand(*other.shape)

    def _dtype_view(self, dtype) -> "SymTensor":
        old, new = self.element_size(), _element_size(dtype)
        if old == new:
            return self._view(self._dims("x.view(dtype)"), strides=self._strides, numel=self._numel_expr(),
                              dtype=dtype)
        self._need_contiguous("view(dtype)")
        dims = self._dims("x.view(dtype)")
        if not dims:
            raise RecordingError(f"{self._name}.view({dtype}) of a 0-d tensor changes the element size at "
                                 f"{user_location()}.")
        last = symbolic.binop("floordiv", symbolic.binop("mul", dims[-1], old), new)
        numel = symbolic.binop("floordiv", symbolic.binop("mul", self._numel_expr(), old), new)
        return self._view(dims[:-1] + [last], numel=numel, dtype=dtype)

    def tta_reinterpret(self, dtype) -> "SymTensor":
        """`triton.reinterpret(t, dtype)`: the same pointer and shape, read as another (Triton) element type."""
        return self._view(self._dims("triton.reinterpret(t, dtype)"), strides=self._strides,
                          numel=self._numel_expr(), dtype=dtype)

    def data_ptr(self):
        raise RecordingError(
            f"The launch function read a raw pointer ({self._name}.data_ptr()) at {user_location()}. "
            "A recorded launch passes tensors to the kernel directly. Fix: pass the tensor itself."
        )

    def _allocates(self, what: str):
        def refuse(*args, **kwargs):
            return _allocate_or_refuse(what, (self, *args), kwargs, f"{self._name}.{what}()")

        return refuse

    def __getattr__(self, item):
        if item in ("zero_", "fill_"):
            raise RecordingError(
                f"{self._name}.{item}() at {user_location()} fills a tensor in the launch function: an AOT plugin is "
                "one kernel launch, so nothing else runs before it. Fix: to start an output as zeros (a kernel that "
                "accumulates with atomics), declare it: tta.custom_plugin(..., zeroed_outputs=('out',))."
            )
        if item in _ALLOCATING_METHODS:
            return self._allocates(item)
        raise RecordingError(
            f"'{item}' is not supported on a tensor while the launch is recorded ({self._name}.{item} at "
            f"{user_location()}). Supported: .shape, .size(i), .numel(), .stride(i), .dtype, .dim(), "
            ".element_size(), and views: .view, .reshape, .flatten, .unsqueeze, .squeeze, .expand, .contiguous. "
            "Fix: pass whole tensors to the kernel and derive sizes with those."
        )

    def _no_math(self, *_):
        raise RecordingError(
            f"Tensor arithmetic or slicing on '{self._name}' is not supported in a launch function "
            f"(at {user_location()}): TensorRT passes the tensor's base pointer to the kernel. Fix: pass the "
            "tensor and apply offsets inside the kernel."
        )

    __add__ = __radd__ = __sub__ = __mul__ = __getitem__ = __truediv__ = _no_math


# methods that make a new buffer (a copy or a scratch tensor)
_ALLOCATING_METHODS = frozenset({
    "clone", "float", "half", "bfloat16", "double", "int", "long", "new_empty", "new_zeros", "new_ones",
    "new_full", "new_tensor", "empty_like", "zeros_like", "copy_", "cpu", "cuda", "type",
    "repeat", "tile", "permute", "transpose", "t", "T", "mT",
})


def _scratch(what: str) -> RecordingError:
    return RecordingError(
        f"The launch function allocates a new tensor ({what} at {user_location()}). A TensorRT AOT plugin runs one "
        "kernel on the buffers TensorRT passes (the op's inputs and outputs) and gets no workspace, so scratch "
        "memory, copies and temporaries cannot exist. Fix: make the buffer an output of the op (meta_impl returns "
        "it), or compute in the kernel without it."
    )


def _allocate_or_refuse(what: str, args: tuple, kwargs: dict, call: str):
    """An allocation (`what`, e.g. "new_empty" or "empty", called with `args` / `kwargs`) in a launch function being
    recorded: an output of the op body being recorded, if any, else refused as scratch memory (`call` names it)."""
    allocate = getattr(_active, "allocate", None)  # an op body being recorded: allocations are outputs
    if allocate is not None:
        return allocate(what, args, kwargs)
    raise _scratch(call)


def _product(exprs) -> symbolic.Expr:
    result: symbolic.Expr = symbolic.Const(1)
    for e in exprs:
        result = e if result == symbolic.Const(1) else symbolic.binop("mul", result, e)
    return result


def _contiguous_strides(shape) -> list[symbolic.Expr]:
    return [_product(shape[a + 1:]) for a in range(len(shape))]


def _is_dtype(value) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(value, torch.dtype)


def _element_size(dtype) -> int:
    import torch

    if isinstance(dtype, torch.dtype):
        return torch.empty((), dtype=dtype).element_size()
    bits = getattr(dtype, "primitive_bitwidth", None)  # a Triton dtype (triton.reinterpret)
    if isinstance(bits, int):
        return max(1, bits // 8)
    raise RecordingError(f"Unknown element type {dtype!r} at {user_location()}.")


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
    result: Any = None  # what the launch function (an op body) returned

    def on_launch(self, kernel, grid, args, kwargs):
        self.launches.append(RecordedLaunch(kernel, grid, tuple(args), dict(kwargs), user_location()))


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


_TORCH_ALLOCATORS = frozenset({
    "empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like", "full_like", "empty_strided",
    "tensor", "arange", "rand", "randn", "randint", "rand_like", "randn_like", "as_strided",
})


class _TorchModuleProxy:
    """`torch` as seen by a launch function being recorded: allocating a tensor (scratch memory) is refused with
    the reason, since a TensorRT plugin gets no workspace. Everything else is torch's own."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, item):
        if item in _TORCH_ALLOCATORS:
            def refuse(*args, **kwargs):
                return _allocate_or_refuse(item, args, kwargs, f"torch.{item}(...)")

            return refuse
        return getattr(self._module, item)


def _allocation_overrides() -> dict[int, Any]:
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    overrides: dict[int, Any] = {id(torch): _TorchModuleProxy(torch)}
    for name in _TORCH_ALLOCATORS:  # `from torch import empty`
        fn = getattr(torch, name, None)
        if fn is not None:
            overrides[id(fn)] = getattr(overrides[id(torch)], name)
    return overrides


_device_guard_lock = threading.Lock()


def _device_selection_passes_through_recordings() -> None:
    """Make `with torch.cuda.device(d):` select nothing on a thread that is recording a launch.

    Library host code wraps its launch in a device guard (liger-kernel's `device_context(X.device)`), often inside
    a helper in its own module, which tta does not rebuild. A recording launches nothing, and the artifact runs on
    whichever device the eager op or TensorRT runs it on, so the guard has nothing to select; on a machine without
    CUDA (compiling for an explicit arch) torch's guard would raise. Other threads, and this thread outside a
    recording, get torch's own behaviour. Installed once, the first time a launch is recorded."""
    torch = sys.modules.get("torch")
    guard = getattr(getattr(torch, "cuda", None), "device", None)
    if guard is None or getattr(guard, "_tta_passthrough", False):
        return
    with _device_guard_lock:
        if getattr(guard, "_tta_passthrough", False):
            return
        enter, exit_ = guard.__enter__, guard.__exit__

        def __enter__(self):
            if active_recorder() is not None:
                self._tta_skipped = True
                return None
            self._tta_skipped = False
            return enter(self)

        def __exit__(self, *exc):
            if getattr(self, "_tta_skipped", False):
                return False
            return exit_(self, *exc)

        guard.__enter__, guard.__exit__ = __enter__, __exit__
        guard._tta_passthrough = True


def run_recording(launch_fn: Callable, args: Sequence, kwargs: Mapping, overrides: Mapping[int, Any]) -> Recorder:
    """Run launch_fn(*args, **kwargs) with a Recorder active on this thread and return it."""
    _device_selection_passes_through_recordings()
    recorder = Recorder(getattr(launch_fn, "__name__", repr(launch_fn)))
    with _thread_setting("recorder", recorder):
        recorder.result = symbolic_copy(launch_fn, {**_allocation_overrides(), **overrides})(*args, **kwargs)
    return recorder


def allocating_outputs(allocate: Callable) -> AbstractContextManager[Callable]:
    """`with allocating_outputs(allocate):` while an op body is recorded on this thread: `torch.empty(...)`,
    `x.new_empty(...)` and the other allocations in the body call `allocate(name, args, kwargs)` (which hands out
    the op's output proxies) instead of being refused as scratch."""
    return _thread_setting("allocate", allocate)


def swallowing_launches(name: str) -> AbstractContextManager[Recorder]:
    """`with swallowing_launches(name) as recorder:` kernel launches on this thread are recorded, not run (the
    backend's interception must be active); used to run an op body on fake tensors for its outputs."""
    return _thread_setting("recorder", Recorder(name))
