"""Triton: an elementwise add as a tta plugin with two tactics. Compiles anywhere; runs the op on a GPU if present.

    python examples/triton_add.py
"""

import torch
import triton
import triton.language as tl

import torch_tensorrt_annotation as tta


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


def add_launch(x, y, out, *, BLOCK, num_warps=4):
    n = x.numel()
    add_kernel[(triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK, num_warps=num_warps)


PLUGIN = tta.custom_plugin(tta.triton(add_launch, configs=[{"BLOCK": 256, "num_warps": 2}, {"BLOCK": 1024}]),
                           meta_impl=lambda x, y: torch.empty_like(x))

if __name__ == "__main__":
    meta = torch.empty(1000, device="meta")
    for art in PLUGIN.compile(meta, meta, arch="sm_90", ptx_isa=(9, 0)):
        print(art.tactic, art.kernel_name, art.describe_params())
    if torch.cuda.is_available():
        op = tta.custom_op("examples::triton_add", impl=PLUGIN)
        x, y = torch.randn(5000, device="cuda"), torch.randn(5000, device="cuda")
        torch.testing.assert_close(op(x, y), x + y)
        print(tta.check(PLUGIN, x, y))
