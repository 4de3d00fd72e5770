"""Attributes with schema defaults: torch's dispatcher hands a kernel only the arguments that differ from their
defaults. Every entry point (eager op, fake kernel, TensorRT callbacks, CLI) fills them back in."""

import types

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.runtime import EagerOp, _Entry


def make_rmsnorm():
    return tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=ex.rmsnorm_meta)


def test_schema_complete_fills_defaults_and_keywords():
    schema = make_rmsnorm().schema
    x, w = object(), object()
    assert schema.complete((x, w), {}, "op") == (x, w, 1e-6)
    assert schema.complete((x, w), {"eps": 0.5}, "op") == (x, w, 0.5)
    assert schema.complete((x,), {"w": w}, "op") == (x, w, 1e-6)
    assert schema.complete((x, w, 0.25), None, "op") == (x, w, 0.25)
    with pytest.raises(tta.SpecError, match="missing tensor input"):
        schema.complete((x,), {}, "op")
    with pytest.raises(tta.SpecError, match="unexpected or repeated argument 'epsilon'"):
        schema.complete((x, w), {"epsilon": 1.0}, "op")


def test_schema_complete_refuses_a_missing_attribute_without_default():
    def meta(x, w, eps: float):
        return torch.empty_like(x)

    plugin = tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=meta)
    with pytest.raises(tta.SpecError, match="missing attribute 'eps'"):
        plugin.schema.complete((torch.empty(1), torch.empty(1)), {}, "op")


class _Recorder:
    """Stands in for the first-call preparation (which needs a GPU): records the attributes the eager op keys on."""

    def __init__(self, op):
        self.prepared = []
        self.launches = 0
        op._stream = lambda index: 0

        def prepare(key, inputs, attrs):
            self.prepared.append(tuple(attrs))
            launch = types.SimpleNamespace(launch=lambda *a: setattr(self, "launches", self.launches + 1), extras=())
            entry = _Entry(((tuple(inputs[0].shape), inputs[0].dtype),), launch,
                           types.SimpleNamespace(tactic=len(self.prepared)), inputs[0].device, 0, (0,))
            op._entries[key] = entry
            return entry

        op._prepare = prepare


def test_eager_op_normalizes_omitted_and_keyword_attributes_to_one_entry():
    op = EagerOp(make_rmsnorm(), "ttatest::rms_eager_defaults")
    rec = _Recorder(op)
    x, w = torch.randn(4, 64), torch.randn(64)
    op(x, w)
    op(x, w, 1e-6)
    op(x, w, eps=1e-6)
    assert rec.prepared == [(1e-6,)] and rec.launches == 3  # one specialization, launched three times
    op(x, w, 1e-5)
    op(x, w, eps=1e-5)
    assert rec.prepared == [(1e-6,), (1e-5,)] and rec.launches == 5
    assert op.chosen_tactic(x, w) == 1 and op.chosen_tactic(x, w, eps=1e-5) == 2


def test_eager_op_through_torch_dispatcher_gets_the_default():
    """The real dispatcher drops `eps` when it equals the schema default; the EagerOp must still see it."""
    plugin = make_rmsnorm()
    op_impl = EagerOp(plugin, "ttatestdisp::rms")
    rec = _Recorder(op_impl)
    lib = torch.library.Library("ttatestdisp", "FRAGMENT")
    lib.define("rms" + plugin.schema.torch_schema())
    lib.impl("rms", op_impl, "CPU")  # the CUDA kernel's code path, reached with CPU tensors
    op = torch.ops.ttatestdisp.rms.default
    x, w = torch.randn(2, 64), torch.randn(64)
    op(x, w)
    op(x, w, 1e-6)
    op(x, w, eps=1e-6)
    op(x, w, 0.5)
    assert rec.prepared == [(1e-6,), (0.5,)] and rec.launches == 4


def test_fake_kernel_with_omitted_default_and_keyword_attribute():
    from torch._subclasses.fake_tensor import FakeTensorMode

    seen = []

    def meta(x, w, eps: float = 1e-6, scale: int = 2) -> torch.Tensor:
        seen.append((eps, scale))
        return x.new_empty(x.shape[0] * scale, x.shape[1])

    def launch(x, w, out, eps, scale, *, BLOCK):
        ex.rmsnorm_launch(x, w, out, eps, BLOCK=BLOCK)

    plugin = tta.custom_plugin(tta.triton(launch, configs=[{"BLOCK": 256}]), meta_impl=meta)
    op = tta.custom_op("ttatest::rms_fake_defaults", impl=plugin)
    with FakeTensorMode():
        x, w = torch.empty(3, 64), torch.empty(64)
        assert op(x, w).shape == (6, 64)
        assert op(x, w, scale=3).shape == (9, 64)
        assert op(x, w, 1e-6, 2).shape == (6, 64)
    assert (1e-6, 3) in seen


def test_torch_export_with_an_omitted_default_attribute():
    op = tta.custom_op("ttatest::rms_export_defaults", impl=make_rmsnorm())

    class Model(torch.nn.Module):
        def forward(self, x, w):
            return op(x, w) + op(x, w, 1e-6) + op(x, w, eps=0.5)

    exported = torch.export.export(Model(), (torch.randn(4, 64), torch.randn(64)))
    calls = [n for n in exported.graph.nodes if n.op == "call_function" and "rms_export_defaults" in str(n.target)]
    assert len(calls) == 3
    out = exported.module()  # the exported graph still runs the fake kernel's shapes
    assert out is not None
