"""CuTe DSL kernels with cute.Tensor parameters, for the tests (a file, since the DSL needs the source)."""

import cuda.bindings.driver as cuda
import cutlass
import cutlass.cute as cute

import torch_tensorrt_annotation as tta


@cute.kernel
def scale_kernel(x: cute.Tensor, o: cute.Tensor, s: cutlass.Float32):
    tidx, _, _ = cute.arch.thread_idx()
    bidx, _, _ = cute.arch.block_idx()
    row = bidx * 4 + tidx // 32
    if row < x.shape[0]:
        for c in range(tidx % 32, x.shape[1], 32):
            o[row, c] = (x[row, c].to(cutlass.Float32) * s).to(o.element_type)


@cute.jit
def scale_host(x: cute.Tensor, o: cute.Tensor, scale: cutlass.Constexpr, stream: cuda.CUstream):
    scale_kernel(x, o, cutlass.Float32(scale)).launch(grid=[cute.ceil_div(x.shape[0], 4), 1, 1], block=[128, 1, 1],
                                                      stream=stream)


def scale_launch(kernel, x, out, *, SCALE):
    kernel(x, out, scale=SCALE)


@cute.kernel
def add_kernel_ptr(px: cute.Pointer, po: cute.Pointer, n: cutlass.Int32):
    x = cute.make_tensor(px, cute.make_layout(n))
    o = cute.make_tensor(po, cute.make_layout(n))
    tidx, _, _ = cute.arch.thread_idx()
    bidx, _, _ = cute.arch.block_idx()
    i = bidx * 128 + tidx
    if i < n:
        o[i] = x[i]


@cute.jit
def cluster_ptr_host(px: cute.Pointer, n: cutlass.Int32, po: cute.Pointer):
    add_kernel_ptr(px, po, n).launch(grid=[(n + 255) // 256 * 2, 1, 1], block=[128, 1, 1], cluster=[2, 1, 1])


def cluster_ptr_launch(kernel, x, out):
    n = x.numel()
    kernel[tta.cdiv(n, 256) * 2, 128](x, n, out)


@cute.jit
def runtime_scale_host(x: cute.Tensor, o: cute.Tensor, s: cutlass.Float32, stream: cuda.CUstream):
    scale_kernel(x, o, s).launch(grid=[cute.ceil_div(x.shape[0], 4), 1, 1], block=[128, 1, 1], stream=stream)


@cute.kernel
def smem_kernel(x: cute.Tensor, o: cute.Tensor):
    tidx, _, _ = cute.arch.thread_idx()
    bidx, _, _ = cute.arch.block_idx()
    smem = cutlass.utils.SmemAllocator()
    buf = smem.allocate_tensor(cutlass.Float32, cute.make_layout(16384), byte_alignment=16)  # 64 KiB
    n = x.shape[1]
    for c in range(tidx, n, 128):
        buf[c] = x[bidx, c].to(cutlass.Float32)
    cute.arch.sync_threads()
    for c in range(tidx, n, 128):
        o[bidx, c] = (buf[n - 1 - c] + cutlass.Float32(1.0)).to(o.element_type)


@cute.jit
def smem_host(x: cute.Tensor, o: cute.Tensor, stream: cuda.CUstream):
    smem_kernel(x, o).launch(grid=[x.shape[0], 1, 1], block=[128, 1, 1], stream=stream)


def smem_launch(kernel, x, out):
    kernel(x, out)
