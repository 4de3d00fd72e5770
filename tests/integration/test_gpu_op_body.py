"""On a GPU: ops written as op bodies (allocate outputs, launch one Triton kernel, return them) match the user's own
op, eagerly (tta's torch op runs tta's artifacts) and as TensorRT launches what the emulated build produced (kernel
name + PTX from get_kernel, evaluated launch parameters and extras, raw pointers in TensorRT's order).

Cases: the Torch-TensorRT AOT plugin example's my::add_one (registered with one line), an RMSNorm-like op with a
float attribute, a two-output op, an op with a zeroed output, an in-place op, and tta.triton_op."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import launcher

from ..trt_harness import builder, standin
from ..unit import body_ops as ops
from .gpu_cases import as_tuple

pytestmark = pytest.mark.gpu
needs_bindings = pytest.mark.skipif(standin.bindings_dir() is None, reason="needs the tensorrt-cu13-bindings wheel")
DTYPES = [torch.float32, torch.float16]
TOL = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3)}



def randn(*shape, dtype=torch.float32, seed=0):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    return torch.randn(shape, device="cuda", generator=gen).to(dtype)


def emulated_trt_outputs(trt, op_name, plugin, tensors, attrs, aliased=()):
    """Every tactic of the emulated TensorRT build, launched as TensorRT's AOT runtime does; returns per tactic
    the outputs (an aliased output is written through its input, which is a fresh copy per tactic)."""
    import tensorrt.plugin as trtp

    trt_dtype = {torch.float32: trt.float32, torch.float16: trt.float16}
    names = [a.name for a in plugin.schema.attrs]
    created = builder.create(trt, trtp, op_name, dict(zip(names, attrs)), len(tensors))
    out_types, out_shapes, results = builder.build(trt, created, [tuple(t.shape) for t in tensors],
                                                   [trt_dtype[t.dtype] for t in tensors])
    assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
    torch_types = {trt.float32: torch.float32, trt.float16: torch.float16}
    per_tactic = []
    for r in results:
        inputs = [t.clone() for t in tensors]
        outputs = [inputs[aliased[j]] if j < len(aliased) and aliased[j] is not None
                   else torch.full(s, float("nan"), device="cuda", dtype=torch_types[ty])
                   for j, (s, ty) in enumerate(zip(out_shapes, out_types))]
        launcher.launch_raw(r.kernel, r.ptx, r.grid, r.block, r.shared_mem, r.extras,
                            [t.data_ptr() for t in inputs], [o.data_ptr() for o in outputs],
                            torch.cuda.current_stream().cuda_stream)
        torch.cuda.synchronize()
        per_tactic.append(tuple(outputs))
    return per_tactic


def assert_same(got, expected, dtype):
    rtol, atol = TOL[dtype]
    for g, e in zip(as_tuple(got), as_tuple(expected)):
        torch.testing.assert_close(g, e, rtol=rtol, atol=atol)


# --- the seed's add_one -------------------------------------------------------------------------------------------
@needs_bindings
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_add_one_emulated_trt_launch_matches_the_users_op(trt, dtype):
    plugin = tta.custom_op("my::add_one", impl=tta.aot(configs=[{"BLOCK_SIZE": 256}, {"BLOCK_SIZE": 1024}]))
    for shape in [(64, 64), (1,), (4097,), (3, 1000)]:
        x = randn(*shape, dtype=dtype)
        expected = torch.ops.my.add_one(x)  # the user's own op (its body launches the kernel itself)
        assert torch.equal(expected, x + 1)
        for outputs in emulated_trt_outputs(trt, "my::add_one", plugin, [x], []):
            assert torch.equal(outputs[0], expected)


# --- plain bodies as tta torch ops + TensorRT ---------------------------------------------------------------------
CASES = {
    "rmsnorm": (ops.rmsnorm, None, lambda dtype: ([randn(4, 8, 1000, dtype=dtype), randn(1000, dtype=dtype, seed=1)],
                                                  [1e-5])),
    "sum_diff": (ops.sum_diff, [{"BLOCK": 256}, {"BLOCK": 1024}],
                 lambda dtype: ([randn(4097, dtype=dtype), randn(4097, dtype=dtype, seed=1)], [])),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_body_eager_op_matches_the_users_function(name, dtype):
    body, configs, make = CASES[name]
    op = tta.custom_op(f"ttabodygpu::{name}_eager", impl=tta.custom_plugin(tta.triton(body, configs=configs)),
                       tensorrt=False)
    tensors, attrs = make(dtype)
    expected = body(*tensors, *attrs)  # the user's own function, launching its kernel
    assert_same(op(*tensors, *attrs), expected, dtype)
    if name == "rmsnorm":
        assert_same(expected, ops.rmsnorm_reference(*tensors, *attrs), dtype)


@needs_bindings
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_body_emulated_trt_launch_matches_the_users_function(trt, name, dtype):
    body, configs, make = CASES[name]
    plugin = tta.custom_plugin(tta.triton(body, configs=configs))
    op_name = f"ttabodygpu::{name}"
    tta.custom_op(op_name, impl=plugin)
    tensors, attrs = make(dtype)
    expected = body(*tensors, *attrs)
    for outputs in emulated_trt_outputs(trt, op_name, plugin, tensors, attrs):
        assert_same(outputs, expected, dtype)


# --- a zeroed output ----------------------------------------------------------------------------------------------
def test_zeroed_output_body_eager_op_matches_the_users_function():
    plugin = tta.custom_plugin(tta.triton(ops.colsum))
    assert plugin.zeroed_outputs == (0,)
    op = tta.custom_op("ttabodygpu::colsum", impl=plugin, tensorrt=False)
    x = randn(512, 300)
    expected = ops.colsum(x)
    for _ in range(3):  # zeroed before every launch: the result does not accumulate across calls
        torch.testing.assert_close(op(x), expected, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(expected, x.sum(0), rtol=1e-4, atol=1e-3)


# --- in place -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_in_place_body_eager_op_matches_the_users_function(dtype):
    op = tta.custom_op("ttabodygpu::scale_eager", impl=tta.custom_plugin(
        tta.triton(ops.scale_, configs=[{"BLOCK": 256}, {"BLOCK": 1024}])), tensorrt=False)
    x = randn(4097, dtype=dtype)
    expected = ops.scale_(x.clone(), 3.0)
    y = op(x, 3.0)
    assert y is x
    assert_same(x, expected, dtype)


@needs_bindings
def test_in_place_body_emulated_trt_launch_writes_its_input(trt):
    plugin = tta.custom_plugin(tta.triton(ops.scale_, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]))
    tta.custom_op("ttabodygpu::scale_", impl=plugin)
    x = randn(4097)
    expected = ops.scale_(x.clone(), 3.0)
    for (out,) in emulated_trt_outputs(trt, "ttabodygpu::scale_", plugin, [x], [3.0], aliased=(0,)):
        torch.testing.assert_close(out, expected)


# --- tta.triton_op ------------------------------------------------------------------------------------------------
def test_triton_op_decorator_eager_matches_the_function_and_compiles():
    op = tta.triton_op("ttabodygpu::add_one_op", ops.add_one._init_fn, configs=[{"BLOCK_SIZE": 128},
                                                                                {"BLOCK_SIZE": 1024}],
                       tensorrt=False)
    x = randn(3, 1000)
    torch.testing.assert_close(op(x), x + 1)

    @torch.compile(fullgraph=True)
    def f(x):
        return op(x) * 2

    torch.testing.assert_close(f(x), (x + 1) * 2)
