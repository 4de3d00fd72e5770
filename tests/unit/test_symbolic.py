"""The symbolic layer evaluates exactly like Python integer arithmetic, and lowers consistently."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from torch_tensorrt_annotation import symbolic

SHAPES = st.lists(st.lists(st.integers(1, 4096), min_size=1, max_size=4), min_size=1, max_size=3)


def leaves(n_inputs_and_ranks):
    options = [st.integers(1, 1000).map(symbolic.Const)]
    for i, rank in enumerate(n_inputs_and_ranks):
        options.append(st.integers(-rank, rank - 1).map(lambda a, i=i: symbolic.Dim(symbolic.INPUT, i, a)))
        options.append(st.just(symbolic.Numel(symbolic.INPUT, i)))
        options.append(st.integers(-rank, rank - 1).map(lambda a, i=i: symbolic.Stride(symbolic.INPUT, i, a)))
    return st.one_of(options)


def exprs(ranks, py_ops=False):
    """Expressions over inputs of the given ranks; with `py_ops`, comparisons and bit operations too (what guards
    hold)."""

    def nodes(inner):
        options = [st.builds(symbolic.BinOp, st.sampled_from(sorted(symbolic.BINARY_OPS)), inner, inner)]
        if py_ops:
            options.append(st.builds(symbolic.PyOp, st.sampled_from(sorted(symbolic.PY_OPS)), inner, inner))
        options.append(st.builds(symbolic.NextPow2, inner))
        return st.one_of(options)

    return st.recursive(leaves(ranks), nodes, max_leaves=6 if py_ops else 8)


def reference(expr, shapes):
    """Direct integer arithmetic, written independently of Expr.evaluate."""
    if isinstance(expr, symbolic.Const):
        return expr.value
    if isinstance(expr, symbolic.Dim):
        return shapes[expr.index][expr.axis]
    if isinstance(expr, symbolic.Numel):
        return math.prod(shapes[expr.index])
    if isinstance(expr, symbolic.Stride):
        s = shapes[expr.index]
        return math.prod(s[(expr.axis % len(s)) + 1:])
    if isinstance(expr, symbolic.NextPow2):
        n = reference(expr.arg, shapes)
        p = 1
        while p < n:
            p *= 2
        return p
    a, b = reference(expr.lhs, shapes), reference(expr.rhs, shapes)
    return {
        "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "floordiv": lambda: a // b,
        "mod": lambda: a % b, "cdiv": lambda: (a + b - 1) // b if b > 0 else -(-a // b),
        "min": lambda: min(a, b), "max": lambda: max(a, b),
    }[expr.op]()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), shapes=SHAPES)
def test_evaluate_agrees_with_integer_arithmetic(data, shapes):
    expr = data.draw(exprs([len(s) for s in shapes]))
    env = symbolic.Shapes(tuple(tuple(s) for s in shapes))
    try:
        expected = reference(expr, shapes)
    except ZeroDivisionError:
        with pytest.raises(ZeroDivisionError):
            expr.evaluate(env)
        return
    assert expr.evaluate(env) == expected


@settings(max_examples=200, deadline=None)
@given(data=st.data(), shapes=SHAPES)
def test_int_lowering_agrees_with_evaluate_where_lowerable(data, shapes):
    expr = data.draw(exprs([len(s) for s in shapes]))
    env = symbolic.Shapes(tuple(tuple(s) for s in shapes))
    try:
        value = expr.evaluate(env)
    except ZeroDivisionError:
        return
    try:
        lowered = symbolic.IntLowering(env).lower(expr)
    except NotImplementedError as exc:  # mod and next_power_of_2 have no TensorRT counterpart
        assert "mod" in str(exc) or "NextPow2" in str(exc)
        return
    assert lowered == value


def test_constant_folding_keeps_literals_plain():
    assert symbolic.binop("mul", 2, 3) == symbolic.Const(6)
    assert symbolic.binop("cdiv", 1000, 256) == symbolic.Const(4)
    assert symbolic.next_pow2(1000) == symbolic.Const(1024)
    assert isinstance(symbolic.binop("add", symbolic.Dim(symbolic.INPUT, 0, 0), 1), symbolic.BinOp)


def test_negative_axis_and_contiguous_stride():
    env = symbolic.Shapes(((2, 3, 5),))
    assert symbolic.Dim(symbolic.INPUT, 0, -1).evaluate(env) == 5
    assert symbolic.Stride(symbolic.INPUT, 0, 0).evaluate(env) == 15
    assert symbolic.Stride(symbolic.INPUT, 0, -1).evaluate(env) == 1
    with pytest.raises(IndexError):
        symbolic.Dim(symbolic.INPUT, 0, 3).evaluate(env)


def test_output_dims_need_output_shapes():
    expr = symbolic.Dim(symbolic.OUTPUT, 0, 0)
    assert expr.evaluate(symbolic.Shapes(((4,),), ((7,),))) == 7
    with pytest.raises(ValueError, match="no shape given for output 0"):
        expr.evaluate(symbolic.Shapes(((4,),)))


def test_expressions_are_hashable_and_structural():
    a = symbolic.binop("cdiv", symbolic.Numel(symbolic.INPUT, 0), 256)
    b = symbolic.binop("cdiv", symbolic.Numel(symbolic.INPUT, 0), 256)
    assert a == b and hash(a) == hash(b) and str(a) == "cdiv(in0.numel(), 256)"


@settings(max_examples=300, deadline=None)
@given(data=st.data(), ranges=st.lists(st.lists(st.tuples(st.integers(1, 300), st.integers(0, 300)), min_size=1,
                                                max_size=3), min_size=1, max_size=2))
def test_bounds_contain_every_value_over_the_profile(data, ranges):
    """Interval bounds are sound: every shape in the profile evaluates inside them (so a decided guard holds)."""
    profile = symbolic.Profile(tuple(tuple((lo, lo + width) for lo, width in t) for t in ranges))
    expr = data.draw(exprs([len(t) for t in ranges], py_ops=True))
    span = symbolic.bounds(expr, profile)
    if span is None:  # no bound claimed: nothing to check (and the value may be astronomically large, e.g. x << 2**41)
        return
    for _ in range(5):
        shapes = symbolic.Shapes(tuple(tuple(data.draw(st.integers(lo, hi)) for lo, hi in t) for t in profile.inputs))
        try:
            value = expr.evaluate(shapes)
        except (ZeroDivisionError, ValueError):  # a negative shift count, a division by zero
            continue
        assert span[0] <= value <= span[1], (str(expr), span, shapes)


def test_bounds_decide_comparisons_and_static_dims():
    profile = symbolic.Profile((((1, 64), (1000, 1000)),))
    rows, cols = symbolic.Dim(symbolic.INPUT, 0, 0), symbolic.Dim(symbolic.INPUT, 0, -1)
    assert symbolic.bounds(symbolic.NextPow2(cols), profile) == (1024, 1024)
    over_int32 = symbolic.PyOp("gt", symbolic.Numel(symbolic.INPUT, 0), symbolic.Const(2**31 - 1))
    assert symbolic.bounds(over_int32, profile) == (0, 0)
    assert symbolic.bounds(symbolic.PyOp("ge", rows, symbolic.Const(32)), profile) == (0, 1)
    assert symbolic.dynamic_dims(symbolic.binop("mul", rows, cols), profile) == ["in0.shape[0]"]
    assert symbolic.dynamic_dims(symbolic.Numel(symbolic.INPUT, 0), profile) == ["in0.shape[0]"]


def test_python_only_ops_are_refused_by_lowerings():
    with pytest.raises(NotImplementedError, match="cannot lower PyOp"):
        symbolic.IntLowering(symbolic.Shapes(((4,),))).lower(
            symbolic.PyOp("or", symbolic.Dim(symbolic.INPUT, 0, 0), symbolic.Const(1)))
