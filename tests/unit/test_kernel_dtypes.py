"""Element types of CUDA C++ / PTX kernel pointers: read from the kernel's signature (mangled name, template
arguments, extern "C" declaration) or dtypes=, and a tensor of another dtype refused before anything runs."""

import warnings

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import kernel_types
from torch_tensorrt_annotation.examples import cuda_examples as cx

F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16


def meta(*shape, dtype=F32):
    return torch.empty(shape, dtype=dtype, device="meta")


# --- reading the signature (no NVRTC needed) -----------------------------------------------------------------------
def test_demangled_parameters_give_instantiated_types():
    params, origin = kernel_types.pointer_types(entry="_Z7rmsnormILi256EfEvPKT0_S2_iiPS0_", source=None)
    assert params == ["float const*", "float const*", "int", "int", "float*"] and "rmsnorm<256, float>" in origin
    params, _ = kernel_types.pointer_types(entry="_Z1kPK6__halfP13__nv_bfloat16Pv", source=None)
    assert [kernel_types.pointer_element(p) for p in params] == [
        (True, frozenset({"float16"})), (True, frozenset({"bfloat16"})), (True, kernel_types.ANY)]
    assert kernel_types.pointer_types(entry="add_f32", source=None) is None  # extern "C": the name says nothing


def test_extern_c_declaration_is_read_from_the_source():
    source = r"""
    // add_f32(const double* x) in a comment is not the kernel
    __device__ float helper(const float* p) { return p[0]; }
    extern "C" __global__ void __launch_bounds__(256) add_f32(const float* __restrict__ x, const TTA_IN1_T* y,
                                                              int n, __nv_bfloat16 out[], void* scratch) {}
    """
    params, origin = kernel_types.pointer_types(entry="add_f32", source=source)
    assert origin == "its declaration in the source"
    assert [kernel_types.pointer_element(p) for p in params] == [
        (True, frozenset({"float32"})), (True, kernel_types.ANY), (False, kernel_types.ANY),
        (True, frozenset({"bfloat16"})), (True, kernel_types.ANY)]
    assert kernel_types.pointer_element("MyStruct* s") == (True, kernel_types.UNKNOWN)


def test_dtypes_argument_is_validated_when_the_spec_is_made():
    with pytest.raises(tta.SpecError, match=r"unknown dtype\(s\) \['float33'\]"):
        tta.cuda(cx.ADD_SOURCE, "add_f32", cx.add_launch, dtypes="float33")
    assert kernel_types.normalize_dtypes(F16, "x") == frozenset({"float16"})
    assert kernel_types.normalize_dtypes([F32, (F16, BF16), None], "x") == (
        frozenset({"float32"}), frozenset({"float16", "bfloat16"}), None)


# --- compiling (NVRTC) ---------------------------------------------------------------------------------------------
nvrtc = pytest.mark.skipif(__import__("importlib").util.find_spec("cuda.bindings") is None,
                           reason="needs the nvrtc extra (cuda-bindings + nvidia-cuda-nvrtc)")


@nvrtc
def test_float_kernel_refuses_float16_and_names_op_tactic_and_tensor():
    plugin = cx.plugins()["cuda_add"]
    assert len(plugin.compile(meta(1000), meta(1000), ptx_isa=(9, 0))) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", tta.TTAWarning)  # a dtype refusal is an error, not a dropped tactic
        with pytest.raises(tta.DtypeError) as info:
            plugin.compile(meta(1000, dtype=F16), meta(1000, dtype=F16), ptx_isa=(9, 0))
    message = info.value.message
    assert f"Op '{plugin.op_name}', tactic 1" in message and "input 'x'" in message
    assert "takes float32 at kernel parameter 0 (`const float* x`" in message and "is float16" in message
    assert "Fix: call the op with float32 tensors" in message and "(The same for tactic(s) 2.)" in message
    assert isinstance(info.value, tta.CompileError) and (info.value.role, info.value.index) == ("input", 0)
    # an output of the wrong dtype too: inputs float32, the output float16
    plugin = tta.custom_plugin(tta.cuda(cx.ADD_SOURCE, "add_f32", cx.add_launch, configs=[{"BLOCK": 128}]),
                               meta_impl=lambda x, y: torch.empty_like(x, dtype=F16))
    with pytest.raises(tta.DtypeError, match=r"output 0: .* at kernel parameter 2 \(`float\* out`"):
        plugin.compile(meta(1000), meta(1000), ptx_isa=(9, 0))


@nvrtc
def test_template_over_the_dtype_macro_takes_every_dtype_and_fixed_template_types_are_checked():
    plugin = cx.plugins()["cuda_rmsnorm"]  # rmsnorm<{BLOCK}, TTA_IN0_T>
    for dtype in (F32, F16):  # the example includes cuda_fp16.h only
        assert plugin.compile(meta(4, 64, dtype=dtype), meta(64, dtype=dtype), 1e-5, ptx_isa=(9, 0))
    # the weight is always float: the mangled name says so, whatever T is
    source = cx.RMSNORM_SOURCE.replace("const T* w", "const float* w")
    fixed_w = tta.custom_plugin(tta.cuda(source, "rmsnorm<{BLOCK}, TTA_IN0_T>", cx.rmsnorm_launch,
                                         configs=[{"BLOCK": 128}]), meta_impl=cx.rmsnorm_meta)
    assert fixed_w.compile(meta(4, 64, dtype=F16), meta(64), 1e-5, ptx_isa=(9, 0))
    with pytest.raises(tta.DtypeError, match=r"input 'w': .*takes float32 at kernel parameter 1 \(`float const\*`, "
                                             r"read from its mangled name \(void rmsnorm<128, __half>"):
        fixed_w.compile(meta(4, 64, dtype=F16), meta(64, dtype=F16), 1e-5, ptx_isa=(9, 0))


HALF_ADD = r"""#include <cuda_fp16.h>
extern "C" __global__ void add_f16(const __half* x, const __half* y, __half* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __hadd(x[i], y[i]); }"""


def mixed_plugin():
    return tta.custom_plugin([tta.cuda(cx.ADD_SOURCE, "add_f32", cx.add_launch, configs=[{"BLOCK": 128}]),
                              tta.cuda(HALF_ADD, "add_f16", cx.add_launch, configs=[{"BLOCK": 256}])],
                             meta_impl=lambda x, y: torch.empty_like(x))


@nvrtc
def test_a_plugin_with_a_float_and_a_half_kernel_uses_the_one_that_takes_the_dtype():
    plugin = mixed_plugin()
    with warnings.catch_warnings():
        warnings.simplefilter("error", tta.TTAWarning)
        assert [a.tactic for a in plugin.compile(meta(100), meta(100), ptx_isa=(9, 0))] == [1]
        assert [a.tactic for a in plugin.compile(meta(100, dtype=F16), meta(100, dtype=F16), ptx_isa=(9, 0))] == [2]
    with pytest.raises(tta.DtypeError, match=r"tactic 1 .*takes float32.*is bfloat16[\s\S]*tactic 2 .*takes float16"):
        plugin.compile(meta(100, dtype=BF16), meta(100, dtype=BF16), ptx_isa=(9, 0))


@nvrtc
def test_dtypes_argument_that_contradicts_the_declaration_is_refused():
    plugin = tta.custom_plugin(tta.cuda(cx.ADD_SOURCE, "add_f32", cx.add_launch, configs=[{"BLOCK": 128}], dtypes=F16),
                               meta_impl=lambda x, y: torch.empty_like(x))
    with pytest.raises(tta.SpecError, match=r"dtypes= says float16 for pointer parameter 0 of kernel 'add_f32', but "
                                            r"the kernel declares `const float\* x`"):
        plugin.compile(meta(100, dtype=F16), meta(100, dtype=F16), ptx_isa=(9, 0))


# --- precompiled PTX -----------------------------------------------------------------------------------------------
@nvrtc
def test_extern_c_ptx_needs_dtypes_and_then_refuses_other_dtypes():
    from torch_tensorrt_annotation.backends.cuda import nvrtc_compile

    text, entry = nvrtc_compile(cx.ADD_SOURCE, "add_f32", 90, {}, ())
    with pytest.warns(tta.TTAWarning, match=r"state no element type .* Fix: pass dtypes="):
        tta.ptx(text, entry, cx.add_launch, configs=[{"BLOCK": 128}])
    with warnings.catch_warnings():
        warnings.simplefilter("error", tta.TTAWarning)
        plugin = tta.custom_plugin(tta.ptx(text, entry, cx.add_launch, configs=[{"BLOCK": 256}], dtypes=F32),
                                   meta_impl=lambda x, y: torch.empty_like(x))
    assert plugin.compile(meta(100), meta(100), ptx_isa=(9, 0))
    with pytest.raises(tta.DtypeError, match=r"input 'x': Kernel 'add_f32' takes float32 at kernel parameter 0 "
                                             r"\(the spec's dtypes=\), but the input tensor passed there is float16"):
        plugin.compile(meta(100, dtype=F16), meta(100, dtype=F16), ptx_isa=(9, 0))
    # one entry per pointer parameter: y may be any dtype here, so only x is checked
    per_pointer = tta.custom_plugin(tta.ptx(text, entry, cx.add_launch, configs=[{"BLOCK": 128}],
                                            dtypes=[F32, None, (F32, F16)]),
                                    meta_impl=lambda x, y: torch.empty_like(x))
    assert per_pointer.compile(meta(100), meta(100, dtype=F16), ptx_isa=(9, 0))
    with pytest.raises(tta.SpecError, match=r"dtypes= of kernel 'add_f32' has 2 entries, but the launch passes 3"):
        tta.custom_plugin(tta.ptx(text, entry, cx.add_launch, configs=[{"BLOCK": 128}], dtypes=[F32, F32]),
                          meta_impl=lambda x, y: torch.empty_like(x))  # refused when the plugin is made


@nvrtc
def test_mangled_ptx_entry_states_its_types():
    from torch_tensorrt_annotation.backends.cuda import nvrtc_compile

    text, entry = nvrtc_compile(cx.RMSNORM_SOURCE, "rmsnorm<256, float>", 90, {"TTA_eps": "1e-5"}, ())
    assert entry.startswith("_Z")
    with warnings.catch_warnings():
        warnings.simplefilter("error", tta.TTAWarning)  # no warning: the name says the types
        plugin = tta.custom_plugin(tta.ptx(text, entry, cx.rmsnorm_launch, configs=[{"BLOCK": 256}]),
                                   meta_impl=cx.rmsnorm_meta)
    assert plugin.compile(meta(4, 64), meta(64), 1e-5, ptx_isa=(9, 0))
    with pytest.raises(tta.DtypeError, match=r"read from its mangled name \(void rmsnorm<256, float>"):
        plugin.compile(meta(4, 64, dtype=F16), meta(64, dtype=F16), 1e-5, ptx_isa=(9, 0))
