"""Writes through inputs, unwritten outputs and atomics-only outputs are refused from the PTX; in-place outputs
(meta_impl returns the input) and zeroed outputs are supported. Compiled on the CPU for sm_90."""

import types
import warnings

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing
from torch_tensorrt_annotation.errors import CompileError, RegistrationError, SpecError, TTAWarning

from . import in_place_kernels as K

TARGET = dict(arch="sm_90", ptx_isa=(9, 0))


def compile_one(plugin, *inputs):
    return plugin.compile(*inputs, workers=1, **TARGET)


def writes(artifact):
    """{param kind+index: kinds of writes} for an artifact, from its final PTX."""
    entry = ptx_parsing.parse(artifact.ptx).entry(artifact.kernel_name)
    report = ptx_parsing.memory_writes(artifact.ptx, entry)
    return {f"{p.kind}{p.index}": sorted({w.kind for w in report.of(e.name)})
            for p, e in zip(artifact.params, entry.params)}, report


# --- refusals ------------------------------------------------------------------------------------------------------
def test_triton_kernel_writing_its_input_is_refused_naming_kernel_tactic_op_and_tensor(meta):
    plugin = tta.custom_plugin(tta.triton(K.writes_input_launch, configs=[{"BLOCK": 256}]),
                               meta_impl=lambda x: torch.empty_like(x))
    with pytest.raises(CompileError) as err:
        compile_one(plugin, meta(1000))
    msg = err.value.message
    assert "writes through input 'x' (kernel argument 'x_ptr')" in msg
    assert "scale_inplace_kernel" in msg and "tactic 1" in msg and plugin.op_name in msg
    assert "st.global" in msg and "return x" in msg  # observed instruction and the fix


def test_output_the_kernel_never_writes_is_refused(meta):
    plugin = tta.custom_plugin(tta.triton(K.ignores_out_launch, configs=[{"BLOCK": 256}]),
                               meta_impl=lambda x: torch.empty_like(x))
    with pytest.raises(CompileError, match=r"never writes output 0 \(kernel argument 'out_ptr'\).*uninitialized"):
        compile_one(plugin, meta(1000))


def test_output_written_only_with_atomics_needs_zeroed_outputs(meta):
    plugin = tta.custom_plugin(tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS), meta_impl=K.colsum_meta)
    with pytest.raises(CompileError) as err:
        compile_one(plugin, meta(1000, 300))
    assert "only with atomics or reductions" in err.value.message
    assert "zeroed_outputs=(0,)" in err.value.message and "atom.global" in err.value.message

    by_name = tta.custom_plugin(tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS), meta_impl=K.colsum_meta,
                                zeroed_outputs=("out",))
    by_index = tta.custom_plugin(tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS), meta_impl=K.colsum_meta,
                                 zeroed_outputs=(0,))
    assert by_name.zeroed_outputs == by_index.zeroed_outputs == (0,)
    assert by_name.op_name == by_index.op_name != plugin.op_name  # zeroing changes what the op does
    artifacts = compile_one(by_name, meta(1000, 300))
    assert len(artifacts) == 2
    found, _ = writes(artifacts[0])
    assert found["output0"] == [ptx_parsing.ACCUMULATE] and found["input0"] == []


def test_cuda_kernels_are_checked_the_same_way(meta):
    writes_input = tta.custom_plugin(
        tta.cuda(K.CUDA_SRC, "scale_into_input", K.cuda_writes_input_launch, configs=[{"BLOCK": 128}]),
        meta_impl=lambda x: torch.empty_like(x))
    with pytest.raises(CompileError, match=r"writes through input 'x' \(kernel argument 'arg0'\)"):
        compile_one(writes_input, meta(1000))

    colsum = tta.cuda(K.CUDA_SRC, "colsum", K.cuda_colsum_launch, configs=[{"BLOCK": 128}])
    with pytest.raises(CompileError, match="only with atomics"):
        compile_one(tta.custom_plugin(colsum, meta_impl=K.colsum_meta), meta(64, 300))
    (artifact,) = compile_one(tta.custom_plugin(colsum, meta_impl=K.colsum_meta, zeroed_outputs="out"),
                              meta(64, 300))
    assert writes(artifact)[0]["output0"] == [ptx_parsing.ACCUMULATE]

    inplace = tta.custom_plugin(tta.cuda(K.CUDA_SRC, "scale_inplace", K.cuda_inplace_launch,
                                         configs=[{"BLOCK": 128}]), meta_impl=lambda x: x)
    (artifact,) = compile_one(inplace, meta(1000))
    assert artifact.describe_params() == "input0:arg0, extra0:arg1, output0:=input0"
    assert writes(artifact)[0] == {"input0": [ptx_parsing.STORE], "extra0": [], "output0": []}


# --- in-place support --------------------------------------------------------------------------------------------
def test_in_place_op_schema_and_artifact_layout(meta):
    plugin = tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]),
                               meta_impl=lambda x: x)
    assert plugin.schema.torch_schema() == "(Tensor(a!) x) -> Tensor(a!)"
    assert plugin.schema.aliases == (0,) and plugin.schema.launch_outputs == ()
    artifacts = compile_one(plugin, meta(1000))
    assert len(artifacts) == 2
    for art in artifacts:
        # TensorRT still passes the aliased output (its pointer equals the input's): an unused slot, last
        assert [(p.kind, p.index, p.ptx_type) for p in art.params] == [
            ("input", 0, ".u64"), ("extra", 0, ".u32"), ("output", 0, ".u64")]
        assert art.params[2].source == "=input0"
        entry = ptx_parsing.parse(art.ptx).entry(art.kernel_name)
        assert not ptx_parsing.is_referenced(art.ptx, entry, entry.params[2])


def test_mixed_in_place_and_new_output(meta):
    plugin = tta.custom_plugin(tta.triton(K.update_and_copy_launch, configs=[{"BLOCK": 256}]),
                               meta_impl=K.update_and_copy_meta)
    assert plugin.schema.torch_schema() == "(Tensor(a!) x) -> (Tensor(a!), Tensor)"
    (art,) = compile_one(plugin, meta(1000))
    assert art.describe_params() == "input0:x_ptr, extra0:n, output0:=input0, output1:y_ptr"
    assert writes(art)[0]["output1"] == [ptx_parsing.STORE] and writes(art)[0]["input0"] == [ptx_parsing.STORE]


def test_in_place_declared_by_return_annotation_too(meta):
    def meta_impl(x) -> torch.Tensor:
        return x

    plugin = tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=meta_impl)
    assert plugin.schema.num_outputs == 1 and plugin.schema.aliases == (0,)


def test_meta_impl_without_outputs_points_to_in_place():
    def meta_impl(x) -> None:
        return None

    with pytest.raises(SpecError, match=r"no outputs.*return x"):
        tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=meta_impl)


def test_aliasing_must_not_depend_on_the_inputs(meta):
    def meta_impl(x):  # in place only for rank 2 (the probe's first rank)
        return x if x.dim() == 2 else torch.empty_like(x)

    plugin = tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=meta_impl)
    with pytest.raises(SpecError, match="returned a new tensor as output 0, but input 'x' when the plugin"):
        compile_one(plugin, meta(1000))


def test_one_input_returned_twice_is_refused():
    with pytest.raises(SpecError, match="more than one output"):
        tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=lambda x: (x, x))


def test_zeroed_outputs_are_validated():
    spec = tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS)
    with pytest.raises(SpecError, match=r"names 'nope', which is not an output.*'out'"):
        tta.custom_plugin(spec, meta_impl=K.colsum_meta, zeroed_outputs=("nope",))
    with pytest.raises(SpecError, match="not an output"):
        tta.custom_plugin(spec, meta_impl=K.colsum_meta, zeroed_outputs=(1,))
    with pytest.raises(SpecError, match="would erase the input"):
        tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=lambda x: x,
                          zeroed_outputs=(0,))


# --- torch op ------------------------------------------------------------------------------------------------------
def test_in_place_torch_op_schema_fake_tensor_and_export():
    from torch._subclasses.fake_tensor import FakeTensorMode

    plugin = tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=lambda x: x)
    op = tta.custom_op("ttainplace::scale_", impl=plugin, tensorrt=False)
    argument = op._schema.arguments[0]
    assert argument.alias_info is not None and argument.alias_info.is_write
    assert op._schema.returns[0].alias_info.is_write
    with FakeTensorMode():
        x = torch.empty(7, 3)
        assert op(x) is x  # the op returns its (mutated) input

    class Model(torch.nn.Module):
        def forward(self, x):
            return op(x) + 1

    exported = torch.export.export(Model(), (torch.empty(10, device="meta"),))
    targets = [str(n.target) for n in exported.graph.nodes if n.op == "call_function"]
    assert "ttainplace.scale_.default" in targets


def test_zeroed_outputs_keep_the_op_off_tensorrt_loudly():
    pytest.importorskip("numpy")
    from ..trt_harness import standin

    if standin.bindings_dir() is None:
        pytest.skip("needs the tensorrt-cu13-bindings wheel")
    standin.install()
    try:
        plugin = tta.custom_plugin(tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS), meta_impl=K.colsum_meta,
                                   zeroed_outputs=("out",))
        with pytest.raises(RegistrationError, match="zeroed_outputs.*exactly one kernel"):
            tta.custom_op("ttazero::colsum_strict", impl=plugin, tensorrt=True, **TARGET)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            op = tta.custom_op("ttazero::colsum_auto", impl=plugin, **TARGET)
        assert any(issubclass(w.category, TTAWarning) and "torch op only" in str(w.message) for w in caught)
        assert op(torch.empty(5, 3, device="meta")).shape == (3,)
        from tensorrt.plugin import _lib

        assert "ttazero::colsum_auto" not in _lib.QDP_REGISTRY
    finally:
        standin.uninstall()


# --- the PTX dataflow itself ---------------------------------------------------------------------------------------
PTX = r"""
.version 8.0
.target sm_90
.address_size 64
.visible .entry k(
	.param .u64 k_param_0,
	.param .u64 k_param_1,
	.param .u64 k_param_2,
	.param .u64 k_param_3,
	.param .u32 k_param_4
)
{
	.reg .b64 %rd<20>;
	.reg .b32 %r<10>;
	.reg .f32 %f<4>;
	.reg .pred %p<2>;
	ld.param.u64 	%rd1, [k_param_0];
	ld.param.u64 	%rd2, [k_param_1];
	mov.u64 	%rd3, k_param_2;
	ld.param.u64 	%rd4, [%rd3];
	ld.param.u64 	%rd5, [k_param_3];
	ld.param.u32 	%r1, [k_param_4];
	cvta.to.global.u64 	%rd6, %rd1;
	cvta.to.global.u64 	%rd7, %rd2;
	mul.wide.s32 	%rd8, %r1, 4;
	add.s64 	%rd9, %rd6, %rd8;
	ld.global.f32 	%f1, [%rd9];
$L__BB0_1:
	add.s64 	%rd10, %rd11, 16;
	mov.u64 	%rd11, %rd7;
	@%p1 bra 	$L__BB0_1;
	{ // inline asm block
	.reg .pred %q;
	@%p1 st.global.v4.b32 [ %rd10 + 0 ], { %r1, %r1, %r1, %r1 };
	}
	red.global.add.f32 	[%rd4+8], %f1;
	atom.global.exch.b32 	%r2, [%rd4], %r1;
	st.shared.f32 	[%rd9], %f1;
	ld.global.u64 	%rd12, [%rd5];
	st.global.f32 	[%rd12], %f1;
	cp.async.bulk.global.shared::cta.bulk_group [%rd5], [%r3], 256;
	ret;
}
"""


def test_dataflow_follows_cvta_mov_add_chains_loops_and_vector_stores():
    entry = ptx_parsing.parse(PTX).entry("k")
    report = ptx_parsing.memory_writes(PTX, entry)
    kinds = {name: sorted(w.kind for w in report.of(name)) for name in ("k_param_0", "k_param_1", "k_param_2",
                                                                        "k_param_3", "k_param_4")}
    assert kinds["k_param_0"] == []  # loaded from, and a shared-memory store at a derived address is not global
    assert kinds["k_param_1"] == [ptx_parsing.STORE]  # st.global.v4 through a loop-carried add of a cvta'd pointer
    assert kinds["k_param_2"] == [ptx_parsing.ACCUMULATE, ptx_parsing.STORE]  # red.add, and atom.exch (an overwrite)
    assert kinds["k_param_3"] == [ptx_parsing.STORE]  # a bulk copy from shared to global memory
    assert kinds["k_param_4"] == []
    # a store through a pointer loaded from memory cannot be traced: the report says it is incomplete
    assert report.unknown == ("st.global.f32 [%rd12], %f1",) and not report.complete


def test_a_call_makes_the_report_incomplete():
    ptx = PTX.replace("\tret;", "\tcall.uni helper, (%rd1);\n\tret;")
    report = ptx_parsing.memory_writes(ptx, ptx_parsing.parse(ptx).entry("k"))
    assert report.has_calls and not report.complete


# --- the eager call, with a stand-in kernel that writes through the pointers it gets (host memory) -----------------
def _eager(plugin, out_specs, like, kernel):
    from torch_tensorrt_annotation import runtime

    op = runtime.EagerOp(plugin, "ttatest::eager_in_place")
    op._stream = lambda device_index: 0
    n_in = len(plugin.schema.inputs)
    # a PreparedLaunch gets the input pointers, its int32 extras (here one, 5), then the output pointers
    def launch(args, stream):
        assert args[n_in] == 5, args
        kernel(args[:n_in], args[n_in + 1:], stream)

    prepared = types.SimpleNamespace(launch=launch, extras=(5,))
    entry = runtime._Entry(out_specs, prepared, None, torch.device("cpu"), 0, like,
                           (plugin.schema.aliases, frozenset(plugin.zeroed_outputs)))
    return op, entry


def _floats(ptr, n):
    import ctypes

    return (ctypes.c_float * n).from_address(ptr)


def test_eager_in_place_passes_the_input_buffer_and_writes_a_copied_input_back():
    plugin = tta.custom_plugin(tta.triton(K.update_and_copy_launch, configs=[{"BLOCK": 256}]),
                               meta_impl=K.update_and_copy_meta)
    seen = []

    def kernel(input_ptrs, output_ptrs, stream):  # y = x; x = 2x + 1, through the raw pointers
        seen.append((list(input_ptrs), list(output_ptrs)))
        x, y = _floats(output_ptrs[0], 6), _floats(output_ptrs[1], 6)
        for i in range(6):
            y[i] = x[i]
            x[i] = 2 * x[i] + 1

    spec = ((2, 3), torch.float32)
    op, entry = _eager(plugin, (spec, spec), (0, 0), kernel)
    base = torch.arange(8.0).reshape(2, 4)
    x = base[:, 1:]  # not contiguous: the kernel runs on a contiguous copy, which is written back
    op._entries[(((x.shape, x.dtype, x.get_device()),), ())] = entry
    updated, copy = op(x)
    (ins, outs), = seen
    assert outs[0] == ins[0] != x.data_ptr()  # the in-place output is the (copied) input's buffer
    assert updated is x
    assert copy.tolist() == [[1, 2, 3], [5, 6, 7]]
    assert base.tolist() == [[0, 3, 5, 7], [4, 11, 13, 15]]  # column 0 untouched

    contiguous = torch.ones(2, 3)
    op._entries[(((contiguous.shape, contiguous.dtype, -1),), ())] = entry
    ptr = contiguous.data_ptr()
    assert op(contiguous)[0] is contiguous and seen[-1][1][0] == ptr  # no copy, no allocation


def test_eager_zeroed_output_starts_at_zero():
    plugin = tta.custom_plugin(tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS), meta_impl=K.colsum_meta,
                               zeroed_outputs=("out",))

    def kernel(input_ptrs, output_ptrs, stream):  # accumulates, as atomics do
        out = _floats(output_ptrs[0], 3)
        for i in range(3):
            out[i] += 1.5

    op, entry = _eager(plugin, (((3,), torch.float32),), (None,), kernel)
    x = torch.empty(4, 3)
    op._entries[(((x.shape, x.dtype, -1),), ())] = entry
    for _ in range(3):
        torch.full((3,), 1e6)  # leave junk around
        assert op(x).tolist() == [1.5, 1.5, 1.5]


def test_in_place_op_under_torch_compile_and_run_decompositions_is_functionalized():
    plugin = tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=lambda x: x)
    op = tta.custom_op("ttainplace::scale_compiled", impl=plugin, tensorrt=False)
    functional = torch.ops.ttainplace.scale_compiled_functional.default
    assert str(functional._schema) == "ttainplace::scale_compiled_functional(Tensor x) -> Tensor"

    def fn(x):
        return op(x) * 2 + 1

    graphs = []

    def backend(gm, example_inputs):
        from torch._functorch.aot_autograd import aot_module_simplified

        def compiler(graph, _):
            graphs.append(graph)
            return graph.forward

        return aot_module_simplified(gm, example_inputs, fw_compiler=compiler)

    out = torch.compile(fn, fullgraph=True, backend=backend)(torch.empty(3, 5, device="meta"))
    assert out.shape == (3, 5)
    targets = [str(n.target) for n in graphs[0].graph.nodes if n.op == "call_function"]
    assert "ttainplace.scale_compiled_functional.default" in targets
    assert "ttainplace.scale_compiled.default" not in targets

    class Model(torch.nn.Module):
        def forward(self, x):
            return fn(x)

    exported = torch.export.export(Model(), (torch.empty(10, device="meta"),)).run_decompositions()
    targets = [str(n.target) for n in exported.graph.nodes if n.op == "call_function"]
    assert "ttainplace.scale_compiled_functional.default" in targets
    assert exported.graph_signature.user_inputs_to_mutate  # x is updated in place: a mutated input


def test_in_place_op_refuses_gradients_clearly():
    plugin = tta.custom_plugin(tta.triton(K.inplace_launch, configs=[{"BLOCK": 256}]), meta_impl=lambda x: x)
    op = tta.custom_op("ttainplace::scale_grad", impl=plugin, tensorrt=False)
    with pytest.raises(RuntimeError, match="not differentiable"):
        op(torch.empty(4, device="meta", requires_grad=True))
    x = torch.empty(4, device="meta")
    assert op(x) is x  # no grad needed: runs


def test_in_place_input_passed_as_a_second_pointer_is_the_aliased_output(meta):
    """A kernel that reads x through x_ptr and writes through dx_ptr, both given x: in an in-place op the second
    pointer is the aliased output's slot (TensorRT passes the input's pointer there)."""
    plugin = tta.custom_plugin(tta.triton(K.read_then_write_launch, configs=[{"BLOCK": 256}]), meta_impl=lambda x: x)
    (art,) = plugin.compile(meta(1000), **TARGET)
    assert art.describe_params() == "input0:x_ptr, extra0:n, output0:dx_ptr"
    (entry,) = ptx_parsing.parse(art.ptx).entries
    assert ptx_parsing.is_referenced(art.ptx, entry, entry.params[2])  # the kernel writes through the output slot
    with pytest.raises(tta.RecordingError, match=r"Input 0 is passed to kernel 'read_then_write_kernel' twice"):
        tta.custom_plugin(tta.triton(K.read_then_write_out_launch, configs=[{"BLOCK": 256}]),
                          meta_impl=lambda x: torch.empty_like(x))  # refused when the plugin is created
