"""Op bodies (allocate outputs, launch one Triton kernel, return the outputs) used by the op-body tests.

`add_one` is the Torch-TensorRT AOT plugin example's op, kept as written there (tests/third_party); `sum_diff`
launches the package example's kernel."""

import torch
import triton
import triton.language as tl

from torch_tensorrt_annotation.examples.triton_examples import sum_diff_kernel

from ..third_party.torch_tensorrt_aot_plugin import add_one, add_one_kernel  # noqa: F401 - defines my::add_one


# --- an RMSNorm-like op with a float attribute -------------------------------------------------------------------
@triton.jit
def rmsnorm_kernel(x_ptr, w_ptr, out_ptr, N, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    x = tl.load(x_ptr + row * N + cols, mask=mask, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / N + eps)
    tl.store(out_ptr + row * N + cols, (x * rstd * w).to(out_ptr.dtype.element_ty), mask=mask)


def rmsnorm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    out = torch.empty_like(x)
    N = x.shape[-1]
    rmsnorm_kernel[(x.numel() // N,)](x, w, out, N, eps, BLOCK=triton.next_power_of_2(N), num_warps=4)
    return out


def rmsnorm_reference(x, w, eps=1e-6):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * w.float()).to(x.dtype)


# --- two outputs --------------------------------------------------------------------------------------------------
def sum_diff(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    total = torch.empty_like(a)
    diff = a.new_empty(a.shape)
    n = a.numel()
    sum_diff_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](a, b, total, diff, n, BLOCK=512)
    return total, diff


# --- a zeroed output (atomic accumulation) -------------------------------------------------------------------------
@triton.jit
def colsum_kernel(x_ptr, out_ptr, M, N, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    for start in range(0, N, BLOCK):
        mask = start + cols < N
        x = tl.load(x_ptr + row * N + start + cols, mask=mask, other=0.0)
        tl.atomic_add(out_ptr + start + cols, x.to(tl.float32), mask=mask)


def colsum(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(x.shape[1], device=x.device, dtype=torch.float32)
    colsum_kernel[(x.shape[0],)](x, out, x.shape[0], x.shape[1], BLOCK=128)
    return out


# --- in place ------------------------------------------------------------------------------------------------------
@triton.jit
def scale_kernel(x_ptr, n, alpha, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(x_ptr + offs, (x * alpha).to(x_ptr.dtype.element_ty), mask=mask)


def scale_(x: torch.Tensor, alpha: float) -> torch.Tensor:
    n = x.numel()
    scale_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, n, alpha, BLOCK=1024)
    return x


# --- torch.library.triton_op with wrap_triton ---------------------------------------------------------------------
@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


@torch.library.triton_op("ttabody::add", mutates_args=())
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n = out.numel()

    def grid(meta):
        return (triton.cdiv(n, meta["BLOCK"]),)

    torch.library.wrap_triton(add_kernel)[grid](x, y, out, n, BLOCK=128)
    return out


# --- bodies a plugin cannot run -------------------------------------------------------------------------------------
def with_scratch(x):
    out = torch.empty_like(x)
    tmp = torch.empty_like(x)  # scratch
    add_kernel[(1,)](x, tmp, out, x.numel(), BLOCK=128)
    return out


def two_launches(x, y):
    out = torch.empty_like(x)
    add_kernel[(1,)](x, y, out, x.numel(), BLOCK=128)
    add_kernel[(1,)](out, y, out, x.numel(), BLOCK=128)
    return out


def returns_a_view(x, y):
    out = torch.empty_like(x)
    add_kernel[(1,)](x, y, out, x.numel(), BLOCK=128)
    return out.view(-1)


def starts_as_ones(x, y):
    out = torch.ones_like(x)
    add_kernel[(1,)](x, y, out, x.numel(), BLOCK=128)
    return out


def tuple_grid(x, y):
    out = torch.empty_like(x)
    n = x.numel()
    BLOCK = 256
    add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK)
    return out


def keyword_block(x, y, *, BLOCK=256):
    out = torch.empty_like(x)
    n = x.numel()
    add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK)
    return out


@torch.library.custom_op("ttabody::wrong_fake", mutates_args=())
def wrong_fake(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n = x.numel()
    add_one_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK_SIZE"]),)](x, n, out, BLOCK_SIZE=256)
    return out


@wrong_fake.register_fake
def _(x):
    return x.new_empty(x.shape, dtype=torch.float16)


@triton.autotune(configs=[triton.Config({"BLOCK": 128}, num_warps=2), triton.Config({"BLOCK": 512}, num_warps=4)],
                 key=["n"])
@triton.jit
def tuned_add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


def tuned_add(x, y):
    out = torch.empty_like(x)
    n = x.numel()
    tuned_add_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, out, n)
    return out


def _make_output(x):
    return torch.empty_like(x)


def allocates_in_a_helper(x, y):
    out = _make_output(x)
    add_kernel[(1,)](x, y, out, x.numel(), BLOCK=128)
    return out
