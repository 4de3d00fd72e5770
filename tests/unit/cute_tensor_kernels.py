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
