"""`arch` and `ptx_isa` are validated up front (accepted forms, the oldest ISA per arch), and a compiler that kills
its worker process costs one tactic, named, never the calling process."""

import os
import signal

import pytest

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.backends.base import get_backend
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.spec import MIN_PTX_ISA, Target


@pytest.mark.parametrize("arch, expected", [
    ("sm_90", (90, "", "sm_90")), ("sm_90a", (90, "a", "sm_90a")), (" sm_80 ", (80, "", "sm_80")),
    (90, (90, "", "sm_90")), ("sm_100f", (100, "f", "sm_100f")), (120, (120, "", "sm_120")),
])
def test_accepted_arch_forms_keep_the_suffix(arch, expected):
    t = Target.parse(arch, (9, 0))
    assert (t.arch, t.suffix, t.sm) == expected


@pytest.mark.parametrize("isa, expected", [((9, 0), (9, 0)), ("9.0", (9, 0)), ([8, 7], (8, 7)), (None, None)])
def test_accepted_ptx_isa_forms(isa, expected):
    assert Target.parse("sm_90", isa).ptx_isa == expected


@pytest.mark.parametrize("arch, fragment", [
    (9.0, "pass 'sm_90'"), ("90", "Accepted forms"), ("sm90", "Accepted forms"), ("compute_90", "Accepted forms"),
    (True, "Accepted forms"), ("sm_91", "not an NVIDIA GPU arch"), ("sm_80a", "'a' suffix starts at sm_90"),
    ("sm_90f", "'f' at sm_100"), (None, "Accepted forms"),
])
def test_refused_arch_forms_name_the_accepted_ones(arch, fragment):
    with pytest.raises(tta.SpecError, match=fragment) as info:
        Target.parse(arch, (9, 0))
    assert "sm_90" in info.value.message


@pytest.mark.parametrize("isa", [90, 9, 9.0, "9", "v9.0", (9,), (9, 0, 1), ("9", "0"), (9.0, 0), (True, 0)])
def test_refused_ptx_isa_forms_name_the_accepted_ones(isa):
    with pytest.raises(tta.SpecError, match=r"Accepted forms: \(9, 0\) or '9.0'"):
        Target.parse("sm_90", isa)


@pytest.mark.parametrize("arch, isa, needed", [("sm_90", (7, 0), "7.8"), ("sm_90a", (7, 8), "8.0"),
                                                ("sm_100", (8, 5), "8.6"), ("sm_120", (8, 6), "8.7"),
                                                ("sm_80", (6, 4), "7.0")])
def test_an_isa_too_old_for_the_arch_is_refused_before_compiling(arch, isa, needed):
    with pytest.raises(tta.SpecError, match=rf"oldest that supports it.*\({needed.replace('.', ', ')}\)") as info:
        Target.parse(arch, isa)
    assert needed in info.value.message
    Target.parse(arch, tuple(int(v) for v in needed.split(".")))  # the minimum itself is fine


def test_minimum_isa_table_is_ordered_sensibly():
    assert MIN_PTX_ISA[90, ""] == (7, 8) and MIN_PTX_ISA[100, ""] == (8, 6) and MIN_PTX_ISA[120, ""] == (8, 7)
    for (arch, suffix), isa in MIN_PTX_ISA.items():
        if suffix:
            assert isa >= MIN_PTX_ISA[arch, ""]


def test_compile_with_an_isa_too_old_raises_and_the_process_survives(meta):
    """Formerly: LLVM aborted the whole process for ptx_isa=(7, 0) on sm_90."""
    plugin = ex.plugins()["add"][0]
    with pytest.raises(tta.SpecError, match="cannot target sm_90"):
        plugin.compile(meta(100), meta(100), arch="sm_90", ptx_isa=(7, 0))
    with pytest.raises(tta.SpecError, match="Accepted forms"):
        plugin.compile(meta(100), meta(100), arch=9.0, ptx_isa=(9, 0))


def test_triton_needs_the_isa_of_arch_specific_code(meta):
    """sm_90 accepts ISA 7.8, but Triton emits sm_90a code, which needs 8.0: each tactic is refused, none crashes."""
    plugin = ex.plugins()["add"][0]
    with pytest.raises(tta.CompileError, match=r"needs PTX ISA 8\.0 or newer"):
        plugin.compile(meta(100), meta(100), arch="sm_90", ptx_isa=(7, 8), workers=2)


def test_custom_op_validates_the_target_before_registering():
    from torch_tensorrt_annotation.torch_op import registered_plugin

    plugin = tta.custom_plugin(tta.triton(ex.add_launch, configs=ex.ADD_CONFIGS), meta_impl=ex.add_meta)
    with pytest.raises(tta.SpecError, match="Accepted forms"):
        tta.custom_op("ttatargets::add", impl=plugin, arch=9.0)
    with pytest.raises(tta.SpecError, match="Accepted forms"):
        tta.custom_op("ttatargets::add", impl=plugin, ptx_isa=90)
    assert registered_plugin("ttatargets::add") is None


def test_a_compiler_crash_in_a_worker_drops_that_tactic_by_name(meta, monkeypatch):
    backend = get_backend("triton")
    real = backend.compile

    def crashing(plan, **kwargs):
        if kwargs["config"]["BLOCK"] == 256:
            os.kill(os.getpid(), signal.SIGKILL)  # what an abort inside LLVM looks like from outside
        return real(plan, **kwargs)

    monkeypatch.setattr(backend, "compile", crashing)
    monkeypatch.setenv("TTA_CACHE_DIR", "off")
    plugin = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 128}, {"BLOCK": 256}, {"BLOCK": 512}]),
                               meta_impl=ex.add_meta)
    with pytest.warns(tta.TTAWarning, match="1 of 3 tactic"):
        artifacts = plugin.compile(meta(1000), meta(1000), arch="sm_90", ptx_isa=(9, 0), workers=3)
    assert [a.tactic for a in artifacts] == [1, 3]
    dropped = dict(getattr(artifacts, "dropped", ()))
    assert 2 in dropped and "compiler crashed" in dropped[2] and "signal 9" in dropped[2]
