"""Plugins for the build-phase tests beyond the bundled examples: outputs whose dtype and shape differ from the
inputs', and attributes of every kind."""

import torch
import triton
import triton.language as tl


@triton.jit
def rowsum_kernel(x_ptr, out_ptr, N, scale, BLOCK: tl.constexpr, SQUARE: tl.constexpr):
    row = tl.program_id(0)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, N, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + row * N + cols, mask=cols < N, other=0.0).to(tl.float32)
        acc += x * x if SQUARE else x
    tl.store(out_ptr + row, tl.sum(acc, axis=0) * scale)


def rowsum_launch(x, out, scale, repeat, square, *, BLOCK):
    N = x.shape[-1]
    rowsum_kernel[(x.numel() // N,)](x, out, N, scale * repeat, BLOCK=BLOCK, SQUARE=square)


def rowsum_meta(x, scale: float, repeat: int, square: bool) -> torch.Tensor:
    """Sums over the last dim, in float32 whatever the input dtype."""
    return x.new_empty(x.shape[:-1], dtype=torch.float32)


ROWSUM_CONFIGS = [{"BLOCK": 128}, {"BLOCK": 512}]


@triton.jit
def rowstats_kernel(x_ptr, sum_ptr, max_ptr, N, scale, BLOCK: tl.constexpr, SQUARE: tl.constexpr):
    row = tl.program_id(0)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    top = tl.full([BLOCK], float("-inf"), dtype=tl.float32)
    for start in range(0, N, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + row * N + cols, mask=cols < N, other=0.0).to(tl.float32)
        acc += x * x if SQUARE else x
        top = tl.maximum(top, tl.where(cols < N, x, float("-inf")))
    tl.store(sum_ptr + row, tl.sum(acc, axis=0) * scale)
    tl.store(max_ptr + row, tl.max(top, axis=0).to(max_ptr.dtype.element_ty))


def rowstats_launch(x, row_sum, row_max, scale, repeat, square, *, BLOCK):
    N = x.shape[-1]
    rowstats_kernel[(x.numel() // N,)](x, row_sum, row_max, N, scale * repeat, BLOCK=BLOCK, SQUARE=square)


def rowstats_meta(x, scale: float, repeat: int = 1, square: bool = False):
    """Two outputs: the scaled row sums in float32, and the row maxima in the input's dtype. Attributes of every
    kind, with and without defaults (the non-defaulted one first)."""
    return (x.new_empty(x.shape[:-1], dtype=torch.float32), x.new_empty(x.shape[:-1]))


def rowstats_reference(x, scale, repeat=1, square=False):
    xf = x.float()
    return ((xf * xf if square else xf).sum(-1) * scale * repeat, x.amax(-1))
