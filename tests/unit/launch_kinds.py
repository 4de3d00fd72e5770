"""Launch code written the way kernel libraries write it: runtime scalars, tensor views, @triton.autotune,
@triton.heuristics, and what stays refused (warmup/occupancy code, device and host TMA descriptors, removed APIs,
scratch allocations). Shared by the CPU tests (record + compile for sm_90) and the GPU tests."""

import contextlib

import torch
import triton
import triton.language as tl

import torch_tensorrt_annotation as tta


# --- runtime scalars: a float and an int attribute used as tensors inside the kernel
@triton.jit
def affine_kernel(x_ptr, out_ptr, n, scale, shift, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x * scale.to(tl.float32) + shift.to(tl.float32), mask=mask)


def affine_launch(x, out, scale, shift, *, BLOCK=256):
    affine_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), scale, shift, BLOCK=BLOCK)


def affine_meta(x, scale: float = 1.0, shift: int = 0):
    return torch.empty_like(x)


def affine_plugin():
    return tta.custom_plugin(tta.triton(affine_launch, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]),
                             meta_impl=affine_meta)


# --- views
@triton.jit
def row_shift_kernel(x_ptr, out_ptr, n_cols, stride_row, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * stride_row + cols, mask=cols < n_cols, other=float("-inf"))
    tl.store(out_ptr + row * stride_row + cols, x - tl.max(x, axis=0), mask=cols < n_cols)


def view_launch(x, out):
    x2 = x.view(-1, x.shape[-1])
    o2 = out.reshape(x2.shape)
    row_shift_kernel[(x2.shape[0],)](x2, o2.contiguous(), x2.shape[1], x2.stride(0),
                                     BLOCK=triton.next_power_of_2(x2.shape[1]))


def flatten_launch(x, out):
    flat = x.flatten()
    rows = flat.unsqueeze(0)  # (1, numel): one row, as a library that treats a vector as a matrix
    row_shift_kernel[(rows.shape[0],)](rows.squeeze(0).unsqueeze(0), out.flatten(), rows.shape[1], rows.stride(0),
                                       BLOCK=triton.next_power_of_2(flat.numel()))


@triton.jit
def copy_bits_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) ^ 1, mask=offs < n)  # flip the lowest bit


def reinterpret_launch(x, out, *, BLOCK=256):
    xi = triton.reinterpret(x, tl.int16)  # bf16/fp16 bits as int16, as libraries do for bit tricks
    oi = out.view(torch.int16)
    copy_bits_kernel[(triton.cdiv(x.numel(), BLOCK),)](xi, oi, x.numel() * x.element_size() // 2, BLOCK=BLOCK)


def expand_launch(x, w, out):
    w2 = w.view(1, -1).expand(x.shape[0], -1)  # broadcast a vector over rows: stride 0
    row_shift_kernel[(x.shape[0],)](x, out, x.shape[1], x.stride(0) + w2.stride(0), BLOCK=triton.next_power_of_2(
        x.shape[1]))


def scratch_launch(x, out):
    tmp = torch.empty(x.shape[-1], device=x.device)
    row_shift_kernel[(1,)](x, tmp, x.shape[-1], 0, BLOCK=128)


def new_empty_launch(x, out):
    tmp = x.new_empty(x.shape)
    row_shift_kernel[(1,)](tmp, out, x.shape[-1], 0, BLOCK=128)


def squeeze_dim_launch(x, out):
    row_shift_kernel[(1,)](x.squeeze(0), out, x.shape[-1], 0, BLOCK=128)


# --- @triton.autotune, @triton.heuristics
@triton.autotune(configs=[triton.Config({"BLOCK": 256}, num_warps=2),
                          triton.Config({"BLOCK": 1024}, num_warps=8, num_stages=2),
                          triton.Config({"BLOCK": 512}, num_ctas=2)], key=["n"])
@triton.jit
def tuned_scale_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 3, mask=offs < n)


def tuned_launch(x, out):
    tuned_scale_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, out, x.numel())


class LibraryAutotuner(triton.runtime.Autotuner):
    """A library's own subclass of Autotuner (as some libraries ship)."""


def library_autotune(configs, key):
    def decorator(fn):
        return LibraryAutotuner(fn, fn.arg_names, configs, key, reset_to_zero=None, restore_value=None)

    return decorator


@library_autotune(configs=[triton.Config({"BLOCK": 128}), triton.Config({"BLOCK": 2048}, num_warps=8)], key=["n"])
@triton.heuristics({"HALF_BLOCK": lambda args: args["BLOCK"] // 2})
@triton.jit
def heuristic_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr, HALF_BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(out_ptr + offs, x + HALF_BLOCK, mask=offs < n)


def library_launch(x, out):
    heuristic_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, out, x.numel())


@triton.heuristics({"EVEN": lambda args: args["n"] % args["BLOCK"] == 0})
@triton.jit
def even_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr, EVEN: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def even_launch(x, out, *, BLOCK=128):
    even_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), BLOCK=BLOCK)


@triton.heuristics({"BLOCK": lambda args: min(triton.next_power_of_2(args["n_cols"]), 4096)})
@triton.jit
def heuristic_block_kernel(x_ptr, out_ptr, n_cols, stride_row, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * stride_row + cols, mask=cols < n_cols, other=0.0)
    tl.store(out_ptr + row * stride_row + cols, x * 2, mask=cols < n_cols)


def heuristic_block_launch(x, out):
    heuristic_block_kernel[(x.numel() // x.shape[-1],)](x, out, x.shape[-1], x.stride(-2))


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def _prune_small(configs, named_args, **kwargs):
    return [c for c in configs if c.kwargs["BLOCK"] <= 512]


# the same kernel under two autotune settings: one prunes a config, one has a hook (refused)
pruned_kernel = triton.autotune(configs=[triton.Config({"BLOCK": 256}), triton.Config({"BLOCK": 4096})], key=["n"],
                                prune_configs_by={"early_config_prune": _prune_small})(copy_kernel)
hooked_kernel = triton.autotune(configs=[triton.Config({"BLOCK": 256})], key=["n"],
                                pre_hook=lambda kwargs: None)(copy_kernel)


def pruned_launch(x, out):
    pruned_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, out, x.numel())


@triton.autotune(configs=[triton.Config({"BLOCK": 256})], key=["n"], reset_to_zero=["out_ptr"])
@triton.jit
def atomic_sum_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.atomic_add(out_ptr, tl.sum(tl.load(x_ptr + offs, mask=offs < n, other=0.0), axis=0))


def atomic_sum_launch(x, out):
    atomic_sum_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, out, x.numel())


def hooked_launch(x, out):
    hooked_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, out, x.numel())


# --- stays refused
def warmup_launch(x, out):
    compiled = tuned_scale_kernel.fn.warmup(x, out, x.numel(), BLOCK=1024, grid=(1,))
    programs = min(132 * max(1, 65536 // (compiled.n_regs * 32 * 4)), x.numel())
    compiled[(programs, 1, 1)](x, out, x.numel(), 1024)


@triton.jit
def device_descriptor_kernel(x_ptr, out_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr):
    dx = tl.make_tensor_descriptor(x_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    do = tl.make_tensor_descriptor(out_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    do.store([tl.program_id(0) * BM, 0], dx.load([tl.program_id(0) * BM, 0]) * 2)


def device_descriptor_launch(x, out, *, BM=64):
    M, N = x.shape
    device_descriptor_kernel[(triton.cdiv(M, BM),)](x, out, M, N, BM=BM, BN=64)


def host_descriptor_launch(x, out):
    from triton.tools.tensor_descriptor import TensorDescriptor

    desc = TensorDescriptor.from_tensor(x, [64, 64])
    device_descriptor_kernel[(1,)](desc, out, x.shape[0], x.shape[1], BM=64, BN=64)


@triton.jit
def missing_api_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(out_ptr + offs, tl.a_function_this_triton_does_not_have(x), mask=offs < n)


def missing_api_launch(x, out, *, BLOCK=256):
    missing_api_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), BLOCK=BLOCK)


@triton.jit
def alias_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 2, mask=offs < n)


def alias_launch(x, out, *, BLOCK=1024):
    alias_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, x, x.numel(), BLOCK=BLOCK)


def like(x):
    return torch.empty_like(x)


# --- a device guard around the launch, as library host code writes it (liger-kernel's device_context)
@contextlib.contextmanager
def device_context(device):
    device = torch.device(device)
    backend = getattr(torch, device.type, None)
    if backend is not None and hasattr(backend, "device"):
        with backend.device(device):
            yield
    else:
        yield


def device_guard_launch(x, out, *, BLOCK=256):
    with torch.cuda.device(x.device), device_context(x.device):
        affine_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), 2.0, 3, BLOCK=BLOCK)


# --- casts to the dtype a tensor already has (library host code: `q.to(compute_dtype)`)
def same_dtype_cast_launch(x, out, *, BLOCK=256):
    x = x.to(x.dtype).to("cuda", non_blocking=True).to(out)
    affine_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), 2.0, 3, BLOCK=BLOCK)


def converting_cast_launch(x, out, *, BLOCK=256):
    x = x.to(torch.float16)
    affine_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), 2.0, 3, BLOCK=BLOCK)


def literal_one_launch(x, out, *, BLOCK=256):
    affine_kernel[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), 2.0, 1, BLOCK=BLOCK)  # shift=1: a constant


# --- a library's own next-power-of-2 helper (liger-kernel's JSD backend): `1 << (n - 1).bit_length()`
def _next_pow2(n: int) -> int:
    if n <= 1:
        return 1
    return 1 << (n - 1).bit_length()


def bit_length_launch(x, out):
    n = x.numel()
    row_shift_kernel[(1,)](x, out, n, 0, BLOCK=_next_pow2(n))
