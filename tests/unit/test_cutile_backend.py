"""cuTile backend, compiled on CPU for sm_100 and sm_120 (cuTile does not support sm_90): TensorRT's parameter
order, the PTX read back from the cubin, and the edited PTX still assembling. No GPU here runs cuTile."""

import glob
import os
import subprocess

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing
from torch_tensorrt_annotation.spec import EXTRA, INPUT, OUTPUT

pytest.importorskip("cuda.tile", reason="needs the cutile extra (cuda-tile[tileiras])")

from torch_tensorrt_annotation.examples import cutile_examples as ce  # noqa: E402

ARCHS = ["sm_100", "sm_120"]


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


def ptxas():
    import nvidia

    for root in nvidia.__path__:
        found = glob.glob(os.path.join(root, "cu*", "bin", "ptxas"))
        if found:
            return found[0]
    pytest.skip("no ptxas from the cuda-tile toolchain")


@pytest.mark.parametrize("arch", ARCHS)
def test_elementwise_add_in_tensorrt_order_with_extents_and_strides_as_extras(arch, tmp_path):
    plugin = ce.plugins()["cutile_add"]
    arts = plugin.compile(meta(5000), meta(5000), arch=arch, ptx_isa=(9, 4))
    assert [a.tactic for a in arts] == [1, 2]
    for art in arts:
        entry = ptx_parsing.parse(art.ptx).entry(art.kernel_name)
        assert [(p.kind, p.index) for p in art.params] == [(INPUT, 0), (INPUT, 1)] + [(EXTRA, i) for i in range(6)] \
            + [(OUTPUT, 0)]
        assert [p.ptx_type for p in entry.params] == [".u64", ".u64"] + [".u32"] * 6 + [".u64"]
        assert ".language" not in art.ptx and ".file" not in art.ptx  # TileIR marker and source paths removed
        assert ptx_parsing.parse(art.ptx).target.startswith(arch)
        lp = art.launch_params(tta.symbolic.Shapes(((5000,), (5000,)), ((5000,),)))
        tile = dict(art.config)["TILE"]
        assert lp.grid == (-(-5000 // tile), 1, 1) and lp.block == entry.reqntid + (1,) * (3 - len(entry.reqntid))
        assert lp.extras == (5000, 1, 5000, 1, 5000, 1)
        # the edited PTX still assembles for the arch it targets
        path = tmp_path / f"{art.kernel_name}.ptx"
        path.write_text(art.ptx)
        arch = ptx_parsing.parse(art.ptx).target
        result = subprocess.run([ptxas(), f"-arch={arch}", str(path), "-o", str(path) + ".o"],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("arch", ARCHS)
def test_rmsnorm_like_reduction_compiles_per_dtype(arch):
    plugin = ce.plugins()["cutile_rmsnorm"]
    for dtype in (torch.float32, torch.float16):
        (art,) = plugin.compile(meta(64, 1024, dtype=dtype), meta(1024, dtype=dtype), 1e-5, arch=arch,
                                ptx_isa=(9, 4))
        lp = art.launch_params(tta.symbolic.Shapes(((64, 1024), (1024,)), ((64, 1024),)))
        assert lp.grid == (64, 1, 1) and lp.extras == (64, 1024, 1024, 1, 1024, 1, 64, 1024, 1024, 1)


def test_sm_90_is_refused_with_a_clear_error():
    plugin = ce.plugins()["cutile_add"]
    with pytest.raises(tta.CompileError, match=r"cuTile does not support sm_90"):
        plugin.compile(meta(5000), meta(5000), arch="sm_90", ptx_isa=(9, 4))


def test_isa_newer_than_requested_is_an_error_never_a_relabel():
    plugin = ce.plugins()["cutile_add"]
    with pytest.raises(tta.CompileError, match="never relabels"):
        plugin.compile(meta(5000), meta(5000), arch="sm_100", ptx_isa=(9, 0))


def test_cubin_without_ptx_or_not_elf_is_a_compile_error():
    import sys

    from torch_tensorrt_annotation.backends.cutile import ptx_from_cubin

    with pytest.raises(tta.CompileError, match="readable ELF cubin"):
        ptx_from_cubin(b"not an ELF file at all" * 4)
    with open(sys.executable, "rb") as f:  # a real ELF without the section
        elf = f.read()
    if elf[:4] != b"\x7fELF":
        pytest.skip("the interpreter is not an ELF binary here")
    with pytest.raises(tta.CompileError, match=r"carries no PTX \(.nv_debug_ptx_txt\)"):
        ptx_from_cubin(elf)
