"""Bring your existing op: the Torch-TensorRT AOT plugin example's `my::add_one`, unchanged, becomes a TensorRT
AOT plugin with one line (no launch function, meta_impl or aot_impl). On a CPU machine this compiles its tactics for
sm_90 and prints them; on a GPU it also launches each artifact as TensorRT would and compares with the op."""

import torch
import triton
import triton.language as tl

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import symbolic


@triton.jit
def add_one_kernel(x_ptr, n_elements, y_ptr, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    output = x + 1
    tl.store(y_ptr + offsets, output, mask=mask)


@torch.library.custom_op("my::add_one", mutates_args=())  # type: ignore[misc]
def add_one(X: torch.Tensor) -> torch.Tensor:
    assert X.is_cuda
    Y = torch.empty_like(X)
    BLOCK_SIZE = 256
    grid = lambda meta: (triton.cdiv(X.numel(), meta["BLOCK_SIZE"]),)  # noqa: E731
    add_one_kernel[grid](X, X.numel(), Y, BLOCK_SIZE=BLOCK_SIZE)
    return Y


@torch.library.register_fake("my::add_one")
def _(X: torch.Tensor) -> torch.Tensor:
    return X


# the one line (with Torch-TensorRT: torch_tensorrt.dynamo.conversion.plugins.custom_op("my::add_one", impl=...))
plugin = tta.custom_op("my::add_one", impl=tta.aot(configs=[{"BLOCK_SIZE": 256}, {"BLOCK_SIZE": 1024}]))

if __name__ == "__main__":
    print(plugin.schema.torch_schema(), "|", plugin.body_info.allocations[0].describe())
    on_gpu = torch.cuda.is_available()
    if on_gpu:
        major, minor = torch.cuda.get_device_capability()
        target = dict(arch=major * 10 + minor)
    else:
        target = dict(arch="sm_90", ptx_isa=(9, 0))
    shape = (64, 64)
    for art in plugin.compile(torch.empty(shape, device="meta"), **target):
        lp = art.launch_params(symbolic.Shapes((shape,), (shape,)))
        print(f"tactic {art.tactic} {dict(art.config)}: kernel {art.kernel_name}, grid {lp.grid}, block {lp.block}, "
              f"extras {lp.extras}")
        if on_gpu:
            from torch_tensorrt_annotation import launcher

            x = torch.full(shape, 2.0, device="cuda")
            y = torch.full_like(x, float("nan"))
            launcher.launch_raw(art.kernel_name, art.ptx, lp.grid, lp.block, lp.shared_mem, lp.extras,
                                [x.data_ptr()], [y.data_ptr()], torch.cuda.current_stream().cuda_stream)
            torch.cuda.synchronize()
            assert torch.equal(y, torch.ops.my.add_one(x)), "the artifact differs from the op"
            print("  matches torch.ops.my.add_one on the GPU")
