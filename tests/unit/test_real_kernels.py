"""A corpus of real kernels, recorded and compiled for sm_90 on the CPU: liger-kernel 0.8.5's forward kernels and
Triton's tutorials, imported (or written) unchanged and launched the way their own host code launches them
(tests/third_party/liger_hosts.py and tests/unit/triton_tutorials.py say which host lines each launch function
mirrors).

Every artifact is checked against TensorRT's AOT ABI as read back from its PTX: one entry, named as the artifact
says; parameters in TensorRT's order (inputs, then extras, then outputs, each in order), pointers 64-bit and
extras 32-bit; `.version` <= 9.0 (what a CUDA 13.0 driver loads); `.reqntid` equal to the launch block. The
emulated TensorRT build (the real tensorrt.plugin Python over the stand-in) then builds every op with static
shapes. The GPU side is tests/integration/test_gpu_real_kernels.py.
"""

import re

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing, symbolic
from torch_tensorrt_annotation.spec import EXTRA, INPUT, OUTPUT

from ..trt_harness import builder
from . import liger_kernels as L
from . import triton_tutorials as T

SM90 = dict(arch="sm_90", ptx_isa=(9, 0))
LIGER_RUNS = [(name, shape, torch.float16) for name, case in L.CASES.items() for shape in case.shapes] + [
    (name, case.shapes[0], dtype) for name, case in L.CASES.items() for dtype in (torch.float32, torch.bfloat16)]


def shapes_of(meta_impl, tensors, attrs):
    """S.Shapes for example tensors: inputs, the outputs meta_impl gives, the attribute values."""
    outs = meta_impl(*tensors, *attrs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    return symbolic.Shapes(tuple(tuple(t.shape) for t in tensors), tuple(tuple(o.shape) for o in outs), tuple(attrs))


def check_abi(art, plugin, shapes):
    """The artifact's launch as TensorRT performs it, read back from the PTX; returns its launch params."""
    n_in, n_out = len(plugin.schema.inputs), plugin.schema.num_outputs
    kinds = [p.kind for p in art.params]
    assert kinds == [INPUT] * n_in + [EXTRA] * len(art.extras) + [OUTPUT] * n_out, art.describe_params()
    for kind in (INPUT, EXTRA, OUTPUT):
        assert [p.index for p in art.params if p.kind == kind] == list(range(kinds.count(kind)))
    (entry,) = ptx_parsing.parse(art.ptx).entries
    assert entry.name == art.kernel_name
    assert [p.ptx_type for p in art.params] == [p.decl.split()[1] for p in entry.params]
    for p in art.params:
        assert p.ptx_type in ((".u64",) if p.kind != EXTRA else (".u32", ".s32", ".b32", ".f32")), p
    version = re.search(r"^\.version (\d+)\.(\d+)$", art.ptx, re.M)
    assert version and (int(version[1]), int(version[2])) == art.ptx_version <= (9, 0)
    assert re.search(r"^\.target sm_90a?\b", art.ptx, re.M)
    num_warps = dict(art.metadata)["num_warps"]
    assert entry.reqntid == (num_warps * 32,)
    lp = art.launch_params(shapes)
    assert lp.block == (num_warps * 32, 1, 1)
    assert all(-(2**31) <= e < 2**31 for e in lp.extras)
    return lp


def compile_case(name, shape, dtype):
    case = L.CASES[name]
    plugin = case.plugin()
    tensors, attrs = case.make(shape, dtype, "meta")
    arts = plugin.compile(*tensors, *attrs, **SM90)
    return case, plugin, tensors, arts, shapes_of(case.meta_impl, tensors, attrs)


@pytest.mark.parametrize("name, shape, dtype", LIGER_RUNS, ids=lambda v: str(v).replace("torch.", ""))
def test_liger_forward_kernel_records_and_compiles_for_sm90(name, shape, dtype):
    case, plugin, tensors, arts, shapes = compile_case(name, shape, dtype)
    assert len(arts) == len(plugin.tactics) >= 1
    for art in arts:
        assert art.input_dtypes[0] == str(dtype).removeprefix("torch.")
        check_abi(art, plugin, shapes)


def _grid(art, shapes):
    return art.launch_params(shapes).grid


def test_rms_norm_takes_liger_s_branch_on_sizes_and_guards_it():
    """rms_norm_forward launches the one-row kernel, or the 16-rows-per-program kernel for many narrow rows."""
    _, _, _, (row,), shapes = compile_case("rms_norm", (3, 5, 1000), torch.float16)
    assert "BLOCK_ROW" not in dict(row.constants) and _grid(row, shapes) == (15, 1, 1)
    assert dict(row.constants)["BLOCK_SIZE"] == 1024 and dict(row.metadata)["num_warps"] == 4
    _, _, _, (block,), shapes = compile_case("rms_norm", (40000, 64), torch.float16)
    assert dict(block.constants)["BLOCK_ROW"] == 16 and _grid(block, shapes) == (2500, 1, 1)
    assert "extra4:n_rows" in block.describe_params() and "n_rows" not in row.describe_params()
    guards = {str(e): v for e, v in block.guards}
    assert guards["(next_power_of_2(in0.shape[-1]) > 256)"] == 0 and guards[
        "((in0.numel() // in0.shape[-1]) < 32768)"] == 0
    # eps and offset stay runtime fp32 scalars: one artifact for every value
    assert [p.ptx_type for p in block.params if p.source in ("eps", "offset")] == [".f32", ".f32"]
    _, _, _, (wide,), _ = compile_case("rms_norm", (2, 4096), torch.float16)
    assert dict(wide.metadata)["num_warps"] == 8  # calculate_settings: BLOCK_SIZE 4096 >= 2048


def test_dyt_autotune_configs_are_the_tactics():
    case = L.CASES["dyt"]
    plugin = case.plugin()
    assert len(plugin.tactics) == 18  # 3 BLOCK_N x 2 num_stages x 3 num_warps, as liger decorates the kernel
    configs = [dict(t.config) for t in plugin.tactics]
    assert {(c["BLOCK_N"], c["num_stages"], c["num_warps"]) for c in configs} == {
        (bn, ns, nw) for bn in (1024, 2048, 4096) for ns in (1, 2) for nw in (4, 8, 16)}
    tensors, _ = case.make((7, 4097), torch.float16, "meta")
    arts = plugin.compile(*tensors, **SM90)
    shapes = shapes_of(case.meta_impl, tensors, [])
    for art in arts:  # grid = lambda meta: (cdiv(N, meta["BLOCK_N"]), M)
        assert _grid(art, shapes) == (-(-4097 // dict(art.config)["BLOCK_N"]), 7, 1)


def test_rope_updates_q_and_k_in_place():
    case, plugin, tensors, (art,), shapes = compile_case("rope", (2, 7, 8, 2, 64), torch.bfloat16)
    assert plugin.schema.torch_schema() == (
        "(Tensor(a!) q, Tensor(b!) k, Tensor cos, Tensor sin) -> (Tensor(a!), Tensor(b!))")
    assert art.describe_params().endswith("output0:=input0, output1:=input1")
    assert _grid(art, shapes) == (14, 1, 1)  # n_row = batch_size * seq_len
    assert {k: v for k, v in art.constants if k in ("n_qh", "n_kh", "hd", "pad_n_qh", "pad_n_kh", "BLOCK_SIZE")} \
        == {"n_qh": 8, "n_kh": 2, "hd": 64, "pad_n_qh": 8, "pad_n_kh": 2, "BLOCK_SIZE": 8}


def test_cross_entropy_writes_the_gradient_in_place_and_needs_a_zeroed_loss():
    case, plugin, tensors, (art,), _ = compile_case("cross_entropy", (13, 1000), torch.float32)
    assert plugin.schema.torch_schema() == (
        "(Tensor(a!) _input, Tensor target, int ignore_index=-100, int n_non_ignore=1) -> (Tensor(a!), Tensor)")
    assert dict(art.metadata)["num_warps"] == 32  # liger's choice below Blackwell
    # ignored rows never write their loss: liger allocates it with torch.zeros, so TensorRT (which does not zero
    # a plugin's outputs) cannot take this op
    with pytest.raises(tta.RegistrationError, match=r"declares zeroed_outputs \[1\], which cannot be a TensorRT AOT"):
        tta.custom_op("ttaligercpu::cross_entropy", impl=plugin, tensorrt=True, **SM90)


def test_liger_host_code_without_a_gpu_is_recorded_as_written():
    """liger's helpers run unchanged while recording: calculate_settings' branches become guards, and the launch's
    `with device_context(X.device):` selects no device (there is none here)."""
    assert not torch.cuda.is_available()
    _, _, _, (art,), _ = compile_case("swiglu", (257, 2049), torch.float16)
    assert {str(e): v for e, v in art.guards}["(next_power_of_2(in0.shape[-1]) >= 8192)"] == 0
    assert dict(art.constants)["BLOCK_SIZE"] == 4096 and dict(art.metadata)["num_warps"] == 8


# --- the emulated TensorRT build (static shapes) of every liger op that TensorRT can take
# zeroed outputs (liger's cross-entropy and JSD: ignored rows never write their loss) cannot be TensorRT AOT plugins
TRT_CASES = [n for n, c in L.CASES.items() if not c.kwargs.get("zeroed_outputs")]



@pytest.mark.parametrize("name", TRT_CASES)
def test_liger_op_builds_in_the_emulated_tensorrt_build(trt, name):
    import tensorrt.plugin as trtp

    case = L.CASES[name]
    plugin = case.plugin()
    op_name = f"ttaligerbuild::{name}"
    tta.custom_op(op_name, impl=plugin, **SM90)
    shape = case.shapes[0]
    tensors, attrs = case.make(shape, torch.float16, "meta")
    attr_values = dict(zip([a.name for a in plugin.schema.attrs], attrs))
    created = builder.create(trt, trtp, op_name, attr_values, len(tensors))
    in_types = [{torch.float16: trt.float16, torch.float32: trt.float32}[t.dtype] for t in tensors]
    _, out_shapes, results = builder.build(trt, created, [tuple(t.shape) for t in tensors], in_types)
    assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
    arts = {a.tactic: a for a in plugin.compile(*tensors, *attrs, **SM90)}
    for r in results:
        art = arts[r.tactic]
        assert r.extras_are_int32
        lp = art.launch_params(shapes_of(case.meta_impl, tensors, attrs))
        # the build compiles its own artifact, knowing the static dims (divisibility by 16 of extras, as eager
        # launches do): the launch geometry and extras are the recorded ones, shared memory may differ
        assert (r.grid, r.block, r.extras) == (lp.grid, lp.block, lp.extras)
        ptx = r.ptx.decode() if isinstance(r.ptx, bytes) else r.ptx
        (entry,) = ptx_parsing.parse(ptx).entries
        assert entry.name == r.kernel and entry.reqntid == (r.block[0],)


def test_liger_rms_norm_with_dynamic_rows_builds_where_the_profile_decides_liger_s_branch(trt):
    """TensorRT's usual profile: rows dynamic, hidden size static. liger's `BLOCK_SIZE > 256 or n_rows < 4096 * 8`
    is decided by the static hidden size (4096), or by the profile's row range when every row count in it takes
    the same branch; otherwise the build refuses the tactic naming liger's line, the dim and the fixes."""
    import tensorrt.plugin as trtp

    plugin = L.CASES["rms_norm"].plugin()
    op_name = "ttaligerbuild::rms_norm_dynamic_rows"
    tta.custom_op(op_name, impl=plugin, **SM90)

    def build(hidden, rows_range):
        created = builder.create(trt, trtp, op_name, {"eps": 1e-6, "offset": 0.0}, 2)
        return builder.build(trt, created, [(512, hidden), (hidden,)], [trt.float16] * 2, dynamic={(0, 0)},
                             ranges={(0, 0): rows_range})

    for hidden, rows_range in [(4096, (1, 65536)), (128, (1, 8192))]:
        _, _, (r,) = build(hidden, rows_range)
        assert r.grid == (512, 1, 1) and r.extras[-3] == hidden  # the one-row kernel, n_cols
    with pytest.raises(builder.BuildFailed, match=r"liger_hosts.py:\d+: if BLOCK_SIZE > 256 or n_rows < 4096 \* 8 "
                                                  r"or row_mode:.*dynamic dim 0 of input 'X'.*\[1, 65536\].*Fix: make "
                                                  r"that dim static"):
        build(128, (1, 65536))


# --- Triton's tutorials
def _tutorial_plugin(launch, meta_impl, configs=None):
    return tta.custom_plugin(tta.triton(launch, configs=configs or [{}]), meta_impl=meta_impl)


def _meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


TUTORIALS = {
    "add": (T.add_launch, T.add_meta, None, lambda dt: ([_meta(98432, dtype=dt), _meta(98432, dtype=dt)], [])),
    "softmax": (T.softmax_launch, T.softmax_meta, T.SOFTMAX_CONFIGS, lambda dt: ([_meta(1823, 781, dtype=dt)], [])),
    "dropout": (T.dropout_launch, T.dropout_meta, None,
                lambda dt: ([_meta(1000, dtype=dt), _meta(1000, dtype=torch.int32)], [0.4])),
    "seeded_dropout": (T.seeded_dropout_launch, T.seeded_dropout_meta, None,
                       lambda dt: ([_meta(1000, dtype=dt)], [0.4, 123])),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("name", list(TUTORIALS))
def test_triton_tutorial_kernel_records_and_compiles_for_sm90(name, dtype):
    launch, meta_impl, configs, make = TUTORIALS[name]
    plugin = _tutorial_plugin(launch, meta_impl, configs)
    tensors, attrs = make(dtype)
    arts = plugin.compile(*tensors, *attrs, **SM90)
    assert len(arts) == len(configs or [{}])
    shapes = shapes_of(meta_impl, tensors, attrs)
    for art in arts:
        check_abi(art, plugin, shapes)
    if name == "softmax":  # a persistent grid of min(NUM_PROGRAMS, n_rows) programs
        assert [_grid(a, shapes) for a in arts] == [(264, 1, 1), (528, 1, 1)]
        assert [dict(a.constants)["num_stages"] for a in arts] == [4, 4]
    if name == "seeded_dropout":  # p and seed stay runtime scalars, as Triton's launcher types them
        assert [p.ptx_type for p in arts[0].params if p.kind == EXTRA] == [".u32", ".f32", ".u32"]
        assert arts[0].launch_params(symbolic.Shapes(((1000,),), ((1000,),), (0.4, 123))).extras == (
            1000, symbolic.float32_bits(0.4), 123)


def test_tutorial_matmul_autotune_configs_are_the_tactics_and_all_compile():
    """Tutorial 03's autotuned matmul (leaky_relu fused), its 16 CUDA configs as decorated: every tactic compiles,
    with the tutorial's grouped 1D grid."""
    plugin = tta.custom_plugin(tta.triton(T.matmul_launch), meta_impl=T.matmul_meta)
    assert [dict(t.config) for t in plugin.tactics] == [
        {**c.kwargs, "num_warps": c.num_warps, "num_stages": c.num_stages} for c in T.get_cuda_autotune_config()]
    a, b = _meta(513, 257, dtype=torch.float16), _meta(257, 1025, dtype=torch.float16)
    arts = plugin.compile(a, b, **SM90)
    assert len(arts) == 16
    shapes = shapes_of(T.matmul_meta, [a, b], [])
    for art in arts:
        check_abi(art, plugin, shapes)
        c = dict(art.config)
        assert _grid(art, shapes) == (-(-513 // c["BLOCK_SIZE_M"]) * -(-1025 // c["BLOCK_SIZE_N"]), 1, 1)
        assert dict(art.constants)["ACTIVATION"] == "leaky_relu"


def test_tutorial_softmax_as_written_is_refused_at_its_warmup_line(monkeypatch):
    """The tutorial sizes its persistent grid from the compiled kernel's registers: refused, naming the line and
    the fix (make the number of programs a config value, which softmax_launch does)."""
    # the device properties the tutorial reads at import (none here): an H200's
    monkeypatch.setattr(T, "SIZE_SMEM", 232448)
    with pytest.raises(tta.RecordingError, match=r"compiles kernel 'softmax_kernel' itself .*triton_tutorials.py:\d+: "
                                                 r"kernel = softmax_kernel.warmup.*make the number of programs a "
                                                 r"config value"):
        _tutorial_plugin(T.softmax_as_written, T.softmax_meta).compile(_meta(100, 100), **SM90)


def test_liger_s_own_host_functions_as_op_bodies_are_refused_naming_the_cause():
    """Today's limit, stated by tta: liger's host forward functions allocate their outputs inside liger's module and
    return views of them (`Y.view(*ori_shape)`), so they cannot be op bodies as they are; the launch functions
    above mirror them instead."""
    from liger_kernel.ops.relu_squared import relu_squared_forward

    def relu_squared(X: torch.Tensor) -> torch.Tensor:
        return relu_squared_forward(X)

    with pytest.raises(tta.SpecError, match=r"Output 0 of op body 'relu_squared_forward' is neither a tensor the "
                                            r"body allocated .* nor one of its inputs"):
        tta.custom_plugin(tta.triton(relu_squared_forward))
    with pytest.raises(tta.SpecError, match=r"allocates outside its own code: empty_like\(...\) at .*liger_kernel/ops/"
                                            r"relu_squared.py:\d+: Y = torch.empty_like\(X_2d\)"):
        tta.custom_plugin(tta.triton(relu_squared))
