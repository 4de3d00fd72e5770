"""Real launch code, recorded and compiled for sm_90 on the CPU, with TensorRT's ABI read back from the PTX:
runtime scalars keep their type, tensor views, @triton.autotune / @triton.heuristics as written, and what stays
refused names its cause at the user's line."""

import logging

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing, symbolic
from torch_tensorrt_annotation.spec import CONSTANT, EXTRA, INPUT, OUTPUT

from . import launch_kinds as K

SM90 = dict(arch="sm_90", ptx_isa=(9, 0))


def entry_types(artifact):
    (entry,) = ptx_parsing.parse(artifact.ptx).entries
    return [p.ptx_type for p in entry.params]


def plugin_of(launch_fn, meta_impl=K.like, configs=None, **kwargs):
    return tta.custom_plugin(tta.triton(launch_fn, configs=configs), meta_impl=meta_impl, **kwargs)


# --- runtime scalars
def test_float_and_int_attributes_stay_runtime_scalars_with_the_kernels_types(meta):
    plugin = K.affine_plugin()
    arts = plugin.compile(meta(1000), -2.5, -7, **SM90)
    for art in arts:
        assert art.describe_params() == "input0:x_ptr, extra0:n, extra1:scale, extra2:shift, output0:out_ptr"
        # the PTX keeps the kernel's own types: scale .f32, shift and n 32-bit ints; TensorRT passes 4 bytes each
        assert entry_types(art) == [".u64", ".u32", ".f32", ".u32", ".u64"]
        assert art.extras == (symbolic.Numel(symbolic.INPUT, 0), symbolic.Scalar(0, "scale", "fp32"),
                              symbolic.Scalar(1, "shift", "i32"))
        assert "scale" not in dict(art.constants) and "shift" not in dict(art.constants)
        lp = art.launch_params(symbolic.Shapes(((1000,),), ((1000,),), (-2.5, -7)))
        assert lp.extras == (1000, -1071644672, -7)  # -2.5 is 0xc0200000 in IEEE-754 binary32


def test_one_artifact_serves_every_attribute_value(meta):
    plugin = K.affine_plugin()
    first = plugin.compile(meta(1000), 1e-5, 3, **SM90)
    second = plugin.compile(meta(1000), float("nan"), -40, **SM90)
    assert [(a.kernel_name, a.ptx) for a in first] == [(a.kernel_name, a.ptx) for a in second]


@pytest.mark.parametrize("value, bits", [
    (-2.5, -1071644672), (1e-40, 71362), (3e38, 2137108966), (1e39, 0x7F800000), (float("inf"), 0x7F800000),
    (float("-inf"), -8388608), (-0.0, -(2**31)), (0.1, 0x3DCCCCCD)])
def test_float32_bits_are_ieee754_binary32_with_c_float_rounding(value, bits):
    assert symbolic.float32_bits(value) == bits


def test_nan_bits_are_a_float32_nan():
    import struct

    bits = symbolic.float32_bits(float("nan"))
    assert struct.unpack("<f", struct.pack("<i", bits))[0] != struct.unpack("<f", struct.pack("<i", bits))[0]


def test_literal_float_and_int_are_constant_extras_and_int_one_is_specialized_like_triton(meta):
    def launch(x, out, *, BLOCK=256):
        K.affine_kernel[(tta.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), 0.5, 5, BLOCK=BLOCK)

    (art,) = plugin_of(launch, configs=[{}]).compile(meta(64), **SM90)
    assert art.extras == (symbolic.Numel(symbolic.INPUT, 0), symbolic.Const(symbolic.float32_bits(0.5)),
                          symbolic.Const(5))
    assert entry_types(art) == [".u64", ".u32", ".f32", ".u32", ".u64"]

    def launch_one(x, out, *, BLOCK=256):
        K.alias_kernel[(1,)](x, out, 1, BLOCK=BLOCK)

    (art,) = plugin_of(launch_one, configs=[{}]).compile(meta(64), **SM90)
    assert dict(art.constants)["n"] == 1 and art.extras == ()  # Triton's own launcher specializes an int 1


def test_64_bit_int_attribute_is_baked_in(meta):
    plugin = K.affine_plugin()
    tensors, attrs, in_shapes, in_dtypes, out_shapes, out_dtypes = plugin.example_signature((meta(64), 1.0, 2**40))
    plan = plugin.plan(plugin.tactics[0], in_dtypes, [1], out_dtypes, [1], attrs)
    shift = next(a for a in plan.args if a.name == "shift")
    assert shift.kind == CONSTANT and shift.value == 2**40 and type(shift.value) is int


# --- views
def test_view_reshape_contiguous_record_the_same_pointer_with_new_shapes(meta):
    plugin = plugin_of(K.view_launch)
    (art,) = plugin.compile(meta(2, 3, 1000), **SM90)
    assert art.describe_params() == "input0:x_ptr, extra0:n_cols, extra1:stride_row, output0:out_ptr"
    assert entry_types(art) == [".u64", ".u32", ".u32", ".u64"]
    lp = art.launch_params(symbolic.Shapes(((2, 3, 1000),), ((2, 3, 1000),)))
    assert lp.grid == (6, 1, 1) and lp.extras == (1000, 1000)


def test_flatten_unsqueeze_squeeze(meta):
    (art,) = plugin_of(K.flatten_launch).compile(meta(4, 50), **SM90)
    lp = art.launch_params(symbolic.Shapes(((4, 50),), ((4, 50),)))
    assert lp.grid == (1, 1, 1) and lp.extras == (200, 200)


def test_reinterpret_and_dtype_view_change_the_pointer_type(meta):
    plugin = plugin_of(K.reinterpret_launch, configs=[{}])
    (art,) = plugin.compile(meta(1000, dtype=torch.bfloat16), **SM90)
    assert art.input_dtypes == ("bfloat16",) and art.describe_params() == "input0:x_ptr, extra0:n, output0:out_ptr"
    assert art.extras[0].evaluate(symbolic.Shapes(((1000,),), ((1000,),))) == 1000
    assert "xor.b16" in art.ptx  # the kernel works on int16 bits, as triton.reinterpret asked


def test_expand_broadcasts_with_stride_zero(meta):
    plugin = tta.custom_plugin(tta.triton(K.expand_launch), meta_impl=lambda x, w: torch.empty_like(x))
    (art,) = plugin.compile(meta(8, 100), meta(100), **SM90)
    assert art.launch_params(symbolic.Shapes(((8, 100), (100,)), ((8, 100),))).extras == (100, 100)  # stride 0 added


@pytest.mark.parametrize("launch_fn, message", [
    (K.scratch_launch, r"allocates a new tensor \(torch.empty\(...\) at .*launch_kinds.py:\d+: tmp = torch.empty"),
    (K.new_empty_launch, r"allocates a new tensor \(x.new_empty\(\).*no workspace"),
    (K.squeeze_dim_launch, r"squeeze\(0\).*depends on whether `in0.shape\[0\]` is 1"),
])
def test_scratch_allocations_and_undecidable_views_are_refused(launch_fn, message):
    with pytest.raises(tta.RecordingError, match=message):
        plugin_of(launch_fn).compile(torch.empty(4, 64, device="meta"), **SM90)


# --- @triton.autotune and @triton.heuristics
def test_autotune_configs_become_tactics(meta, caplog):
    with caplog.at_level(logging.WARNING):
        plugin = plugin_of(K.tuned_launch)
    assert "num_ctas > 1" in caplog.text  # the cluster config is left out, visibly
    assert [dict(t.config) for t in plugin.tactics] == [{"BLOCK": 256, "num_warps": 2, "num_stages": 3},
                                                         {"BLOCK": 1024, "num_warps": 8, "num_stages": 2}]
    arts = plugin.compile(meta(5000), **SM90)
    assert [dict(a.metadata)["num_warps"] for a in arts] == [2, 8]
    assert [ptx_parsing.parse(a.ptx).entries[0].reqntid for a in arts] == [(64,), (256,)]
    assert [a.grid[0].evaluate(symbolic.Shapes(((5000,),), ((5000,),))) for a in arts] == [20, 5]
    assert all(a.describe_params() == "input0:x_ptr, extra0:n, output0:out_ptr" for a in arts)


def test_explicit_spec_configs_win_over_the_autotuner(meta):
    plugin = plugin_of(K.tuned_launch, configs=[{"BLOCK": 64, "num_warps": 1}])
    (art,) = plugin.compile(meta(5000), **SM90)
    assert art.grid[0].evaluate(symbolic.Shapes(((5000,),), ((5000,),))) == 79 and dict(art.metadata)["num_warps"] == 1


def test_library_autotuner_subclass_over_heuristics(meta):
    plugin = plugin_of(K.library_launch)
    assert [dict(t.config)["BLOCK"] for t in plugin.tactics] == [128, 2048]
    arts = plugin.compile(meta(4096), **SM90)
    # HALF_BLOCK comes from a heuristic over the autotune config
    assert [dict(a.constants)["HALF_BLOCK"] for a in arts] == [64, 1024]


def test_heuristic_of_dims_is_evaluated_on_the_recorded_arguments(meta):
    plugin = plugin_of(K.heuristic_block_launch)
    (art,) = plugin.compile(meta(6, 300), **SM90)
    assert dict(art.constants)["BLOCK"] == 512  # min(next_power_of_2(300), 4096), baked in and guarded
    assert [str(g) for g, _ in art.guards] == ["min(next_power_of_2(in0.shape[-1]), 4096)"]


def test_a_heuristic_that_decides_on_dims_is_guarded(meta):
    """EVEN = n % BLOCK == 0 decides on a dim: taken for the shapes compiled, and guarded."""
    plugin = plugin_of(K.even_launch, configs=[{}])
    (odd,) = plugin.compile(meta(5000), **SM90)
    (even,) = plugin.compile(meta(4096), **SM90)
    assert {str(e): v for e, v in odd.guards}["((in0.numel() % 128) == 0)"] == 0
    assert {str(e): v for e, v in even.guards}["((in0.numel() % 128) == 0)"] == 1
    assert dict(odd.constants)["EVEN"] is False and dict(even.constants)["EVEN"] is True


def test_prune_configs_by_drops_the_pruned_tactic(meta):
    plugin = plugin_of(K.pruned_launch)
    assert len(plugin.tactics) == 2
    arts = plugin.compile(meta(5000), **SM90)
    assert [a.tactic for a in arts] == [1]


def test_reset_to_zero_needs_zeroed_outputs(meta):
    plugin = plugin_of(K.atomic_sum_launch, meta_impl=lambda x: x.new_empty(1))
    with pytest.raises(tta.RecordingError, match=r"accumulates into output\(s\) \[0\].*reset_to_zero.*start zeroed"):
        plugin.compile(meta(5000), **SM90)


def test_autotune_hooks_are_refused():
    with pytest.raises(tta.RecordingError, match=r"has pre_hook.*silently skipped"):
        plugin_of(K.hooked_launch)


# --- what stays refused names the cause
def test_warmup_and_occupancy_code_is_refused_at_the_users_line():
    with pytest.raises(tta.RecordingError, match=r"compiles kernel 'tuned_scale_kernel' itself .*launch_kinds.py:\d+: "
                                                 r"compiled = tuned_scale_kernel.fn.warmup.*n_regs"):
        plugin_of(K.warmup_launch)


def test_device_tensor_descriptor_names_the_kernel_line(meta):
    with pytest.raises(tta.CompileError, match=r"global_scratch_size memory: it creates a tensor descriptor on the "
                                               r"device at .*launch_kinds.py:\d+: dx = tl.make_tensor_descriptor"):
        plugin_of(K.device_descriptor_launch).compile(meta(256, 64), **SM90)


def test_host_tma_descriptor_is_refused_with_the_reason(meta):
    with pytest.raises(tta.RecordingError, match=r"host-side TMA tensor descriptor \(TensorDescriptor"
                                                 r".*launch_kinds.py:\d+: desc = TensorDescriptor"):
        plugin_of(K.host_descriptor_launch).compile(meta(64, 64), **SM90)


def test_missing_triton_api_names_the_line_and_the_triton_version(meta):
    import triton

    with pytest.raises(tta.CompileError) as info:
        plugin_of(K.missing_api_launch, configs=[{}]).compile(meta(100), **SM90)
    text = info.value.message
    assert "launch_kinds.py:" in text and f"Triton {triton.__version__}" in text and "deployment" in text


def test_one_tensor_passed_twice_is_refused():
    with pytest.raises(tta.RecordingError, match=r"Input 0 is passed to kernel 'alias_kernel' twice"):
        plugin_of(K.alias_launch)


def test_kernel_args_are_classified(meta):
    plugin = K.affine_plugin()
    tensors, attrs, in_shapes, in_dtypes, out_shapes, out_dtypes = plugin.example_signature((meta(10), 2.0, 3))
    plan = plugin.plan(plugin.tactics[0], in_dtypes, [1], out_dtypes, [1], attrs)
    assert [(a.name, a.kind, a.dtype) for a in plan.args] == [
        ("x_ptr", INPUT, None), ("out_ptr", OUTPUT, None), ("n", EXTRA, None), ("scale", EXTRA, "fp32"),
        ("shift", EXTRA, None), ("BLOCK", CONSTANT, None)]


# --- device guards
def test_a_device_guard_around_the_launch_selects_nothing_while_recording(meta):
    """`with torch.cuda.device(x.device):` (directly, or in a library helper such as liger-kernel's
    device_context) is recorded on a machine without CUDA; outside a recording torch's guard is unchanged."""
    (art,) = plugin_of(K.device_guard_launch, configs=[{}]).compile(meta(1000), **SM90)
    assert art.describe_params() == "input0:x_ptr, extra0:n, extra1:scale, extra2:shift, output0:out_ptr"
    if not torch.cuda.is_available():
        with pytest.raises((RuntimeError, TypeError, AssertionError)):
            with torch.cuda.device(torch.device("cuda", 0)):
                pass


def test_a_cast_to_the_same_dtype_is_the_tensor_itself_and_a_conversion_is_refused(meta):
    (art,) = plugin_of(K.same_dtype_cast_launch, configs=[{}]).compile(meta(1000), **SM90)
    assert art.describe_params() == "input0:x_ptr, extra0:n, extra1:scale, extra2:shift, output0:out_ptr"
    with pytest.raises(tta.RecordingError, match=r"allocates a new tensor \(x.to\(torch.float16\) at "
                                                 r".*launch_kinds.py:\d+: x = x.to\(torch.float16\)"):
        plugin_of(K.converting_cast_launch, configs=[{}]).compile(meta(1000), **SM90)


def test_a_method_on_an_argument_triton_made_constant_is_not_called_a_missing_api(meta):
    """Triton specializes the literal int 1 into a constant; the kernel's `shift.to(...)` then fails to compile.
    The error says so (as Triton's own launcher fails), instead of blaming the installed Triton's API."""
    with pytest.raises(tta.CompileError, match=r"(?s)'int' object has no attribute 'to'.*compile-time Python int, "
                                               r"which has no `.to`.*equal to 1") as info:
        plugin_of(K.literal_one_launch, configs=[{}]).compile(meta(1000), **SM90)
    assert "does not have (any more)" not in str(info.value)


def test_bit_length_of_a_dim_is_guarded_like_next_power_of_2(meta):
    (art,) = plugin_of(K.bit_length_launch, configs=[{}]).compile(meta(1000), **SM90)
    assert dict(art.constants)["BLOCK"] == 1024
    # every numel of the same bit length reuses the artifact; another one breaks a guard
    assert art.launch_params(symbolic.Shapes(((600,),), ((600,),))).grid == (1, 1, 1)
    with pytest.raises(ValueError, match="was compiled under the guard"):
        art.launch_params(symbolic.Shapes(((1500,),), ((1500,),)))
    assert all("next_power_of_2" in str(e) or "numel" in str(e) for e, _ in art.guards)
