"""Output shapes and dtypes as symbolic expressions of the input dims, from `meta_impl`.

`meta_impl` runs once under FakeTensorMode with a ShapeEnv, every input dim a fresh symbol. The outputs' sizes come
back as sympy expressions of those symbols, which are translated into `symbolic.Expr` (so that TensorRT's shape
expressions are produced by the same Lowering as the launch geometry).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from . import symbolic
from .errors import SpecError

log = logging.getLogger(__name__)

_HINTS = (17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79)  # >1 and distinct: no 0/1 specialization


@dataclass(frozen=True)
class OutputInfo:
    shapes: tuple[tuple[symbolic.Expr, ...], ...]
    dtypes: tuple  # torch dtypes


def infer_outputs(meta_impl, input_ranks: Sequence[int], input_dtypes: Sequence, attrs: Sequence,
                  where: str) -> OutputInfo:
    import torch
    from torch._dynamo.source import ConstantSource
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import DimDynamic, ShapeEnv

    env = ShapeEnv()
    symbols: dict = {}
    hints = iter(_HINTS * 8)

    def dim(i: int, axis: int):
        hint = next(hints)
        symbol = env.create_symbol(hint, source=ConstantSource(f"in{i}_dim{axis}"), dynamic_dim=DimDynamic.DYNAMIC)
        symbols[symbol] = symbolic.Dim(symbolic.INPUT, i, axis)
        return env.create_symintnode(symbol, hint=hint)

    try:
        with FakeTensorMode(shape_env=env):
            inputs = [torch.empty([dim(i, a) for a in range(rank)], dtype=dtype)
                      for i, (rank, dtype) in enumerate(zip(input_ranks, input_dtypes))]
            result = meta_impl(*inputs, *attrs)
    except Exception as exc:
        raise SpecError(
            f"meta_impl of {where} failed with symbolic input shapes (ranks {tuple(input_ranks)}): {exc!r}. It must "
            "work for any dims, like a torch.library fake kernel. Fix: build outputs with torch.empty_like / "
            "x.new_empty(...) from input sizes, without branching on them."
        ) from exc
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    if env.guards:
        log.warning("meta_impl of %s branches on input dims; output shapes were derived for one branch: %s",
                    where, [str(g.expr) for g in env.guards])
    shapes = tuple(tuple(_to_expr(s, symbols, where) for s in out.shape) for out in outputs)
    return OutputInfo(shapes, tuple(out.dtype for out in outputs))


def _to_expr(size, symbols: dict, where: str) -> symbolic.Expr:
    import torch

    if isinstance(size, torch.SymInt):
        return sympy_to_expr(size.node.expr, symbols, where)
    return symbolic.Const(int(size))


def sympy_to_expr(e, symbols: dict, where: str = "") -> symbolic.Expr:
    """Translate a sympy integer expression over input-dim symbols into a symbolic.Expr."""
    import sympy
    from torch.utils._sympy import functions as F

    recurse = functools.partial(sympy_to_expr, symbols=symbols, where=where)
    if isinstance(e, sympy.Integer):
        return symbolic.Const(int(e))
    if isinstance(e, sympy.Symbol):
        if e in symbols:
            return symbols[e]
    elif isinstance(e, sympy.Add):
        return functools.reduce(lambda a, b: symbolic.binop("add", a, b), map(recurse, e.args))
    elif isinstance(e, sympy.Mul):
        return functools.reduce(lambda a, b: symbolic.binop("mul", a, b), map(recurse, e.args))
    elif isinstance(e, (F.FloorDiv, getattr(F, "CleanDiv", F.FloorDiv))):
        return symbolic.binop("floordiv", recurse(e.args[0]), recurse(e.args[1]))  # type: ignore[union-attr]
    elif hasattr(F, "CeilDiv") and isinstance(e, F.CeilDiv):
        return symbolic.binop("cdiv", recurse(e.args[0]), recurse(e.args[1]))
    elif isinstance(e, (sympy.Max, getattr(F, "Max", sympy.Max))):
        return functools.reduce(lambda a, b: symbolic.binop("max", a, b), map(recurse, e.args))
    elif isinstance(e, (sympy.Min, getattr(F, "Min", sympy.Min))):
        return functools.reduce(lambda a, b: symbolic.binop("min", a, b), map(recurse, e.args))
    elif isinstance(e, (sympy.Mod, getattr(F, "Mod", sympy.Mod), getattr(F, "PythonMod", sympy.Mod))):
        return symbolic.binop("mod", recurse(e.args[0]), recurse(e.args[1]))
    elif isinstance(e, sympy.Pow) and e.args[1].is_Integer and int(e.args[1]) > 0:  # type: ignore[union-attr]
        base = recurse(e.args[0])
        return functools.reduce(lambda a, b: symbolic.binop("mul", a, b), [base] * int(e.args[1]))
    raise SpecError(
        f"An output size of {where} is `{e}`, which has no TensorRT shape expression. Output sizes may use input "
        "dims with + - * // (and min/max, ceil-div). Fix: simplify meta_impl's output shapes."
    )
