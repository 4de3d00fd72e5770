"""CUDA C++ example plugins (NVRTC): an elementwise add with a launch function, a templated RMSNorm whose eps is a
macro (TTA_eps), and an add described declaratively."""

from __future__ import annotations

import torch

import torch_tensorrt_annotation as tta

ADD_SOURCE = r"""
extern "C" __global__ void add_f32(const float* x, const float* y, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i] + y[i];
}
"""

# TensorRT's order (inputs, extras, outputs): what a declarative launch expects
ADD_TRT_ORDER_SOURCE = r"""
extern "C" __global__ void add_trt(const float* x, const float* y, int n, float* out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i] + y[i];
}
"""

RMSNORM_SOURCE = r"""
#include <cuda_fp16.h>
template <int BLOCK, typename T>
__global__ void rmsnorm(const T* x, const T* w, T* out, int rows, int cols) {
  __shared__ float partial[BLOCK];
  int row = blockIdx.x;
  const T* xr = x + (long long)row * cols;
  float acc = 0.f;
  for (int c = threadIdx.x; c < cols; c += BLOCK) { float v = (float)xr[c]; acc += v * v; }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int s = BLOCK / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  float rstd = rsqrtf(partial[0] / cols + (float)(TTA_eps));  // the op attribute eps, a macro defined by tta
  for (int c = threadIdx.x; c < cols; c += BLOCK)
    out[(long long)row * cols + c] = (T)((float)xr[c] * rstd * (float)w[c]);
}
"""


def add_launch(kernel, x, y, out, *, BLOCK):
    n = x.numel()
    kernel[tta.cdiv(n, BLOCK), BLOCK](x, y, out, n)


def rmsnorm_launch(kernel, x, w, out, eps, *, BLOCK):
    cols = x.shape[-1]
    kernel[x.numel() // cols, BLOCK](x, w, out, x.numel() // cols, cols)


def rmsnorm_meta(x, w, eps: float = 1e-6) -> torch.Tensor:
    return torch.empty_like(x)


def plugins():
    add = tta.custom_plugin(tta.cuda(ADD_SOURCE, "add_f32", add_launch, configs=[{"BLOCK": 128}, {"BLOCK": 512}]),
                            meta_impl=lambda x, y: torch.empty_like(x))
    rms = tta.custom_plugin(
        tta.cuda(RMSNORM_SOURCE, "rmsnorm<{BLOCK}, TTA_IN0_T>", rmsnorm_launch,
                 configs=[{"BLOCK": 128}, {"BLOCK": 256}]),
        meta_impl=rmsnorm_meta)
    declarative = tta.custom_plugin(
        tta.cuda(ADD_TRT_ORDER_SOURCE, "add_trt", tta.elementwise(inputs=2, outputs=1, block="BLOCK"),
                 configs=[{"BLOCK": 256}]),
        meta_impl=tta.meta_like("x", "y"))
    return {"cuda_add": add, "cuda_rmsnorm": rms, "cuda_add_declarative": declarative}
