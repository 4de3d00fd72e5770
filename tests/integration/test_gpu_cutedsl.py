"""On a GPU: CuTe DSL plugins match PyTorch (fp32, fp16, several shapes) through the eager op and tta.check, whose
default reference is CuTe's own launcher; a Triton + CUDA C++ + CuTe DSL plugin passes tta.check on every
tactic. Skipped without a GPU or without nvidia-cutlass-dsl."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples.reference import rmsnorm as rms_ref

pytestmark = [pytest.mark.gpu]
pytest.importorskip("cutlass.cute")

from torch_tensorrt_annotation.examples import cutedsl_examples as ce  # noqa: E402

TOL = {torch.float32: 1e-5, torch.float16: 2e-3}



@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_cute_plugins_match_pytorch(dtype):
    plugins = ce.plugins()
    add = tta.custom_op(f"ttagpucute::add_{str(dtype)[6:]}", impl=plugins["cute_add"])
    rms = tta.custom_op(f"ttagpucute::rmsnorm_{str(dtype)[6:]}", impl=plugins["cute_rmsnorm"])
    for n in (1, 1000, 4097, 1 << 20):
        x, y = torch.randn(n, device="cuda", dtype=dtype), torch.randn(n, device="cuda", dtype=dtype)
        torch.testing.assert_close(add(x, y), x + y, rtol=TOL[dtype], atol=TOL[dtype])
    for shape in ((1, 8), (4, 8, 1000), (3, 4097)):
        x, w = torch.randn(shape, device="cuda", dtype=dtype), torch.randn(shape[-1], device="cuda", dtype=dtype)
        torch.testing.assert_close(rms(x, w, 1e-5), rms_ref(x, w, 1e-5), rtol=TOL[dtype], atol=TOL[dtype])


def test_check_against_cutes_own_launcher():
    report = tta.check(ce.plugins()["cute_rmsnorm"], torch.randn(64, 512, device="cuda"),
                       torch.randn(512, device="cuda"), 1e-5)
    print(report)
    assert report.ok and report.results[0].max_abs_err == 0


def test_three_backend_plugin_passes_check_on_every_tactic():
    pytest.importorskip("cuda.bindings.nvrtc")
    from torch_tensorrt_annotation.examples import cuda_examples as cx
    from torch_tensorrt_annotation.examples import triton_examples as tx

    specs = [tta.triton(tx.rmsnorm_launch, configs=tx.RMSNORM_CONFIGS),
             tta.cuda(cx.RMSNORM_SOURCE, "rmsnorm<{BLOCK}, TTA_IN0_T>", cx.rmsnorm_launch, configs=[{"BLOCK": 256}]),
             tta.cutedsl(ce.rmsnorm_host, ce.rmsnorm_launch, configs=[{"BLOCK": 128}])]
    plugin = tta.custom_plugin(specs, meta_impl=ce.rmsnorm_meta, name="rmsnorm_three")
    x, w = torch.randn(256, 2048, device="cuda"), torch.randn(2048, device="cuda")
    report = tta.check(plugin, x, w, 1e-5, reference=rms_ref)
    print(report)
    assert report.ok and [plugin.tactics[r.tactic - 1].spec.backend for r in report.results] == [
        "triton", "triton", "cuda", "cutedsl"]
    op = tta.custom_op("ttagpucute::rmsnorm_three", impl=plugin)
    torch.testing.assert_close(op(x, w, 1e-5), rms_ref(x, w, 1e-5))
