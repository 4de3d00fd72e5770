"""CUDA C++ (NVRTC): the same add, with a launch function, and declaratively. Needs the nvrtc extra.

    python examples/cuda_add.py
"""

import torch

import torch_tensorrt_annotation as tta

SOURCE = r"""
extern "C" __global__ void add_f32(const float* x, const float* y, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i] + y[i];
}
extern "C" __global__ void add_trt_order(const float* x, const float* y, int n, float* out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i] + y[i];
}
"""


def add_launch(kernel, x, y, out, *, BLOCK):
    n = x.numel()
    kernel[tta.cdiv(n, BLOCK), BLOCK](x, y, out, n)


PLUGIN = tta.custom_plugin(tta.cuda(SOURCE, "add_f32", add_launch, configs=[{"BLOCK": 128}, {"BLOCK": 512}]),
                           meta_impl=lambda x, y: torch.empty_like(x))
DECLARATIVE = tta.custom_plugin(
    tta.cuda(SOURCE, "add_trt_order", tta.elementwise(inputs=2, block="BLOCK"), configs=[{"BLOCK": 256}]),
    meta_impl=tta.meta_like("x", "y"))

if __name__ == "__main__":
    meta = torch.empty(1000, device="meta")
    for plugin in (PLUGIN, DECLARATIVE):
        for art in plugin.compile(meta, meta, arch="sm_90", ptx_isa=(9, 0)):
            print(art.tactic, art.kernel_name, art.describe_params())
    if torch.cuda.is_available():
        x, y = torch.randn(5000, device="cuda"), torch.randn(5000, device="cuda")
        print(tta.check(PLUGIN, x, y))
