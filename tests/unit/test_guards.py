"""Guarded specialization: decisions on dims are taken for the recording's dims and guarded (eager, compile), or
decided by a TensorRT profile's static dims and min/max, or refused naming the dim, the line and the fixes."""

import re
import warnings

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import symbolic
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.spec import CONSTANT, EXTRA

from . import bad_launches as bad
from . import shape_helpers as helpers

TARGET = tta.Target.parse("sm_90", (9, 0))


def plugin_of(launch_fn, configs=({},), meta_impl=helpers.meta_impl):
    return tta.custom_plugin(tta.triton(launch_fn, configs=list(configs)), meta_impl=meta_impl)


def plan_for(plugin, *shapes, profile=None, tactic=1, dtype=torch.float32):
    n_out = plugin.schema.num_outputs
    ranks = [len(s) for s in (profile.inputs if profile else shapes)]
    return plugin.plan(plugin.tactics[tactic - 1], [dtype] * len(ranks), ranks, [dtype] * n_out, [ranks[0]] * n_out,
                       [], shapes=None if profile else symbolic.Shapes(tuple(shapes), (shapes[0],) * n_out),
                       profile=profile)


def constants(plan):
    return {a.name: a.value for a in plan.args if a.kind == CONSTANT}


def guards(plan):
    return {str(e): v for e, v in plan.guards}


def profile(*inputs):
    """inputs: per tensor, per axis an int (static) or a (min, max) range (dynamic); the output is like input 0."""
    dims = tuple(tuple((d, d) if isinstance(d, int) else d for d in t) for t in inputs)
    return symbolic.Profile(dims, (dims[0],))


# --- eager / compile: taken for the example shapes, guarded, recorded again on a guard miss -----------------------
def test_helper_in_another_module_branches_and_num_warps_are_guarded():
    plugin = plugin_of(helpers.library_launch)
    plan = plan_for(plugin, (4, 1000))
    assert constants(plan)["BLOCK"] == 1024 and constants(plan)["LONG"] is False
    assert dict(plan.options)["num_warps"] == 4
    assert [a.name for a in plan.of_kind(EXTRA)] == ["n_cols"]  # the dim itself stays a runtime argument
    assert guards(plan) == {"(next_power_of_2(in0.shape[-1]) > 65536)": 0,
                            "(next_power_of_2(in0.shape[-1]) >= 32768)": 0,
                            "(next_power_of_2(in0.shape[-1]) >= 8192)": 0,
                            "(next_power_of_2(in0.shape[-1]) >= 2048)": 0,
                            "(in0.numel() > 2147483647)": 0,
                            "next_power_of_2(in0.shape[-1])": 1024}
    # shapes that satisfy every guard reuse the recording; others record again with their own decisions
    assert plan_for(plugin, (64, 600)) is plan
    wide = plan_for(plugin, (2, 3000))
    assert wide is not plan and constants(wide)["BLOCK"] == 4096 and dict(wide.options)["num_warps"] == 8
    assert plan_for(plugin, (4, 1000)) is plan and plan_for(plugin, (9, 2100)) is wide


def test_branch_int_range_and_bit_tricks_record_guards_not_errors():
    plugin = plugin_of(bad.data_dependent, [{"BLOCK": 256}], meta_impl=ex.add_meta)  # `if n > 4096: launch`
    big = plan_for(plugin, (5000,), (5000,))
    assert guards(big) == {"(in0.numel() > 4096)": 1}
    with pytest.raises(tta.RecordingError, match="launched no Triton kernel"):
        plan_for(plugin, (100,), (100,))  # the other branch launches nothing: that is the error now

    looped = plan_for(plugin_of(helpers.int_and_range_launch), (3, 5, 100))
    # int(): a guarded Python int; passed to a runtime parameter it is a constant int32 extra, as Triton passes it
    assert constants(looped)["BLOCK"] == 128
    (n_cols,) = [a for a in looped.args if a.name == "n_cols"]
    assert n_cols.kind == "extra" and isinstance(n_cols.expr, symbolic.Const) and n_cols.expr.value == 100
    assert guards(looped) == {"in0.shape[-1]": 100}  # the loop over range(x.dim() - 1) multiplies symbolically
    assert looped.grid[0].evaluate(symbolic.Shapes(((7, 2, 100),))) == 14

    tricks = plan_for(plugin_of(helpers.bit_tricks_launch), (4, 1000))
    assert constants(tricks)["BLOCK"] == 1024
    (expr, value), = [(e, v) for e, v in tricks.guards if "|" in str(e)]
    assert value == 1024 and "in0.shape[-1]" in str(expr)  # Triton's own `n |= n >> 1 ...`, guarded as a whole
    assert plan_for(plugin_of(helpers.bit_tricks_launch), (4, 1000)) is not tricks  # another plugin, own cache


def test_artifacts_carry_their_guards_and_refuse_other_shapes(meta):
    plugin = plugin_of(helpers.library_launch)
    (art,) = plugin.compile(meta(4, 1000), ptx_isa=(9, 0))
    assert dict(art.metadata)["num_warps"] == 4 and dict(art.constants)["BLOCK"] == 1024
    assert {str(e) for e, _ in art.guards} >= {"(next_power_of_2(in0.shape[-1]) >= 2048)"}
    art.launch_params(symbolic.Shapes(((7, 513),), ((7, 513),)))
    with pytest.raises(ValueError, match=r"guard `.*next_power_of_2\(in0.shape\[-1\]\).* == .*` .* give"):
        art.launch_params(symbolic.Shapes(((4, 3000),), ((4, 3000),)))
    (wide,) = plugin.compile(meta(4, 3000), ptx_isa=(9, 0))
    assert dict(wide.metadata)["num_warps"] == 8 and wide.kernel_name != art.kernel_name


def test_many_recompiles_warn_once(monkeypatch):
    monkeypatch.setenv("TTA_RECOMPILE_LIMIT", "2")
    plugin = plugin_of(helpers.int_and_range_launch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in (10, 20, 30, 40, 50):
            plan_for(plugin, (2, n))
    messages = [str(w.message) for w in caught if issubclass(w.category, tta.TTAWarning)]
    assert len(messages) == 1 and "recorded and compiled 3 times" in messages[0]
    assert "TTA_RECOMPILE_LIMIT" in messages[0]


def test_plugin_creation_defers_decisions_to_compile_time():
    plugin = plugin_of(helpers.library_launch)  # no example shapes at creation: the check stops at the decision
    with pytest.raises(tta.RecordingError, match="needs example shapes"):
        plugin.plan(plugin.tactics[0], [torch.float32], [2], [torch.float32], [2], [])


# --- TensorRT profiles ------------------------------------------------------------------------------------------------
def test_static_dims_decide_freely_and_dynamic_batch_is_symbolic():
    plugin = plugin_of(helpers.library_launch)
    plan = plan_for(plugin, profile=profile(((1, 64), 1000)))
    assert constants(plan)["BLOCK"] == 1024 and dict(plan.options)["num_warps"] == 4
    rows = plan.grid[0]
    assert rows.evaluate(symbolic.Shapes(((7, 1000),))) == 7 and rows.evaluate(symbolic.Shapes(((64, 1000),))) == 64
    # LONG: numel <= 64 * 1000 over the profile decides `numel > 2**31 - 1` without a static batch
    assert constants(plan)["LONG"] is False


def test_profile_min_max_decide_a_guard_on_a_dynamic_dim():
    plugin = plugin_of(helpers.library_launch)
    plan = plan_for(plugin, profile=profile((8, (600, 1000))))  # next_power_of_2 is 1024 throughout
    assert constants(plan)["BLOCK"] == 1024 and dict(plan.options)["num_warps"] == 4


def test_undecided_dynamic_dim_is_refused_naming_dim_line_and_fixes():
    plugin = plugin_of(helpers.library_launch)
    with pytest.raises(tta.RecordingError) as info:
        plan_for(plugin, profile=profile((8, (256, 4096))))
    message = str(info.value)
    assert "dim 1 of input 'x' (in0.shape[1], profile range [256, 4096])" in message
    assert re.search(r"shape_helpers.py:\d+: elif block >= 2048:", message)
    assert "make that dim static in the profile" in message and "config value" in message
    assert "tactic 1" in message


def test_static_dims_let_the_tensorrt_artifact_assume_what_eager_assumes():
    """RMSNorm at (4096, 4096) fp16 with a static hidden dim: the TensorRT artifact is the eager artifact's code."""
    plugin = tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=ex.rmsnorm_meta)
    common = dict(in_dtypes=[torch.float16] * 2, out_dtypes=[torch.float16], in_ranks=[2, 1], out_ranks=[2],
                  attrs=[1e-5])
    shapes = symbolic.Shapes(((4096, 4096), (4096,)), ((4096, 4096),))
    for tactic in plugin.tactics:
        eager = plugin.compile_tactic(tactic, TARGET, shapes=shapes, specialize_divisibility=True, **common)
        profile = symbolic.Profile((((1, 8192), (4096, 4096)), ((4096, 4096),)), (((1, 8192), (4096, 4096)),))
        trt = plugin.compile_tactic(tactic, TARGET, profile=profile, **common)
        plain = plugin.compile_tactic(tactic, TARGET, profile=symbolic.Profile((((1, 8192), (1, 8192)), ((1, 8192),)),
                                                                        (((1, 8192), (1, 8192)),)), **common)
        assert trt.ptx.replace(trt.kernel_name, "K") == eager.ptx.replace(eager.kernel_name, "K")
        assert re.search(r"ld\.global\.v\d", trt.ptx)
        assert plain.ptx.replace(plain.kernel_name, "K") != trt.ptx.replace(trt.kernel_name, "K")
        assert "(in0.shape[-1] % 16)" in {str(e) for e, _ in trt.guards}
        assert trt.launch_params(symbolic.Shapes(((3, 4096), (4096,)), ((3, 4096),), (1e-5,))).grid == (3, 1, 1)
