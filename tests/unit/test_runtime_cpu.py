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


EXTRA = 77


class _RecordingLaunch:
    """Stands in for a PreparedLaunch (which needs a GPU): records the arguments and stream of each launch. Its one
    int32 extra (EXTRA) must reach the kernel between the input and the output pointers."""

    extras = (EXTRA,)

    def __init__(self):
        self.launches = []

    def launch(self, args, stream):
        self.launches.append((list(args), stream))


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
    assert launch.launches == [([x.data_ptr(), y.data_ptr(), EXTRA, out.data_ptr()], 1234)]
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
    assert launch.launches == [([x.data_ptr(), y.data_ptr(), EXTRA, a.data_ptr(), b.data_ptr()], 1234)]


class _FusedOp:
    """A plugin's EagerOp registered like a tta op, with the CPU key standing in for CUDA (the GPU is the seam):
    its Autograd kernel is EagerOp.autograd_kernel over torch_op.autograd_kernel; the entry's compiled launcher and
    checked launch record their arguments."""

    def __init__(self, monkeypatch, name, plugin_name="add"):
        import torch

        from torch_tensorrt_annotation import launcher
        from torch_tensorrt_annotation.runtime import EagerOp, _bind_torch, _Entry
        from torch_tensorrt_annotation.torch_op import autograd_kernel

        self.current_device = 0  # the CUDA device a call finds current
        monkeypatch.setattr(launcher, "_current_device_getter", lambda: (lambda: self.current_device))
        plugin = ex.plugins()[plugin_name][0]
        self.eager = EagerOp(plugin, f"ttatestfused::{name}")
        self.eager._stream = lambda index: 1234
        _bind_torch()
        self.static_calls, self.general_calls, self.static_error = [], [], None
        self.launch = _RecordingLaunch()
        self.launch._static = self.static
        self.prepared = []  # (input shapes, attribute values) of each preparation

        def prepare(key, inputs, attrs):  # one entry per specialization, its outputs from meta_impl
            self.prepared.append((tuple(tuple(t.shape) for t in inputs), tuple(attrs)))
            metas = plugin.meta_impl(*[torch.empty(t.shape, dtype=t.dtype, device="meta") for t in inputs], *attrs)
            out_specs = tuple((tuple(m.shape), m.dtype) for m in (metas if isinstance(metas, tuple) else (metas,)))
            like = tuple(next((i for i, t in enumerate(inputs) if tuple(t.shape) == shape and t.dtype == dtype),
                              None) for shape, dtype in out_specs)
            entry = _Entry(out_specs, self.launch, None, torch.device("cpu"), 0, like)
            return self.eager._entries.setdefault(key, entry)

        self.eager._prepare = prepare
        self.lib = torch.library.Library("ttatestfused", "FRAGMENT")
        self.lib.define(name + plugin.schema.torch_schema())
        self.lib.impl(name, self.eager, "CPU")
        self.op = getattr(torch.ops.ttatestfused, name).default
        general = autograd_kernel(self.op, {"CPU": self.eager}, "ttatestfused: not differentiable")

        def counted(keyset, *args):
            self.general_calls.append(args)
            return general(keyset, *args)

        self.lib.impl(name, self.eager.autograd_kernel(counted, "CPU"), "Autograd", with_keyset=True)

    def static(self, args, stream):
        self.static_calls.append((list(args), stream))
        if self.static_error is not None:
            raise self.static_error


def test_fused_autograd_kernel_launches_the_common_call_itself(monkeypatch):
    import torch

    f = _FusedOp(monkeypatch, "common")
    x, y = torch.randn(64), torch.randn(64)
    f.op(x, y)  # the first call prepares, through the general kernel and EagerOp.__call__
    assert len(f.general_calls) == 1 and len(f.launch.launches) == 1 and not f.static_calls
    out = f.op(x, y)
    assert len(f.general_calls) == 1 and len(f.launch.launches) == 1
    assert f.static_calls == [([x.data_ptr(), y.data_ptr(), EXTRA, out.data_ptr()], 1234)]
    assert out.shape == (64,) and out.data_ptr() not in (x.data_ptr(), y.data_ptr())


def test_fused_autograd_kernel_leaves_every_other_call_to_the_general_kernel(monkeypatch):
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    f = _FusedOp(monkeypatch, "other")
    x, y = torch.randn(64), torch.randn(64)
    f.op(x, y)
    f.general_calls.clear()
    xg = x.clone().requires_grad_(True)  # an input that requires grad: the not-differentiable path
    out = f.op(xg, y)
    assert len(f.general_calls) == 1 and out.requires_grad
    with pytest.raises(RuntimeError, match="ttatestfused: not differentiable"):
        out.sum().backward()
    f.op(x, y)  # the guard of the plain call still passes
    assert len(f.general_calls) == 1 and len(f.static_calls) == 1
    with torch.no_grad():  # grad mode off, an input that requires grad: the guard fails, the general path runs it
        f.op(xg, y)
    assert len(f.general_calls) == 2 and len(f.static_calls) == 1
    misaligned = torch.randn(65)[1:]  # 4 bytes past an aligned start: copied by EagerOp.__call__
    f.op(misaligned, y)
    assert len(f.general_calls) == 3 and f.launch.launches[-1][0][0] & 15 == 0
    strided = torch.randn(128)[::2]  # same shape, not contiguous: the guard's strides fail it
    f.op(strided, y)
    assert len(f.general_calls) == 4 and f.launch.launches[-1][0][0] != strided.data_ptr()
    f.op(x.double(), y)  # another dtype: the guard fails; EagerOp.__call__ prepares a new entry
    assert len(f.general_calls) == 5

    class Spy(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    with Spy():  # a dispatch mode sits below autograd: the dispatcher, not the fused path, must run the op
        f.op(x, y)
    assert len(f.general_calls) == 6 and len(f.static_calls) == 1


def test_fused_autograd_kernel_falls_back_to_the_checked_launch_when_the_compiled_launcher_fails(monkeypatch):
    import torch

    f = _FusedOp(monkeypatch, "fails")
    x, y = torch.randn(64), torch.randn(64)
    f.op(x, y)
    f.static_error = RuntimeError("CUDA driver error: invalid device context")
    out = f.op(x, y)
    args = [x.data_ptr(), y.data_ptr(), EXTRA, out.data_ptr()]
    assert f.static_calls == [(args, 1234)] and f.launch.launches[-1] == (args, 1234)


def test_guarded_fast_path_checks_attribute_values_and_the_recent_specializations(monkeypatch):
    import torch

    from torch_tensorrt_annotation.runtime import RECENT

    f = _FusedOp(monkeypatch, "recent", "rmsnorm")
    w = torch.randn(64)
    xs = [torch.randn(n, 64) for n in range(1, RECENT + 2)]
    f.op(xs[0], w, 0.5)
    f.op(xs[0], w, 0.5)
    assert len(f.general_calls) == 1 and len(f.static_calls) == 1
    f.op(xs[0], w, 0.25)  # another attribute value: not this guard's; prepared and remembered
    f.op(xs[0], w, 0.25)
    f.op(xs[0], w)  # the default left out: the call's own attribute tuple, remembered as given
    f.op(xs[0], w)
    assert len(f.general_calls) == 3 and len(f.static_calls) == 3
    assert [a for _, a in f.prepared] == [(0.5,), (0.25,), (1e-6,)]
    for x in xs[1:]:  # RECENT more specializations push the first ones out
        f.op(x, w, 0.5)
    general = len(f.general_calls)
    f.op(xs[-1], w, 0.5)
    assert len(f.general_calls) == general  # the most recent is checked first
    f.op(xs[0], w, 0.5)  # pushed out: the general path again (its entry and guard are kept, no new preparation)
    assert len(f.general_calls) == general + 1 and len(f.prepared) == 2 + RECENT + 1
    assert f.static_calls[-1][0][-1] != f.static_calls[-2][0][-1]  # every call got its own output


def test_without_torch_tensor_guards_every_call_takes_the_general_path(monkeypatch):
    import torch

    from torch_tensorrt_annotation import runtime

    assert runtime.tensor_guard_class() is not None, "this torch's TensorGuards failed tta's self-test"
    monkeypatch.setattr(runtime, "tensor_guard_class", lambda: None)
    f = _FusedOp(monkeypatch, "noguards")
    x, y = torch.randn(64), torch.randn(64)
    for _ in range(3):
        out = f.op(x, y)
    assert len(f.general_calls) == 3 and not f.static_calls
    assert f.launch.launches[-1] == ([x.data_ptr(), y.data_ptr(), EXTRA, out.data_ptr()], 1234)


def test_guarded_fast_path_uses_the_checked_launch_when_another_device_is_current(monkeypatch):
    import torch

    f = _FusedOp(monkeypatch, "otherdevice")
    x, y = torch.randn(64), torch.randn(64)
    f.op(x, y)
    f.current_device = 1  # the entry's device is 0: the checked launch (which pushes device 0's context) runs it
    out = f.op(x, y)
    assert not f.static_calls and len(f.general_calls) == 1
    assert f.launch.launches[-1] == ([x.data_ptr(), y.data_ptr(), EXTRA, out.data_ptr()], 1234)


def test_guarded_fast_path_leaves_a_call_under_any_dispatch_mode_to_the_dispatcher(monkeypatch):
    """torch's tensor guard leaves the Python dispatch keys out of its comparison while no mode on the stack needs
    them seen (recent torch: modes whose ignore_compile_internals() is True, DebugMode's and selective activation
    checkpointing's among them): such a mode must still see the op, as the general path hands it over."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    f = _FusedOp(monkeypatch, "quietmode")
    x, y = torch.randn(64), torch.randn(64)
    f.op(x, y)
    f.op(x, y)
    assert len(f.general_calls) == 1 and len(f.static_calls) == 1
    seen = []

    class Quiet(TorchDispatchMode):
        @classmethod
        def ignore_compile_internals(cls):
            return True

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    with Quiet():
        f.op(x, y)
    assert f.op in seen and len(f.general_calls) == 2 and len(f.static_calls) == 1
    f.op(x, y)  # no mode: the fast path again
    assert len(f.general_calls) == 2 and len(f.static_calls) == 2


def test_a_float_attribute_of_minus_zero_or_nan_gets_its_own_specialization(monkeypatch):
    """-0.0 == 0.0 in Python, but a specialization for one (an fp32 extra's bits, a baked constant) must not serve
    the other; NaN != NaN, but a call with a NaN must find the specialization made for it (not make one per call)."""
    import math
    import types

    import torch

    f = _FusedOp(monkeypatch, "signedzero", "rmsnorm")
    x, w = torch.randn(4, 64), torch.randn(64)
    for eps in (0.0, 0.0, -0.0, -0.0, 0.0):  # through the dispatcher: the guarded fast path, else the general one
        f.op(x, w, eps)
    for eps in (0.0, -0.0):  # the EagerOp itself (the CUDA kernel: what inference_mode calls)
        f.eager(x, w, eps)
    assert [math.copysign(1.0, a) for _, (a,) in f.prepared] == [1.0, -1.0]
    assert [a for _, (a,) in f.prepared] == [0.0, 0.0]
    for _ in range(3):
        f.op(x, w, float("nan"))
        f.eager(x, w, float("nan"))
    assert len(f.prepared) == 3 and math.isnan(f.prepared[-1][1][0])
    for n, entry in enumerate(f.eager._entries.values()):  # the harness's entries have no artifact: number them
        entry.artifact = types.SimpleNamespace(tactic=n + 1)
    assert [f.eager.chosen_tactic(x, w, eps) for eps in (0.0, -0.0)] == [1, 2]


def test_tensor_guard_self_test_is_independent_of_the_mode_it_first_runs_under():
    """The self-test runs once per process (at the first op's registration): a dispatch mode active then (an op
    registered while tracing under FakeTensorMode) must not turn the fast path off for good."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from torch_tensorrt_annotation import runtime

    runtime.tensor_guard_class.cache_clear()
    try:
        with FakeTensorMode():
            assert runtime.tensor_guard_class() is not None
    finally:
        runtime.tensor_guard_class.cache_clear()


def test_guard_is_built_for_contiguous_strides_whatever_the_first_call_had(monkeypatch):
    """A size-1 dim's stride does not matter to is_contiguous(): the first plain call may have any there. The guard,
    built once per specialization, must still pass the usual contiguous tensors of later calls."""
    import torch

    f = _FusedOp(monkeypatch, "sizeonestride")
    odd, y = torch.randn(1, 64).t(), torch.randn(64, 1)  # (64, 1) with strides (1, 64): contiguous all the same
    assert odd.is_contiguous() and odd.stride() != y.stride()
    f.op(odd, y)
    x = torch.randn(64, 1)
    out = f.op(x, y)
    assert len(f.general_calls) == 1 and f.static_calls == [([x.data_ptr(), y.data_ptr(), EXTRA, out.data_ptr()],
                                                             1234)]
    f.op(odd, y)  # its strides fail the guard: the general path runs it (on the same entry, no new preparation)
    assert len(f.general_calls) == 2 and len(f.prepared) == 1


@pytest.mark.parametrize("plugin_name, args", [
    ("add", lambda torch: (torch.randn(64), torch.randn(64))),  # two inputs, no attribute
    ("scale2d", lambda torch: (torch.randn(8, 16),)),  # one input
    ("rmsnorm", lambda torch: (torch.randn(4, 64), torch.randn(64), 1e-5)),  # an attribute given
    ("rmsnorm", lambda torch: (torch.randn(4, 64), torch.randn(64))),  # an attribute left at its default
    ("sum_diff", lambda torch: (torch.randn(64), torch.randn(64))),  # two outputs
])
def test_every_kind_of_op_gives_the_same_outputs_on_the_general_and_the_guarded_path(monkeypatch, plugin_name, args):
    import torch

    f = _FusedOp(monkeypatch, f"kinds_{plugin_name}_{len(args(torch))}", plugin_name)
    values = args(torch)
    inputs = [a for a in values if isinstance(a, torch.Tensor)]
    results = [f.op(*values) for _ in range(3)]
    assert len(f.general_calls) == 1 and len(f.prepared) == 1  # calls 2 and 3: the guarded path
    launches = f.static_calls + f.launch.launches
    assert len(launches) == 3
    n_out = f.eager.plugin.schema.num_outputs
    by_output = {pointers[-1]: (pointers, stream) for pointers, stream in launches}  # the results are all alive
    for result in results:
        outputs = result if n_out > 1 else (result,)
        pointers, stream = by_output[outputs[-1].data_ptr()]
        assert isinstance(result, tuple) == (n_out > 1) and len(outputs) == n_out
        assert all(o.shape == inputs[0].shape and o.dtype == inputs[0].dtype for o in outputs)
        assert stream == 1234 and pointers[:len(inputs)] == [t.data_ptr() for t in inputs]
        assert pointers[len(inputs):] == [EXTRA, *[o.data_ptr() for o in outputs]]


def test_an_input_that_requires_grad_takes_the_fast_path_only_while_grad_mode_is_off(monkeypatch):
    """The inference pattern of an nn.Parameter weight under torch.no_grad(): its own guard, used only with grad
    mode off; with grad mode on the same call still gets the not-differentiable error."""
    import torch

    f = _FusedOp(monkeypatch, "paramnograd", "rmsnorm")
    x, w = torch.randn(4, 64), torch.nn.Parameter(torch.randn(64))
    with torch.no_grad():
        f.op(x, w, 0.5)  # through the general path, which remembers a guard for (x, w requiring grad)
        f.op(x, w, 0.5)
        out = f.op(x, w, 0.5)
    assert len(f.general_calls) == 1 and len(f.static_calls) == 2 and not out.requires_grad
    out = f.op(x, w, 0.5)  # grad mode on: the guard passes but the call goes to the not-differentiable path
    assert len(f.general_calls) == 2 and len(f.static_calls) == 2 and out.requires_grad
    with pytest.raises(RuntimeError, match="ttatestfused: not differentiable"):
        out.sum().backward()
    f.op(x, w.detach(), 0.5)  # the plain pattern: a guard of its own, and both stay in use
    with torch.no_grad():
        f.op(x, w, 0.5)
    f.op(x, w.detach(), 0.5)
    assert len(f.general_calls) == 3 and len(f.static_calls) == 4
