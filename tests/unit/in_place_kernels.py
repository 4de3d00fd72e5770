"""Kernels that write their inputs, accumulate into outputs with atomics, or skip an output (Triton and CUDA C++),
for the write checks and the in-place / zeroed-output support."""

import triton
import triton.language as tl

import torch_tensorrt_annotation as tta


# --- Triton -------------------------------------------------------------------------------------------------------
@triton.jit
def scale_inplace_kernel(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2 + 1, mask=mask)


def inplace_launch(x, *, BLOCK):  # an in-place op: no output parameter, the kernel writes x
    scale_inplace_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, x.numel(), BLOCK=BLOCK)


def writes_input_launch(x, out, *, BLOCK):  # declares an output but writes x (the bug of recording_kinds K10)
    scale_inplace_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, x.numel(), BLOCK=BLOCK)


@triton.jit
def ignores_out_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.load(x_ptr + offs, mask=offs < n)


def ignores_out_launch(x, out, *, BLOCK):
    ignores_out_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), BLOCK=BLOCK)


@triton.jit
def update_and_copy_kernel(x_ptr, n, y_ptr, BLOCK: tl.constexpr):
    """A RoPE-style kernel: updates x in place and also writes a new output y = old x."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, x, mask=mask)
    tl.store(x_ptr + offs, x * 2 + 1, mask=mask)


def update_and_copy_launch(x, y, *, BLOCK):  # input x (in place), then the one new output y
    update_and_copy_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, x.numel(), y, BLOCK=BLOCK)


def update_and_copy_meta(x):
    import torch

    return x, torch.empty_like(x)


@triton.jit
def colsum_kernel(x_ptr, out_ptr, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)[:, None]
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)[None, :]
    v = tl.load(x_ptr + rows * N + cols, mask=(rows < M) & (cols < N), other=0.0)
    c = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    tl.atomic_add(out_ptr + c, tl.sum(v, axis=0), mask=c < N)


def colsum_launch(x, out, *, BLOCK_M, BLOCK_N):
    M, N = x.shape
    colsum_kernel[(triton.cdiv(M, BLOCK_M), triton.cdiv(N, BLOCK_N))](x, out, M, N, BLOCK_M=BLOCK_M,
                                                                        BLOCK_N=BLOCK_N)


def colsum_meta(x):
    return x.new_empty(x.shape[1:])


COLSUM_CONFIGS = [{"BLOCK_M": 64, "BLOCK_N": 64}, {"BLOCK_M": 32, "BLOCK_N": 128}]


# --- CUDA C++ (NVRTC) ----------------------------------------------------------------------------------------------
CUDA_SRC = r"""
extern "C" __global__ void scale_inplace(float* x, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * 2.0f + 1.0f;
}
extern "C" __global__ void scale_into_input(float* x, int n, float* out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * 2.0f + 1.0f;   // forgets out
}
extern "C" __global__ void colsum(const float* x, int m, int n, float* out) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  int row = blockIdx.y;
  if (col < n && row < m) atomicAdd(out + col, x[row * n + col]);
}
"""


def cuda_inplace_launch(kernel, x, *, BLOCK):
    n = x.numel()
    kernel[tta.cdiv(n, BLOCK), BLOCK](x, n)


def cuda_writes_input_launch(kernel, x, out, *, BLOCK):
    n = x.numel()
    kernel[tta.cdiv(n, BLOCK), BLOCK](x, n, out)


def cuda_colsum_launch(kernel, x, out, *, BLOCK):
    m, n = x.shape
    kernel[(tta.cdiv(n, BLOCK), m), BLOCK](x, m, n, out)


@triton.jit
def read_then_write_kernel(x_ptr, n, dx_ptr, BLOCK: tl.constexpr):
    """Reads x through one pointer and writes the result through another, to be passed the same tensor (liger-kernel's
    JSD / cross-entropy style: X_ptr and dX_ptr)."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dx_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2 + 1, mask=mask)


def read_then_write_launch(x, *, BLOCK):  # in place: x is passed as both pointers
    read_then_write_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, x.numel(), x, BLOCK=BLOCK)


def read_then_write_out_launch(x, out, *, BLOCK):  # not in place: passing x twice stays refused
    read_then_write_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, x.numel(), x, BLOCK=BLOCK)
