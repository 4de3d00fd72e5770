"""CPU-side parts of the GPU runtime: tactic pinning, report rendering (the launch path: test_cuda_driver.py)."""

import pytest

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.check import CheckReport, TacticResult
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.runtime import _env_tactic


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
