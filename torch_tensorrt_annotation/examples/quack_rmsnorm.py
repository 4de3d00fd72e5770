"""quack-kernels' RMSNorm forward (a CuTe DSL kernel with cute.Tensor parameters), imported unchanged and wrapped
as a user would: a @cute.jit host function that calls quack's `RMSNorm` and a launch function for tta. M (the rows)
is dynamic, N (the hidden size) is static, as quack specializes its tiling on it. Needs `pip install
quack-kernels` (and the cutedsl extra). Inputs are 2-D: x (M, N) and w (N,), fp16, bf16 or fp32."""

from __future__ import annotations

import cuda.bindings.driver as cuda
import cutlass
import cutlass.cute as cute
import torch
from quack.rmsnorm import RMSNorm

import torch_tensorrt_annotation as tta


@cute.jit
def rmsnorm_host(x: cute.Tensor, w: cute.Tensor, out: cute.Tensor, eps: cutlass.Constexpr, stream: cuda.CUstream):
    RMSNorm(x.element_type, x.shape[1])(x, w, None, None, out, None, None, None, cutlass.Float32(eps), stream)  # type: ignore[index]


def rmsnorm_launch(kernel, x, w, out, eps):
    kernel(x, w, out, eps=eps)


def rmsnorm_meta(x, w, eps: float = 1e-6) -> torch.Tensor:
    return torch.empty_like(x)


def spec():
    return tta.cutedsl(rmsnorm_host, rmsnorm_launch, configs=[{}], name="quack_rmsnorm",
                       dynamic_dims={"x": [0], "out": [0]})


def plugin():
    return tta.custom_plugin(spec(), meta_impl=rmsnorm_meta, name="quack_rmsnorm")
