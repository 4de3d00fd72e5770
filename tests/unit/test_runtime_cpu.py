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


class _RecordingLaunch:
    """Stands in for a PreparedLaunch (which needs a GPU): records the pointers and stream of each launch."""

    def __init__(self):
        self.launches = []

    def launch(self, pointers, stream):
        self.launches.append((list(pointers), stream))


def _eager_with_entry(plugin, out_specs, like):
    """An EagerOp whose first-call preparation (GPU-only) is replaced by a fixed entry on CPU tensors."""
    import torch

    from torch_tensorrt_annotation.runtime import EagerOp, _Entry

    op = EagerOp(plugin, "ttatest::percall")
    launch = _RecordingLaunch()
    op._stream = lambda index: 1234
    op._prepare = lambda key, inputs, attrs: op._entries.setdefault(
        key, _Entry(out_specs, launch, None, torch.device("cpu"), 0, like))
    return op, launch


def test_eager_call_passes_input_then_output_pointers_and_allocates_like_the_input():
    import torch

    op, launch = _eager_with_entry(ex.plugins()["add"][0], (((64,), torch.float32),), (0,))
    x, y = torch.randn(64), torch.randn(64)
    out = op(x, y)
    assert out.shape == (64,) and out.dtype == torch.float32 and out.is_contiguous()
    assert launch.launches == [([x.data_ptr(), y.data_ptr(), out.data_ptr()], 1234)]
    out2 = op(x, y)
    assert out2.data_ptr() != x.data_ptr() and launch.launches[1][0][:2] == [x.data_ptr(), y.data_ptr()]


def test_eager_call_copies_non_contiguous_and_misaligned_inputs():
    import torch

    op, launch = _eager_with_entry(ex.plugins()["add"][0], (((64,), torch.float32),), (0,))
    base = torch.randn(129)
    x = base[1:65]  # 4 bytes past an aligned start: not 16-byte aligned
    y = torch.randn(128)[::2]  # not contiguous
    assert x.data_ptr() & 15 and not y.is_contiguous()
    op(x, y)
    (pointers, _), = launch.launches
    assert pointers[0] != x.data_ptr() and pointers[0] & 15 == 0
    assert pointers[1] != y.data_ptr() and pointers[1] & 15 == 0
    x2, y2 = x.clone(), y.contiguous()  # aligned, contiguous inputs are passed as they are
    op(x2, y2)
    assert launch.launches[-1][0][:2] == [x2.data_ptr(), y2.data_ptr()]


def test_eager_call_with_two_outputs_returns_a_tuple_in_order():
    import torch

    op, launch = _eager_with_entry(ex.plugins()["add"][0], (((64,), torch.float32), ((2, 3), torch.int32)),
                                   (0, None))
    x, y = torch.randn(64), torch.randn(64)
    a, b = op(x, y)
    assert a.shape == (64,) and a.dtype == torch.float32
    assert b.shape == (2, 3) and b.dtype == torch.int32
    assert launch.launches == [([x.data_ptr(), y.data_ptr(), a.data_ptr(), b.data_ptr()], 1234)]
