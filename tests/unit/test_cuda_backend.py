"""CUDA C++ (NVRTC), precompiled PTX, declarative launches and mixed-backend plugins, compiled on CPU for sm_90."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing, symbolic
from torch_tensorrt_annotation.examples import cuda_examples as cx
from torch_tensorrt_annotation.examples import triton_examples as tx
from torch_tensorrt_annotation.spec import EXTRA, INPUT, OUTPUT

pytest.importorskip("cuda.bindings.nvrtc", reason="needs the nvrtc extra (cuda-bindings + nvidia-cuda-nvrtc)")


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


def entry_types(art):
    return [p.ptx_type for p in ptx_parsing.parse(art.ptx).entry(art.kernel_name).params]


def test_elementwise_cuda_kernel_is_reordered_to_tensorrt_order_and_renamed():
    plugin = cx.plugins()["cuda_add"]
    arts = plugin.compile(meta(1000), meta(1000), ptx_isa=(9, 0))
    assert [a.tactic for a in arts] == [1, 2] and len({a.kernel_name for a in arts}) == 2
    for art in arts:
        assert [(p.kind, p.index) for p in art.params] == [(INPUT, 0), (INPUT, 1), (EXTRA, 0), (OUTPUT, 0)]
        assert entry_types(art) == [".u64", ".u64", ".u32", ".u64"]
        assert "add_f32" not in art.ptx.replace(art.kernel_name, "")  # every reference renamed
        assert art.ptx_version <= (9, 0)
    lp = arts[0].launch_params(tta.symbolic.Shapes(((1000,), (1000,)), ((1000,),)))
    assert lp.grid == (8, 1, 1) and lp.block == (128, 1, 1) and lp.extras == (1000,)


def test_templated_name_mangled_kernel_with_attribute_macro_per_dtype():
    plugin = cx.plugins()["cuda_rmsnorm"]
    for dtype in (torch.float32, torch.float16):
        arts = plugin.compile(meta(4, 8, 1000, dtype=dtype), meta(1000, dtype=dtype), 1e-5, ptx_isa=(9, 0))
        for art in arts:
            assert entry_types(art) == [".u64", ".u64", ".u32", ".u32", ".u64"]
            lp = art.launch_params(tta.symbolic.Shapes(((4, 8, 1000), (1000,)), ((4, 8, 1000),)))
            assert lp.grid == (32, 1, 1) and lp.extras == (32, 1000)
    a = plugin.compile(meta(2, 64), meta(64), 1e-5, ptx_isa=(9, 0))[0]
    b = plugin.compile(meta(2, 64), meta(64), 0.5, ptx_isa=(9, 0))[0]
    assert a.kernel_name != b.kernel_name and a.ptx != b.ptx  # eps is compiled in: one kernel per value


def test_declarative_elementwise_and_reduction():
    plugin = cx.plugins()["cuda_add_declarative"]
    (art,) = plugin.compile(meta(1000), meta(1000), ptx_isa=(9, 0))
    assert [(p.kind, p.index) for p in art.params] == [(INPUT, 0), (INPUT, 1), (EXTRA, 0), (OUTPUT, 0)]
    assert art.launch_params(tta.symbolic.Shapes(((1000,), (1000,)), ((1000,),))).grid == (4, 1, 1)
    source = r"""extern "C" __global__ void rowsum(const float* x, int rows, int cols, float* out) {
        if (threadIdx.x == 0) { float s = 0; for (int c = 0; c < cols; ++c) s += x[blockIdx.x * cols + c];
        out[blockIdx.x] = s; } }"""
    plugin = tta.custom_plugin(tta.cuda(source, "rowsum", tta.reduction(inputs=1, dims=1, block=32), configs=[{}]),
                               meta_impl=tta.meta_reduced("x", dims=1))
    (art,) = plugin.compile(meta(6, 5, 40), ptx_isa=(9, 0))
    lp = art.launch_params(tta.symbolic.Shapes(((6, 5, 40),), ((6, 5),)))
    assert lp.grid == (30, 1, 1) and lp.block == (32, 1, 1) and lp.extras == (30, 40)


def test_precompiled_ptx_is_validated_against_the_launch():
    text, entry = cx_ptx()
    good = tta.custom_plugin(tta.ptx(text, entry, cx.add_launch, configs=[{"BLOCK": 256}]),
                             meta_impl=lambda x, y: torch.empty_like(x))
    (art,) = good.compile(meta(100), meta(100), ptx_isa=(9, 0))
    assert entry_types(art) == [".u64", ".u64", ".u32", ".u64"]

    def too_few(kernel, x, y, out, *, BLOCK):
        kernel[1, BLOCK](x, y, out)

    bad = tta.custom_plugin(tta.ptx(text, entry, too_few, configs=[{"BLOCK": 256}]),
                            meta_impl=lambda x, y: torch.empty_like(x))
    with pytest.raises(tta.CompileError, match="declares 4 parameters in its PTX, but the launch passes 3"):
        bad.compile(meta(100), meta(100), ptx_isa=(9, 0))
    with pytest.raises(tta.CompileError, match="newer than the requested 8.0. tta never relabels"):
        good.compile(meta(100), meta(100), ptx_isa=(8, 0))
    with pytest.raises(tta.CompileError, match="cannot run on sm_80"):
        good.compile(meta(100), meta(100), arch="sm_80", ptx_isa=(9, 0))


def cx_ptx():
    from torch_tensorrt_annotation.backends.cuda import nvrtc_compile

    return nvrtc_compile(cx.ADD_SOURCE, "add_f32", 90, {}, ())


SCALE_SOURCE = r"""extern "C" __global__ void scale(const float* x, float* out, int n, float a, int k) {
    int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) out[i] = x[i] * a + k; }"""


def scale_launch(kernel, x, out, alpha, shift, *, BLOCK):
    kernel[tta.cdiv(x.numel(), BLOCK), BLOCK](x, out, x.numel(), alpha, shift)


def scale_meta(x, alpha: float = 1.0, shift: int = 0):
    return torch.empty_like(x)


def test_float_and_int_attributes_are_runtime_parameters_of_a_cuda_kernel():
    plugin = tta.custom_plugin(tta.cuda(SCALE_SOURCE, "scale", scale_launch, configs=[{"BLOCK": 64}]),
                               meta_impl=scale_meta)
    (art,) = plugin.compile(meta(10), -2.5, 7, ptx_isa=(9, 0))
    assert [(p.kind, p.ptx_type) for p in art.params] == [("input", ".u64"), ("extra", ".u32"), ("extra", ".f32"),
                                                          ("extra", ".u32"), ("output", ".u64")]
    assert art.extras[1:] == (symbolic.Scalar(0, "alpha", "fp32"), symbolic.Scalar(1, "shift", "i32"))
    lp = art.launch_params(symbolic.Shapes(((10,),), ((10,),), (-2.5, 7)))
    assert lp.extras == (10, symbolic.float32_bits(-2.5), 7)


def test_a_64_bit_int_value_is_refused_with_the_macro_fix():
    plugin = tta.custom_plugin(tta.cuda(SCALE_SOURCE, "scale", scale_launch, configs=[{"BLOCK": 64}]),
                               meta_impl=scale_meta)
    with pytest.raises(tta.RecordingError, match=r"does not fit in int32.*no 64-bit scalars.*TTA_"):
        plugin.compile(meta(10), 1.0, 2**40, ptx_isa=(9, 0))


def test_double_parameter_is_refused_with_the_fix():
    source = r"""extern "C" __global__ void k(const float* x, float* out, double a) {}"""

    def launch(kernel, x, out, alpha, *, BLOCK):
        kernel[1, BLOCK](x, out, alpha)

    plugin = tta.custom_plugin(tta.cuda(source, "k", launch, configs=[{"BLOCK": 64}]),
                               meta_impl=lambda x, alpha=1.0: torch.empty_like(x))
    with pytest.raises(tta.CompileError, match=r"is \.f64 in PTX, but the launch passes a 32-bit float.*TTA_"):
        plugin.compile(meta(10), 0.5, ptx_isa=(9, 0))


def test_64_bit_int_parameter_is_refused():
    source = r"""extern "C" __global__ void k(const float* x, float* out, long long n) {}"""

    def launch(kernel, x, out, *, BLOCK):
        kernel[1, BLOCK](x, out, x.numel())

    plugin = tta.custom_plugin(tta.cuda(source, "k", launch, configs=[{"BLOCK": 64}]),
                               meta_impl=lambda x: torch.empty_like(x))
    with pytest.raises(tta.CompileError, match=r"is \.u64 in PTX, but the launch passes a 32-bit int"):
        plugin.compile(meta(10), ptx_isa=(9, 0))


def test_nvrtc_errors_name_the_kernel_and_show_the_log():
    plugin = tta.custom_plugin(tta.cuda("this is not C++", "k", cx.add_launch, configs=[{"BLOCK": 64}]),
                               meta_impl=lambda x, y: torch.empty_like(x))
    with pytest.raises(tta.CompileError, match=r"NVRTC could not compile kernel 'k'"):
        plugin.compile(meta(10), meta(10), ptx_isa=(9, 0))


def test_mixed_backend_plugin_numbers_tactics_across_backends():
    specs = [tta.triton(tx.add_launch, configs=tx.ADD_CONFIGS[:2]),
             tta.cuda(cx.ADD_SOURCE, "add_f32", cx.add_launch, configs=[{"BLOCK": 256}])]
    plugin = tta.custom_plugin(specs, meta_impl=tx.add_meta, name="mixed_add")
    arts = plugin.compile(meta(5000), meta(5000), ptx_isa=(9, 0))
    assert [(a.tactic, a.backend) for a in arts] == [(1, "triton"), (2, "triton"), (3, "cuda")]
    for art in arts:
        assert [(p.kind, p.index) for p in art.params] == [(INPUT, 0), (INPUT, 1), (EXTRA, 0), (OUTPUT, 0)]


def test_missing_nvrtc_gives_the_install_hint(monkeypatch):
    import sys

    from torch_tensorrt_annotation.backends.cuda import CudaBackend

    monkeypatch.setitem(sys.modules, "cuda.bindings.nvrtc", None)
    with pytest.raises(tta.BackendUnavailableError, match=r"torch-tensorrt-annotation\[nvrtc\]"):
        CudaBackend().require()


def test_precompiled_ptx_rmsnorm_like_reduction():
    from torch_tensorrt_annotation.backends.cuda import nvrtc_compile

    text, entry = nvrtc_compile(cx.RMSNORM_SOURCE, "rmsnorm<256, float>", 90, {"TTA_eps": "1e-05"}, ())
    plugin = tta.custom_plugin(tta.ptx(text, entry, cx.rmsnorm_launch, configs=[{"BLOCK": 256}]),
                               meta_impl=cx.rmsnorm_meta)
    (art,) = plugin.compile(meta(4, 8, 1000), meta(1000), 1e-5, ptx_isa=(9, 0))
    assert entry_types(art) == [".u64", ".u64", ".u32", ".u32", ".u64"]
    assert art.launch_params(tta.symbolic.Shapes(((4, 8, 1000), (1000,)), ((4, 8, 1000),))).extras == (32, 1000)
