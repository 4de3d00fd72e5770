"""Forward kernels of liger-kernel 0.8.5, imported unchanged and launched the way liger's own host code launches them.

Each launch function below is the body of liger's host forward function (named in its docstring) with the lines
that allocate the outputs (`torch.empty(...)` / `torch.zeros(...)` inside liger, which a TensorRT plugin cannot do:
it gets no workspace) replaced by the op's preallocated outputs; every other line (views, liger's own helpers such
as `calculate_settings`, `device_context`, branches on sizes, the launch itself with its arguments) is liger's,
in liger's order. The reference for each op is liger's own host forward function, called as liger's autograd
functions call it. Shared by the CPU tests (record and compile for sm_90) and the GPU tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import triton
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
from liger_kernel.ops.backends._triton import jsd as _jsd_triton
from liger_kernel.ops.utils import calculate_settings, device_context
from liger_kernel.utils import infer_device, infer_device_arch

import torch_tensorrt_annotation as tta


def _rows(x):
    return x.numel() // x.shape[-1]


# --- RMSNorm: liger_kernel.ops.rms_norm.rms_norm_forward (casting_mode="llama", row_mode=None, affine)
def rms_norm_launch(X, W, Y, RSTD, eps, offset):
    """rms_norm_forward, lines `shape = X.shape` .. the launch; Y and RSTD (torch.empty there) are the outputs."""
    casting_mode = _rms._str_to_casting_mode["llama"]
    row_mode = None
    shape = X.shape
    dim = shape[-1]
    X = X.view(-1, dim)
    Y = Y.view(-1, dim)  # liger: Y = torch.empty((n_rows, n_cols), ...)
    n_rows, n_cols = X.shape
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    if W is not None:
        assert X.shape[1] == W.shape[0], (
            "Incompatible hidden size dimension between tensor1.shape[1] and tensor2.shape[0]"
        )
        elementwise_affine = True
    else:
        elementwise_affine = False
    kernel_args: dict = {}
    with device_context(X.device):
        if BLOCK_SIZE > 256 or n_rows < 4096 * 8 or row_mode:
            _rms._rms_norm_forward_kernel[(n_rows,)](
                Y, Y.stride(0), X, X.stride(0), W, W.stride(0) if elementwise_affine else 0, RSTD, RSTD.stride(0),
                n_cols, eps, offset, casting_mode, elementwise_affine=elementwise_affine, BLOCK_SIZE=BLOCK_SIZE,
                num_warps=num_warps, **kernel_args)
        else:
            BLOCK_ROW = 16
            kernel_args["BLOCK_ROW"] = BLOCK_ROW
            _rms._block_rms_norm_forward_kernel[(triton.cdiv(n_rows, BLOCK_ROW),)](
                Y, Y.stride(0), X, X.stride(0), W, W.stride(0) if elementwise_affine else 0, RSTD, RSTD.stride(0),
                n_rows, n_cols, eps, offset, casting_mode, elementwise_affine=elementwise_affine,
                BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps, **kernel_args)


def rms_norm_meta(X, W, eps: float = 1e-6, offset: float = 0.0):
    return torch.empty_like(X), X.new_empty(_rows(X), dtype=torch.float32)


def rms_norm_reference(X, W, eps=1e-6, offset=0.0):
    Y, _, RSTD, *_ = _rms.rms_norm_forward(X, W, eps, offset, "llama", None)
    return Y, RSTD


# --- LayerNorm: liger_kernel.ops.layer_norm.layer_norm_forward
def layer_norm_launch(X, W, B, Y, Mean, RSTD, eps):
    """layer_norm_forward, lines `shape = X.shape` .. the launch; Y, Mean, RSTD (torch.empty there) are the outputs."""
    shape = X.shape
    dim = shape[-1]
    X = X.view(-1, dim)
    Y = Y.view(-1, dim)  # liger: Y = torch.empty((n_rows, n_cols), ...)
    n_rows, n_cols = X.shape
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"Incompatible dimensions: input feature size (X.shape[1]={X.shape[1]}) "
            f"must match weight size (W.shape[0]={W.shape[0]})"
        )
    kernel_args: dict = {}
    if X.device.type == "xpu":
        _ln.set_large_grf_mode(kernel_args)
    grid = (n_rows,)
    _ln._layer_norm_forward_kernel[grid](
        Y, Y.stride(0), X, X.stride(0), W, W.stride(0), B, B.stride(0), Mean, Mean.stride(0), RSTD, RSTD.stride(0),
        n_cols, eps, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps, **kernel_args)


def layer_norm_meta(X, W, B, eps: float = 1e-6):
    stat = X.new_empty(_rows(X), dtype=torch.float32)
    return torch.empty_like(X), stat, torch.empty_like(stat)


def layer_norm_reference(X, W, B, eps=1e-6):
    Y, _, Mean, RSTD, *_ = _ln.layer_norm_forward(X, W, B, eps)
    return Y, Mean, RSTD


# --- SwiGLU: liger_kernel.ops.swiglu.swiglu_forward (the one-row path; the column-tiled path is Blackwell's)
def swiglu_launch(a, b, c, gate_multiplier):
    """swiglu_forward, its non-tiled path (`_should_tile` is false below Blackwell); c (torch.empty_like) is the
    output."""
    ori_shape = a.shape
    n_cols = ori_shape[-1]
    a = a.view(-1, n_cols)
    b = b.view(-1, n_cols)
    c = c.view(-1, n_cols)  # liger: c = torch.empty_like(a)
    n_rows = a.shape[0]
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    with device_context(a.device):
        _swiglu._swiglu_forward_kernel[(n_rows,)](
            a, b, c, c.stride(-2), float(gate_multiplier), n_cols=n_cols, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps)


def swiglu_meta(a, b, gate_multiplier: float = 1.0):
    return torch.empty_like(a)


def swiglu_reference(a, b, gate_multiplier=1.0):
    return _swiglu.swiglu_forward(a, b, gate_multiplier)[2]


# --- GeGLU (tanh approximation): liger_kernel.ops.geglu.geglu_forward
def geglu_launch(a, b, c):
    """geglu_forward; c (torch.empty_like) is the output. n_cols goes to a tl.constexpr: one specialization per
    hidden size, guarded."""
    ori_shape = a.shape
    n_cols = ori_shape[-1]
    a = a.view(-1, n_cols)
    b = b.view(-1, n_cols)
    c = c.view(-1, n_cols)  # liger: c = torch.empty_like(a)
    n_rows = a.shape[0]
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    with device_context(a.device):
        _geglu._geglu_tanh_forward_kernel[(n_rows,)](
            a, b, c, c.stride(-2), n_cols=n_cols, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps)


def glu_meta(a, b):
    return torch.empty_like(a)


def geglu_reference(a, b):
    return _geglu.geglu_forward(a, b)[2]


# --- ReLU^2: liger_kernel.ops.relu_squared.relu_squared_forward
def relu_squared_launch(X, Y):
    """relu_squared_forward; Y (torch.empty_like) is the output."""
    ori_shape = X.shape
    n_cols = ori_shape[-1]
    X_2d = X.view(-1, n_cols)
    n_rows = X_2d.shape[0]
    Y = Y.view(-1, n_cols)  # liger: Y = torch.empty_like(X_2d)
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    _relu2._relu_squared_forward_kernel[(n_rows,)](
        Y, Y.stride(-2), X_2d, X_2d.stride(-2), n_cols=n_cols, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps)


def like(x):
    return torch.empty_like(x)


def relu_squared_reference(X):
    return _relu2.relu_squared_forward(X)


# --- Softmax: liger_kernel.ops.softmax._softmax_forward
def softmax_launch(x, y):
    """_softmax_forward; y2d (torch.empty_like) is the output. `n_cols <= BLOCK_SIZE` always holds after
    calculate_settings, so liger's multi-block branch is never taken; it is a guard here."""
    *batch, n_cols = x.shape
    x2d = x.contiguous().view(-1, n_cols)
    n_rows = x2d.shape[0]
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    y2d = y.view(-1, n_cols)  # liger: y2d = torch.empty_like(x2d)
    if n_cols <= BLOCK_SIZE:
        _softmax._softmax_single_block_forward_kernel[(n_rows,)](
            y2d, y2d.stride(0), x2d, x2d.stride(0), n_cols, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps)
    else:
        _softmax._softmax_multi_block_forward_kernel[(n_rows,)](
            y2d, y2d.stride(0), x2d, x2d.stride(0), n_cols, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps)


def softmax_reference(x):
    return _softmax._softmax_forward(x)[0]


# --- DyT: liger_kernel.ops.dyt.liger_dyt_fwd, an @triton.autotune kernel (18 configs) launched as decorated
def dyt_launch(x, alpha, gamma, beta, y):
    """liger_dyt_fwd; y (torch.empty_like) is the output. The autotuner's configs are the tactics."""
    assert x.is_contiguous()
    HAVE_BETA = True if beta is not None else False
    input_shape = x.shape
    x = x.view(-1, input_shape[-1])
    y = y.view(-1, input_shape[-1])  # liger: y = torch.empty_like(x)
    M, N = x.shape
    grid = lambda meta: (triton.cdiv(N, meta["BLOCK_N"]), M)
    _dyt._dyt_fwd_kernel[grid](x, y, alpha, gamma, beta, HAVE_BETA, N)


def dyt_meta(x, alpha, gamma, beta):
    return torch.empty_like(x)


def dyt_reference(x, alpha, gamma, beta):
    return _dyt.liger_dyt_fwd(x, alpha, gamma, beta)


# --- fused residual add + RMSNorm: liger_kernel.ops.fused_add_rms_norm.fused_add_rms_norm_forward ("llama")
def fused_add_rms_norm_launch(X, R, W, Y, S, RSTD, eps, offset):
    """fused_add_rms_norm_forward; Y, S, RSTD (torch.empty there) are the outputs."""
    casting_mode = _farms._str_to_casting_mode["llama"]
    shape = X.shape
    dim = shape[-1]
    X = X.view(-1, dim)
    R = R.view(-1, dim)
    Y = Y.view(-1, dim)  # liger: Y = torch.empty((n_rows, n_cols), ...)
    S = S.view(-1, dim)  # liger: S = torch.empty((n_rows, n_cols), ...)
    n_rows, n_cols = X.shape
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    num_stages = 2
    assert X.shape[1] == W.shape[0], "Incompatible hidden size dimension between tensor1.shape[1] and tensor2.shape[0]"
    kernel_args: dict = {}
    if X.device.type == "xpu":
        _farms.set_large_grf_mode(kernel_args)
    _farms._fused_add_rms_norm_forward_kernel[(n_rows,)](
        Y, Y.stride(0), S, S.stride(0), X, X.stride(0), R, R.stride(0), W, W.stride(0), RSTD, RSTD.stride(0),
        n_cols, eps, offset, casting_mode, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps, num_stages=num_stages,
        **kernel_args)


def fused_add_rms_norm_meta(X, R, W, eps: float = 1e-6, offset: float = 0.0):
    return torch.empty_like(X), torch.empty_like(X), X.new_empty(_rows(X), dtype=torch.float32)


def fused_add_rms_norm_reference(X, R, W, eps=1e-6, offset=0.0):
    Y, S, RSTD, *_ = _farms.fused_add_rms_norm_forward(X, R, W, eps, offset, "llama")
    return Y, S, RSTD


# --- RoPE, in place on q and k: liger_kernel.ops.rope.rope_forward
def rope_launch(q, k, cos, sin):
    """rope_forward from `if cos.ndim == 2` on. liger's q and k arrive as (bsz, n_head, seq_len, head_dim) views
    of (bsz, seq_len, n_head, head_dim) storage, and rope_forward's first lines transpose them back to that
    physical layout (`q = q.transpose(1, 2)`) and make them contiguous: the op takes q and k in that layout,
    contiguous, and the kernel updates them in place (no output parameters)."""
    if cos.ndim == 2:
        cos = cos.unsqueeze(0)
        sin = sin.unsqueeze(0)
    batch_size, seq_len, n_q_head, head_dim = q.shape
    n_kv_head = k.shape[2]
    rotary_dim = _rope._resolve_rotary_dim(cos, head_dim, None)
    pad_hd = triton.next_power_of_2(head_dim)
    pad_rd = triton.next_power_of_2(rotary_dim)
    pad_n_q_head = triton.next_power_of_2(n_q_head)
    pad_n_kv_head = triton.next_power_of_2(n_kv_head)
    BLOCK_SIZE = max(pad_n_q_head, pad_n_kv_head)
    n_row = batch_size * seq_len
    q = q.contiguous()
    k = k.contiguous()
    cos = cos.contiguous()
    sin = sin.contiguous()
    cos_batch_size = cos.shape[0]
    _rope._triton_rope[(n_row,)](
        q, q.stride(1), k, k.stride(1), cos, cos.stride(-2), sin, sin.stride(-2), seq_len, batch_size,
        cos_batch_size, n_q_head, n_kv_head, head_dim, pad_n_q_head, pad_n_kv_head, pad_hd, pad_rd, rotary_dim,
        BLOCK_SIZE=BLOCK_SIZE, BACKWARD_PASS=False)


def rope_meta(q, k, cos, sin):
    return q, k


def rope_reference(q, k, cos, sin):
    """liger's rope_forward on copies, given q and k as HF passes them (transposed views); returned in the op's
    (physical) layout."""
    q2, k2, _, _ = _rope.rope_forward(q.clone().transpose(1, 2), k.clone().transpose(1, 2), cos, sin)
    return q2.transpose(1, 2), k2.transpose(1, 2)


# --- cross-entropy: liger_kernel.ops.cross_entropy.cross_entropy_forward; the gradient overwrites the logits
def cross_entropy_launch(_input, target, loss_1d, ignore_index, n_non_ignore):
    """cross_entropy_forward with weight=None, lse_square_scale=0, label_smoothing=0, reduction="mean",
    softcap=None and no z-loss / accuracy / predicted tokens. liger computes n_non_ignore from the targets'
    values on the host (`target_mask.sum().item()`, a device sync): here it is an op attribute. loss_1d
    (torch.zeros there: ignored rows are never written) is a zeroed output; the logits are overwritten in place with
    the gradient (HAS_GRADIENTS, as under autograd)."""
    weight, lse_square_scale, label_smoothing, reduction, softcap = None, 0.0, 0.0, "mean", None
    return_z_loss = return_token_accuracy = return_predicted_tokens = False
    BT, V = _input.shape
    n_rows = BT
    BLOCK_SIZE = min(_ce.MAX_FUSED_SIZE, triton.next_power_of_2(V))
    z_loss_1d = token_accuracy_1d = predicted_tokens_1d = None
    sum_non_ignore_weight = n_non_ignore
    weight_sum = 0.0
    if _input.stride(-1) != 1:
        _input = _input.contiguous()
    if target.stride(-1) != 1:
        target = target.contiguous()
    if _ce.is_hip():
        ce_num_warps = 16
    else:
        is_blackwell = infer_device_arch().startswith("blackwell")
        ce_num_warps = 8 if (_input.element_size() == 2 and is_blackwell) else 32
    _ce.liger_cross_entropy_kernel[(n_rows,)](
        X_ptr=_input, X_stride=_input.stride(-2), Y_ptr=target, Y_stride=target.stride(-1), weight_ptr=weight,
        loss_ptr=loss_1d, z_loss_ptr=z_loss_1d, loss_stride=loss_1d.stride(-1), token_accuracy_ptr=token_accuracy_1d,
        token_accuracy_stride=0, predicted_tokens_ptr=predicted_tokens_1d, predicted_tokens_stride=0, n_cols=V,
        n_non_ignore=n_non_ignore, sum_non_ignore_weight=sum_non_ignore_weight, ignore_index=ignore_index,
        weight_sum=weight_sum, lse_square_scale=lse_square_scale, label_smoothing=label_smoothing,
        reduction=reduction, softcap=softcap, RETURN_Z_LOSS=return_z_loss,
        RETURN_TOKEN_ACCURACY=return_token_accuracy, RETURN_PREDICTED_TOKENS=return_predicted_tokens,
        BLOCK_SIZE=BLOCK_SIZE, HAS_WEIGHT=weight is not None, HAS_SOFTCAPPING=softcap is not None,
        HAS_GRADIENTS=True, num_warps=ce_num_warps)


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


# --- PolyNorm: liger_kernel.ops.poly_norm.poly_norm_forward
def poly_norm_launch(X, W, B, Y, RSTD, eps):
    """poly_norm_forward; Y and RSTD (torch.empty there) are the outputs."""
    shape = X.shape
    dim = shape[-1]
    X = X.view(-1, dim)
    Y = Y.view(-1, dim)  # liger: Y = torch.empty((n_rows, n_cols), ...)
    n_rows, n_cols = X.shape
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    assert W.shape[0] == 3, "Weight tensor must have shape (3,)"
    assert B.numel() == 1, "Bias must be a scalar"
    kernel_args: dict = {}
    if X.device.type == "xpu":
        _poly.set_large_grf_mode(kernel_args)
    _poly._poly_norm_forward_kernel[(n_rows,)](
        Y, Y.stride(0), X, X.stride(0), W, B, RSTD, RSTD.stride(0), n_cols, eps, BLOCK_SIZE=BLOCK_SIZE,
        num_warps=num_warps, **kernel_args)


def poly_norm_meta(X, W, B, eps: float = 1e-6):
    return torch.empty_like(X), X.new_empty((_rows(X), 3), dtype=torch.float32)


def poly_norm_reference(X, W, B, eps=1e-6):
    Y, _, RSTD, *_ = _poly.poly_norm_forward(X, W, B, eps)
    return Y, RSTD


# --- GroupNorm: liger_kernel.ops.group_norm.group_norm_forward
def group_norm_launch(X, W, B, Y, Mean, RSTD, num_channels, num_groups, eps):
    """group_norm_forward; Y, Mean, RSTD (torch.empty / torch.zeros there; the kernel writes every element) are the
    outputs. num_channels and num_groups are op attributes (int)."""
    shape = X.shape
    batch_size = shape[0]
    channels_per_group = num_channels // num_groups
    X = X.view(batch_size, num_groups, -1).contiguous()
    hidden_size = X.shape[-1]
    BLOCK_SIZE = min(_gn.MAX_FUSED_SIZE, triton.next_power_of_2(hidden_size))
    Y = Y.view(batch_size, num_groups, hidden_size)  # liger: Y = torch.empty((batch_size, num_groups, hidden_size))
    _gn._group_norm_forward_kernel[(batch_size, num_groups)](
        Y, Y.stride(0), Y.stride(1), X, X.stride(0), X.stride(1), Mean, Mean.stride(0), Mean.stride(1), RSTD,
        RSTD.stride(0), RSTD.stride(1), W, B, hidden_size, channels_per_group, eps, BLOCK_SIZE=BLOCK_SIZE)


def group_norm_meta(X, W, B, num_channels: int = 1, num_groups: int = 1, eps: float = 1e-6):
    stat = X.new_empty((X.shape[0], num_groups))
    return torch.empty_like(X), stat, torch.empty_like(stat)


def group_norm_reference(X, W, B, num_channels=1, num_groups=1, eps=1e-6):
    Y, _, Mean, RSTD, _ = _gn.group_norm_forward(X, num_channels, num_groups, W, B, eps)
    return Y, Mean, RSTD


# --- KL divergence: liger_kernel.ops.kl_div.kldiv_forward_triton (reduction="none", log_target=False)
def kl_div_launch(y_pred, y_true, output_tensor, eps):
    """kldiv_forward_triton with reduction="none"; output_tensor (torch.zeros there; with no reduction the kernel
    writes every element) is the output."""
    log_target, reduction = False, "none"
    BT, V = y_pred.shape
    BLOCK_SIZE = min(_kl.MAX_FUSED_SIZE, triton.next_power_of_2(V))
    num_warps = 32 if infer_device() == "xpu" else _kl.get_num_warps(BLOCK_SIZE)
    grid = (BT,)
    reduction = _kl._str_to_reduction_mode[reduction]
    _kl._kldiv_kernel_forward[grid](
        y_pred, y_pred.stride(0), y_true, y_true.stride(0), output_tensor, output_tensor.stride(0), V, eps=eps,
        BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps, log_target=log_target, reduction=reduction)


def kl_div_meta(y_pred, y_true, eps: float = 1e-10):
    return y_pred.new_empty(y_pred.shape, dtype=torch.float32)


def kl_div_reference(y_pred, y_true, eps=1e-10):
    return _kl.kldiv_forward_triton(y_pred, y_true, False, "none", eps)


# --- Qwen2-VL multimodal RoPE, in place on q and k: liger_kernel.ops.qwen2vl_mrope.qwen2vl_mrope_forward
def qwen2vl_mrope_launch(q, k, cos, sin, mrope_section_t, mrope_section_h):
    """qwen2vl_mrope_forward after its transposes (q and k in the physical (bsz, seq_len, n_head, head_dim)
    layout, as for rope_launch); liger's `mrope_section` list is two int attributes (its first two entries, all
    the kernel reads)."""
    mrope_section = (mrope_section_t, mrope_section_h)
    batch_size, seq_len, n_q_head, head_dim = q.shape
    n_kv_head = k.shape[2]
    pad_hd = triton.next_power_of_2(head_dim)
    pad_n_q_head = triton.next_power_of_2(n_q_head)
    pad_n_kv_head = triton.next_power_of_2(n_kv_head)
    BLOCK_SIZE = max(pad_n_q_head, pad_n_kv_head)
    n_row = batch_size * seq_len
    q = q.contiguous()
    k = k.contiguous()
    cos = cos.contiguous()
    sin = sin.contiguous()
    _mrope._triton_qwen2vl_mrope[(n_row,)](
        q, k, cos, sin, seq_len, batch_size, n_q_head, n_kv_head, head_dim, pad_n_q_head, pad_n_kv_head, pad_hd,
        mrope_section[0], mrope_section[1], BLOCK_SIZE=BLOCK_SIZE, BACKWARD_PASS=False)


def qwen2vl_mrope_meta(q, k, cos, sin, mrope_section_t: int = 16, mrope_section_h: int = 24):
    return q, k


def qwen2vl_mrope_reference(q, k, cos, sin, mrope_section_t=16, mrope_section_h=24):
    hd = q.shape[-1]
    section = [mrope_section_t, mrope_section_h, hd // 2 - mrope_section_t - mrope_section_h]
    q2, k2, _, _ = _mrope.qwen2vl_mrope_forward(q.clone().transpose(1, 2), k.clone().transpose(1, 2), cos, sin,
                                                section)
    return q2.transpose(1, 2), k2.transpose(1, 2)


# --- SwiGLU over a fused gate-up tensor: liger_kernel.ops.swiglu.swiglu_fused_gate_up_forward
def swiglu_fused_gate_up_launch(y, c):
    """swiglu_fused_gate_up_forward; c (torch.empty there) is the output. Its odd-size check is a guard."""
    ori_shape = y.shape
    fused_size = ori_shape[-1]
    if fused_size % 2 != 0:
        raise ValueError(f"fused gate-up input must have an even trailing dim; got {fused_size}.")
    ffn_size = fused_size // 2
    y = y.view(-1, fused_size)
    n_rows = y.shape[0]
    c = c.view(n_rows, ffn_size)  # liger: c = torch.empty(n_rows, ffn_size, ...)
    BLOCK_SIZE, num_warps = calculate_settings(ffn_size)
    _swiglu._swiglu_fused_gate_up_forward_kernel[(n_rows,)](
        y, c, y.stride(-2), c.stride(-2), ffn_size=ffn_size, BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps)


def swiglu_fused_gate_up_meta(y):
    return y.new_empty((*y.shape[:-1], y.shape[-1] // 2))


def swiglu_fused_gate_up_reference(y):
    return _swiglu.swiglu_fused_gate_up_forward(y)[1]


# --- RMSNorm with per-sample scale and shift (AdaLN): liger_kernel.ops.modulated_rms_norm ("llama")
def modulated_rms_norm_launch(X, W, scale, shift, Y, RSTD, eps, offset):
    """modulated_rms_norm_forward; Y and RSTD (torch.empty there) are the outputs. liger's shape checks
    (_check_modulation_shape) run as written: their decisions on dims are guards."""
    casting_mode = _mod._str_to_casting_mode["llama"]
    shape = X.shape
    dim = shape[-1]
    scale_rows, rows_per_modulation = _mod._check_modulation_shape(X, scale, shift)
    X = X.view(-1, dim)
    scale = scale.view(scale_rows, dim)
    n_rows, n_cols = X.shape
    BLOCK_SIZE, num_warps = calculate_settings(n_cols)
    Y = Y.view(n_rows, n_cols)  # liger: Y = torch.empty((n_rows, n_cols), ...)
    if W is not None:
        assert X.shape[1] == W.shape[0], "Incompatible hidden size dimension between X and W."
        elementwise_affine = True
    else:
        elementwise_affine = False
    has_shift = shift is not None
    if has_shift:
        shift = shift.view(scale_rows, dim)
    else:
        shift = scale
    kernel_args: dict = {}
    if X.device.type == "xpu":
        _mod.set_large_grf_mode(kernel_args)
    _mod._modulated_rms_norm_forward_kernel[(n_rows,)](
        Y, Y.stride(0), X, X.stride(0), W, W.stride(0) if elementwise_affine else 0, scale, scale.stride(0), shift,
        shift.stride(0) if has_shift else 0, RSTD, RSTD.stride(0), n_cols, eps, offset, casting_mode,
        elementwise_affine=elementwise_affine, has_shift=has_shift, rows_per_modulation=rows_per_modulation,
        BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps, **kernel_args)


def modulated_rms_norm_meta(X, W, scale, shift, eps: float = 1e-6, offset: float = 0.0):
    return torch.empty_like(X), X.new_empty(_rows(X), dtype=torch.float32)


def modulated_rms_norm_reference(X, W, scale, shift, eps=1e-6, offset=0.0):
    Y, RSTD, *_ = _mod.modulated_rms_norm_forward(X, W, scale, shift, eps, offset, "llama")
    return Y, RSTD


# --- Llama-4 RoPE, in place on q and k: liger_kernel.ops.llama4_rope.llama4_rope_forward
def llama4_rope_launch(q, k, freqs_cis, imag_sign):
    """llama4_rope_forward (BLOCK_SIZE=None) for a real freqs_cis, (seq_len, head_dim // 2, 2): liger's complex
    branch (`torch.view_as_real`) is a host-side view of a complex tensor, which an op input cannot be.
    `_cast_and_contiguous` runs as written (a cast to the dtype q already has is q itself); the kernel updates q
    and k in place, and the cast back is not taken."""
    original_dtype = q.dtype
    batch_size, seq_len, n_q_heads, head_dim = q.shape
    _, _, n_k_heads, _ = k.shape
    head_dim_half = head_dim // 2
    q, k, freqs_cis = _l4rope._cast_and_contiguous(q, k, freqs_cis)
    BLOCK_SIZE, num_warps = _l4rope._select_kernel_meta(head_dim_half)
    n_heads_max = max(n_q_heads, n_k_heads)
    grid = (batch_size * seq_len, n_heads_max)
    _l4rope._llama4_rope_kernel[grid](
        q, k, freqs_cis, q.stride(1), k.stride(1), q.stride(2), k.stride(2), freqs_cis.stride(0), seq_len,
        batch_size, imag_sign, head_dim_half, n_q_heads, n_k_heads, BLOCK_SIZE, num_warps=num_warps, num_stages=2)
    assert q.dtype == original_dtype and k.dtype == original_dtype


def llama4_rope_meta(q, k, freqs_cis, imag_sign: float = 1.0):
    return q, k


def llama4_rope_reference(q, k, freqs_cis, imag_sign=1.0):
    q2, k2 = _l4rope.llama4_rope_forward(q.clone(), k.clone(), freqs_cis, None, imag_sign)
    return q2, k2


# --- generalized Jensen-Shannon divergence: liger_kernel.ops.jsd.jsd_forward, through liger's dispatcher to its
# Triton implementation, liger_kernel.ops.backends._triton.jsd.jsd_loss_and_grad_triton (with shift labels)
def jsd_launch(student_prob, teacher_prob, shift_labels, loss, beta, ignore_index, n_non_ignore):
    """jsd_loss_and_grad_triton with labels; loss (torch.zeros there: ignored rows are never written) is a zeroed
    output, and the gradient overwrites the student's log-probabilities in place (as liger's `dX = _input.clone()`
    that jsd_forward hands it). liger computes n_non_ignore on the host from the labels' values: an attribute."""
    BT, V = student_prob.shape
    BLOCK_SIZE = min(_jsd_triton._JSD_TRITON_BLOCK_SIZE, _jsd_triton._next_pow2(V))
    has_label = shift_labels is not None
    label_arg = shift_labels  # liger: `if has_label else torch.empty(1, ...)`
    _jsd._jsd_kernel[(BT,)](
        X_ptr=student_prob, X_stride=student_prob.stride(-2), Y_ptr=teacher_prob, Y_stride=teacher_prob.stride(-2),
        loss_ptr=loss, loss_stride=loss.stride(-2), dX_ptr=student_prob, dX_stride=student_prob.stride(-2),
        label_ptr=label_arg, beta=beta, n_non_ignore=int(round(n_non_ignore)), ignore_index=ignore_index,
        n_cols=V, BLOCK_SIZE=BLOCK_SIZE, HAS_LABEL=has_label)


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
    Case("rms_norm", rms_norm_launch, rms_norm_meta, _make_norm, rms_norm_reference,
         [(3, 5, 1000), (4097, 128), (40000, 64), (2, 4096)]),
    Case("layer_norm", layer_norm_launch, layer_norm_meta, _make_layer_norm, layer_norm_reference,
         [(3, 5, 1000), (4097, 128), (2, 4096)]),
    Case("swiglu", swiglu_launch, swiglu_meta, _make_swiglu, swiglu_reference, [(3, 5, 1000), (257, 2049)]),
    Case("geglu", geglu_launch, glu_meta, _make_two, geglu_reference, [(3, 5, 1000), (257, 2049)]),
    Case("relu_squared", relu_squared_launch, like, _make_one, relu_squared_reference, [(3, 5, 1000), (7, 8193)]),
    Case("softmax", softmax_launch, like, _make_one, softmax_reference, [(3, 5, 1000), (33, 65)]),
    Case("dyt", dyt_launch, dyt_meta, _make_dyt, dyt_reference, [(3, 5, 1000), (7, 4097)]),
    Case("fused_add_rms_norm", fused_add_rms_norm_launch, fused_add_rms_norm_meta, _make_fused_add,
         fused_add_rms_norm_reference, [(3, 5, 1000), (4097, 128)]),
    Case("rope", rope_launch, rope_meta, _make_rope, rope_reference, [(2, 7, 8, 2, 64), (1, 33, 12, 3, 80)]),
    Case("poly_norm", poly_norm_launch, poly_norm_meta, _make_poly, poly_norm_reference, [(3, 5, 1000), (4097, 128)]),
    Case("group_norm", group_norm_launch, group_norm_meta, _make_group_norm, group_norm_reference,
         [(2, 6, 10, 3), (3, 32, 7, 9, 8)]),
    Case("kl_div", kl_div_launch, kl_div_meta, _make_kl, kl_div_reference, [(13, 1000), (5, 20001)]),
    Case("qwen2vl_mrope", qwen2vl_mrope_launch, qwen2vl_mrope_meta, _make_mrope, qwen2vl_mrope_reference,
         [(2, 7, 8, 2, 64), (1, 33, 12, 3, 128)]),
    Case("swiglu_fused_gate_up", swiglu_fused_gate_up_launch, swiglu_fused_gate_up_meta, _make_one,
         swiglu_fused_gate_up_reference, [(3, 5, 2000), (257, 4098)]),
    Case("modulated_rms_norm", modulated_rms_norm_launch, modulated_rms_norm_meta, _make_modulated,
         modulated_rms_norm_reference, [(2, 7, 1000), (3, 33, 4097)]),
    Case("llama4_rope", llama4_rope_launch, llama4_rope_meta, _make_llama4_rope, llama4_rope_reference,
         [(2, 7, 8, 2, 64), (1, 33, 5, 1, 256)]),
    Case("jsd", jsd_launch, jsd_meta, _make_jsd, jsd_reference, [(13, 1000), (7, 5001)],
         kwargs={"zeroed_outputs": ("loss",)}, outputs=jsd_outputs),
    Case("cross_entropy", cross_entropy_launch, cross_entropy_meta, _make_ce, cross_entropy_reference,
         [(13, 1000), (7, 32001)], kwargs={"zeroed_outputs": ("loss_1d",)}, outputs=cross_entropy_outputs),
]}
