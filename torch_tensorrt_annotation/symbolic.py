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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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


def int32_bits(value: int) -> int:
    if not -(2**31) <= value < 2**31:
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
class BinOp(Expr):
    op: str
    lhs: Expr
    rhs: Expr

    def __post_init__(self):
        if self.op not in BINARY_OPS:
            raise ValueError(f"unknown binary op {self.op!r}")

    def evaluate(self, shapes: Shapes) -> int:
        a, b = self.lhs.evaluate(shapes), self.rhs.evaluate(shapes)
        if self.op in ("floordiv", "mod", "cdiv") and b == 0:
            raise ZeroDivisionError(f"division by zero evaluating {self}")
        return BINARY_OPS[self.op][0](a, b)

    def children(self):
        return (self.lhs, self.rhs)

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
