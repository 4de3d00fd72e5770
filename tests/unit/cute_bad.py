"""A CuTe DSL kernel that takes cute.Tensor parameters (layout passed by value): TensorRT cannot call it."""

import cutlass.cute as cute

import torch_tensorrt_annotation as tta


@cute.kernel
def copy_kernel(x: cute.Tensor, o: cute.Tensor):
    tidx, _, _ = cute.arch.thread_idx()
    o[tidx] = x[tidx]


@cute.jit
def tensor_host(px: cute.Pointer, po: cute.Pointer):
    x = cute.make_tensor(px, cute.make_layout(256))
    o = cute.make_tensor(po, cute.make_layout(256))
    copy_kernel(x, o).launch(grid=[1, 1, 1], block=[256, 1, 1])


def tensor_launch(kernel, x, out):
    kernel[1, 256](x, out)


__all__ = ["tensor_host", "tensor_launch", "tta"]
