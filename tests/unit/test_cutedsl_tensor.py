"""CuTe DSL kernels with cute.Tensor parameters, compiled on CPU for sm_90: launch dims and struct fields read from
the DSL's host IR, by-value parameters flattened into TensorRT's order, the result assembled by ptxas with the
same resources as the DSL's own PTX, and clear refusals (clusters, runtime floats)."""

import os
import shutil
import struct
import subprocess

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing, symbolic
from torch_tensorrt_annotation.spec import EXTRA, INPUT, OUTPUT

pytest.importorskip("cutlass.cute", reason="needs the cutedsl extra (nvidia-cutlass-dsl)")

from . import cute_tensor_kernels as k  # noqa: E402


def meta(*shape, dtype=torch.float16):
    return torch.empty(shape, dtype=dtype, device="meta")


def _ptxas():
    import glob
    import site

    found = [shutil.which("ptxas")] + glob.glob(os.path.join(site.getsitepackages()[0], "nvidia", "cu*", "bin",
                                                             "ptxas"))
    return next((p for p in found if p), None)


def _capture_flatten(monkeypatch):
    from torch_tensorrt_annotation.backends import cutedsl_abi

    seen = []
    real = cutedsl_abi.flatten

    def spy(ptx, entry, params, kernel):
        out = real(ptx, entry, params, kernel)
        seen.append((ptx, out[0], entry.name))
        return out

    monkeypatch.setattr(cutedsl_abi, "flatten", spy)
    return seen


def _resources(ptxas, text, tmp_path, tag):
    src, out = tmp_path / f"{tag}.ptx", tmp_path / f"{tag}.cubin"
    src.write_text(text)
    run = subprocess.run([ptxas, "-arch=sm_90a", "-v", str(src), "-o", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    regs = [line.split("Used ")[1].split(" registers")[0] for line in run.stderr.splitlines() if "Used " in line]
    return regs, _text_bytes(out.read_bytes())


def _text_bytes(elf: bytes) -> int:
    """Total size of the cubin's .text.* sections (16 bytes per SASS instruction)."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    names_off = sections[shstrndx][4]
    total = 0
    for name, _t, _f, _a, _off, size in sections:
        label = elf[names_off + name: elf.index(b"\0", names_off + name)].decode()
        if label.startswith(".text."):
            total += size
    return total


def test_tensor_kernel_is_flattened_into_tensorrt_order():
    spec = tta.cutedsl(k.scale_host, k.scale_launch, configs=[{"SCALE": 2.0}],
                       dynamic_dims={"x": [0, 1], "o": [0, 1]})
    plugin = tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="cute_scale")
    (art,) = plugin.compile(meta(10, 70), ptx_isa=(9, 0))
    kinds = [(p.kind, p.index) for p in art.params]
    assert kinds[0] == (INPUT, 0) and kinds[-1] == (OUTPUT, 0)
    assert all(kind == EXTRA for kind, _ in kinds[1:-1]) and len(kinds) == 8
    assert [str(e) for e in art.extras] == ["in0.shape[0]", "in0.shape[1]", "in0.stride(0)", "out0.shape[0]",
                                            "out0.shape[1]", "out0.stride(0)"]
    entry = ptx_parsing.parse(art.ptx).entry(art.kernel_name)
    assert [p.ptx_type for p in entry.params] == [".u64"] + [".u32"] * 6 + [".u64"]
    assert ".b8" not in art.ptx.split("{", 1)[0].split(art.kernel_name, 1)[1]
    assert "0f40000000" in art.ptx  # the fp32 scale, 2.0, as an immediate
    assert art.ptx.splitlines()[[i for i, s in enumerate(art.ptx.splitlines()) if ".version" in s][0]] == ".version 8.8"
    lp = art.launch_params(symbolic.Shapes(((10, 70),), ((10, 70),)))
    assert lp.grid == (3, 1, 1) and lp.block == (128, 1, 1) and lp.extras == (10, 70, 70, 10, 70, 70)


def test_static_dims_are_baked_and_guarded():
    spec = tta.cutedsl(k.scale_host, k.scale_launch, configs=[{"SCALE": 0.5}], dynamic_dims={"x": [0], "o": [0]})
    plugin = tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="cute_scale_static")
    (art,) = plugin.compile(meta(10, 64), ptx_isa=(9, 0))
    assert [str(e) for e in art.extras] == ["in0.shape[0]", "out0.shape[0]"]
    assert art.launch_params(symbolic.Shapes(((1000, 64),), ((1000, 64),))).extras == (1000, 1000)
    with pytest.raises(ValueError, match="baked in"):
        art.launch_params(symbolic.Shapes(((10, 65),), ((10, 65),)))


def test_static_dims_under_a_tensorrt_profile_are_taken_or_refused():
    spec = tta.cutedsl(k.scale_host, k.scale_launch, configs=[{"SCALE": 0.5}], dynamic_dims={"x": [0], "o": [0]})
    plugin = tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="cute_scale_profile")
    common = dict(in_dtypes=[torch.float16], out_dtypes=[torch.float16], in_ranks=[2], out_ranks=[2], attrs=[])
    target = tta.Target.parse("sm_90", (9, 0))
    batch = symbolic.Profile((((1, 512), (64, 64)),), (((1, 512), (64, 64)),))  # the dim the kernel bakes in is static
    art = plugin.compile_tactic(plugin.tactics[0], target, profile=batch, **common)
    assert art.launch_params(symbolic.Shapes(((300, 64),), ((300, 64),))).extras == (300, 300)
    hidden = symbolic.Profile((((1, 512), (32, 128)),), (((1, 512), (32, 128)),))
    with pytest.raises(tta.CompileError, match=r"depends on the dynamic dim\(s\) in0.shape\[1\].*static"):
        plugin.compile_tactic(plugin.tactics[0], target, profile=hidden, **common)


def test_rewritten_ptx_assembles_with_the_dsls_resources(monkeypatch, tmp_path):
    ptxas = _ptxas()
    if ptxas is None:
        pytest.skip("no ptxas")
    seen = _capture_flatten(monkeypatch)
    spec = tta.cutedsl(k.scale_host, k.scale_launch, configs=[{"SCALE": 3.0}],
                       dynamic_dims={"x": [0, 1], "o": [0, 1]})
    tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="cute_scale_ptxas").compile(
        meta(10, 70), ptx_isa=(9, 0), workers=1)
    (original, rewritten, _), = seen
    (dsl_regs,), dsl_text = _resources(ptxas, original, tmp_path, "dsl")
    (tta_regs,), tta_text = _resources(ptxas, rewritten, tmp_path, "tta")
    # the same SASS instruction count; ptxas may allocate a few registers differently (parameters are read from
    # separate int32 slots instead of one struct)
    assert tta_text == dsl_text and abs(int(tta_regs) - int(dsl_regs)) <= 8


def test_cluster_launch_of_a_pointer_kernel_is_refused():
    spec = tta.cutedsl(k.cluster_ptr_host, k.cluster_ptr_launch, configs=[{}])
    plugin = tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="cute_cluster")
    with pytest.raises(tta.CompileError, match=r"cluster"):
        plugin.compile(meta(1000, dtype=torch.float32), ptx_isa=(9, 0))


def test_runtime_float_argument_is_refused_with_the_constexpr_fix():
    def launch(kernel, x, out, s):
        kernel(x, out, s)

    def meta_impl(x, s: float):
        return torch.empty_like(x)

    spec = tta.cutedsl(k.runtime_scale_host, launch, configs=[{}])
    with pytest.raises((tta.RecordingError, tta.CompileError), match=r"float"):
        tta.custom_plugin(spec, meta_impl=meta_impl, name="cute_runtime_float").compile(meta(8, 64), 2.0,
                                                                                       ptx_isa=(9, 0))


def test_large_dynamic_shared_memory_is_read_from_the_host_code():
    spec = tta.cutedsl(k.smem_host, k.smem_launch, configs=[{}], dynamic_dims={"x": [0], "o": [0]})
    plugin = tta.custom_plugin(spec, meta_impl=lambda x: torch.empty_like(x), name="cute_smem")
    (art,) = plugin.compile(meta(8, 1000, dtype=torch.float32), ptx_isa=(9, 0))
    assert art.shared_mem.evaluate(symbolic.Shapes(((8, 1000),))) >= 64 * 1024
    assert art.launch_params(symbolic.Shapes(((8, 1000),), ((8, 1000),))).grid == (8, 1, 1)


def test_dynamic_dims_must_name_tensor_parameters():
    with pytest.raises(tta.RecordingError, match=r"dynamic_dims"):
        tta.cutedsl(k.scale_host, k.scale_launch, configs=[{"SCALE": 1.0}], dynamic_dims={"stream": [0]})
