"""On a GPU: the corpus of real kernels (tests/unit/liger_kernels.py, tests/unit/triton_tutorials.py, over
tests/third_party) run through tta matches the libraries' own launches.

- The eager tta op (which records the launch function, compiles and launches the artifact through the driver API)
  matches liger-kernel's own host forward function (liger's `torch.empty` allocation, its helpers, Triton's own
  launcher), and the tutorials' own host functions, for fp32/fp16/bf16 and sizes no block divides.
- The emulated TensorRT build (the real tensorrt.plugin Python over the stand-in, as TensorRT's builder drives it;
  kernel and PTX from get_kernel, evaluated launch params and int32 extras) launched on raw pointers matches too,
  for every tactic.

Needs liger-kernel==0.8.5 (pure Python: `pip install --no-deps liger-kernel==0.8.5`) and, for the TensorRT part,
the tensorrt-cu13-bindings wheel.
"""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import launcher

from ..trt_harness import builder
from ..unit import liger_kernels as L
from ..unit import triton_tutorials as T

pytestmark = pytest.mark.gpu

DTYPES = [torch.float32, torch.float16, torch.bfloat16]
# same kernel, same constexprs: the two launches differ only in how arguments reach the kernel, so the results
# agree to the last bits; these tolerances leave room for a differently specialized compile, not for a wrong input
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float16: dict(rtol=1e-3, atol=1e-3),
       torch.bfloat16: dict(rtol=1.6e-2, atol=1e-2)}
_OPS: dict = {}
_PLUGINS: dict = {}



def _eager_op(name, plugin):
    if name not in _OPS:
        _OPS[name] = tta.custom_op(f"ttarealgpu::{name}", impl=plugin, tensorrt=False)
    return _OPS[name]


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _assert_outputs(got, expected, dtype, what):
    assert len(got) == len(expected), what
    for i, (g, e) in enumerate(zip(got, expected)):
        assert (g.shape, g.dtype) == (e.shape, e.dtype), f"{what}, output {i}"
        torch.testing.assert_close(g, e, **TOL[dtype], msg=lambda m, i=i: f"{what}, output {i}: {m}")


LIGER_RUNS = [(name, shape, dtype) for name, case in L.CASES.items() for shape in case.shapes for dtype in DTYPES]


def _ids(v):
    return str(v).replace("torch.", "")


@pytest.mark.parametrize("name, shape, dtype", LIGER_RUNS, ids=_ids)
def test_liger_op_matches_liger_s_own_forward(name, shape, dtype):
    case = L.CASES[name]
    plugin = _PLUGINS.setdefault(name, case.plugin())
    tensors, attrs = case.make(shape, dtype, "cuda")
    expected = _as_tuple(case.reference(*tensors, *attrs))  # on copies where liger works in place
    torch.cuda.synchronize()
    got = _eager_op(name, plugin)(*[t.clone() for t in tensors], *attrs)
    torch.cuda.synchronize()
    _assert_outputs(_as_tuple(case.outputs(*_as_tuple(got))), expected, dtype, f"{name} {shape} {dtype}")


TRT_TYPES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16", torch.int32: "int32"}


def _emulated_trt_launches(trt, op_name, plugin, tensors, attrs, expected):
    """Build with every dim static, then launch each tactic as TensorRT's AOT runtime does; yields (tactic,
    outputs). In-place outputs are the input's own buffer (TensorRT passes the aliased pointer)."""
    import tensorrt.plugin as trtp

    attr_values = dict(zip([a.name for a in plugin.schema.attrs], attrs))
    created = builder.create(trt, trtp, op_name, attr_values, len(tensors))
    in_types = [getattr(trt, TRT_TYPES[t.dtype]) for t in tensors]
    _, out_shapes, results = builder.build(trt, created, [tuple(t.shape) for t in tensors], in_types)
    assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
    stream = torch.cuda.current_stream().cuda_stream
    for r in results:
        assert r.extras_are_int32
        inputs = [t.clone() for t in tensors]
        outputs = []
        for j, e in enumerate(expected):
            alias = plugin.schema.alias_of(j)
            outputs.append(inputs[alias] if alias is not None else torch.full_like(e, float("nan")))
        assert [tuple(o.shape) for o in outputs] == out_shapes
        launcher.launch_raw(r.kernel, r.ptx, r.grid, r.block, r.shared_mem, r.extras,
                            [t.data_ptr() for t in inputs], [o.data_ptr() for o in outputs], stream)
        torch.cuda.synchronize()
        yield r.tactic, tuple(outputs)


TRT_RUNS = [(name, case.shapes[-1], dtype) for name, case in L.CASES.items()
            if not case.kwargs.get("zeroed_outputs") for dtype in DTYPES]  # zeroed outputs: eager only


@pytest.mark.parametrize("name, shape, dtype", TRT_RUNS, ids=_ids)
def test_liger_op_emulated_tensorrt_launch_matches_liger_s_own_forward(trt, name, shape, dtype):
    """Every tactic (liger's DyT: its 18 autotune configs) of the TensorRT build, for an odd shape."""
    case = L.CASES[name]
    plugin = case.plugin()
    op_name = f"ttarealtrt::{name}_{_ids(dtype)}_{'x'.join(map(str, shape))}"
    tta.custom_op(op_name, impl=plugin)  # build arch from this GPU, PTX ISA from this driver
    tensors, attrs = case.make(shape, dtype, "cuda")
    expected = _as_tuple(case.reference(*tensors, *attrs))
    for tactic, outputs in _emulated_trt_launches(trt, op_name, plugin, tensors, attrs, expected):
        _assert_outputs(outputs, expected, dtype, f"{name} {shape} {dtype} tactic {tactic}")


# --- Triton's tutorials against their own host functions
def _gen():
    return torch.Generator(device="cuda").manual_seed(0)


def _tutorial(name, shape, dtype):
    """(plugin, tensors, attrs, the tutorial's own host function's result)."""
    g = _gen()
    x = torch.randn(shape, device="cuda", generator=g).to(dtype)
    if name == "add":
        y = torch.randn(shape, device="cuda", generator=g).to(dtype)
        return (tta.custom_plugin(tta.triton(T.add_launch, configs=[{}]), meta_impl=T.add_meta), [x, y], [],
                T.add(x, y))
    if name == "softmax":
        try:
            expected = T.softmax(x)
        except ZeroDivisionError:  # the tutorial's host divides by the kernel's shared memory, 0 for tiny fp16 rows
            expected = torch.softmax(x.float(), dim=-1).to(dtype)
        return (tta.custom_plugin(tta.triton(T.softmax_launch, configs=T.SOFTMAX_CONFIGS), meta_impl=T.softmax_meta),
                [x], [], expected)
    if name == "matmul":  # the tutorial's fp16 matmul with leaky_relu fused; its autotuner picks one config
        b = torch.randn((shape[1], shape[0] + 3), device="cuda", generator=g).to(dtype)
        return (tta.custom_plugin(tta.triton(T.matmul_launch), meta_impl=T.matmul_meta), [x, b], [],
                T.matmul(x, b, activation="leaky_relu"))
    if name == "dropout":
        p = 0.4
        x_keep = (torch.rand(shape, device="cuda", generator=g) > p).to(torch.int32)
        return (tta.custom_plugin(tta.triton(T.dropout_launch, configs=[{}]), meta_impl=T.dropout_meta),
                [x, x_keep], [p], T.dropout(x, x_keep, p))
    p, seed = 0.4, 123
    return (tta.custom_plugin(tta.triton(T.seeded_dropout_launch, configs=[{}]), meta_impl=T.seeded_dropout_meta),
            [x], [p, seed], T.seeded_dropout(x, p, seed))


TUTORIAL_RUNS = [(name, shape, dtype) for name, shape in [
    ("add", (98432,)), ("add", (1,)), ("add", (4097,)), ("softmax", (1823, 781)), ("softmax", (3, 5)),
    ("softmax", (4099, 129)), ("dropout", (1000,)), ("dropout", (3, 333)), ("seeded_dropout", (1000,)),
    ("seeded_dropout", (70001,))] for dtype in (torch.float32, torch.float16)] + [
    ("matmul", (513, 257), torch.float16), ("matmul", (64, 64), torch.float16)]


@pytest.mark.parametrize("name, shape, dtype", TUTORIAL_RUNS, ids=_ids)
def test_tutorial_op_and_emulated_tensorrt_launch_match_the_tutorial(trt, name, shape, dtype):
    """Every tactic (the matmul's 16 autotune configs), eager and through the emulated TensorRT build. A matmul
    tactic may block K differently from the config the tutorial's autotuner picked: fp32 sums in another order,
    then rounded to fp16, differ by at most one fp16 ulp (relative 2**-10 < the 1e-3 tolerance)."""
    plugin, tensors, attrs, expected = _tutorial(name, shape, dtype)
    torch.cuda.synchronize()
    tag = f"{name}_{_ids(dtype)}_{'x'.join(map(str, shape))}"
    for tactic in plugin.tactics:
        op = tta.custom_op(f"ttatutgpu::{tag}_t{tactic.number}", impl=plugin, tensorrt=False, tactic=tactic.number)
        _assert_outputs(_as_tuple(op(*tensors, *attrs)), (expected,), dtype, f"{tag} eager tactic {tactic.number}")
    op_name = f"ttatuttrt::{tag}"
    tta.custom_op(op_name, impl=plugin)
    for tactic, outputs in _emulated_trt_launches(trt, op_name, plugin, tensors, attrs, (expected,)):
        _assert_outputs(outputs, (expected,), dtype, f"{tag} emulated TensorRT tactic {tactic}")
