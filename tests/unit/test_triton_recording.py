"""Recording Triton launch functions: what is captured, and clear errors for what cannot be expressed."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import symbolic
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.spec import CONSTANT, EXTRA, INPUT, OUTPUT

from ..helpers import run_in_threads
from . import bad_launches as bad


def plan_of(plugin, *example, tactic=1):
    tensors, attrs, in_shapes, in_dtypes, out_shapes, out_dtypes = plugin.example_signature(example)
    return plugin.plan(plugin.tactics[tactic - 1], in_dtypes, [len(s) for s in in_shapes], out_dtypes,
                       [len(s) for s in out_shapes], attrs), symbolic.Shapes(in_shapes, out_shapes)


def add_plugin(launch_fn, configs=({"BLOCK": 256},)):
    return tta.custom_plugin(tta.triton(launch_fn, configs=list(configs)), meta_impl=ex.add_meta)


def test_elementwise_launch_records_pointers_numel_extra_and_grid(meta):
    plugin = add_plugin(ex.add_launch, ex.ADD_CONFIGS)
    plan, shapes = plan_of(plugin, meta(1000), meta(1000))
    kinds = [(a.name, a.kind, a.index) for a in plan.args]
    assert kinds == [("x_ptr", INPUT, 0), ("y_ptr", INPUT, 1), ("out_ptr", OUTPUT, 0),
                     ("n_elements", EXTRA, -1), ("BLOCK", CONSTANT, -1)]
    assert plan.args[3].expr == symbolic.Numel(symbolic.INPUT, 0)
    assert [g.evaluate(shapes) for g in plan.grid] == [4, 1, 1]  # cdiv(1000, 256)
    assert dict(plan.options)["num_warps"] == 2


def test_2d_tiled_launch_records_strides_and_lambda_grid(meta):
    plugin = tta.custom_plugin(tta.triton(ex.scale2d_launch, configs=ex.SCALE2D_CONFIGS), meta_impl=ex.scale2d_meta)
    plan, shapes = plan_of(plugin, meta(100, 300), tactic=2)
    extras = [a for a in plan.args if a.kind == EXTRA]
    assert [a.name for a in extras] == ["M", "N", "stride_xm", "stride_om"]
    assert [a.expr.evaluate(shapes) for a in extras] == [100, 300, 300, 300]
    assert extras[3].expr == symbolic.Stride(symbolic.OUTPUT, 0, 0)
    assert [g.evaluate(shapes) for g in plan.grid] == [2, 3, 1]  # cdiv(100, 64), cdiv(300, 128)


def test_reduction_with_float_attribute_keeps_it_a_runtime_fp32_scalar(meta):
    plugin = tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=ex.rmsnorm_meta)
    plan, shapes = plan_of(plugin, meta(4, 8, 1000), meta(1000), 1e-5)
    eps = next(a for a in plan.args if a.name == "eps")
    assert eps.kind == EXTRA and eps.dtype == "fp32" and eps.expr == symbolic.Scalar(0, "eps", "fp32")
    # as written: x.shape[-1]
    assert next(a for a in plan.args if a.name == "N").expr == symbolic.Dim(symbolic.INPUT, 0, -1)
    assert plan.grid[0].evaluate(shapes) == 32


def test_two_outputs_are_classified_by_output_index(meta):
    plugin = tta.custom_plugin(tta.triton(ex.sum_diff_launch, configs=ex.SUM_DIFF_CONFIGS),
                               meta_impl=ex.sum_diff_meta)
    plan, _ = plan_of(plugin, meta(777), meta(777))
    assert [(a.kind, a.index) for a in plan.args if a.kind == OUTPUT] == [(OUTPUT, 0), (OUTPUT, 1)]
    assert plugin.schema.num_outputs == 2


def test_supported_idioms_record_the_right_expressions(meta):
    plugin = add_plugin(bad.idioms, [{"BLOCK": 128}])
    plan, shapes = plan_of(plugin, meta(6, 1000), meta(6, 1000))
    n_arg = next(a for a in plan.args if a.name == "n_elements")
    assert n_arg.expr.evaluate(shapes) == 6 * 1000
    # grid = max(1, 2 * cdiv(6000, 2 * min(128, next_pow2(1000))))
    assert plan.grid[0].evaluate(shapes) == 2 * -(-6000 // 256)
    assert plan.grid[0].evaluate(symbolic.Shapes(((1, 50), (1, 50)))) == 2 * -(-50 // 128)


@pytest.mark.parametrize(
    "launch_fn, message",
    [
        (bad.no_launch, "launched no Triton kernel"),
        (bad.two_launches, "launched 2 kernels"),
        (bad.captured_tensor, "Unsupported kernel argument .*argument 'y_ptr'.*Tensor"),
        (bad.float_shape_math, "applied 'mul' to a tensor dim and a float"),
        (bad.autotuned, "@triton.autotune"),
        (bad.clusters, "num_ctas=2"),
    ],
)
def test_unexpressible_launches_fail_at_plugin_creation(launch_fn, message):
    with pytest.raises(tta.RecordingError, match=message) as info:
        add_plugin(launch_fn)
    assert launch_fn.__name__ in str(info.value)  # names the spec


def test_unknown_config_key_names_key_and_launch_parameters():
    with pytest.raises(tta.RecordingError, match=r"key\(s\) \['BLOK'\].*parameters: \['x', 'y', 'out', 'BLOCK'"):
        add_plugin(ex.add_launch, [{"BLOK": 256}])


def test_config_values_must_be_plain():
    with pytest.raises(tta.SpecError, match="Config values must be int, float, bool, str or None"):
        tta.triton(ex.add_launch, configs=[{"BLOCK": [256]}])


def test_recording_does_not_disturb_other_threads_or_leave_patches():
    from triton.runtime.jit import JITFunction

    original = JITFunction.run
    _, errors = run_in_threads(lambda: add_plugin(ex.add_launch), 8)
    assert not errors
    assert JITFunction.run is original


def test_meta_impl_returning_a_non_tensor_is_rejected_at_creation():
    with pytest.raises(tta.SpecError, match="must return 1 tensor"):
        tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 256}]),
                          meta_impl=lambda x, y: (x.shape, None))


def test_schema_is_read_from_meta_impl():
    plugin = tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=ex.rmsnorm_meta)
    assert plugin.schema.torch_schema() == "(Tensor x, Tensor w, float eps=1e-06) -> Tensor"


def test_tensor_after_attribute_is_rejected():
    def meta_impl(x, eps: float, w):
        return torch.empty_like(x)

    with pytest.raises(tta.SpecError, match="tensors first"):
        tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=meta_impl)
