"""TensorRT build-phase emulation: the REAL `tensorrt.plugin` Python (from the tensorrt-cu13-bindings wheel) on a
small stand-in for TensorRT's missing C++ extension, driven through the calls TensorRT's builder makes.

Everything asserted here is computed by the real QDP module from what tta registered; the stand-in only supplies
enums, containers and an expression builder that evaluates (tests/trt_harness/standin.py).
"""

import contextlib
import logging
import os
import re
import sys
import types

import numpy as np
import pytest
import torch
from packaging.version import Version

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import symbolic
from torch_tensorrt_annotation.examples import triton_examples as ex

from ..helpers import run_in_threads
from ..trt_harness import builder, standin
from ..trt_harness import plugins as test_plugins

BINDINGS = standin.bindings_versions()
pytestmark = pytest.mark.skipif(not BINDINGS, reason="needs a tensorrt-cu13-bindings wheel (pip install -e '.[dev]', "
                                                     "bash scripts/install_trt_versions.sh)")

TARGET = dict(arch="sm_90", ptx_isa=(9, 0))
EXAMPLES = ex.plugins()
# (input shapes, ...) per example: several shapes, including ones no block size divides
SHAPES = {
    "add": [((1000,), (1000,)), ((4097,), (4097,)), ((1,), (1,))],
    "scale2d": [((100, 300),), ((33, 65),)],
    "rmsnorm": [((4, 8, 1000), (1000,)), ((1, 3, 77), (77,))],
    "sum_diff": [((777,), (777,)), ((65537,), (65537,))],
}
ATTRS = {"rmsnorm": {"eps": 1e-5}}


@pytest.fixture(scope="module", params=BINDINGS or [None], ids=lambda vp: f"trt{vp[0]}" if vp else "none")
def trt(request):
    """The stand-in over one bindings version's real tensorrt.plugin (every test below runs on each)."""
    from torch_tensorrt_annotation import trt as trt_module

    module = standin.install(request.param[1])
    yield module
    standin.uninstall()
    trt_module._bindings.clear()  # the next version's tensorrt.plugin has none of these registrations


@pytest.fixture(scope="module")
def trtp(trt):
    import tensorrt.plugin as trtp

    return trtp


@contextlib.contextmanager
def fails_in_build(exc_type, match):
    """TensorRT catches what a plugin callback raises, prints it and returns no engine: the build fails with
    BuildFailed, whose first printed line names the exception (its type and tta's message)."""
    with pytest.raises(builder.BuildFailed) as failed:
        yield failed
    line = failed.value.lines[0]
    assert line.startswith("[ERROR] Exception thrown from ") and f" {exc_type.__name__}: " in line, line
    assert re.search(match, line), line


def register(name, plugin):
    op_name = f"ttatrt::{name}"
    tta.custom_op(op_name, impl=plugin, **TARGET)  # TensorRT importable (the stand-in): the QDP op is registered
    return op_name


def trt_dtype(trt, torch_dtype):
    return {torch.float32: trt.float32, torch.float16: trt.float16, torch.bfloat16: trt.bfloat16}[torch_dtype]


def expected_artifact(plugin, tactic, in_shapes, out_shapes, dtype, out_dtypes, attrs):
    return plugin.compile_tactic(
        plugin.tactics[tactic - 1], tta.Target.parse(**TARGET), in_dtypes=[dtype] * len(in_shapes),
        out_dtypes=out_dtypes, in_ranks=[len(s) for s in in_shapes], out_ranks=[len(s) for s in out_shapes],
        attrs=list(attrs.values()), shapes=symbolic.Shapes(tuple(in_shapes), tuple(out_shapes)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("name", list(SHAPES))
def test_example_plugin_build_phase_matches_the_artifacts(trt, trtp, name, dtype):
    plugin = EXAMPLES[name][0]
    op_name = register(name, plugin)
    attrs = ATTRS.get(name, {})
    for in_shapes in SHAPES[name]:
        created = builder.create(trt, trtp, op_name, attrs, len(in_shapes))
        in_types = [trt_dtype(trt, dtype)] * len(in_shapes)
        out_types, out_shapes, results = builder.build(trt, created, in_shapes, in_types)
        meta_out = plugin.meta_impl(*[torch.empty(s, dtype=dtype, device="meta") for s in in_shapes], *attrs.values())
        meta_out = meta_out if isinstance(meta_out, tuple) else (meta_out,)
        assert out_shapes == [tuple(o.shape) for o in meta_out]
        assert out_types == [trt_dtype(trt, o.dtype) for o in meta_out]
        # one tactic per config, in order, for the one dtype combination TensorRT proposed
        assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
        assert len({r.kernel for r in results}) == len(results)
        for r in results:
            art = expected_artifact(plugin, r.tactic, in_shapes, out_shapes, dtype, [o.dtype for o in meta_out], attrs)
            lp = art.launch_params(symbolic.Shapes(tuple(in_shapes), tuple(out_shapes), tuple(attrs.values())))
            assert (r.kernel, r.ptx) == (art.kernel_name, art.ptx.encode())
            assert (r.grid, r.block, r.shared_mem, r.extras) == (lp.grid, lp.block, lp.shared_mem, lp.extras)
            assert r.extras_are_int32


def test_dynamic_dims_evaluate_the_same(trt, trtp):
    op_name = register("add", EXAMPLES["add"][0])
    created = builder.create(trt, trtp, op_name, {}, 2)
    _, _, static = builder.build(trt, created, [(5000,), (5000,)], [trt.float32] * 2)
    created = builder.create(trt, trtp, op_name, {}, 2)
    _, _, dynamic = builder.build(trt, created, [(5000,), (5000,)], [trt.float32] * 2, dynamic={(0, 0), (1, 0)})
    assert [(r.grid, r.extras) for r in static] == [(r.grid, r.extras) for r in dynamic]


def test_outputs_keep_their_own_dtype_and_shape_and_attributes_arrive_in_order(trt, trtp):
    plugin = tta.custom_plugin(tta.triton(test_plugins.rowsum_launch, configs=test_plugins.ROWSUM_CONFIGS),
                               meta_impl=test_plugins.rowsum_meta)
    op_name = register("rowsum", plugin)
    attrs = {"scale": 0.1, "repeat": 3, "square": True}  # 0.1 is not exact in float32: float64 must carry it
    created = builder.create(trt, trtp, op_name, attrs, 1)
    assert list(created.attrs) == ["scale", "repeat", "square"]
    out_types, out_shapes, results = builder.build(trt, created, [(6, 50)], [trt.float16])
    assert out_types == [trt.float32] and out_shapes == [(6,)]
    for r in results:
        art = expected_artifact(plugin, r.tactic, [(6, 50)], [(6,)], torch.float16, [torch.float32], attrs)
        constants = dict(art.constants)
        assert constants["SQUARE"] is True and "scale" not in constants
        # scale * repeat, a float computed in the launch function, is a runtime fp32 parameter: a constant extra
        assert r.grid == (6, 1, 1) and r.extras == (50, symbolic.float32_bits(0.1 * 3))
        assert art.input_dtypes == ("float16",) and art.output_dtypes == ("float32",)


def test_attribute_values_change_the_specialization(trt, trtp):
    plugin = tta.custom_plugin(tta.triton(test_plugins.rowsum_launch, configs=test_plugins.ROWSUM_CONFIGS),
                               meta_impl=test_plugins.rowsum_meta)
    op_name = register("rowsum", plugin)
    kernels = set()
    for scale in (0.5, 2.0):
        created = builder.create(trt, trtp, op_name, {"scale": scale, "repeat": 1, "square": False}, 1)
        _, _, results = builder.build(trt, created, [(4, 64)], [trt.float32])
        kernels |= {(r.kernel, r.ptx) for r in results}
    assert len(kernels) == 2 * len(plugin.tactics)


def test_plain_int_and_float_attributes_break_on_this_numpy_before_11_2(trt, trtp):
    """The hazard the ndarray encoding avoids is real up to 11.1: a float-annotated QDP attribute fails at creation
    (`float()` of a one-element array, refused by NumPy >= 2.4); 11.2 reads `f.data[0]` and fixed it."""
    assert Version(np.__version__) >= Version("2.4")

    def desc(x: trtp.TensorDesc, alpha: float) -> trtp.TensorDesc:
        return x.like()

    trtp.register("ttatrt::plain_float")(desc)
    create = trtp.op.ttatrt.plain_float(trt.ITensor(), alpha=0.5)
    if Version(trt.__version__) < Version("11.2"):
        with pytest.raises(TypeError):
            create()
    else:
        _, _, created = create()
        assert created.attrs == {"alpha": 0.5} and type(created.attrs["alpha"]) is float


def test_registered_functions_passed_the_real_validator(trt, trtp):
    from tensorrt.plugin import _lib

    op_name = register("rmsnorm", EXAMPLES["rmsnorm"][0])
    desc = _lib.QDP_REGISTRY[op_name]
    assert desc.aot_impl_func is not None and desc.autotune_func is not None and desc.impl_func is not None
    assert list(desc.input_attrs) == ["eps"] and desc.num_outputs == 1


def test_a_tactic_that_fails_to_compile_is_dropped_and_none_left_is_logged_before_tensorrt_swallows_it(
        trt, trtp, caplog):
    partly = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 300}, {"BLOCK": 256}]),
                               meta_impl=ex.add_meta)
    op_name = register("add_partly", partly)
    with pytest.warns(tta.TTAWarning, match=r"1 tactic\(s\) did not compile .* not offered to TensorRT"):
        _, _, results = builder.build(trt, builder.create(trt, trtp, op_name, {}, 2), [(100,), (100,)],
                                      [trt.float32] * 2)
    assert [r.tactic for r in results] == [2]

    broken = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 300}]), meta_impl=ex.add_meta)
    op_name = register("add_broken", broken)
    with caplog.at_level(logging.ERROR, logger="torch_tensorrt_annotation"):
        with pytest.raises(builder.BuildFailed) as failed:  # TensorRT swallows the exception: no engine
            builder.build(trt, builder.create(trt, trtp, op_name, {}, 2), [(100,), (100,)], [trt.float32] * 2)
    # what TensorRT prints, and tta's own message in the log, naming the op, the tactic and the cause
    assert failed.value.lines[0].startswith("[ERROR] Exception thrown from get_supported_format_combinations() "
                                            "CompileError: No tactic of op 'ttatrt::add_broken'")
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1 and "TensorRT plugin 'ttatrt::add_broken' failed in its autotune callback" in logged[0]
    assert "tactic 1 (triton 'add_launch' {'BLOCK': 300})" in logged[0] and "power of 2" in logged[0]


def test_registration_is_idempotent_and_thread_safe(trt, trtp):
    from tensorrt.plugin import _lib

    plugin = EXAMPLES["sum_diff"][0]
    _, errors = run_in_threads(lambda: tta.custom_op("ttatrt::threads", impl=plugin, **TARGET), 16)
    assert not errors and "ttatrt::threads" in _lib.QDP_REGISTRY


def test_reserved_attribute_names_fail_before_anything_is_registered(trt, trtp):
    def meta(x, y, tactic: int):
        return torch.empty_like(x)

    def launch(x, y, out, tactic, *, BLOCK):
        n = x.numel()
        ex.add_kernel[(ex.triton.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK)

    plugin = tta.custom_plugin(tta.triton(launch, configs=[{"BLOCK": 256}]), meta_impl=meta)
    with pytest.raises(tta.RegistrationError, match="reserves"):
        tta.custom_op("ttatrt::reserved", impl=plugin, **TARGET)


def test_custom_op_hook_binds_ttas_parameters_whatever_upstreams_wrapper(monkeypatch):
    """Torch-TensorRT 2.10 wraps custom_op without functools.wraps (a (*args, **kwargs) signature): the hook binds
    the call to tta's own parameter list, passes tta's options through, and leaves impl=None calls to upstream.
    (The real Torch-TensorRT versions run in test_real_torch_tensorrt.py.)"""
    from torch_tensorrt_annotation import api, integration

    calls = []

    def upstream(op_name, capability_validator=None, priority="STANDARD", supports_dynamic_shapes=False,
                 requires_output_allocator=False):
        calls.append(("upstream", op_name, supports_dynamic_shapes))

    def wrapper(*args, **kwargs):  # like 2.10: no functools.wraps
        return upstream(*args, **kwargs)

    monkeypatch.setattr(api, "custom_op", lambda *args, **kwargs: calls.append(("tta", args, kwargs)))
    plugins_module = types.SimpleNamespace(custom_op=wrapper)
    assert integration.install_torch_tensorrt_hook(plugins_module)
    assert integration.install_torch_tensorrt_hook(plugins_module)  # idempotent
    hooked = plugins_module.custom_op
    plugin = EXAMPLES["add"][0]
    hooked("ttatrt::hooked", None, None, True, impl=plugin, arch="sm_90", ptx_isa=(9, 0), tactic=2)
    hooked("other::op", supports_dynamic_shapes=True)
    assert calls[0] == ("tta", ("ttatrt::hooked",), dict(
        impl=plugin, capability_validator=None, priority=None, supports_dynamic_shapes=True,
        requires_output_allocator=False, tensorrt=True, arch="sm_90", ptx_isa=(9, 0), tactic=2))
    assert calls[1] == ("upstream", "other::op", True)
    with pytest.raises(tta.RegistrationError, match=r"unexpected keyword argument '_aot_register'.*It takes \(op_name"):
        hooked("ttatrt::x", impl=plugin, _aot_register=lambda: None)
    with pytest.raises(tta.RegistrationError, match="always registers the AOT implementation"):
        hooked("ttatrt::x", impl=plugin, use_aot_if_available=False)
    assert len(calls) == 2


def test_hook_waits_for_torch_tensorrt_when_tta_is_imported_first(tmp_path):
    """`import torch_tensorrt_annotation` before torch_tensorrt: the hook is installed when torch_tensorrt's plugins
    module finishes executing, without importing torch_tensorrt eagerly."""
    import subprocess

    package = tmp_path / "torch_tensorrt" / "dynamo" / "conversion" / "plugins"
    package.mkdir(parents=True)
    for d in (package.parent.parent.parent, package.parent.parent, package.parent):
        (d / "__init__.py").write_text("")
    (package / "__init__.py").write_text("def custom_op(op_name, **kwargs):\n    return ('upstream', op_name)\n")
    code = ("import sys\n"
            "import torch_tensorrt_annotation\n"
            "assert 'torch_tensorrt' not in sys.modules\n"
            "import torch_tensorrt.dynamo.conversion.plugins as p\n"
            "print(getattr(p.custom_op, '__tta_hook__', False), p.custom_op('a::b'))\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, str(tmp_path)]))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ('upstream', 'a::b')"


def test_version_gates_name_the_version_and_the_fix(monkeypatch):
    from torch_tensorrt_annotation import trt as trt_module

    for version, message in (("10.8.0", "arrived in 10.9"), ("10.14.1.48", "disables Quick Deployable Plugins")):
        fake = types.ModuleType("tensorrt")
        fake.__version__ = version
        fake.QuickPluginCreationRequest = object
        monkeypatch.setitem(sys.modules, "tensorrt", fake)
        with pytest.raises(tta.RegistrationError, match=message):
            trt_module.import_trtp()
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import fails
    with pytest.raises(tta.RegistrationError, match=r"pip install 'torch-tensorrt-annotation\[trt\]'"):
        trt_module.import_trtp()


def test_auto_mode_keeps_the_torch_op_when_tensorrt_is_unusable(monkeypatch, caplog):
    import logging

    fake = types.ModuleType("tensorrt")
    fake.__version__ = "10.14.1"
    fake.QuickPluginCreationRequest = object
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    plugin = EXAMPLES["add"][0]
    with caplog.at_level(logging.WARNING, logger="torch_tensorrt_annotation"):
        op = tta.custom_op("ttatrt::auto_gate", impl=plugin)  # tensorrt="auto": warn, keep the torch op
    assert op is not None and any("10.14" in r.message for r in caplog.records)
    with pytest.raises(tta.TensorRTUnavailableError, match="10.14"):
        tta.custom_op("ttatrt::auto_gate", impl=plugin, tensorrt=True)


def test_mixed_backend_plugin_offers_every_tactic_to_tensorrt(trt, trtp):
    pytest.importorskip("cuda.bindings.nvrtc")
    from torch_tensorrt_annotation.examples import cuda_examples as cx

    specs = [tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS),
             tta.cuda(cx.RMSNORM_SOURCE, "rmsnorm<{BLOCK}, TTA_IN0_T>", cx.rmsnorm_launch, configs=[{"BLOCK": 256}])]
    try:
        from torch_tensorrt_annotation.examples import cutedsl_examples as cute_ex

        specs.append(tta.cutedsl(cute_ex.rmsnorm_host, cute_ex.rmsnorm_launch, configs=[{"BLOCK": 64}]))
    except ImportError:
        pass
    plugin = tta.custom_plugin(specs, meta_impl=cx.rmsnorm_meta, name="mixed_trt")
    op_name = register("mixed_rmsnorm", plugin)
    created = builder.create(trt, trtp, op_name, {"eps": 1e-5}, 2)
    _, out_shapes, results = builder.build(trt, created, [(6, 300), (300,)], [trt.float16] * 2)
    assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
    for r in results:
        art = expected_artifact(plugin, r.tactic, [(6, 300), (300,)], out_shapes, torch.float16, [torch.float16],
                                {"eps": 1e-5})
        assert art.backend == plugin.tactics[r.tactic - 1].spec.backend
        assert (r.kernel, r.ptx) == (art.kernel_name, art.ptx.encode())
        lp = art.launch_params(symbolic.Shapes(((6, 300), (300,)), tuple(out_shapes), (1e-5,)))
        assert (r.grid, r.block, r.extras) == (lp.grid, lp.block, lp.extras)


# --- extras must fit int32 at build time --------------------------------------------------------------------------
def _numel_plugin():
    return tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 1024}]),
                             meta_impl=lambda x, y: torch.empty_like(x))


BIG = 2**31 + 64  # numel over int32 (never allocated: the build phase only sees shapes)


def test_static_extra_over_int32_is_refused_at_build_and_logged(trt, trtp, caplog):
    import logging

    op_name = register("big_static", _numel_plugin())
    created = builder.create(trt, trtp, op_name, {}, 2)
    with caplog.at_level(logging.ERROR, logger="torch_tensorrt_annotation"), \
            fails_in_build(tta.CompileError, r"in0.numel\(\) = 2147483712 do not fit in int32") as info:
        builder.build(trt, created, [(BIG,), (BIG,)], [trt.float16] * 2)
    assert "tactic 1" in info.value.lines[0] and "ttatrt::big_static" in info.value.lines[0]
    assert any("do not fit in int32" in r.getMessage() for r in caplog.records)  # TensorRT swallows the exception


def test_dynamic_extra_is_checked_against_the_profile_bounds(trt, trtp):
    op_name = register("big_dynamic", _numel_plugin())
    dynamic = {(0, 0), (1, 0)}
    # the dim is 5000 when building, but the profile lets it reach 2**31 + 64: refused at build
    created = builder.create(trt, trtp, op_name, {}, 2)
    ranges = {(0, 0): (1, BIG), (1, 0): (1, BIG)}
    with fails_in_build(tta.CompileError, r"2147483712 at the optimization profile's max input shapes"):
        builder.build(trt, created, [(5000,), (5000,)], [trt.float32] * 2, dynamic=dynamic, ranges=ranges)
    # a profile whose max fits builds
    created = builder.create(trt, trtp, op_name, {}, 2)
    ranges = {(0, 0): (1, 2**31 - 1), (1, 0): (1, 2**31 - 1)}
    _, _, results = builder.build(trt, created, [(5000,), (5000,)], [trt.float32] * 2, dynamic=dynamic,
                                  ranges=ranges)
    assert [r.extras for r in results] == [(5000,)]


# --- element types of CUDA kernels --------------------------------------------------------------------------------
def test_autotune_offers_only_the_tactics_whose_kernels_take_the_network_dtypes(trt, trtp, caplog):
    import logging

    pytest.importorskip("cuda.bindings.nvrtc")
    from ..unit.test_kernel_dtypes import mixed_plugin  # tactic 1: a float kernel, tactic 2: a __half kernel

    op_name = register("dtype_mixed", mixed_plugin())
    for trt_type, tactic in ((trt.float32, 1), (trt.float16, 2)):
        created = builder.create(trt, trtp, op_name, {}, 2)
        _, _, results = builder.build(trt, created, [(1000,), (1000,)], [trt_type] * 2)
        assert [(r.tactic, r.types) for r in results] == [(tactic, (trt_type.name,) * 3)]
    # no kernel takes bfloat16: refused at autotune, with the reason logged (TensorRT swallows the exception)
    created = builder.create(trt, trtp, op_name, {}, 2)
    with caplog.at_level(logging.ERROR, logger="torch_tensorrt_annotation"), \
            fails_in_build(tta.DtypeError, r"input 'x': Kernel 'add_f32' takes float32 .* is bfloat16"):
        builder.build(trt, created, [(1000,), (1000,)], [trt.bfloat16] * 2)
    assert any("is bfloat16" in r.getMessage() for r in caplog.records)


def _library_plugin():
    from ..unit import shape_helpers

    return tta.custom_plugin(tta.triton(shape_helpers.library_launch, configs=[{}]),
                             meta_impl=shape_helpers.meta_impl, name="library_rows")


def test_dynamic_batch_with_static_hidden_dim_builds_and_decides_on_the_static_dim(trt, trtp):
    """A helper computes BLOCK (a tl.constexpr) and num_warps from the hidden dim: static, so TensorRT's build takes
    them; the batch dim is dynamic (-1 with min/max, as TensorRT describes it) and stays symbolic."""
    plugin = _library_plugin()
    op_name = register("library_rows", plugin)
    created = builder.create(trt, trtp, op_name, {}, 1)
    _, _, results = builder.build(trt, created, [(8, 1000)], [trt.float16], dynamic={(0, 0)},
                                  ranges={(0, 0): (1, 64)})
    (result,) = results
    assert result.grid == (8, 1, 1) and result.extras == (1000,)
    art = plugin.compile_tactic(plugin.tactics[0], tta.Target.parse(**TARGET), in_dtypes=[torch.float16],
                                out_dtypes=[torch.float16], in_ranks=[2], out_ranks=[2], attrs=[],
                                profile=symbolic.Profile((((1, 64), (1000, 1000)),), (((1, 64), (1000, 1000)),)))
    assert result.kernel == art.kernel_name and dict(art.constants)["BLOCK"] == 1024


def test_dynamic_hidden_dim_decision_is_refused_and_logged(trt, trtp, caplog):
    plugin = _library_plugin()
    op_name = register("library_rows_dyn", plugin)
    created = builder.create(trt, trtp, op_name, {}, 1)
    with fails_in_build(tta.CompileError, r"dim 1 of input 'x' \(in0.shape\[1\], profile range \[256, 4096\]\)"):
        builder.build(trt, created, [(8, 1000)], [trt.float16], dynamic={(0, 0), (0, 1)},
                      ranges={(0, 0): (1, 64), (0, 1): (256, 4096)})
    assert any("make that dim static in the profile" in r.getMessage() for r in caplog.records
               if r.levelname == "ERROR")


def test_runtime_scalar_attributes_are_int32_bits_and_one_kernel_serves_every_value(trt, trtp):
    from ..unit import launch_kinds as K

    plugin = K.affine_plugin()
    op_name = register("affine", plugin)
    kernels = set()
    for scale, shift in ((-2.5, 3), (1e-40, -(2**31)), (float("inf"), 2**31 - 1), (float("nan"), 0)):
        created = builder.create(trt, trtp, op_name, {"scale": scale, "shift": shift}, 1)
        _, _, results = builder.build(trt, created, [(1000,)], [trt.float32])
        for r in results:
            # a constant SymInt32 at build: the fp32 attribute's IEEE-754 bits, the int32 attribute itself
            assert r.extras_are_int32 and r.extras == (1000, symbolic.float32_bits(scale), shift)
            kernels.add((r.tactic, r.kernel, r.ptx))
    assert len(kernels) == len(plugin.tactics)


@pytest.mark.parametrize("case", ["in_place", "in_place_and_new"])
def test_in_place_outputs_are_aliased_io_and_keep_their_parameter_slot(trt, trtp, case):
    from ..unit import in_place_kernels as K

    launch, meta_impl = ((K.inplace_launch, lambda x: x) if case == "in_place"
                         else (K.update_and_copy_launch, K.update_and_copy_meta))
    plugin = tta.custom_plugin(tta.triton(launch, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]), meta_impl=meta_impl)
    op_name = register(f"aliased_{case}", plugin)
    created = builder.create(trt, trtp, op_name, {}, 1)
    out_types, out_shapes, results = builder.build(trt, created, [(3000,)], [trt.float32])
    n_out = plugin.schema.num_outputs
    assert builder.aliased_inputs(created, n_out) == [0] + [-1] * (n_out - 1)
    assert out_shapes == [(3000,)] * n_out and out_types == [trt.float32] * n_out
    assert sorted(r.tactic for r in results) == [1, 2]
    for r in results:
        art = expected_artifact(plugin, r.tactic, [(3000,)], [(3000,)] * n_out, torch.float32,
                                [torch.float32] * n_out, {})
        assert (r.kernel, r.ptx, r.extras) == (art.kernel_name, art.ptx.encode(), (3000,))
        # TensorRT passes input, extra, then every output: the aliased one too, with the input's pointer
        assert [(p.kind, p.index) for p in art.params][:3] == [("input", 0), ("extra", 0), ("output", 0)]
        assert art.params[2].source == "=input0"


def test_a_failed_registration_is_undone_so_that_a_corrected_retry_succeeds(trt, trtp, monkeypatch):
    """When a decorator after @trtp.register fails, the QDP descriptor, `trtp.op.<ns>.<name>` and the plugin
    creator (QDP_CREATORS, whose key is "name::namespace" on 10.9, and TensorRT's registry) are all removed."""
    from tensorrt.plugin import _lib

    from torch_tensorrt_annotation import trt as trt_module

    plugin = EXAMPLES["add"][0]
    real_aot_impl = trtp.aot_impl

    def refusing_aot_impl(op_name):
        raise ValueError("refused for the test")

    monkeypatch.setattr(trtp, "aot_impl", refusing_aot_impl)
    creators_before = dict(_lib.QDP_CREATORS)
    registry_before = dict(trt.get_plugin_registry().creators)
    with pytest.raises(tta.RegistrationError, match="refused for the test"):
        trt_module.register(plugin, "ttaundo::add", **TARGET)
    assert "ttaundo::add" not in _lib.QDP_REGISTRY
    assert not hasattr(trtp.op.ttaundo, "add")
    assert _lib.QDP_CREATORS == creators_before
    assert trt.get_plugin_registry().creators == registry_before
    monkeypatch.setattr(trtp, "aot_impl", real_aot_impl)
    binding = trt_module.register(plugin, "ttaundo::add", **TARGET)  # the corrected retry
    assert binding.op_name in _lib.QDP_REGISTRY and _lib.QDP_REGISTRY["ttaundo::add"].aot_impl_func is not None
    created = builder.create(trt, trtp, "ttaundo::add", {}, 2)
    results = builder.build(trt, created, [(100,), (100,)], [trt.float32] * 2)[2]
    assert [r.tactic for r in results] == [t.number for t in plugin.tactics]


def test_dynamic_extra_over_int32_is_refused_when_the_kernel_also_takes_runtime_scalars(trt, trtp):
    """The profile-bound check evaluates every extra, so the attributes (read by the scalar extras) must be there."""
    from ..unit import launch_kinds as K

    op_name = register("affine_big", K.affine_plugin())
    created = builder.create(trt, trtp, op_name, {"scale": 2.0, "shift": 1}, 1)
    with fails_in_build(tta.CompileError, r"2147483712 at the optimization profile's max input shapes"):
        builder.build(trt, created, [(5000,)], [trt.float32], dynamic={(0, 0)}, ranges={(0, 0): (1, BIG)})


def test_an_output_dtype_tensorrt_lacks_is_named_at_build_and_logged(trt, trtp, caplog):
    plugin = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 1024}]),
                               meta_impl=lambda x, y: torch.empty_like(x, dtype=torch.float64))
    op_name = register("float64_out", plugin)
    created = builder.create(trt, trtp, op_name, {}, 2)
    with caplog.at_level(logging.ERROR, logger="torch_tensorrt_annotation"), \
            fails_in_build(tta.CompileError, r"Output 0 of op 'ttatrt::float64_out' is float64 .* no TensorRT"):
        builder.build(trt, created, [(64,), (64,)], [trt.float32] * 2)
    assert any("no TensorRT data type" in r.getMessage() for r in caplog.records)  # TensorRT swallows it
