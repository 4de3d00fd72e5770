"""Every artifact is checked against its target arch's per-block limits at compile time: a config over them is
dropped with a TTAWarning naming the config and the numbers (it would fail at launch on the GPU)."""

import warnings

import pytest
import torch
import triton
import triton.language as tl

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import limits


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        a = tl.load(a_ptr + rm[:, None] * K + (k * BK + rk)[None, :],
                    mask=(rm[:, None] < M) & ((k * BK + rk)[None, :] < K), other=0.)
        b = tl.load(b_ptr + (k * BK + rk)[:, None] * N + rn[None, :],
                    mask=((k * BK + rk)[:, None] < K) & (rn[None, :] < N), other=0.)
        acc = tl.dot(a, b, acc)
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], acc, mask=(rm[:, None] < M) & (rn[None, :] < N))


def matmul_launch(a, b, c, *, BM, BN, BK, num_stages=3, num_warps=8):
    M, K = a.shape
    N = b.shape[1]
    matmul_kernel[(triton.cdiv(M, BM), triton.cdiv(N, BN))](a, b, c, M, N, K, BM=BM, BN=BN, BK=BK,
                                                            num_stages=num_stages, num_warps=num_warps)


BIG = {"BM": 256, "BN": 256, "BK": 64, "num_stages": 4}  # 512 KiB of shared memory in fp32
SMALL = {"BM": 64, "BN": 64, "BK": 32, "num_stages": 2}


def test_triton_config_over_the_shared_memory_limit_is_dropped_with_a_warning():
    plugin = tta.custom_plugin(tta.triton(matmul_launch, configs=[BIG, SMALL]),
                               meta_impl=lambda a, b: a.new_empty((a.shape[0], b.shape[1])))
    with pytest.warns(tta.TTAWarning) as record:
        arts = plugin.compile(meta(512, 512), meta(512, 512), arch="sm_90", ptx_isa=(9, 0), workers=1)
    assert [a.tactic for a in arts] == [2]
    (message,) = [str(w.message) for w in record if "shared memory" in str(w.message)]
    assert "tactic 1" in message and "'BM': 256" in message and "'num_stages': 4" in message
    assert "over sm_90's 232448 bytes (227 KiB)" in message
    assert arts[0].shared_mem.value <= 227 * 1024
    # the error itself is a ResourceLimitError, raised when the tactic is compiled on its own
    with pytest.raises(tta.ResourceLimitError, match=r"bytes \(\d+\.\d KiB\) of shared memory per block"):
        plugin.compile_tactic(plugin.tactics[0], tta.Target.parse("sm_90", (9, 0)), in_dtypes=[torch.float32] * 2,
                              out_dtypes=[torch.float32], in_ranks=[2, 2], out_ranks=[2], attrs=[])


def test_the_limit_is_the_target_arch_s():
    assert limits.arch_limits(90).max_shared_per_block == 227 * 1024
    assert limits.arch_limits(80).max_shared_per_block == 163 * 1024
    assert limits.arch_limits(86).max_shared_per_block == 99 * 1024
    assert limits.arch_limits(89).max_shared_per_block == 99 * 1024
    assert limits.arch_limits(100).max_shared_per_block == 227 * 1024
    assert limits.arch_limits(120).max_shared_per_block == 99 * 1024
    assert limits.arch_limits(999).max_shared_per_block is None  # unknown: only the universal limits are checked


def test_static_shared_bytes_reads_shared_declarations():
    ptx = """
.version 8.0
.target sm_90
.address_size 64
.shared .align 4 .b8 _ZZ4kernE3buf[4096];
.shared .align 8 .f64 tile[16][8];
.shared .align 16 .v4 .f32 vec[4];
.extern .shared .align 16 .b8 dyn[];
"""
    assert limits.static_shared_bytes(ptx) == 4096 + 16 * 8 * 8 + 4 * 4 * 4




def _cuda_plugin(source, name, launch, configs):
    pytest.importorskip("cuda.bindings.nvrtc", reason="needs the nvrtc extra (cuda-bindings + nvidia-cuda-nvrtc)")
    return tta.custom_plugin(tta.cuda(source, name, launch, configs=configs), meta_impl=lambda x: torch.empty_like(x))


COPY = r"""extern "C" __global__ void copy(const float* x, int n, float* y) {
  extern __shared__ float buf[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) { buf[threadIdx.x] = x[i]; y[i] = buf[threadIdx.x]; } }"""


def copy_launch(kernel, x, y, *, BLOCK, SMEM):
    kernel[tta.cdiv(x.numel(), BLOCK), BLOCK, SMEM](x, x.numel(), y)


def test_dynamic_shared_memory_of_a_cuda_launch_is_checked_per_arch():
    plugin = _cuda_plugin(COPY, "copy", copy_launch, [{"BLOCK": 256, "SMEM": 200 * 1024},
                                                      {"BLOCK": 256, "SMEM": 1024}])
    arts = plugin.compile(meta(1000), arch="sm_90", ptx_isa=(9, 0))  # 200 KiB fits sm_90's 227 KiB
    assert [a.tactic for a in arts] == [1, 2]
    with pytest.warns(tta.TTAWarning, match=r"tactic 1 .*204800 bytes \(200.0 KiB\) of shared memory per block, "
                                            r"over sm_89's 101376 bytes \(99 KiB\)"):
        arts = plugin.compile(meta(1000), arch="sm_89", ptx_isa=(9, 0))
    assert [a.tactic for a in arts] == [2]


STATIC = r"""extern "C" __global__ void big_static(const float* x, int n, float* y) {
  __shared__ float buf[TTA_WORDS];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  buf[threadIdx.x] = i < n ? x[i] : 0.f; __syncthreads();
  if (i < n) y[i] = buf[(threadIdx.x + 1) % TTA_WORDS]; }"""


def static_launch(kernel, x, y, *, BLOCK, WORDS):
    kernel[tta.cdiv(x.numel(), BLOCK), BLOCK](x, x.numel(), y)


def test_static_shared_memory_over_48_kib_and_blocks_over_1024_threads_are_refused():
    configs = [{"BLOCK": 256, "WORDS": 16384}, {"BLOCK": 2048, "WORDS": 4096}, {"BLOCK": 256, "WORDS": 4096}]
    plugin = _cuda_plugin(STATIC, "big_static", static_launch, configs)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        arts = plugin.compile(meta(1000), arch="sm_90", ptx_isa=(9, 0))
    assert [a.tactic for a in arts] == [3]
    messages = [str(w.message) for w in record if issubclass(w.category, tta.TTAWarning)]
    assert any("tactic 1" in m and "65536 bytes of static shared memory" in m for m in messages)
    assert any("tactic 2" in m and "2048 threads per block" in m for m in messages)


def test_registers_are_checked_when_the_backend_reports_them():
    with pytest.raises(tta.ResourceLimitError, match=r"128 registers x 1024 threads = 131072 registers per block"):
        limits.check_block_limits(arch=90, sm="sm_90", where="kernel 'k' (tactic 1, config {})", threads=1024,
                                  static_shared=0, dynamic_shared=0, registers_per_thread=128)
    limits.check_block_limits(arch=90, sm="sm_90", where="k", threads=256, static_shared=0, dynamic_shared=0,
                              registers_per_thread=255)
