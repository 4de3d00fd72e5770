"""A small pre-norm transformer block (attention + SwiGLU MLP) whose RMSNorms and SwiGLU are tta plugins (Triton).
Runs eagerly and under torch.compile on a GPU, and, where Torch-TensorRT is installed, compiled with it (the
plugins become AOT TensorRT plugins in the engine).

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


class TransformerBlock(torch.nn.Module):
    def __init__(self, dim=512, heads=8, hidden=1408):
        super().__init__()
        self.heads = heads
        self.attn_norm = torch.nn.Parameter(torch.ones(dim))
        self.qkv = torch.nn.Linear(dim, 3 * dim, bias=False)
        self.proj = torch.nn.Linear(dim, dim, bias=False)
        self.mlp_norm = torch.nn.Parameter(torch.ones(dim))
        self.gate = torch.nn.Linear(dim, hidden, bias=False)
        self.up = torch.nn.Linear(dim, hidden, bias=False)
        self.down = torch.nn.Linear(hidden, dim, bias=False)

    def forward(self, x, use_plugins=True):
        norm = (lambda t, w: rmsnorm(t, w, 1e-5)) if use_plugins else (lambda t, w: rmsnorm_reference(t, w, 1e-5))
        b, s, d = x.shape
        q, k, v = self.qkv(norm(x, self.attn_norm)).view(b, s, 3, self.heads, d // self.heads).unbind(2)
        attn = torch.nn.functional.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                                                v.transpose(1, 2), is_causal=True)
        x = x + self.proj(attn.transpose(1, 2).reshape(b, s, d))
        h = norm(x, self.mlp_norm)
        if use_plugins:
            act = swiglu(self.gate(h).contiguous(), self.up(h).contiguous())
        else:
            act = torch.nn.functional.silu(self.gate(h)) * self.up(h)
        return x + self.down(act)


def main():
    if not torch.cuda.is_available():
        print("no GPU: compiling the plugins only")
        for plugin in (ex.RMSNORM, SWIGLU):
            print(plugin.op_name, len(plugin.compile(*_meta_inputs(plugin), arch="sm_90", ptx_isa=(9, 0))),
                  "tactics")
        return
    torch.manual_seed(0)
    block = TransformerBlock().cuda().half()
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
