"""A small transformer MLP block whose RMSNorm and SwiGLU are tta plugins (Triton). Runs eagerly and under
torch.compile on a GPU, and, where Torch-TensorRT is installed, compiled with it (AOT plugins in the engine).

    python examples/transformer_block.py
"""

import torch
import triton
import triton.language as tl

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.examples.reference import rmsnorm as rmsnorm_reference


@triton.jit
def swiglu_kernel(gate_ptr, up_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    g = tl.load(gate_ptr + offs, mask=mask).to(tl.float32)
    u = tl.load(up_ptr + offs, mask=mask).to(tl.float32)
    tl.store(out_ptr + offs, (g * tl.sigmoid(g) * u).to(out_ptr.dtype.element_ty), mask=mask)


def swiglu_launch(gate, up, out, *, BLOCK, num_warps=4):
    n = gate.numel()
    swiglu_kernel[(triton.cdiv(n, BLOCK),)](gate, up, out, n, BLOCK=BLOCK, num_warps=num_warps)


SWIGLU = tta.custom_plugin(tta.triton(swiglu_launch, configs=[{"BLOCK": 1024}, {"BLOCK": 4096, "num_warps": 8}]),
                           meta_impl=lambda gate, up: torch.empty_like(gate))
rmsnorm = tta.custom_op("examples::rmsnorm", impl=ex.RMSNORM)
swiglu = tta.custom_op("examples::swiglu", impl=SWIGLU)


class MLPBlock(torch.nn.Module):
    def __init__(self, dim=512, hidden=1408):
        super().__init__()
        self.norm_weight = torch.nn.Parameter(torch.ones(dim))
        self.gate = torch.nn.Linear(dim, hidden, bias=False)
        self.up = torch.nn.Linear(dim, hidden, bias=False)
        self.down = torch.nn.Linear(hidden, dim, bias=False)

    def forward(self, x, use_plugins=True):
        if use_plugins:
            h = rmsnorm(x, self.norm_weight, 1e-5)
            return x + self.down(swiglu(self.gate(h).contiguous(), self.up(h).contiguous()))
        h = rmsnorm_reference(x, self.norm_weight, 1e-5)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


def main():
    if not torch.cuda.is_available():
        print("no GPU: compiling the plugins only")
        for plugin in (ex.RMSNORM, SWIGLU):
            print(plugin.op_name, len(plugin.compile(*_meta_inputs(plugin), arch="sm_90", ptx_isa=(9, 0))),
                  "tactics")
        return
    torch.manual_seed(0)
    block = MLPBlock().cuda().half()
    x = torch.randn(4, 128, 512, device="cuda", dtype=torch.half)
    with torch.no_grad():
        expected = block(x, use_plugins=False)
        eager = block(x)
        torch.testing.assert_close(eager, expected, rtol=2e-2, atol=2e-2)
        print("eager: ok")
        compiled = torch.compile(block, fullgraph=True)
        torch.testing.assert_close(compiled(x), expected, rtol=2e-2, atol=2e-2)
        print("torch.compile(fullgraph=True): ok")
    try:
        import torch_tensorrt
    except Exception as exc:  # noqa: BLE001 - optional
        print(f"Torch-TensorRT not available ({type(exc).__name__}); skipped the engine build")
        return
    import torch_tensorrt.annotation  # noqa: F401 - registers the TensorRT side through the torch_tensorrt hook

    trt_block = torch_tensorrt.compile(block, ir="dynamo", inputs=[x], min_block_size=1)
    torch.testing.assert_close(trt_block(x), expected, rtol=2e-2, atol=2e-2)
    print("Torch-TensorRT engine: ok")


def _meta_inputs(plugin):
    if plugin is ex.RMSNORM:
        return torch.empty(4, 128, 512, device="meta"), torch.empty(512, device="meta"), 1e-5
    return torch.empty(4, 128, 1408, device="meta"), torch.empty(4, 128, 1408, device="meta")


if __name__ == "__main__":
    main()
