"""Op bodies as plugins: a function that allocates its outputs, launches one Triton kernel and returns the outputs
(`torch.library.custom_op` / `triton_op` bodies, plain functions) is recorded with no launch function, meta_impl or
aot_impl written. CPU only: recording, outputs, schema, artifacts compiled for sm_90."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import symbolic

from . import body_ops as ops

TARGET = dict(arch="sm_90", ptx_isa=(9, 0))


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


def grid_for(artifact, *in_shapes, out_shapes=None, attrs=()):
    shapes = symbolic.Shapes(tuple(in_shapes), tuple(out_shapes or in_shapes[:1]), tuple(attrs))
    return artifact.launch_params(shapes).grid


def test_the_aot_plugin_examples_add_one_becomes_a_plugin_in_one_line():
    plugin = tta.custom_op("my::add_one", impl=tta.aot(configs=[{"BLOCK_SIZE": 256}, {"BLOCK_SIZE": 1024}]),
                           tensorrt=False)
    assert plugin.schema.torch_schema() == "(Tensor X) -> Tensor"
    assert plugin.body_info.allocations[0].what == "empty_like"
    assert "Y = torch.empty_like(X)" in plugin.body_info.allocations[0].location
    artifacts = plugin.compile(meta(1000), **TARGET)
    assert [a.tactic for a in artifacts] == [1, 2]
    # the config overrides the body's BLOCK_SIZE=256; the grid lambda reads it
    assert [dict(a.constants)["BLOCK_SIZE"] for a in artifacts] == [256, 1024]
    assert [grid_for(a, (1000,)) for a in artifacts] == [(4, 1, 1), (1, 1, 1)]
    # TensorRT's order: inputs, extras, outputs; X.numel() is an int32 extra
    assert [(p.kind, p.source) for p in artifacts[0].params] == [("input", "x_ptr"), ("extra", "n_elements"),
                                                               ("output", "y_ptr")]


def test_without_configs_the_body_launch_is_the_one_tactic():
    plugin = tta.custom_op("my::add_one", impl=tta.aot(), tensorrt=False)
    (artifact,) = plugin.compile(meta(3, 700), **TARGET)
    assert dict(artifact.constants)["BLOCK_SIZE"] == 256 and grid_for(artifact, (3, 700)) == (9, 1, 1)


def test_triton_op_with_wrap_triton_registers_its_tensorrt_side():
    plugin = tta.custom_op("ttabody::add", impl=tta.aot(configs=[{"BLOCK": 128}, {"BLOCK": 512}]), tensorrt=False)
    assert plugin.schema.torch_schema() == "(Tensor x, Tensor y) -> Tensor"
    artifacts = plugin.compile(meta(1000), meta(1000), **TARGET)
    assert [grid_for(a, (1000,), (1000,)) for a in artifacts] == [(8, 1, 1), (2, 1, 1)]


def test_a_fake_kernel_that_disagrees_with_the_body_is_named():
    with pytest.raises(tta.RegistrationError, match=r"register_fake.*float16.*empty_like.*torch.float32.*"
                                                    r"\(register_fake\) is wrong"):
        tta.custom_op("ttabody::wrong_fake", impl=tta.aot(), tensorrt=False)


def test_an_op_that_does_not_exist_is_refused():
    with pytest.raises(tta.RegistrationError, match="No torch op 'ttabody::nope'"):
        tta.custom_op("ttabody::nope", impl=tta.aot(), tensorrt=False)


def test_plain_body_gives_outputs_attributes_and_schema_without_meta_impl():
    plugin = tta.custom_plugin(tta.triton(ops.rmsnorm))
    assert plugin.schema.torch_schema() == "(Tensor x, Tensor w, float eps=1e-06) -> Tensor"
    (artifact,) = plugin.compile(meta(4, 1000), meta(1000), 1e-5, **TARGET)
    assert grid_for(artifact, (4, 1000), (1000,), out_shapes=[(4, 1000)], attrs=(1e-5,)) == (4, 1, 1)
    assert dict(artifact.constants)["BLOCK"] == 1024
    kinds = [(p.kind, p.source) for p in artifact.params]
    assert ("extra", "eps") in kinds  # the attribute is a runtime fp32 scalar: one artifact for every eps


def test_two_outputs_and_their_shapes():
    plugin = tta.custom_plugin(tta.triton(ops.sum_diff, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]))
    assert plugin.schema.torch_schema() == "(Tensor a, Tensor b) -> (Tensor, Tensor)"
    out = plugin.meta_impl(meta(7, 9, dtype=torch.float16), meta(7, 9, dtype=torch.float16))
    assert [(tuple(o.shape), o.dtype) for o in out] == [((7, 9), torch.float16)] * 2
    artifacts = plugin.compile(meta(1000), meta(1000), **TARGET)
    assert [grid_for(a, (1000,), (1000,), out_shapes=[(1000,), (1000,)]) for a in artifacts] == [(4, 1, 1),
                                                                                                 (1, 1, 1)]
    assert [p.kind for p in artifacts[0].params] == ["input", "input", "extra", "output", "output"]


def test_zeros_marks_a_zeroed_output():
    plugin = tta.custom_plugin(tta.triton(ops.colsum))
    assert plugin.zeroed_outputs == (0,)
    out = plugin.meta_impl(meta(5, 300))
    assert tuple(out.shape) == (300,) and out.dtype == torch.float32
    (artifact,) = plugin.compile(meta(5, 300), **TARGET)
    assert grid_for(artifact, (5, 300), out_shapes=[(300,)]) == (5, 1, 1)
    with pytest.raises(tta.RegistrationError, match="zeroed_outputs"):
        tta.custom_op("ttabody::colsum", impl=plugin, tensorrt=True)


def test_a_returned_input_is_in_place():
    plugin = tta.custom_plugin(tta.triton(ops.scale_, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]))
    assert plugin.schema.torch_schema() == "(Tensor(a!) x, float alpha) -> Tensor(a!)"
    artifacts = plugin.compile(meta(1000), 2.0, **TARGET)
    assert [grid_for(a, (1000,), attrs=(2.0,)) for a in artifacts] == [(4, 1, 1), (1, 1, 1)]


def test_tta_triton_op_defines_the_torch_op_and_its_plugin():
    op = tta.triton_op("ttabody::sum_diff", ops.sum_diff, configs=[{"BLOCK": 256}], tensorrt=False)
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        a = torch.empty(6, 10, device="cuda", dtype=torch.float16)
        total, diff = op(a, a)
    assert tuple(total.shape) == (6, 10) and diff.dtype == torch.float16
    assert "ttabody::sum_diff" in str(torch.ops.ttabody.sum_diff.default._schema)


def test_config_passed_to_the_bodys_keyword_parameter():
    plugin = tta.custom_plugin(tta.triton(ops.keyword_block, configs=[{"BLOCK": 128}, {"BLOCK": 512}]))
    assert plugin.schema.torch_schema() == "(Tensor x, Tensor y) -> Tensor"
    artifacts = plugin.compile(meta(1000), meta(1000), **TARGET)
    assert [grid_for(a, (1000,), (1000,)) for a in artifacts] == [(8, 1, 1), (2, 1, 1)]


@pytest.mark.parametrize("body,match", [
    (ops.with_scratch, r"allocates 1 tensor\(s\) it does not return: empty_like\(...\) at .*body_ops.py:\d+: tmp = "
                       r"torch.empty_like\(x\).*no workspace"),
    (ops.two_launches, r"launched 2 kernels, at .*body_ops.py:\d+: add_kernel\[\(1,\)\]\(x, y, out.*; "
                       r".*body_ops.py:\d+: add_kernel\[\(1,\)\]\(out, y, out"),
    (ops.returns_a_view, r"Output 0 .* neither a tensor the body allocated"),
    (ops.starts_as_ones, r"starts as 1 \(ones_like\(...\) at .*body_ops.py"),
    (ops.allocates_in_a_helper, r"allocates outside its own code: empty_like\(...\) at .*body_ops.py:\d+: return "
                                r"torch.empty_like\(x\)"),
])
def test_bodies_a_plugin_cannot_run_are_refused_with_the_line(body, match):
    with pytest.raises(tta.TTAError, match=match):
        tta.custom_plugin(tta.triton(body))


def test_a_config_that_a_tuple_grid_would_not_follow_is_refused():
    tta.custom_plugin(tta.triton(ops.tuple_grid))  # the body's own launch is fine
    with pytest.raises(tta.RecordingError, match=r"overrides BLOCK=256 .*grid .*256.*lambda meta"):
        tta.custom_plugin(tta.triton(ops.tuple_grid, configs=[{"BLOCK": 1024}]))


def test_a_launch_function_still_decorates_its_meta_impl():
    def launch(x, out, *, BLOCK):
        ops.add_one_kernel[(1,)](x, x.numel(), out, BLOCK_SIZE=BLOCK)

    decorate = tta.custom_plugin(tta.triton(launch, configs=[{"BLOCK": 128}]))
    with pytest.raises(tta.SpecError, match="not an op body: .*returned nothing"):
        decorate.compile(torch.empty(8, device="meta"))

    @decorate
    def plugin(x):
        return torch.empty_like(x)

    assert plugin.schema.torch_schema() == "(Tensor x) -> Tensor"


def test_body_torch_op_exports_with_a_dynamic_dim():
    """The fake kernel of a body op is the body on fake tensors: symbolic shapes flow through torch.export."""
    op = tta.triton_op("ttabody::rmsnorm_export", ops.rmsnorm, tensorrt=False)

    class Model(torch.nn.Module):
        def forward(self, x, w):
            return op(x, w, 1e-5) * 2

    batch = torch.export.Dim("batch", min=2, max=64)
    x, w = torch.randn(8, 300), torch.randn(300)
    exported = torch.export.export(Model(), (x, w), dynamic_shapes={"x": {0: batch}, "w": None})
    node = next(n for n in exported.graph.nodes if n.op == "call_function" and "rmsnorm_export" in str(n.target))
    shape = node.meta["val"].shape
    assert isinstance(shape[0], torch.SymInt)  # the batch dim stays symbolic
    assert shape[1] == 300 and node.meta["val"].device == x.device  # the caller's device, not the probe's


def test_in_place_body_torch_op_under_fake_tensors_returns_its_input():
    op = tta.triton_op("ttabody::scale_fake", ops.scale_, configs=[{"BLOCK": 256}], tensorrt=False)
    assert "Tensor(a!) x" in str(torch.ops.ttabody.scale_fake.default._schema)
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        x = torch.empty(100, device="cuda")
        assert op(x, 2.0) is x


def test_an_autotuned_kernel_brings_its_configs():
    plugin = tta.custom_plugin(tta.triton(ops.tuned_add))
    assert [(t.config["BLOCK"], t.config["num_warps"]) for t in plugin.tactics] == [(128, 2), (512, 4)]
    artifacts = plugin.compile(meta(1000), meta(1000), **TARGET)
    assert [grid_for(a, (1000,), (1000,)) for a in artifacts] == [(8, 1, 1), (2, 1, 1)]
    assert [a.block[0] for a in artifacts] == [symbolic.Const(64), symbolic.Const(128)]


def test_a_body_with_a_meta_impl_is_checked_against_it():
    plugin = tta.custom_plugin(tta.triton(ops.sum_diff), meta_impl=lambda a, b: (torch.empty_like(a),) * 2)
    assert plugin.body_info is not None and plugin.schema.num_outputs == 2
    with pytest.raises(tta.SpecError, match=r"meta_impl says .*\(1\), but the op's body allocates output 0: "
                                            r"empty_like.*output 1: new_empty.*meta_impl is wrong"):
        tta.custom_plugin(tta.triton(ops.sum_diff), meta_impl=lambda a, b: torch.empty_like(a))


def test_full_of_zero_is_a_zeroed_output():
    def zero_filled(x):
        out = torch.full((x.shape[1],), 0.0, device=x.device)
        ops.colsum_kernel[(x.shape[0],)](x, out, x.shape[0], x.shape[1], BLOCK=128)
        return out

    assert tta.custom_plugin(tta.triton(zero_filled)).zeroed_outputs == (0,)
