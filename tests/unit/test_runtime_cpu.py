"""CPU-side parts of the GPU runtime: argument slots in TensorRT's order, tactic pinning, report rendering."""

import ctypes
import types

import pytest

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import launcher
from torch_tensorrt_annotation import symbolic as S
from torch_tensorrt_annotation.check import CheckReport, TacticResult
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.runtime import _env_tactic


def test_prepared_launch_packs_inputs_extras_outputs_in_order(monkeypatch, meta):
    plugin = ex.plugins()["scale2d"][0]
    (art, _) = plugin.compile(meta(100, 300), ptx_isa=(9, 0))
    calls = []
    fake_driver = types.SimpleNamespace(raw_launch=lambda *args: calls.append(args) or 0)
    monkeypatch.setattr(launcher, "load", lambda artifact, device: 0xF00)  # no driver here: a fake handle
    monkeypatch.setattr(launcher, "driver", lambda: fake_driver)
    shapes = S.Shapes(((100, 300),), ((100, 300),))
    prepared = launcher.PreparedLaunch(art, shapes, 0)
    assert prepared.grid == (4, 10, 1) and prepared.block == (128, 1, 1)
    prepared([0x1000], [0x2000], 77)
    (args,) = calls
    assert [a.value for a in args[:9]] == [0xF00, 4, 10, 1, 128, 1, 1, 0, 77]
    slots = prepared._slots
    assert [type(s) for s in slots] == [ctypes.c_uint64] + [ctypes.c_int32] * 4 + [ctypes.c_uint64]
    assert [s.value for s in slots] == [0x1000, 100, 300, 300, 300, 0x2000]  # x, M, N, stride_xm, stride_om, out
    for i, slot in enumerate(slots):  # the pointer array handed to cuLaunchKernel points at the slots, in order
        assert args[9][i] == ctypes.addressof(slot)


def test_empty_grid_launches_nothing_and_needs_no_driver(meta):
    plugin = ex.plugins()["add"][0]
    art = plugin.compile(meta(8), meta(8), ptx_isa=(9, 0))[0]
    prepared = launcher.PreparedLaunch(art, S.Shapes(((0,), (0,)), ((0,),)), 0)
    assert prepared.empty
    prepared([1, 2], [3], 0)  # returns without touching a GPU


def test_tactic_environment_variable(monkeypatch):
    plugin = ex.plugins()["add"][0]
    monkeypatch.setenv("TTA_TACTIC", "2")
    assert _env_tactic(plugin) == 2
    monkeypatch.setenv("TTA_TACTIC", "9")
    with pytest.raises(tta.SpecError, match="not a tactic"):
        _env_tactic(plugin)


def test_check_report_renders_and_judges():
    report = CheckReport("tta::x", "GPU", [TacticResult(1, {"BLOCK": 256}, median_us=3.0, max_abs_err=0.0,
                                                        max_rel_err=0.0),
                                           TacticResult(2, {"BLOCK": 512}, status="mismatch", median_us=2.0)])
    text = str(report)
    assert "FAILED" in text and "1*" in text and "mismatch" in text and "BLOCK=512" in text
    assert not report.ok and report.fastest.tactic == 1
