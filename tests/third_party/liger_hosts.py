"""The host forward functions of liger-kernel 0.8.5 (https://github.com/linkedin/Liger-Kernel, liger_kernel/ops/),
as tta launch functions: each is liger's host forward function (named in the comment above it and in its
docstring) with only the lines that allocate the outputs (`torch.empty(...)` / `torch.zeros(...)` inside liger, which
a TensorRT plugin cannot do: it gets no workspace) replaced by the op's preallocated outputs; every other line
(views, liger's own helpers such as `calculate_settings`, `device_context`, branches on sizes, the launch itself
with its arguments) is liger's, in liger's order. Where a function's docstring says so, what liger takes as an
argument or computes from tensor values on the host is fixed or an op attribute. The kernels are liger's, imported
unchanged.

The metas, references and test cases over these functions live in tests/unit/liger_kernels.py.

liger-kernel is BSD-2-Clause-licensed:

BSD 2-CLAUSE LICENSE
Copyright 2024 LinkedIn Corporation
All Rights Reserved.
Redistribution and use in source and binary forms, with or
without modification, are permitted provided that the following
conditions are met:
1. Redistributions of source code must retain the above copyright
notice, this list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above
copyright notice, this list of conditions and the following
disclaimer in the documentation and/or other materials provided
with the distribution.
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
"AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
(INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""

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
