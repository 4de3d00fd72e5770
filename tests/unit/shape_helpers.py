"""Launch code the way kernel libraries write it: shape maths in helper functions of another module.

`settings` is modelled on the "calculate settings" helpers of normalization libraries: the block size from the real
`triton.next_power_of_2` (looked up on the module at call time), `num_warps` chosen with `if`.
"""

import torch
import triton
import triton.language as tl
from triton import next_power_of_2 as imported_next_power_of_2  # bound at import: Triton's own bit tricks run

MAX_FUSED_SIZE = 65536


def settings(n):
    block = triton.next_power_of_2(n)
    if block > MAX_FUSED_SIZE:
        raise RuntimeError(f"row of {n} elements does not fit")
    num_warps = 4
    if block >= 32768:
        num_warps = 32
    elif block >= 8192:
        num_warps = 16
    elif block >= 2048:
        num_warps = 8
    return block, num_warps


@triton.jit
def row_shift_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr, LONG: tl.constexpr):
    row = tl.program_id(0)
    if LONG:
        row = row.to(tl.int64)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=0.0)
    tl.store(out_ptr + row * n_cols + cols, x - tl.max(x, axis=0), mask=cols < n_cols)


def library_launch(x, out):
    """K2/K3/K7: a helper computes BLOCK and num_warps; a branch on numel picks 64-bit indexing."""
    n_cols = x.shape[-1]
    rows = x.numel() // n_cols
    block, num_warps = settings(n_cols)
    row_shift_kernel[(rows,)](x, out, n_cols, BLOCK=block, LONG=x.numel() > 2**31 - 1, num_warps=num_warps)


def block_for(n):
    return imported_next_power_of_2(n)


def bit_tricks_launch(x, out):
    """A helper calls `next_power_of_2` bound at import time: Triton's own `n |= n >> 1 ...` runs on the dim."""
    n_cols = x.shape[-1]
    row_shift_kernel[(x.numel() // n_cols,)](x, out, n_cols, BLOCK=block_for(n_cols), LONG=False)


def int_and_range_launch(x, out):
    """int(), range() and a comparison chain on dims."""
    n_cols = int(x.shape[-1])
    rows = 1
    for axis in range(x.dim() - 1):
        rows *= x.shape[axis]
    block = 1
    while block < n_cols:
        block *= 2
    row_shift_kernel[(rows,)](x, out, n_cols, BLOCK=block, LONG=False)


def meta_impl(x):
    return torch.empty_like(x)
