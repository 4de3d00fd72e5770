"""A Triton plugin with int and bool attributes that have defaults (shared by GPU tests)."""

import torch
import triton
import triton.language as tl

import torch_tensorrt_annotation as tta


@triton.jit
def scaled_add_kernel(x_ptr, y_ptr, out_ptr, n, SCALE: tl.constexpr, NEGATE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    value = tl.load(x_ptr + offs, mask=mask) + SCALE * tl.load(y_ptr + offs, mask=mask)
    if NEGATE:
        value = -value
    tl.store(out_ptr + offs, value, mask=mask)


def scaled_add_launch(x, y, out, scale, negate, *, BLOCK):
    n = x.numel()
    scaled_add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, SCALE=scale, NEGATE=negate, BLOCK=BLOCK)


def scaled_add_meta(x, y, scale: int = 2, negate: bool = False) -> torch.Tensor:
    return torch.empty_like(x)


def scaled_add_plugin():
    return tta.custom_plugin(tta.triton(scaled_add_launch, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]),
                             meta_impl=scaled_add_meta)
