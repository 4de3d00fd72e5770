"""On a GPU: ops whose attributes have defaults, called without the attribute, at its default, with another value
and as a keyword (torch hands the CUDA kernel only the arguments that differ from their defaults). Skipped without
a GPU."""

import importlib.util

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as tx
from torch_tensorrt_annotation.examples.reference import rmsnorm as rms_ref

from .default_attr_plugins import scaled_add_plugin

pytestmark = pytest.mark.gpu


def _calls(op, x, w):
    """(result, eps the reference must use) for every way of passing eps."""
    return [(op(x, w), 1e-6), (op(x, w, 1e-6), 1e-6), (op(x, w, eps=1e-6), 1e-6), (op(x, w, 0.25), 0.25),
            (op(x, w, eps=0.25), 0.25)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_bundled_triton_rmsnorm_with_without_and_at_the_default(dtype):
    op = tta.custom_op(f"ttagpudef::rmsnorm_{str(dtype)[6:]}", impl=tx.RMSNORM)
    x = torch.randn(4, 8, 1000, device="cuda", dtype=dtype) * 1e-3  # small: eps matters in the result
    w = torch.randn(1000, device="cuda", dtype=dtype)
    for got, eps in _calls(op, x, w):
        torch.testing.assert_close(got, rms_ref(x, w, eps), rtol=2e-3, atol=2e-3)


@pytest.mark.skipif(importlib.util.find_spec("cuda.bindings") is None, reason="needs cuda-bindings (NVRTC)")
def test_bundled_cuda_rmsnorm_with_without_and_at_the_default():
    from torch_tensorrt_annotation.examples import cuda_examples as cx

    op = tta.custom_op("ttagpudef::cuda_rmsnorm", impl=cx.plugins()["cuda_rmsnorm"])
    x, w = torch.randn(4, 1000, device="cuda") * 1e-3, torch.randn(1000, device="cuda")
    for got, eps in _calls(op, x, w):
        torch.testing.assert_close(got, rms_ref(x, w, eps), rtol=1e-4, atol=1e-5)


def test_int_and_bool_attributes_with_defaults():
    op = tta.custom_op("ttagpudef::scaled_add", impl=scaled_add_plugin())
    x, y = torch.randn(3000, device="cuda"), torch.randn(3000, device="cuda")
    torch.testing.assert_close(op(x, y), x + 2 * y)                       # scale=2, negate=False (defaults)
    torch.testing.assert_close(op(x, y, 2), x + 2 * y)                    # at the default
    torch.testing.assert_close(op(x, y, 3), x + 3 * y)
    torch.testing.assert_close(op(x, y, negate=True), -(x + 2 * y))       # the first at its default, dropped
    torch.testing.assert_close(op(x, y, 2, False), x + 2 * y)
    torch.testing.assert_close(op(x, y, 5, True), -(x + 5 * y))


def test_opcheck_on_the_real_kernels():
    """The op is tagged pt2_compliant: torch.library.opcheck (schema, autograd registration, fake kernel, AOT
    dispatch) passes with the CUDA kernel, with and without the defaulted attribute."""
    op = tta.custom_op("ttagpudef::rmsnorm_opcheck", impl=tx.RMSNORM)
    x, w = torch.randn(4, 8, 1000, device="cuda"), torch.randn(1000, device="cuda")
    for args in ((x, w, 1e-5), (x, w)):
        result = torch.library.opcheck(op, args)
        assert set(result.values()) == {"SUCCESS"}, result
    y = op(x.requires_grad_(True), w)
    with pytest.raises(RuntimeError, match="is not differentiable"):
        y.sum().backward()
