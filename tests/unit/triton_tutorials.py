"""tta launch functions over Triton's tutorials 01-04 (their kernels and host functions: tests/third_party/
triton_tutorials.py), each the tutorial's host function with its output allocation (`output = torch.empty_like(x)`)
replaced by the op's preallocated output; and the ops' metas. The tutorials' host functions are the references the
GPU tests compare with.
"""

import torch
import triton

from ..third_party.triton_tutorials import (  # noqa: F401 - add .. seeded_dropout: the references
    NUM_REGS,
    NUM_SM,
    SIZE_SMEM,
    WARP_SIZE,
    _dropout,
    _seeded_dropout,
    add,
    add_kernel,
    dropout,
    get_cuda_autotune_config,
    matmul,
    matmul_kernel,
    seeded_dropout,
    softmax,
    softmax_kernel,
)


def add_launch(x, y, output):
    """add(), without `output = torch.empty_like(x)` and the device assert (the op places its tensors)."""
    n_elements = output.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )
    add_kernel[grid](x, y, output, n_elements, BLOCK_SIZE=1024)


def softmax_as_written(x, y):
    """softmax() as the tutorial writes it (allocation aside): it sizes its persistent grid from the compiled
    kernel's registers (`softmax_kernel.warmup(...)`, `n_regs`), which tta refuses, naming this line."""
    n_rows, n_cols = x.shape
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    num_warps = 8
    num_stages = 4 if SIZE_SMEM > 200000 else 2
    kernel = softmax_kernel.warmup(y, x, x.stride(0), y.stride(0), n_rows, n_cols, BLOCK_SIZE=BLOCK_SIZE,
                                   num_stages=num_stages, num_warps=num_warps, grid=(1, ))
    kernel._init_handles()
    n_regs = kernel.n_regs
    size_smem = kernel.metadata.shared
    occupancy = NUM_REGS // (n_regs * WARP_SIZE * num_warps)
    occupancy = min(occupancy, SIZE_SMEM // size_smem)
    num_programs = NUM_SM * occupancy
    num_programs = min(num_programs, n_rows)
    kernel[(num_programs, 1, 1)](y, x, x.stride(0), y.stride(0), n_rows, n_cols, BLOCK_SIZE, num_stages)


def softmax_launch(x, y, *, NUM_PROGRAMS, NUM_STAGES):
    """softmax() with what it measured on the device made config values, as tta's refusal of the warmup says:
    the persistent grid's size (NUM_SM * occupancy) and the pipelining depth (from SIZE_SMEM). The launch line
    is the tutorial's."""
    n_rows, n_cols = x.shape
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    num_warps = 8
    num_stages = NUM_STAGES
    num_programs = min(NUM_PROGRAMS, n_rows)
    softmax_kernel[(num_programs, 1, 1)](y, x, x.stride(0), y.stride(0), n_rows, n_cols, BLOCK_SIZE, num_stages,
                                         num_warps=num_warps)


# H200 (132 SMs): the tutorial's softmax measures 4 stages (232448 bytes of shared memory > 200000) and, for the
# kernel's register count, 2 or more programs per SM; a persistent grid of 132 * 2 and one of 132 * 4 programs
SOFTMAX_CONFIGS = [{"NUM_PROGRAMS": 264, "NUM_STAGES": 4}, {"NUM_PROGRAMS": 528, "NUM_STAGES": 4}]


def matmul_launch(a, b, c):
    """matmul(a, b, activation="leaky_relu"), without `c = torch.empty(...)`: the autotuned kernel as decorated, its
    16 configs the tactics."""
    activation = "leaky_relu"
    assert a.shape[1] == b.shape[0], "Incompatible dimensions"
    assert a.is_contiguous(), "Matrix A must be contiguous"
    M, K = a.shape
    K, N = b.shape
    grid = lambda META: (triton.cdiv(M, META['BLOCK_SIZE_M']) * triton.cdiv(N, META['BLOCK_SIZE_N']), )
    matmul_kernel[grid](
        a, b, c,  #
        M, N, K,  #
        a.stride(0), a.stride(1),  #
        b.stride(0), b.stride(1),  #
        c.stride(0), c.stride(1),  #
        ACTIVATION=activation  #
    )


def matmul_meta(a, b):
    return a.new_empty((a.shape[0], b.shape[1]), dtype=torch.float16)


def dropout_launch(x, x_keep, output, p):
    """dropout(), without `output = torch.empty_like(x)`; p is a runtime fp32 scalar."""
    assert x.is_contiguous()
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )
    _dropout[grid](x, x_keep, output, n_elements, p, BLOCK_SIZE=1024)


def seeded_dropout_launch(x, output, p, seed):
    """seeded_dropout(), without `output = torch.empty_like(x)`; p (fp32) and seed (int32) are runtime scalars."""
    assert x.is_contiguous()
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )
    _seeded_dropout[grid](x, output, n_elements, p, seed, BLOCK_SIZE=1024)


def add_meta(x, y):
    return torch.empty_like(x)


def softmax_meta(x):
    return torch.empty_like(x)


def dropout_meta(x, x_keep, p: float = 0.5):
    return torch.empty_like(x)


def seeded_dropout_meta(x, p: float = 0.5, seed: int = 123):
    return torch.empty_like(x)
