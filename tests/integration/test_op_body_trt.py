"""Op bodies through the emulated TensorRT build phase (the real `tensorrt.plugin` Python over the stand-in): the
Torch-TensorRT AOT plugin example's `my::add_one`, registered with one line, and plain bodies (an attribute, two
outputs, in place). What TensorRT's build gets must be what tta compiles for the same shapes."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import symbolic

from ..trt_harness import builder, standin
from ..unit import body_ops as ops

BINDINGS = standin.bindings_versions()
pytestmark = pytest.mark.skipif(not BINDINGS, reason="needs a tensorrt-cu13-bindings wheel (pip install -e '.[dev]', "
                                                     "bash scripts/install_trt_versions.sh)")
TARGET = dict(arch="sm_90", ptx_isa=(9, 0))
CONFIGS = [{"BLOCK_SIZE": 256}, {"BLOCK_SIZE": 1024}]  # one plugin per op name in a process


@pytest.fixture(scope="module", params=BINDINGS or [None], ids=lambda vp: f"trt{vp[0]}" if vp else "none")
def trt(request):
    from torch_tensorrt_annotation import trt as trt_module

    module = standin.install(request.param[1])
    yield module
    standin.uninstall()
    trt_module._bindings.clear()


@pytest.fixture(scope="module")
def trtp(trt):
    import tensorrt.plugin as trtp

    return trtp


def expected(plugin, tactic, in_shapes, out_shapes, dtypes, out_dtypes, attrs=()):
    art = plugin.compile_tactic(
        plugin.tactics[tactic - 1], tta.Target.parse(**TARGET), in_dtypes=list(dtypes), out_dtypes=list(out_dtypes),
        in_ranks=[len(s) for s in in_shapes], out_ranks=[len(s) for s in out_shapes], attrs=list(attrs),
        shapes=symbolic.Shapes(tuple(in_shapes), tuple(out_shapes), tuple(attrs)))
    return art, art.launch_params(symbolic.Shapes(tuple(in_shapes), tuple(out_shapes), tuple(attrs)))


def check_build(trt, trtp, plugin, op_name, in_shapes, dtype, attrs=None, dynamic=frozenset()):
    attrs = attrs or {}
    created = builder.create(trt, trtp, op_name, attrs, len(in_shapes))
    trt_dtype = {torch.float32: trt.float32, torch.float16: trt.float16}[dtype]
    out_types, out_shapes, results = builder.build(trt, created, in_shapes, [trt_dtype] * len(in_shapes),
                                                   dynamic=dynamic)
    outs = plugin.meta_impl(*[torch.empty(s, dtype=dtype, device="meta") for s in in_shapes], *attrs.values())
    outs = outs if isinstance(outs, tuple) else (outs,)
    assert out_shapes == [tuple(o.shape) for o in outs]
    assert out_types == [{torch.float32: trt.float32, torch.float16: trt.float16}[o.dtype] for o in outs]
    assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
    for r in results:
        art, lp = expected(plugin, r.tactic, in_shapes, out_shapes, [dtype] * len(in_shapes),
                           [o.dtype for o in outs], attrs.values())
        assert (r.kernel, r.ptx) == (art.kernel_name, art.ptx.encode())
        assert (r.grid, r.block, r.shared_mem, r.extras) == (lp.grid, lp.block, lp.shared_mem, lp.extras)
    return created, results


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_add_one_from_the_aot_plugin_example_in_one_line(trt, trtp, dtype):
    plugin = tta.custom_op("my::add_one", impl=tta.aot(configs=CONFIGS), **TARGET)
    for shape in [(63, 65), (1000,), (3, 333)]:  # sizes no 16 divides: the same kernel as eager
        _, results = check_build(trt, trtp, plugin, "my::add_one", [shape], dtype)
        n = 1
        for d in shape:
            n *= d
        assert [r.grid[0] for r in results] == [-(-n // 256), -(-n // 1024)]
        assert [r.extras for r in results] == [(n,), (n,)]
    # a dynamic batch dim gives the same launch
    _, dynamic = check_build(trt, trtp, plugin, "my::add_one", [(63, 65)], dtype, dynamic={(0, 0)})
    assert [r.grid[0] for r in dynamic] == [16, 4]


def test_torch_tensorrts_custom_op_hook_takes_tta_aot(trt, trtp):
    """`torch_tensorrt.dynamo.conversion.plugins.custom_op(name, impl=tta.aot(...))` goes to tta.custom_op with
    tensorrt=True, which needs Torch-TensorRT for the converter (the real one: test_real_torch_tensorrt.py)."""
    import types

    from torch_tensorrt_annotation import integration

    calls = []
    module = types.SimpleNamespace(custom_op=lambda *a, **k: calls.append((a, k)))
    assert integration.install_torch_tensorrt_hook(module)
    try:
        import torch_tensorrt  # noqa: F401
    except ImportError:
        with pytest.raises(tta.TensorRTUnavailableError, match="op 'my::add_one' cannot get a converter"):
            module.custom_op("my::add_one", impl=tta.aot(configs=CONFIGS), **TARGET)
    else:
        plugin = module.custom_op("my::add_one", impl=tta.aot(configs=CONFIGS), **TARGET)
        assert plugin.schema.torch_schema() == "(Tensor X) -> Tensor"
    assert not calls  # upstream's own custom_op was not called


def test_body_with_a_float_attribute(trt, trtp):
    plugin = tta.custom_plugin(tta.triton(ops.rmsnorm))
    tta.custom_op("ttabodytrt::rmsnorm", impl=plugin, **TARGET)
    _, results = check_build(trt, trtp, plugin, "ttabodytrt::rmsnorm", [(4, 1000), (1000,)], torch.float16,
                             {"eps": 1e-5})
    assert results[0].grid == (4, 1, 1) and results[0].extras == (1000, symbolic.float32_bits(1e-5))


def test_body_with_two_outputs(trt, trtp):
    plugin = tta.custom_plugin(tta.triton(ops.sum_diff, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]))
    tta.custom_op("ttabodytrt::sum_diff", impl=plugin, **TARGET)
    _, results = check_build(trt, trtp, plugin, "ttabodytrt::sum_diff", [(777,), (777,)], torch.float32)
    assert [r.grid[0] for r in results] == [4, 1]


def test_body_updating_its_input_in_place(trt, trtp):
    plugin = tta.custom_plugin(tta.triton(ops.scale_, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]))
    tta.custom_op("ttabodytrt::scale_", impl=plugin, **TARGET)
    created, results = check_build(trt, trtp, plugin, "ttabodytrt::scale_", [(3000,)], torch.float32,
                                   {"alpha": 2.0})
    assert builder.aliased_inputs(created, 1) == [0]
    assert [r.grid[0] for r in results] == [12, 3]


def test_body_with_a_zeroed_output_is_not_registered_with_tensorrt(trt, trtp):
    plugin = tta.custom_plugin(tta.triton(ops.colsum))
    with pytest.warns(tta.TTAWarning, match="registered as a torch op only"):
        tta.custom_op("ttabodytrt::colsum", impl=plugin, **{})
