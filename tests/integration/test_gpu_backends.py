"""On a GPU: CUDA C++ (NVRTC) and precompiled-PTX plugins match PyTorch through the eager op and tta.check, and a
mixed Triton + CUDA plugin passes tta.check on every tactic. Skipped without a GPU."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import cuda_examples as cx
from torch_tensorrt_annotation.examples import triton_examples as tx
from torch_tensorrt_annotation.examples.reference import rmsnorm as rms_ref

pytestmark = [pytest.mark.gpu]
pytest.importorskip("cuda.bindings.nvrtc")

TOL = {torch.float32: 1e-5, torch.float16: 2e-3}



@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_cuda_rmsnorm_matches_across_shapes(dtype):
    op = tta.custom_op(f"ttagpucuda::rmsnorm_{str(dtype)[6:]}", impl=cx.plugins()["cuda_rmsnorm"])
    for shape in ((1, 8), (4, 8, 1000), (3, 4097)):
        x, w = torch.randn(shape, device="cuda", dtype=dtype), torch.randn(shape[-1], device="cuda", dtype=dtype)
        torch.testing.assert_close(op(x, w, 1e-5), rms_ref(x, w, 1e-5), rtol=TOL[dtype], atol=TOL[dtype])


def test_cuda_add_and_declarative_add_match():
    plugins = cx.plugins()
    for name in ("cuda_add", "cuda_add_declarative"):
        op = tta.custom_op(f"ttagpucuda::{name}", impl=plugins[name])
        for n in (0, 1, 1000, 4097, 1 << 20):
            x, y = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
            torch.testing.assert_close(op(x, y), x + y)


def test_check_uses_the_backends_own_launcher_as_reference():
    report = tta.check(cx.plugins()["cuda_rmsnorm"], torch.randn(4, 8, 1000, device="cuda"),
                       torch.randn(1000, device="cuda"), 1e-5)
    print(report)
    # tactic 1 is the reference's own config: bit-identical; tactic 2 reduces in another order
    assert report.ok and report.results[0].max_abs_err == 0 and report.results[1].max_abs_err < 1e-5


def test_precompiled_ptx_plugin_runs():
    from torch_tensorrt_annotation.backends.cuda import nvrtc_compile

    text, entry = nvrtc_compile(cx.ADD_SOURCE, "add_f32", 90, {}, ())
    plugin = tta.custom_plugin(tta.ptx(text, entry, cx.add_launch, configs=[{"BLOCK": 256}]),
                               meta_impl=lambda x, y: torch.empty_like(x))
    op = tta.custom_op("ttagpucuda::ptx_add", impl=plugin)
    x, y = torch.randn(3000, device="cuda"), torch.randn(3000, device="cuda")
    torch.testing.assert_close(op(x, y), x + y)
    assert tta.check(plugin, x, y, reference=torch.add).ok


def test_mixed_backend_plugin_passes_check_on_every_tactic():
    specs = [tta.triton(tx.rmsnorm_launch, configs=tx.RMSNORM_CONFIGS),
             tta.cuda(cx.RMSNORM_SOURCE, "rmsnorm<{BLOCK}, TTA_IN0_T>", cx.rmsnorm_launch,
                      configs=[{"BLOCK": 128}, {"BLOCK": 256}])]
    plugin = tta.custom_plugin(specs, meta_impl=cx.rmsnorm_meta, name="mixed_rmsnorm")
    x, w = torch.randn(64, 4096, device="cuda"), torch.randn(4096, device="cuda")
    report = tta.check(plugin, x, w, 1e-5, reference=rms_ref)
    print(report)
    assert report.ok and [r.tactic for r in report.results] == [1, 2, 3, 4]
    op = tta.custom_op("ttagpucuda::mixed_rmsnorm", impl=plugin)
    torch.testing.assert_close(op(x, w, 1e-5), rms_ref(x, w, 1e-5))


def test_dynamic_shared_memory_above_48_kib_is_opted_in():
    source = r"""extern "C" __global__ void staged_copy(const float* x, float* out, int n) {
      extern __shared__ float stage[];                       // 64 KiB of dynamic shared memory
      int base = blockIdx.x * 16384;
      for (int i = threadIdx.x; i < 16384; i += blockDim.x) stage[i] = base + i < n ? x[base + i] : 0.f;
      __syncthreads();
      for (int i = threadIdx.x; i < 16384; i += blockDim.x) if (base + i < n) out[base + i] = stage[16383 - i];
    }"""

    def launch(kernel, x, out):
        kernel[tta.cdiv(x.numel(), 16384), 256, 65536](x, out, x.numel())

    plugin = tta.custom_plugin(tta.cuda(source, "staged_copy", launch), meta_impl=lambda x: torch.empty_like(x))
    op = tta.custom_op("ttagpucuda::staged_copy", impl=plugin)
    x = torch.arange(3 * 16384, device="cuda", dtype=torch.float32)
    expected = x.view(3, 16384).flip(-1).reshape(-1)
    torch.testing.assert_close(op(x), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_precompiled_ptx_rmsnorm_matches_across_shapes(dtype):
    from torch_tensorrt_annotation.backends.cuda import nvrtc_compile

    c_type = {torch.float32: "float", torch.float16: "__half"}[dtype]
    text, entry = nvrtc_compile(cx.RMSNORM_SOURCE, f"rmsnorm<256, {c_type}>", 90, {"TTA_eps": "1e-05"}, ())
    plugin = tta.custom_plugin(tta.ptx(text, entry, cx.rmsnorm_launch, configs=[{"BLOCK": 256}]),
                               meta_impl=cx.rmsnorm_meta)
    op = tta.custom_op(f"ttagpucuda::ptx_rmsnorm_{str(dtype)[6:]}", impl=plugin)
    for shape in ((1, 8), (4, 8, 1000), (3, 4097)):
        x, w = torch.randn(shape, device="cuda", dtype=dtype), torch.randn(shape[-1], device="cuda", dtype=dtype)
        torch.testing.assert_close(op(x, w, 1e-5), rms_ref(x, w, 1e-5), rtol=TOL[dtype], atol=TOL[dtype])


def test_float_kernel_refuses_float16_tensors_and_a_half_kernel_runs_them():
    """bughunt case03: a `const float*` kernel called with float16 used to read fp16 buffers as fp32 (NaN, writes
    out of bounds). Now the call is refused before any launch; a __half kernel computes float16 correctly."""
    from ..unit.test_kernel_dtypes import HALF_ADD, mixed_plugin

    float_op = tta.custom_op("ttagpucuda::dtype_float_add", impl=cx.plugins()["cuda_add"], tensorrt=False)
    x, y = torch.randn(5000, device="cuda"), torch.randn(5000, device="cuda")
    torch.testing.assert_close(float_op(x, y), x + y)
    with pytest.raises(tta.DtypeError, match=r"input 'x': Kernel 'add_f32' takes float32 .* is float16"):
        float_op(x.half(), y.half())
    half = tta.custom_plugin(tta.cuda(HALF_ADD, "add_f16", cx.add_launch, configs=[{"BLOCK": 256}]),
                             meta_impl=lambda x, y: torch.empty_like(x))
    half_op = tta.custom_op("ttagpucuda::dtype_half_add", impl=half, tensorrt=False)
    torch.testing.assert_close(half_op(x.half(), y.half()), x.half() + y.half())
    with pytest.raises(tta.DtypeError, match=r"takes float16 .* is float32"):
        half_op(x, y)
    # one op with both kernels: each dtype runs the kernel written for it
    both = tta.custom_op("ttagpucuda::dtype_mixed_add", impl=mixed_plugin(), tensorrt=False)
    torch.testing.assert_close(both(x, y), x + y)
    torch.testing.assert_close(both(x.half(), y.half()), x.half() + y.half())
    # the backend's own launcher (tta.check's reference) refuses it too
    with pytest.raises(tta.DtypeError):
        from torch_tensorrt_annotation.backends.base import launch_with_specialization

        spec = cx.plugins()["cuda_add"].specs[0]
        launch_with_specialization(spec, {"BLOCK": 128}, {}, [x.half(), y.half(), torch.empty_like(x.half())])
