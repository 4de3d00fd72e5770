"""On a GPU: cute.Tensor CuTe DSL kernels, flattened into TensorRT's calling convention, launched eagerly (the
torch op) and as TensorRT would (tta.check: the artifact's PTX, grid, block, shared memory and int32 extras),
against the kernel's own launch through the DSL. Includes > 48 KiB of dynamic shared memory and quack-kernels'
RMSNorm (bf16/fp16, N in {1024, 4096, 8192}, several M with one artifact). Skipped without a GPU or the DSL."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples.reference import rmsnorm as rms_ref

pytestmark = [pytest.mark.gpu]
pytest.importorskip("cutlass.cute")

from tests.unit import cute_tensor_kernels as k  # noqa: E402


def test_scale_kernel_matches_the_dsls_own_launch():
    spec = tta.cutedsl(k.scale_host, k.scale_launch, configs=[{"SCALE": 2.0}],
                       dynamic_dims={"x": [0, 1], "o": [0, 1]})
    plugin = tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="gpu_cute_scale")
    for shape in ((1, 32), (10, 70), (333, 1000)):
        x = torch.randn(shape, device="cuda", dtype=torch.float16)
        report = tta.check(plugin, x)  # reference: the DSL's own launch of scale_host
        print(report)
        assert report.ok and report.results[0].max_abs_err == 0
    op = tta.custom_op("ttagpucutet::scale", impl=plugin)
    x = torch.randn(77, 130, device="cuda", dtype=torch.float16)
    torch.testing.assert_close(op(x), (x.float() * 2).half())


def test_large_dynamic_shared_memory_kernel():
    spec = tta.cutedsl(k.smem_host, k.smem_launch, configs=[{}], dynamic_dims={"x": [0], "o": [0]})
    plugin = tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="gpu_cute_smem")
    x = torch.randn(64, 1000, device="cuda")
    report = tta.check(plugin, x)
    print(report)
    assert report.ok and report.results[0].max_abs_err == 0
    op = tta.custom_op("ttagpucutet::smem", impl=plugin)
    torch.testing.assert_close(op(x), x.flip(-1) + 1)


@pytest.mark.parametrize("n", [1024, 4096, 8192])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_quack_rmsnorm_matches_quack_and_pytorch(n, dtype):
    pytest.importorskip("quack.rmsnorm")
    from torch_tensorrt_annotation.examples import quack_rmsnorm as q

    plugin = q.plugin()
    w = torch.randn(n, device="cuda", dtype=dtype)
    for m in (1, 37, 1024):
        x = torch.randn(m, n, device="cuda", dtype=dtype)
        report = tta.check(plugin, x, w, 1e-6)  # reference: quack's own launch through the DSL
        print(report)
        assert report.ok and report.results[0].max_abs_err == 0
    op = tta.custom_op(f"ttagpucutet::quack_rms_{n}_{str(dtype)[6:]}", impl=plugin)
    for m in (3, 500):
        x = torch.randn(m, n, device="cuda", dtype=dtype)
        torch.testing.assert_close(op(x, w, 1e-6), rms_ref(x, w, 1e-6), rtol=2e-2, atol=2e-2)
