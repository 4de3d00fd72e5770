"""liger-kernel 0.8.5's forward kernels as tta ops. For each: the launch function (liger's host forward function
with its output allocations replaced by the op's preallocated outputs, in tests/third_party/liger_hosts.py), its
meta, its reference (liger's own host forward function, called as liger's autograd functions call it), how to make
inputs, and the `Case` that ties them together. Shared by the CPU tests (record and compile for sm_90) and the GPU
tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from liger_kernel.ops import cross_entropy as _ce
from liger_kernel.ops import dyt as _dyt
from liger_kernel.ops import fused_add_rms_norm as _farms
from liger_kernel.ops import geglu as _geglu
from liger_kernel.ops import group_norm as _gn
from liger_kernel.ops import jsd as _jsd
from liger_kernel.ops import kl_div as _kl
from liger_kernel.ops import layer_norm as _ln
from liger_kernel.ops import llama4_rope as _l4rope
from liger_kernel.ops import modulated_rms_norm as _mod
from liger_kernel.ops import poly_norm as _poly
from liger_kernel.ops import qwen2vl_mrope as _mrope
from liger_kernel.ops import relu_squared as _relu2
from liger_kernel.ops import rms_norm as _rms
from liger_kernel.ops import rope as _rope
from liger_kernel.ops import softmax as _softmax
from liger_kernel.ops import swiglu as _swiglu

import torch_tensorrt_annotation as tta

from ..third_party import liger_hosts as host


def _rows(x):
    return x.numel() // x.shape[-1]


# --- RMSNorm
def rms_norm_meta(X, W, eps: float = 1e-6, offset: float = 0.0):
    return torch.empty_like(X), X.new_empty(_rows(X), dtype=torch.float32)


def rms_norm_reference(X, W, eps=1e-6, offset=0.0):
    Y, _, RSTD, *_ = _rms.rms_norm_forward(X, W, eps, offset, "llama", None)
    return Y, RSTD


# --- LayerNorm
def layer_norm_meta(X, W, B, eps: float = 1e-6):
    stat = X.new_empty(_rows(X), dtype=torch.float32)
    return torch.empty_like(X), stat, torch.empty_like(stat)


def layer_norm_reference(X, W, B, eps=1e-6):
    Y, _, Mean, RSTD, *_ = _ln.layer_norm_forward(X, W, B, eps)
    return Y, Mean, RSTD


# --- SwiGLU
def swiglu_meta(a, b, gate_multiplier: float = 1.0):
    return torch.empty_like(a)


def swiglu_reference(a, b, gate_multiplier=1.0):
    return _swiglu.swiglu_forward(a, b, gate_multiplier)[2]


# --- GeGLU (tanh approximation)
def glu_meta(a, b):
    return torch.empty_like(a)


def geglu_reference(a, b):
    return _geglu.geglu_forward(a, b)[2]


# --- ReLU^2 and Softmax: one output like the input
def like(x):
    return torch.empty_like(x)


def relu_squared_reference(X):
    return _relu2.relu_squared_forward(X)


def softmax_reference(x):
    return _softmax._softmax_forward(x)[0]


# --- DyT
def dyt_meta(x, alpha, gamma, beta):
    return torch.empty_like(x)


def dyt_reference(x, alpha, gamma, beta):
    return _dyt.liger_dyt_fwd(x, alpha, gamma, beta)


# --- fused residual add + RMSNorm
def fused_add_rms_norm_meta(X, R, W, eps: float = 1e-6, offset: float = 0.0):
    return torch.empty_like(X), torch.empty_like(X), X.new_empty(_rows(X), dtype=torch.float32)


def fused_add_rms_norm_reference(X, R, W, eps=1e-6, offset=0.0):
    Y, S, RSTD, *_ = _farms.fused_add_rms_norm_forward(X, R, W, eps, offset, "llama")
    return Y, S, RSTD


# --- RoPE, in place on q and k
def rope_meta(q, k, cos, sin):
    return q, k


def rope_reference(q, k, cos, sin):
    """liger's rope_forward on copies, given q and k as HF passes them (transposed views); returned in the op's
    (physical) layout."""
    q2, k2, _, _ = _rope.rope_forward(q.clone().transpose(1, 2), k.clone().transpose(1, 2), cos, sin)
    return q2.transpose(1, 2), k2.transpose(1, 2)


# --- cross-entropy
def cross_entropy_meta(_input, target, ignore_index: int = -100, n_non_ignore: int = 1):
    return _input, _input.new_empty(_input.shape[0])


def cross_entropy_reference(_input, target, ignore_index=-100, n_non_ignore=1):
    """liger's cross_entropy_forward on a copy of the logits that requires grad (so the kernel writes the
    gradient, as in training); returns (gradient, mean loss). liger sums the per-row losses on the host."""
    x = _input.clone().requires_grad_(True)
    with torch.no_grad():
        loss, *_ = _ce.cross_entropy_forward(x, target, None, ignore_index, 0.0, 0.0, "mean", None, False)
    return x.detach(), loss


def cross_entropy_outputs(grad, loss_1d):
    """The op's outputs as liger's host returns them: liger's `loss = torch.sum(loss_1d)` after the launch."""
    return grad, loss_1d.sum()


# --- PolyNorm
def poly_norm_meta(X, W, B, eps: float = 1e-6):
    return torch.empty_like(X), X.new_empty((_rows(X), 3), dtype=torch.float32)


def poly_norm_reference(X, W, B, eps=1e-6):
    Y, _, RSTD, *_ = _poly.poly_norm_forward(X, W, B, eps)
    return Y, RSTD


# --- GroupNorm
def group_norm_meta(X, W, B, num_channels: int = 1, num_groups: int = 1, eps: float = 1e-6):
    stat = X.new_empty((X.shape[0], num_groups))
    return torch.empty_like(X), stat, torch.empty_like(stat)


def group_norm_reference(X, W, B, num_channels=1, num_groups=1, eps=1e-6):
    Y, _, Mean, RSTD, _ = _gn.group_norm_forward(X, num_channels, num_groups, W, B, eps)
    return Y, Mean, RSTD


# --- KL divergence
def kl_div_meta(y_pred, y_true, eps: float = 1e-10):
    return y_pred.new_empty(y_pred.shape, dtype=torch.float32)


def kl_div_reference(y_pred, y_true, eps=1e-10):
    return _kl.kldiv_forward_triton(y_pred, y_true, False, "none", eps)


# --- Qwen2-VL multimodal RoPE, in place on q and k
def qwen2vl_mrope_meta(q, k, cos, sin, mrope_section_t: int = 16, mrope_section_h: int = 24):
    return q, k


def qwen2vl_mrope_reference(q, k, cos, sin, mrope_section_t=16, mrope_section_h=24):
    hd = q.shape[-1]
    section = [mrope_section_t, mrope_section_h, hd // 2 - mrope_section_t - mrope_section_h]
    q2, k2, _, _ = _mrope.qwen2vl_mrope_forward(q.clone().transpose(1, 2), k.clone().transpose(1, 2), cos, sin,
                                                section)
    return q2.transpose(1, 2), k2.transpose(1, 2)


# --- SwiGLU over a fused gate-up tensor
def swiglu_fused_gate_up_meta(y):
    return y.new_empty((*y.shape[:-1], y.shape[-1] // 2))


def swiglu_fused_gate_up_reference(y):
    return _swiglu.swiglu_fused_gate_up_forward(y)[1]


# --- RMSNorm with per-sample scale and shift (AdaLN)
def modulated_rms_norm_meta(X, W, scale, shift, eps: float = 1e-6, offset: float = 0.0):
    return torch.empty_like(X), X.new_empty(_rows(X), dtype=torch.float32)


def modulated_rms_norm_reference(X, W, scale, shift, eps=1e-6, offset=0.0):
    Y, RSTD, *_ = _mod.modulated_rms_norm_forward(X, W, scale, shift, eps, offset, "llama")
    return Y, RSTD


# --- Llama-4 RoPE, in place on q and k
def llama4_rope_meta(q, k, freqs_cis, imag_sign: float = 1.0):
    return q, k


def llama4_rope_reference(q, k, freqs_cis, imag_sign=1.0):
    q2, k2 = _l4rope.llama4_rope_forward(q.clone(), k.clone(), freqs_cis, None, imag_sign)
    return q2, k2


# --- generalized Jensen-Shannon divergence
def jsd_meta(student_prob, teacher_prob, shift_labels, beta: float = 0.5, ignore_index: int = -100,
             n_non_ignore: int = 1):
    return student_prob, student_prob.new_empty(student_prob.shape, dtype=torch.float32)


def jsd_reference(student_prob, teacher_prob, shift_labels, beta=0.5, ignore_index=-100, n_non_ignore=1):
    """liger's jsd_forward with its Triton implementation; returns (gradient, loss in the input's dtype)."""
    loss, dX = _jsd.jsd_forward(student_prob, teacher_prob, shift_labels, beta, ignore_index, True,
                                jsd_impl="nvidia-triton")
    return dX, loss


def jsd_outputs(dX, loss_tile):
    """The op's outputs as jsd_forward returns them: `loss = torch.sum(loss_tile)`, in the input's dtype."""
    return dX, torch.sum(loss_tile).to(dX.dtype)


@dataclass
class Case:
    """One liger op: its plugin and how to make example inputs. `make(shape, dtype, device)` returns (tensors,
    attrs)."""
    name: str
    launch: Callable
    meta_impl: Callable
    make: Callable[..., tuple[list, list]]
    reference: Callable
    shapes: list = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    outputs: Callable = lambda *outs: outs  # the op's outputs as liger's host function returns them

    def plugin(self):
        return tta.custom_plugin(tta.triton(self.launch), meta_impl=self.meta_impl, **self.kwargs)


def _randn(shape, dtype, device, gen):
    return torch.randn(shape, device=device, generator=gen).to(dtype) if device != "meta" else torch.empty(
        shape, dtype=dtype, device="meta")


def _gen(device):
    return torch.Generator(device=device).manual_seed(0) if device != "meta" else None


def _make_norm(shape, dtype, device):
    g = _gen(device)
    return [_randn(shape, dtype, device, g), _randn(shape[-1:], dtype, device, g)], [1e-6, 0.0]


def _make_layer_norm(shape, dtype, device):
    g = _gen(device)
    return [_randn(shape, dtype, device, g), _randn(shape[-1:], dtype, device, g),
            _randn(shape[-1:], dtype, device, g)], [1e-5]


def _make_two(shape, dtype, device):
    g = _gen(device)
    return [_randn(shape, dtype, device, g), _randn(shape, dtype, device, g)], []


def _make_swiglu(shape, dtype, device):
    tensors, _ = _make_two(shape, dtype, device)
    return tensors, [0.75]


def _make_one(shape, dtype, device):
    return [_randn(shape, dtype, device, _gen(device))], []


def _make_dyt(shape, dtype, device):
    g = _gen(device)
    return [_randn(shape, dtype, device, g), _randn((1,), dtype, device, g), _randn(shape[-1:], dtype, device, g),
            _randn(shape[-1:], dtype, device, g)], []


def _make_fused_add(shape, dtype, device):
    g = _gen(device)
    return [_randn(shape, dtype, device, g), _randn(shape, dtype, device, g), _randn(shape[-1:], dtype, device, g)], [
        1e-6, 0.0]


def _make_rope(shape, dtype, device):
    """shape = (bsz, seq_len, n_q_head, n_kv_head, head_dim); q and k in rope_forward's physical layout."""
    bsz, seq, nq, nk, hd = shape
    g = _gen(device)
    return [_randn((bsz, seq, nq, hd), dtype, device, g), _randn((bsz, seq, nk, hd), dtype, device, g),
            _randn((seq, hd), dtype, device, g), _randn((seq, hd), dtype, device, g)], []


def _make_poly(shape, dtype, device):
    g = _gen(device)
    return [_randn(shape, dtype, device, g), _randn((3,), dtype, device, g), _randn((1,), dtype, device, g)], [1e-6]


def _make_group_norm(shape, dtype, device):
    """shape = (batch, channels, spatial..., num_groups)."""
    *x_shape, groups = shape
    g = _gen(device)
    c = x_shape[1]
    return [_randn(tuple(x_shape), dtype, device, g), _randn((c,), dtype, device, g), _randn((c,), dtype, device, g)], [
        c, groups, 1e-6]


def _make_kl(shape, dtype, device):
    g = _gen(device)
    if device == "meta":
        return [_randn(shape, dtype, device, g), _randn(shape, dtype, device, g)], [1e-10]
    y_pred = torch.randn(shape, device=device, generator=g).log_softmax(-1).to(dtype)
    y_true = torch.randn(shape, device=device, generator=g).softmax(-1).to(dtype)
    return [y_pred, y_true], [1e-10]


def _make_mrope(shape, dtype, device):
    """shape = (bsz, seq_len, n_q_head, n_kv_head, head_dim); cos/sin (3, bsz, seq_len, head_dim)."""
    bsz, seq, nq, nk, hd = shape
    g = _gen(device)
    t = hd // 8
    return [_randn((bsz, seq, nq, hd), dtype, device, g), _randn((bsz, seq, nk, hd), dtype, device, g),
            _randn((3, bsz, seq, hd), dtype, device, g), _randn((3, bsz, seq, hd), dtype, device, g)], [t, hd // 4]


def _make_modulated(shape, dtype, device):
    """shape = (batch, seq, hidden); scale and shift per sample, (batch, 1, hidden)."""
    b, _, h = shape
    g = _gen(device)
    return [_randn(shape, dtype, device, g), _randn((h,), dtype, device, g), _randn((b, 1, h), dtype, device, g),
            _randn((b, 1, h), dtype, device, g)], [1e-6, 0.0]


def _make_llama4_rope(shape, dtype, device):
    """shape = (bsz, seq_len, n_q_head, n_kv_head, head_dim); freqs_cis real fp32, (seq_len, head_dim // 2, 2), as
    `torch.view_as_real` of liger's complex64 freqs_cis gives it."""
    bsz, seq, nq, nk, hd = shape
    g = _gen(device)
    return [_randn((bsz, seq, nq, hd), dtype, device, g), _randn((bsz, seq, nk, hd), dtype, device, g),
            _randn((seq, hd // 2, 2), torch.float32, device, g)], [1.0]


def _make_jsd(shape, dtype, device):
    bt, v = shape
    g = _gen(device)
    if device == "meta":
        return [_randn(shape, dtype, device, g), _randn(shape, dtype, device, g),
                torch.empty(bt, dtype=torch.int64, device="meta")], [0.5, -100, bt]
    student = torch.randn(shape, device=device, generator=g).log_softmax(-1).to(dtype)
    teacher = torch.randn(shape, device=device, generator=g).log_softmax(-1).to(dtype)
    labels = torch.randint(0, v, (bt,), device=device, generator=g)
    labels[1::4] = -100
    return [student, teacher, labels], [0.5, -100, int((labels != -100).sum())]


def _make_ce(shape, dtype, device):
    bt, v = shape
    g = _gen(device)
    if device == "meta":
        return [torch.empty(shape, dtype=dtype, device="meta"), torch.empty(bt, dtype=torch.int64, device="meta")], [
            -100, bt]
    target = torch.randint(0, v, (bt,), device=device, generator=g)
    target[::3] = -100  # ignored rows: the kernel zeroes their gradient and leaves their loss 0
    return [_randn(shape, dtype, device, g), target], [-100, int((target != -100).sum())]


CASES = {c.name: c for c in [
    Case("rms_norm", host.rms_norm_launch, rms_norm_meta, _make_norm, rms_norm_reference,
         [(3, 5, 1000), (4097, 128), (40000, 64), (2, 4096)]),
    Case("layer_norm", host.layer_norm_launch, layer_norm_meta, _make_layer_norm, layer_norm_reference,
         [(3, 5, 1000), (4097, 128), (2, 4096)]),
    Case("swiglu", host.swiglu_launch, swiglu_meta, _make_swiglu, swiglu_reference, [(3, 5, 1000), (257, 2049)]),
    Case("geglu", host.geglu_launch, glu_meta, _make_two, geglu_reference, [(3, 5, 1000), (257, 2049)]),
    Case("relu_squared", host.relu_squared_launch, like, _make_one, relu_squared_reference, [(3, 5, 1000), (7, 8193)]),
    Case("softmax", host.softmax_launch, like, _make_one, softmax_reference, [(3, 5, 1000), (33, 65)]),
    Case("dyt", host.dyt_launch, dyt_meta, _make_dyt, dyt_reference, [(3, 5, 1000), (7, 4097)]),
    Case("fused_add_rms_norm", host.fused_add_rms_norm_launch, fused_add_rms_norm_meta, _make_fused_add,
         fused_add_rms_norm_reference, [(3, 5, 1000), (4097, 128)]),
    Case("rope", host.rope_launch, rope_meta, _make_rope, rope_reference, [(2, 7, 8, 2, 64), (1, 33, 12, 3, 80)]),
    Case("poly_norm", host.poly_norm_launch, poly_norm_meta, _make_poly, poly_norm_reference,
         [(3, 5, 1000), (4097, 128)]),
    Case("group_norm", host.group_norm_launch, group_norm_meta, _make_group_norm, group_norm_reference,
         [(2, 6, 10, 3), (3, 32, 7, 9, 8)]),
    Case("kl_div", host.kl_div_launch, kl_div_meta, _make_kl, kl_div_reference, [(13, 1000), (5, 20001)]),
    Case("qwen2vl_mrope", host.qwen2vl_mrope_launch, qwen2vl_mrope_meta, _make_mrope, qwen2vl_mrope_reference,
         [(2, 7, 8, 2, 64), (1, 33, 12, 3, 128)]),
    Case("swiglu_fused_gate_up", host.swiglu_fused_gate_up_launch, swiglu_fused_gate_up_meta, _make_one,
         swiglu_fused_gate_up_reference, [(3, 5, 2000), (257, 4098)]),
    Case("modulated_rms_norm", host.modulated_rms_norm_launch, modulated_rms_norm_meta, _make_modulated,
         modulated_rms_norm_reference, [(2, 7, 1000), (3, 33, 4097)]),
    Case("llama4_rope", host.llama4_rope_launch, llama4_rope_meta, _make_llama4_rope, llama4_rope_reference,
         [(2, 7, 8, 2, 64), (1, 33, 5, 1, 256)]),
    Case("jsd", host.jsd_launch, jsd_meta, _make_jsd, jsd_reference, [(13, 1000), (7, 5001)],
         kwargs={"zeroed_outputs": ("loss",)}, outputs=jsd_outputs),
    Case("cross_entropy", host.cross_entropy_launch, cross_entropy_meta, _make_ce, cross_entropy_reference,
         [(13, 1000), (7, 32001)], kwargs={"zeroed_outputs": ("loss_1d",)}, outputs=cross_entropy_outputs),
]}
