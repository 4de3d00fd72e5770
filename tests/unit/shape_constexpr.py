import torch
import triton
import triton.language as tl


@triton.jit
def row_copy(x_ptr, out_ptr, N, BLOCK: tl.constexpr):
    cols = tl.arange(0, BLOCK)
    row = tl.program_id(0)
    tl.store(out_ptr + row * N + cols, tl.load(x_ptr + row * N + cols, mask=cols < N), mask=cols < N)


def launch(x, out):
    N = x.shape[-1]
    row_copy[(x.shape[0],)](x, out, N, BLOCK=triton.next_power_of_2(N))


def meta_impl(x):
    return torch.empty_like(x)
