"""Four Triton example plugins covering the launch idioms tta records.

- `add`: elementwise, 1-D grid, the element count as an extra argument.
- `scale2d`: 2-D tiled with row strides, a 2-D grid from a lambda.
- `rmsnorm`: a last-dim reduction with a float attribute `eps` (a runtime fp32 parameter: one artifact for all values).
- `sum_diff`: two outputs.

Each launch function is ordinary Triton host code: it would launch the kernel if called with CUDA tensors.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

# --- elementwise add ------------------------------------------------------------------------------------------------


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, x + y, mask=mask)


def add_launch(x, y, out, *, BLOCK, num_warps=4):
    n = x.numel()
    add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK, num_warps=num_warps)


def add_meta(x, y) -> torch.Tensor:
    return torch.empty_like(x)


ADD_CONFIGS = [{"BLOCK": 256, "num_warps": 2}, {"BLOCK": 1024, "num_warps": 4}, {"BLOCK": 4096, "num_warps": 8}]


# --- 2-D tiled, with strides ----------------------------------------------------------------------------------------


@triton.jit
def scale2d_kernel(x_ptr, out_ptr, M, N, stride_xm, stride_om, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)[:, None]
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)[None, :]
    mask = (rows < M) & (cols < N)
    x = tl.load(x_ptr + rows * stride_xm + cols, mask=mask)
    tl.store(out_ptr + rows * stride_om + cols, x * 2.0 + 1.0, mask=mask)


def scale2d_launch(x, out, *, BLOCK_M, BLOCK_N):
    M, N = x.shape
    grid = lambda meta: (triton.cdiv(M, meta["BLOCK_M"]), triton.cdiv(N, meta["BLOCK_N"]))  # noqa: E731
    scale2d_kernel[grid](x, out, M, N, x.stride(0), out.stride(0), BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N)


def scale2d_meta(x) -> torch.Tensor:
    return torch.empty_like(x)


SCALE2D_CONFIGS = [{"BLOCK_M": 32, "BLOCK_N": 32}, {"BLOCK_M": 64, "BLOCK_N": 128}]


# --- RMSNorm over the last dim, float attribute eps -----------------------------------------------------------------


@triton.jit
def rmsnorm_kernel(x_ptr, w_ptr, out_ptr, N, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    x_row = x_ptr + row * N
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, N, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(x_row + cols, mask=cols < N, other=0.0).to(tl.float32)
        acc += x * x
    rstd = 1.0 / tl.sqrt(tl.sum(acc, axis=0) / N + eps)
    for start in range(0, N, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < N
        x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        tl.store(out_ptr + row * N + cols, (x * rstd * w).to(out_ptr.dtype.element_ty), mask=mask)


def rmsnorm_launch(x, w, out, eps, *, BLOCK, num_warps=4):
    N = x.shape[-1]
    rows = x.numel() // N
    rmsnorm_kernel[(rows,)](x, w, out, N, eps, BLOCK=BLOCK, num_warps=num_warps)


def rmsnorm_meta(x, w, eps: float = 1e-6) -> torch.Tensor:
    return torch.empty_like(x)


RMSNORM_CONFIGS = [{"BLOCK": 256, "num_warps": 2}, {"BLOCK": 1024, "num_warps": 4}]


# --- two outputs ----------------------------------------------------------------------------------------------------


@triton.jit
def sum_diff_kernel(a_ptr, b_ptr, sum_ptr, diff_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    a = tl.load(a_ptr + offsets, mask=mask)
    b = tl.load(b_ptr + offsets, mask=mask)
    tl.store(sum_ptr + offsets, a + b, mask=mask)
    tl.store(diff_ptr + offsets, a - b, mask=mask)


def sum_diff_launch(a, b, sum_out, diff_out, *, BLOCK):
    n = a.numel()
    sum_diff_kernel[(triton.cdiv(n, BLOCK),)](a, b, sum_out, diff_out, n, BLOCK=BLOCK)


def sum_diff_meta(a, b) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.empty_like(a), torch.empty_like(a)


SUM_DIFF_CONFIGS = [{"BLOCK": 512}, {"BLOCK": 2048}]


# --- 1-in-1-out elementwise (for bandwidth), and a config that is wrong on purpose (for tta.check) ----------------


@triton.jit
def axpb_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr, BROKEN: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask)
    y = x * 2.0 + 1.0
    if BROKEN:  # drops the +1 on odd elements: a deliberately wrong tactic for tta.check
        y = tl.where(offsets % 2 == 1, x * 2.0, y)
    tl.store(out_ptr + offsets, y, mask=mask)


def axpb_launch(x, out, *, BLOCK, num_warps=4, BROKEN=False):
    n = x.numel()
    axpb_kernel[(triton.cdiv(n, BLOCK),)](x, out, n, BLOCK=BLOCK, BROKEN=BROKEN, num_warps=num_warps)


def axpb_meta(x) -> torch.Tensor:
    return torch.empty_like(x)


AXPB_CONFIGS = [{"BLOCK": 128, "num_warps": 1}, {"BLOCK": 1024, "num_warps": 4}, {"BLOCK": 4096, "num_warps": 8},
                {"BLOCK": 8192, "num_warps": 8}]


def _plugin(launch, configs, meta_impl):
    import torch_tensorrt_annotation as tta

    return tta.custom_plugin(tta.triton(launch, configs=configs), meta_impl=meta_impl)


# module-level plugins, e.g. for the command line: tta compile torch_tensorrt_annotation.examples.triton_examples:ADD
ADD = _plugin(add_launch, ADD_CONFIGS, add_meta)
SCALE2D = _plugin(scale2d_launch, SCALE2D_CONFIGS, scale2d_meta)
RMSNORM = _plugin(rmsnorm_launch, RMSNORM_CONFIGS, rmsnorm_meta)
SUM_DIFF = _plugin(sum_diff_launch, SUM_DIFF_CONFIGS, sum_diff_meta)


def plugins():
    """The example plugins, with example inputs (meta tensors) and a torch reference for each."""
    from . import reference

    def meta(*shape, dtype=torch.float32):
        return torch.empty(shape, dtype=dtype, device="meta")

    return {
        "add": (ADD, (meta(1000), meta(1000)), lambda x, y: x + y),
        "scale2d": (SCALE2D, (meta(100, 300),), lambda x: x * 2.0 + 1.0),
        "rmsnorm": (RMSNORM, (meta(4, 8, 1000), meta(1000), 1e-5), reference.rmsnorm),
        "sum_diff": (SUM_DIFF, (meta(777), meta(777)), lambda a, b: (a + b, a - b)),
    }
