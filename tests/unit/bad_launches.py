"""Launch functions that a recorded AOT launch cannot express, each for one error test."""

import torch
import triton
import triton.language as tl

from torch_tensorrt_annotation.examples.triton_examples import add_kernel


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


@triton.autotune(configs=[triton.Config({"BLOCK": 128})], key=["n"])
@triton.jit
def autotuned_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def no_launch(x, y, out, *, BLOCK):
    return None


def two_launches(x, y, out, *, BLOCK):
    n = x.numel()
    add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK)
    add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK)


def data_dependent(x, y, out, *, BLOCK):
    n = x.numel()
    if n > 4096:
        add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK)


CAPTURED = torch.zeros(4)


def captured_tensor(x, y, out, *, BLOCK):
    n = x.numel()
    add_kernel[(triton.cdiv(n, BLOCK),)](x, CAPTURED, out, n, BLOCK=BLOCK)


def float_shape_math(x, y, out, *, BLOCK):
    n = x.numel() * 0.5
    add_kernel[(1,)](x, y, out, n, BLOCK=BLOCK)


def autotuned(x, y, out, *, BLOCK):
    autotuned_kernel[(1,)](x, out, x.numel())


def clusters(x, y, out, *, BLOCK):
    n = x.numel()
    add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK, num_ctas=2)


def ignores_input(x, y, out, *, BLOCK):
    """Uses only x: TensorRT still passes y, so the artifact declares an unused pointer for it."""
    n = x.numel()
    copy_kernel[(triton.cdiv(n, BLOCK),)](x, out, n, BLOCK=BLOCK)


def idioms(x, y, out, *, BLOCK):
    """Every supported shape idiom, with literals on either side."""
    rows = x.size(0)
    cols = x.shape[-1]
    n = x.numel()
    block = min(BLOCK, triton.next_power_of_2(cols))
    grid = max(1, 2 * triton.cdiv(n, 2 * block) + 0 - 0)
    assert x.dtype == torch.float32
    add_kernel[(grid,)](x, y, out, rows * x.stride(0) + 0 * cols, BLOCK=BLOCK)
