"""CuTe DSL example plugins: an elementwise add and an RMSNorm-like row reduction (one thread per row, eps and the
block size as Constexpr). Kernels take cute.Pointer / cutlass.Int32 parameters, TensorRT's calling convention."""

from __future__ import annotations

import cutlass
import cutlass.cute as cute
import torch

import torch_tensorrt_annotation as tta


@cute.kernel
def add_kernel(px: cute.Pointer, py: cute.Pointer, n: cutlass.Int32, po: cute.Pointer, BLOCK: cutlass.Constexpr):
    x = cute.make_tensor(px, cute.make_layout(n))
    y = cute.make_tensor(py, cute.make_layout(n))
    o = cute.make_tensor(po, cute.make_layout(n))
    tidx, _, _ = cute.arch.thread_idx()
    bidx, _, _ = cute.arch.block_idx()
    i = bidx * BLOCK + tidx
    if i < n:
        o[i] = x[i] + y[i]


@cute.jit
def add_host(px: cute.Pointer, py: cute.Pointer, n: cutlass.Int32, po: cute.Pointer, BLOCK: cutlass.Constexpr):
    add_kernel(px, py, n, po, BLOCK).launch(grid=[(n + BLOCK - 1) // BLOCK, 1, 1], block=[BLOCK, 1, 1])


@cute.kernel
def rmsnorm_kernel(px: cute.Pointer, pw: cute.Pointer, rows: cutlass.Int32, cols: cutlass.Int32, po: cute.Pointer,
                   eps: cutlass.Constexpr, BLOCK: cutlass.Constexpr):
    tidx, _, _ = cute.arch.thread_idx()
    bidx, _, _ = cute.arch.block_idx()
    row = bidx * BLOCK + tidx
    if row < rows:
        x = cute.make_tensor(px, cute.make_layout(rows * cols))
        w = cute.make_tensor(pw, cute.make_layout(cols))
        o = cute.make_tensor(po, cute.make_layout(rows * cols))
        acc = cutlass.Float32(0.0)
        for c in range(cols):
            v = x[row * cols + c].to(cutlass.Float32)
            acc = acc + v * v
        rstd = cute.math.rsqrt(acc / cols.to(cutlass.Float32) + cutlass.Float32(eps))  # type: ignore[attr-defined]
        for c in range(cols):
            v = x[row * cols + c].to(cutlass.Float32) * rstd * w[c].to(cutlass.Float32)
            o[row * cols + c] = v.to(o.element_type)


@cute.jit
def rmsnorm_host(px: cute.Pointer, pw: cute.Pointer, rows: cutlass.Int32, cols: cutlass.Int32, po: cute.Pointer,
                 eps: cutlass.Constexpr, BLOCK: cutlass.Constexpr):
    rmsnorm_kernel(px, pw, rows, cols, po, eps, BLOCK).launch(grid=[(rows + BLOCK - 1) // BLOCK, 1, 1],
                                                              block=[BLOCK, 1, 1])


def add_launch(kernel, x, y, out, *, BLOCK):
    n = x.numel()
    kernel[tta.cdiv(n, BLOCK), BLOCK](x, y, n, out, BLOCK=BLOCK)


def rmsnorm_launch(kernel, x, w, out, eps, *, BLOCK):
    cols = x.shape[-1]
    rows = x.numel() // cols
    kernel[tta.cdiv(rows, BLOCK), BLOCK](x, w, rows, cols, out, eps=eps, BLOCK=BLOCK)


def rmsnorm_meta(x, w, eps: float = 1e-6) -> torch.Tensor:
    return torch.empty_like(x)


def plugins():
    return {
        "cute_add": tta.custom_plugin(tta.cutedsl(add_host, add_launch, configs=[{"BLOCK": 128}, {"BLOCK": 512}]),
                                      meta_impl=lambda x, y: torch.empty_like(x)),
        "cute_rmsnorm": tta.custom_plugin(
            tta.cutedsl(rmsnorm_host, rmsnorm_launch, configs=[{"BLOCK": 64}, {"BLOCK": 128}]),
            meta_impl=rmsnorm_meta),
    }
