"""Symbolic launch geometry: integer expressions over the dims of an op's tensors.

A recorded launch says "grid = cdiv(numel(input 0), 1024)" rather than "grid = 4". The same expression is
evaluated to an int for an eager launch or a validation (`evaluate`), and lowered to TensorRT's symbolic
expressions for an AOT plugin (`Lowering`), so eager PyTorch and a TensorRT engine compute launch parameters the
same way.

Expressions are immutable, hashable and compare structurally. They carry no operator overloads: the proxies that
user code touches while a launch is recorded live in `recording.py`.

Tensors are assumed contiguous (TensorRT's LINEAR format), so a stride is the product of the dims after it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

INPUT = "input"
OUTPUT = "output"


def _tensor_label(role: str, index: int) -> str:
    return f"{'in' if role == INPUT else 'out'}{index}"


@dataclass(frozen=True)
class Shapes:
    """Concrete shapes of an op's inputs and (optionally) outputs, in schema order, and the op's attribute values
    (what a `Scalar` extra reads)."""

    inputs: tuple[tuple[int, ...], ...]
    outputs: tuple[tuple[int, ...], ...] = ()
    attrs: tuple = ()

    def of(self, role: str, index: int) -> tuple[int, ...]:
        shapes = self.inputs if role == INPUT else self.outputs
        if index >= len(shapes):
            raise ValueError(f"no shape given for {role} {index}: got {len(shapes)} {role} shape(s)")
        return shapes[index]


class Expr:
    """Base class of symbolic integer expressions."""

    __slots__ = ()

    def evaluate(self, shapes: Shapes) -> int:
        raise NotImplementedError

    def children(self) -> tuple["Expr", ...]:
        return ()

    def tensors(self) -> set[tuple[str, int]]:
        """The (role, index) of every tensor whose shape this expression reads."""
        out: set[tuple[str, int]] = set()
        for child in self.children():
            out |= child.tensors()
        return out

    @property
    def is_constant(self) -> bool:
        return not self.tensors()


@dataclass(frozen=True)
class Const(Expr):
    value: int

    def evaluate(self, shapes: Shapes) -> int:
        return self.value

    def __str__(self) -> str:
        return str(self.value)


def _normalize_axis(axis: int, rank: int, what: str) -> int:
    if not -rank <= axis < rank:
        raise IndexError(f"{what}: axis {axis} is out of range for a tensor of rank {rank}")
    return axis % rank


@dataclass(frozen=True)
class Dim(Expr):
    """Size of dimension `axis` of input/output `index`. A negative axis counts from the end."""

    role: str
    index: int
    axis: int

    def evaluate(self, shapes: Shapes) -> int:
        shape = shapes.of(self.role, self.index)
        return shape[_normalize_axis(self.axis, len(shape), str(self))]

    def tensors(self):
        return {(self.role, self.index)}

    def __str__(self) -> str:
        return f"{_tensor_label(self.role, self.index)}.shape[{self.axis}]"


@dataclass(frozen=True)
class Numel(Expr):
    role: str
    index: int

    def evaluate(self, shapes: Shapes) -> int:
        return math.prod(shapes.of(self.role, self.index))

    def tensors(self):
        return {(self.role, self.index)}

    def __str__(self) -> str:
        return f"{_tensor_label(self.role, self.index)}.numel()"


@dataclass(frozen=True)
class Stride(Expr):
    """Element stride of dimension `axis` of a contiguous tensor: the product of the dims after it."""

    role: str
    index: int
    axis: int

    def evaluate(self, shapes: Shapes) -> int:
        shape = shapes.of(self.role, self.index)
        return math.prod(shape[_normalize_axis(self.axis, len(shape), str(self)) + 1:])

    def tensors(self):
        return {(self.role, self.index)}

    def __str__(self) -> str:
        return f"{_tensor_label(self.role, self.index)}.stride({self.axis})"


def float32_bits(value: float) -> int:
    """The IEEE-754 binary32 bit pattern of `value` (rounded to nearest, as a C float cast does; a value beyond the
    fp32 range becomes +-inf), as a signed int32: what TensorRT passes for an fp32 kernel parameter."""
    import struct

    try:
        packed = struct.pack("<f", value)
    except OverflowError:
        packed = struct.pack("<f", math.copysign(math.inf, value))
    return struct.unpack("<i", packed)[0]


INT32_MAX = 2**31 - 1


def fits_int32(value: int) -> bool:
    """Whether `value` fits a signed int32, the only integer TensorRT passes to a kernel."""
    return -(2**31) <= value <= INT32_MAX


def int32_bits(value: int) -> int:
    if not fits_int32(value):
        raise OverflowError(f"{value} does not fit in int32")
    return int(value)


SCALAR_TYPES = {"fp32": float32_bits, "i32": int32_bits}


@dataclass(frozen=True)
class Scalar(Expr):
    """A runtime scalar kernel parameter fed by op attribute `attr` (its position in the schema): evaluates to the
    attribute's 32-bit pattern (`type` "fp32": IEEE-754 bits; "i32": the value), the int32 TensorRT passes. One
    artifact serves every value of the attribute."""

    attr: int
    name: str
    type: str

    def evaluate(self, shapes: Shapes) -> int:
        if self.attr >= len(shapes.attrs):
            raise ValueError(f"{self} needs the value of attribute {self.attr} ('{self.name}'), but only "
                             f"{len(shapes.attrs)} attribute value(s) were given")
        return self.bits(shapes.attrs[self.attr])

    def bits(self, value) -> int:
        return SCALAR_TYPES[self.type](value)

    def __str__(self) -> str:
        return f"{self.type}_bits({self.name})"


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _next_pow2(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


# name -> (python implementation, infix symbol or None)
BINARY_OPS: dict[str, tuple[Callable[[int, int], int], str | None]] = {
    "add": (lambda a, b: a + b, "+"),
    "sub": (lambda a, b: a - b, "-"),
    "mul": (lambda a, b: a * b, "*"),
    "floordiv": (lambda a, b: a // b, "//"),
    "mod": (lambda a, b: a % b, "%"),
    "cdiv": (_cdiv, None),
    "min": (min, None),
    "max": (max, None),
}


@dataclass(frozen=True)
class _Binary(Expr):
    """`op` applied to two sub-expressions. A subclass names the table its ops come from (`OPS`: name -> (python
    implementation, infix symbol or None)) and what kind of op that is (`KIND`, for the error on an unknown one)."""

    OPS: ClassVar[Mapping[str, tuple[Callable[[int, int], int], str | None]]]
    KIND: ClassVar[str]

    op: str
    lhs: Expr
    rhs: Expr

    def __post_init__(self):
        if self.op not in self.OPS:
            raise ValueError(f"unknown {self.KIND} op {self.op!r}")

    def apply(self, a: int, b: int) -> int:
        return self.OPS[self.op][0](a, b)

    def children(self):
        return (self.lhs, self.rhs)


@dataclass(frozen=True)
class BinOp(_Binary):
    OPS = BINARY_OPS
    KIND = "binary"

    def evaluate(self, shapes: Shapes) -> int:
        a, b = self.lhs.evaluate(shapes), self.rhs.evaluate(shapes)
        if self.op in ("floordiv", "mod", "cdiv") and b == 0:
            raise ZeroDivisionError(f"division by zero evaluating {self}")
        return self.apply(a, b)

    def __str__(self) -> str:
        symbol = BINARY_OPS[self.op][1]
        return f"({self.lhs} {symbol} {self.rhs})" if symbol else f"{self.op}({self.lhs}, {self.rhs})"


@dataclass(frozen=True)
class NextPow2(Expr):
    arg: Expr

    def evaluate(self, shapes: Shapes) -> int:
        return _next_pow2(self.arg.evaluate(shapes))

    def children(self):
        return (self.arg,)

    def __str__(self) -> str:
        return f"next_power_of_2({self.arg})"


# Operations that Python code applies to dims but TensorRT's shape expressions cannot express: comparisons (0 or 1)
# and bit operations. They appear in guards and in values a guard fixes; a Lowering refuses them.
PY_OPS: dict[str, tuple[Callable[[int, int], int], str]] = {
    "lt": (lambda a, b: int(a < b), "<"),
    "le": (lambda a, b: int(a <= b), "<="),
    "gt": (lambda a, b: int(a > b), ">"),
    "ge": (lambda a, b: int(a >= b), ">="),
    "eq": (lambda a, b: int(a == b), "=="),
    "ne": (lambda a, b: int(a != b), "!="),
    "and": (lambda a, b: a & b, "&"),
    "or": (lambda a, b: a | b, "|"),
    "xor": (lambda a, b: a ^ b, "^"),
    "lshift": (lambda a, b: a << b, "<<"),
    "rshift": (lambda a, b: a >> b, ">>"),
}
COMPARISONS = frozenset({"lt", "le", "gt", "ge", "eq", "ne"})


@dataclass(frozen=True)
class PyOp(_Binary):
    """A comparison (evaluates to 1 or 0) or a bit operation of dims: Python-only, never lowered to TensorRT."""

    OPS = PY_OPS
    KIND = "Python"

    def evaluate(self, shapes: Shapes) -> int:
        return self.apply(self.lhs.evaluate(shapes), self.rhs.evaluate(shapes))

    def __str__(self) -> str:
        return f"({self.lhs} {PY_OPS[self.op][1]} {self.rhs})"


def py_op(op: str, lhs: "Expr | int", rhs: "Expr | int") -> Expr:
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    if isinstance(lhs, Const) and isinstance(rhs, Const):
        return Const(PY_OPS[op][0](lhs.value, rhs.value))
    return PyOp(op, lhs, rhs)


def as_expr(value: "Expr | int") -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int or a symbolic expression, got {type(value).__name__} {value!r}")
    return Const(value)


def binop(op: str, lhs: "Expr | int", rhs: "Expr | int") -> Expr:
    """Build `lhs op rhs`, folding constants so that literal arithmetic stays a plain Const."""
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    if isinstance(lhs, Const) and isinstance(rhs, Const):
        return Const(BinOp(op, lhs, rhs).evaluate(Shapes(())))
    return BinOp(op, lhs, rhs)


def next_pow2(arg: "Expr | int") -> Expr:
    arg = as_expr(arg)
    return Const(_next_pow2(arg.value)) if isinstance(arg, Const) else NextPow2(arg)


def evaluate_all(exprs: Sequence[Expr], shapes: Shapes) -> tuple[int, ...]:
    return tuple(e.evaluate(shapes) for e in exprs)


# --- what a TensorRT build knows: static dims and profile ranges ----------------------------------------------------
UNKNOWN_RANGE = (0, INT32_MAX)


@dataclass(frozen=True)
class Profile:
    """Dims as a TensorRT build sees them: for every tensor and axis, its (min, max) over the optimization profile.
    min == max is a static dim (TensorRT gives its value); otherwise the dim is dynamic (TensorRT says -1)."""

    inputs: tuple[tuple[tuple[int, int], ...], ...]
    outputs: tuple[tuple[tuple[int, int], ...], ...] = ()

    def of(self, role: str, index: int) -> tuple[tuple[int, int], ...]:
        ranges = self.inputs if role == INPUT else self.outputs
        if index >= len(ranges):
            raise ValueError(f"no profile given for {role} {index}")
        return ranges[index]

    def range(self, role: str, index: int, axis: int) -> tuple[int, int]:
        dims = self.of(role, index)
        return dims[_normalize_axis(axis, len(dims), f"{_tensor_label(role, index)}.shape[{axis}]")]

    def static(self, role: str, index: int, axis: int) -> int | None:
        lo, hi = self.range(role, index, axis)
        return lo if lo == hi else None

    @property
    def is_static(self) -> bool:
        return all(lo == hi for dims in self.inputs + self.outputs for lo, hi in dims)

    @staticmethod
    def exact(shapes: Shapes) -> "Profile":
        """Every dim static, at the given value."""
        return Profile(tuple(tuple((d, d) for d in s) for s in shapes.inputs),
                       tuple(tuple((d, d) for d in s) for s in shapes.outputs))


def dynamic_dims(expr: Expr, profile: Profile) -> list[str]:
    """The dynamic dims `expr` reads, as 'in0.shape[1]' strings."""
    out: list[str] = []

    def visit(e: Expr) -> None:
        if isinstance(e, (Dim, Numel, Stride)):
            dims = profile.of(e.role, e.index)
            if isinstance(e, Dim):
                axes: Sequence[int] = [_normalize_axis(e.axis, len(dims), str(e))]
            elif isinstance(e, Numel):
                axes = range(len(dims))
            else:
                axes = range(_normalize_axis(e.axis, len(dims), str(e)) + 1, len(dims))
            for a in axes:
                label = f"{_tensor_label(e.role, e.index)}.shape[{a}]"
                if dims[a][0] != dims[a][1] and label not in out:
                    out.append(label)
        for child in e.children():
            visit(child)

    visit(expr)
    return out


def bounds(expr: Expr, profile: Profile) -> tuple[int, int] | None:
    """(min, max) of `expr` over every shape in the profile, by interval arithmetic; None when unknown.

    Sound (the true range is inside), not always tight: a decision is taken only when min == max."""
    if isinstance(expr, Const):
        return (expr.value, expr.value)
    if isinstance(expr, Dim):
        return profile.range(expr.role, expr.index, expr.axis)
    if isinstance(expr, (Numel, Stride)):
        dims = profile.of(expr.role, expr.index)
        start = 0 if isinstance(expr, Numel) else _normalize_axis(expr.axis, len(dims), str(expr)) + 1
        lo = hi = 1
        for dim_lo, dim_hi in dims[start:]:
            lo, hi = lo * dim_lo, hi * dim_hi
        return (lo, hi)
    if isinstance(expr, NextPow2):
        arg = bounds(expr.arg, profile)
        return None if arg is None else (_next_pow2(arg[0]), _next_pow2(arg[1]))
    if not isinstance(expr, _Binary):
        return None
    lhs, rhs = bounds(expr.lhs, profile), bounds(expr.rhs, profile)
    if lhs is None or rhs is None:
        return None
    (alo, ahi), (blo, bhi) = lhs, rhs
    op = expr.op

    def corners(f: Callable[[int, int], int]) -> list[int]:  # f is monotone in each argument over the box
        return [f(x, y) for x in (alo, ahi) for y in (blo, bhi)]

    if op == "add":
        return (alo + blo, ahi + bhi)
    if op == "sub":
        return (alo - bhi, ahi - blo)
    if op in ("mul", "min", "max"):
        values = corners(BINARY_OPS[op][0])
        return (min(values), max(values))
    if op in ("floordiv", "cdiv"):
        if blo <= 0:
            return None
        values = corners(BINARY_OPS[op][0])
        return (min(values), max(values))
    if op == "mod":
        if blo != bhi or blo <= 0:
            return None if blo <= 0 else ((0, bhi - 1) if alo >= 0 else None)
        return (alo % blo, ahi % blo) if alo // blo == ahi // blo else (0, blo - 1)
    if op in COMPARISONS:
        if alo == ahi and blo == bhi:
            value = PY_OPS[op][0](alo, blo)
            return (value, value)
        decided = {"lt": (ahi < blo, alo >= bhi), "le": (ahi <= blo, alo > bhi), "gt": (alo > bhi, ahi <= blo),
                   "ge": (alo >= bhi, ahi < blo), "eq": (False, ahi < blo or alo > bhi),
                   "ne": (ahi < blo or alo > bhi, False)}[op]
        return (1, 1) if decided[0] else (0, 0) if decided[1] else (0, 1)
    if alo == ahi and blo == bhi:
        if op == "lshift" and blo >= 64:  # beyond any int32/int64 value: no useful bound (and a huge int to build)
            return None
        value = PY_OPS[op][0](alo, blo)
        return (value, value)
    if alo < 0 or blo < 0:
        return None
    if op == "rshift":
        return (alo >> bhi, ahi >> blo)
    if op == "lshift":
        return (alo << blo, ahi << bhi) if bhi < 64 else None
    top = _next_pow2(max(ahi, bhi) + 1) - 1
    if op == "and":
        return (0, min(ahi, bhi))
    if op == "or":
        return (max(alo, blo), top)
    return (0, top)  # xor


class Lowering:
    """Translate an Expr into another symbolic system (TensorRT's `trtp` expressions, for one).

    Subclasses implement `const`, `dim`, `rank` and one method per binary op (`add`, `sub`, `mul`, `floordiv`,
    `cdiv`, `min`, `max`, ...). `numel` and `stride` default to products of dims, which is right for contiguous
    tensors. An op a subclass leaves out raises a clear NotImplementedError naming the expression, so an
    unsupported expression fails when the plugin is registered with TensorRT, not inside an engine build.
    """

    def lower(self, expr: Expr) -> Any:
        if isinstance(expr, Const):
            return self.const(expr.value)
        if isinstance(expr, Dim):
            rank = self.rank(expr.role, expr.index)
            return self.dim(expr.role, expr.index, _normalize_axis(expr.axis, rank, str(expr)))
        if isinstance(expr, Numel):
            return self.product([self.dim(expr.role, expr.index, a) for a in range(self.rank(expr.role, expr.index))])
        if isinstance(expr, Stride):
            rank = self.rank(expr.role, expr.index)
            start = _normalize_axis(expr.axis, rank, str(expr)) + 1
            return self.product([self.dim(expr.role, expr.index, a) for a in range(start, rank)])
        if isinstance(expr, Scalar):
            attrs = getattr(self, "attrs", None)
            if attrs is None:
                raise NotImplementedError(f"{type(self).__name__} has no attribute values to lower {expr}")
            return self.const(expr.evaluate(Shapes((), (), tuple(attrs))))
        if isinstance(expr, BinOp):
            method = getattr(self, expr.op, None)
            if method is None:
                raise NotImplementedError(f"{type(self).__name__} cannot lower '{expr.op}' in {expr}")
            return method(self.lower(expr.lhs), self.lower(expr.rhs))
        raise NotImplementedError(f"{type(self).__name__} cannot lower {type(expr).__name__} in {expr}")

    def product(self, factors: list) -> Any:
        result = self.const(1)
        for factor in factors:
            result = self.mul(result, factor)
        return result

    # --- to implement -------------------------------------------------------------------------------------------
    def const(self, value: int) -> Any:
        raise NotImplementedError

    def dim(self, role: str, index: int, axis: int) -> Any:
        raise NotImplementedError

    def rank(self, role: str, index: int) -> int:
        raise NotImplementedError

    def mul(self, a, b):
        raise NotImplementedError


class IntLowering(Lowering):
    """Lowers to plain ints. Used by tests to check any Lowering against `evaluate`."""

    def __init__(self, shapes: Shapes):
        self.shapes = shapes
        self.attrs = shapes.attrs

    def const(self, value):
        return value

    def dim(self, role, index, axis):
        return self.shapes.of(role, index)[axis]

    def rank(self, role, index):
        return len(self.shapes.of(role, index))

    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def mul(self, a, b):
        return a * b

    def floordiv(self, a, b):
        return a // b

    def cdiv(self, a, b):
        return _cdiv(a, b)

    def min(self, a, b):
        return min(a, b)

    def max(self, a, b):
        return max(a, b)
