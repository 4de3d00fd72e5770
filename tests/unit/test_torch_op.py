"""The plugin as a torch.library op: tracing through meta_impl, registration rules."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.examples.reference import rmsnorm as rms_ref

from ..helpers import run_in_threads


def make_rmsnorm():
    return tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=ex.rmsnorm_meta)


def test_default_op_name_is_the_plugin_hash_name():
    plugin = make_rmsnorm()
    op = tta.custom_op(impl=plugin)
    assert op.name() == plugin.op_name
    args = op._schema.arguments
    assert [a.name for a in args] == ["x", "w", "eps"] and abs(args[2].default_value - 1e-6) < 1e-12
    assert len(op._schema.returns) == 1


def test_registration_is_idempotent_for_the_same_plugin_even_rebuilt():
    op1 = tta.custom_op("ttatest::rms_idem", impl=make_rmsnorm())
    op2 = tta.custom_op("ttatest::rms_idem", impl=make_rmsnorm())  # a new object with the same content
    assert op1 is op2


def test_sixteen_threads_register_once_without_error():
    plugin = make_rmsnorm()
    results, errors = run_in_threads(lambda: tta.custom_op("ttatest::rms_threads", impl=plugin), 16)
    assert not errors
    assert len(results) == 16 and all(r is results[0] for r in results)


def test_a_different_plugin_under_a_taken_name_is_an_error():
    tta.custom_op("ttatest::taken", impl=make_rmsnorm())
    other = tta.custom_plugin(tta.triton(ex.add_launch, configs=ex.ADD_CONFIGS), meta_impl=ex.add_meta)
    with pytest.raises(tta.RegistrationError, match="already registered for a different plugin"):
        tta.custom_op("ttatest::taken", impl=other)


def test_a_name_defined_outside_tta_is_an_error():
    lib = torch.library.Library("ttatest", "FRAGMENT")
    lib.define("foreign(Tensor x) -> Tensor")
    with pytest.raises(tta.RegistrationError, match="defined outside tta"):
        tta.custom_op("ttatest::foreign", impl=make_rmsnorm())


def test_fake_tensor_mode_uses_meta_impl():
    from torch._subclasses.fake_tensor import FakeTensorMode

    op = tta.custom_op("ttatest::rms_fake", impl=make_rmsnorm())
    with FakeTensorMode():
        x = torch.empty(2, 8, 64, dtype=torch.float16)
        y = op(x, torch.empty(64, dtype=torch.float16), 1e-5)
    assert y.shape == (2, 8, 64) and y.dtype == torch.float16


def test_two_output_op_under_meta_tensors():
    plugin = tta.custom_plugin(tta.triton(ex.sum_diff_launch, configs=ex.SUM_DIFF_CONFIGS),
                               meta_impl=ex.sum_diff_meta)
    op = tta.custom_op("ttatest::sum_diff", impl=plugin)
    s, d = op(torch.empty(10, device="meta"), torch.empty(10, device="meta"))
    assert s.shape == d.shape == (10,)


def test_torch_export_captures_the_op():
    op = tta.custom_op("ttatest::rms_export", impl=make_rmsnorm())

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(64))

        def forward(self, x):
            return op(x, self.w, 1e-5) * 2

    batch = torch.export.Dim("batch", min=2, max=64)
    exported = torch.export.export(Model(), (torch.randn(4, 64),), dynamic_shapes=({0: batch},))
    targets = [str(n.target) for n in exported.graph.nodes if n.op == "call_function"]
    assert "ttatest.rms_export.default" in targets


def test_torch_compile_fullgraph_traces_the_op():
    op = tta.custom_op("ttatest::rms_compile", impl=make_rmsnorm())
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    fn = torch.compile(lambda x, w: op(x, w, 1e-5) + 1, fullgraph=True, backend=backend)
    out = fn(torch.empty(3, 64, device="meta"), torch.empty(64, device="meta"))
    assert out.shape == (3, 64) and len(graphs) == 1
    assert any("rms_compile" in str(n.target) for n in graphs[0].graph.nodes)


def test_cpu_tensors_get_a_clear_error():
    op = tta.custom_op("ttatest::rms_cpu", impl=make_rmsnorm())
    with pytest.raises(RuntimeError, match="runs its GPU kernels on CUDA tensors only"):
        op(torch.randn(2, 64), torch.randn(64), 1e-5)


@pytest.mark.parametrize("name, fragment", [
    ("aten::add", "belongs to torch's own operators"), ("prims::ttax", "belongs to torch's own operators"),
    ("prim::ttax", "belongs to torch's own operators"), ("_hidden::ttax", "starting with '_'"),
    ("ttatest::add.v2", "names an overload"), ("my-lib::add", "not a Python identifier"),
    ("ttatest::2add", "not a Python identifier"), ("ttatest::", "not a Python identifier"),
    ("add", "namespace::name"), ("a::b::c", "namespace::name"), ("ttatest::add op", "not a Python identifier"),
])
def test_bad_op_names_are_refused_before_anything_is_registered(name, fragment):
    from torch_tensorrt_annotation.torch_op import registered_plugin

    before = len(torch.ops.aten.add.overloads())
    with pytest.raises(tta.SpecError, match=fragment):
        tta.custom_op(name, impl=make_rmsnorm())
    assert registered_plugin(name) is None
    assert len(torch.ops.aten.add.overloads()) == before  # no overload added to a built-in op


def test_tensorrt_reserved_namespace_is_refused_before_the_torch_op_exists():
    from torch_tensorrt_annotation.torch_op import registered_plugin

    with pytest.raises(tta.RegistrationError, match="cannot name a TensorRT plugin"):
        tta.custom_op("std::ttarms", impl=make_rmsnorm())
    assert registered_plugin("std::ttarms") is None
    tta.custom_op("std::ttarms", impl=make_rmsnorm(), tensorrt=False)  # a torch-only op may live there


def test_backward_through_the_op_is_a_clear_error_not_a_silent_wrong_gradient():
    op = tta.custom_op("ttatest::rms_grad", impl=make_rmsnorm())
    lib = torch.library.Library("ttatest", "FRAGMENT")  # a CPU stand-in for the CUDA kernel: the GPU is the seam
    lib.impl("rms_grad", lambda x, w, eps=1e-6: rms_ref(x, w, eps), "CPU")
    x, w = torch.randn(4, 64, requires_grad=True), torch.randn(64)
    y = op(x, w)  # the forward works with inputs that require grad (inference without no_grad)
    with pytest.raises(RuntimeError, match="Op 'ttatest::rms_grad' is not differentiable.*torch.no_grad"):
        y.sum().backward()
    with torch.no_grad():
        assert op(x, w).shape == (4, 64)


def test_opcheck_passes_and_the_op_is_tagged_pt2_compliant():
    op = tta.custom_op("ttatest::rms_opcheck", impl=make_rmsnorm())
    assert torch.Tag.pt2_compliant_tag in op.tags
    lib = torch.library.Library("ttatest", "FRAGMENT")  # a CPU stand-in for the CUDA kernel: the GPU is the seam
    lib.impl("rms_opcheck", lambda x, w, eps=1e-6: rms_ref(x, w, eps), "CPU")
    x, w = torch.randn(4, 64), torch.randn(64)
    for args in ((x, w, 1e-5), (x, w)):
        result = torch.library.opcheck(op, args)
        assert set(result.values()) == {"SUCCESS"}, result


class _AutogradKernelOp:
    """An op wired like a tta op (the GPU is the seam): `mapped` is the kernel the Autograd kernel calls itself,
    `registered` the one the dispatcher holds at the CPU key; each records what it was called with."""

    def __init__(self, name):
        from torch_tensorrt_annotation.torch_op import autograd_kernel

        self.calls = []
        self.lib = torch.library.Library("ttatestag", "FRAGMENT")
        self.lib.define(name + "(Tensor x, float scale=2.0) -> Tensor")
        self.lib.impl(name, lambda x, scale=2.0: self.record("registered", x, scale), "CPU")
        torch.library.register_fake(f"ttatestag::{name}", lambda x, scale=2.0: torch.empty_like(x), lib=self.lib)
        self.op = getattr(torch.ops.ttatestag, name).default
        kernel = autograd_kernel(self.op, {"CPU": lambda x, scale=2.0: self.record("mapped", x, scale)},
                                 "ttatestag: not differentiable")
        self.lib.impl(name, kernel, "Autograd", with_keyset=True)

    def record(self, which, x, scale):
        self.calls.append((which, x.is_conj(), scale))
        return x.resolve_conj() * scale


def test_autograd_kernel_calls_the_kernel_itself_only_when_nothing_else_is_below_autograd():
    from torch.utils._python_dispatch import TorchDispatchMode

    t = _AutogradKernelOp("direct")
    x = torch.arange(4.0)
    torch.testing.assert_close(t.op(x), x * 2)
    torch.testing.assert_close(t.op(x, 3.0), x * 3)
    assert t.calls == [("mapped", False, 2.0), ("mapped", False, 3.0)]

    seen = []

    class Spy(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    t.calls.clear()
    with Spy():  # a dispatch mode (like FakeTensorMode) sits below autograd: it must see the op
        t.op(x)
    assert t.op in seen and t.calls == [("registered", False, 2.0)]
    t.calls.clear()
    z = torch.tensor([1 + 2j, 3 - 1j]).conj()  # a conjugate view: torch's fallback resolves it for the kernel
    torch.testing.assert_close(t.op(z), z.resolve_conj() * 2)
    assert t.calls == [("registered", False, 2.0)]
    t.calls.clear()
    with torch.inference_mode():  # no autograd key at all: the dispatcher goes straight to the CPU kernel
        t.op(x)
    assert t.calls == [("registered", False, 2.0)]


def test_autograd_kernel_forward_works_with_grad_and_backward_raises():
    t = _AutogradKernelOp("grad")
    x = torch.arange(4.0, requires_grad=True)
    y = t.op(x)
    assert y.requires_grad and t.calls == [("registered", False, 2.0)]  # the dispatcher's kernel, below autograd
    with pytest.raises(RuntimeError, match="ttatestag: not differentiable"):
        y.sum().backward()
    with torch.no_grad():
        assert not t.op(x).requires_grad
    assert t.calls[-1] == ("mapped", False, 2.0)
    assert t.op(x.detach()).requires_grad is False
