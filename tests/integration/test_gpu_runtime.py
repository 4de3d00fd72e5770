"""On a GPU: the eager op runs the artifacts through the launcher, autotunes, works under CUDA graphs and
torch.compile; tta.check reports broken tactics. Skipped without a GPU."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.torch_op import eager_runner

from .gpu_cases import TOLERANCE, as_tuple, check_compiled, check_graph_replay

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def ops():
    plugins = ex.plugins()
    return {name: (tta.custom_op(f"ttart::{name}", impl=p), ref) for name, (p, _, ref) in plugins.items()}


def close(got, expected, dtype=torch.float32):
    rtol, atol = TOLERANCE[dtype]
    for g, e in zip(as_tuple(got), as_tuple(expected)):
        torch.testing.assert_close(g, e, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
def test_dtypes_sizes_and_dynamic_shapes_through_one_op(ops, dtype):
    op, ref = ops["add"]
    for n in (0, 1, 1000, 4097, 1 << 20):  # empty, one, not divisible by any block, large
        x, y = torch.randn(n, device="cuda", dtype=dtype), torch.randn(n, device="cuda", dtype=dtype)
        close(op(x, y), ref(x, y), dtype)


def test_about_256_mib(ops):
    op, ref = ops["add"]
    n = 64 * 1024 * 1024  # 256 MiB of fp32 per tensor
    x, y = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
    torch.testing.assert_close(op(x, y), x + y)


def test_multiple_outputs_and_float_attribute(ops):
    op, ref = ops["sum_diff"]
    a, b = torch.randn(3001, device="cuda"), torch.randn(3001, device="cuda")
    close(op(a, b), ref(a, b))
    op, ref = ops["rmsnorm"]
    for shape in ((4, 8, 1000), (2, 4097)):
        x, w = torch.randn(shape, device="cuda"), torch.randn(shape[-1], device="cuda")
        for eps in (1e-5, 0.5):
            close(op(x, w, eps), ref(x, w, eps))


def test_non_contiguous_and_misaligned_inputs_are_copied(ops):
    op, ref = ops["scale2d"]
    x = torch.randn(300, 100, device="cuda").t()  # non-contiguous
    close(op(x), ref(x))
    op, ref = ops["add"]
    base = torch.randn(1001, device="cuda")
    x, y = base[1:], base[:-1]  # 4-byte offset: not 16-byte aligned
    close(op(x, y), ref(x, y))


def test_cuda_graph_capture_and_replay(ops):
    check_graph_replay(*ops["rmsnorm"], torch.device("cuda", torch.cuda.current_device()))


def test_torch_compile_fullgraph(ops):
    check_compiled(ops["rmsnorm"][0], torch.device("cuda"))


def test_autotuner_picks_a_tactic_and_pinning_overrides_it():
    plugin = tta.custom_plugin(tta.triton(ex.axpb_launch, configs=ex.AXPB_CONFIGS), meta_impl=ex.axpb_meta)
    op = tta.custom_op("ttart::axpb_tuned", impl=plugin)
    x = torch.randn(1 << 22, device="cuda")
    torch.testing.assert_close(op(x), x * 2 + 1)
    assert eager_runner("ttart::axpb_tuned").chosen_tactic(x) in {t.number for t in plugin.tactics}
    pinned = tta.custom_op("ttart::axpb_pinned", impl=plugin, tactic=3)
    torch.testing.assert_close(pinned(x), x * 2 + 1)
    assert eager_runner("ttart::axpb_pinned").chosen_tactic(x) == 3


def test_check_reports_every_tactic_and_catches_a_broken_one():
    configs = [{"BLOCK": 1024}, {"BLOCK": 1024, "BROKEN": True}, {"BLOCK": 300}]
    plugin = tta.custom_plugin(tta.triton(ex.axpb_launch, configs=configs), meta_impl=ex.axpb_meta)
    x = torch.randn(10_000, device="cuda")
    report = tta.check(plugin, x)
    print(report)
    statuses = [r.status for r in report.results]
    assert statuses == ["ok", "mismatch", "compile error"] and not report.ok
    assert report.results[1].max_abs_err > 0.5 and report.results[0].max_abs_err == 0
    assert report.results[0].median_us > 0
    report = tta.check(plugin, x, reference=lambda t: t * 2 + 1)  # an independent reference
    assert [r.status for r in report.results] == ["ok", "mismatch", "compile error"]
    assert "mismatch" in str(report) and "*" in str(report)


def test_check_accepts_a_registered_op(ops):
    op, _ = ops["sum_diff"]
    report = tta.check(op, torch.randn(5000, device="cuda"), torch.randn(5000, device="cuda"))
    assert report.ok and len(report.results) == 2


def test_many_threads_share_one_prepared_launch(ops):
    """Fresh threads (where CUDA may have made no context current yet) call one op with the same shapes at once:
    they share one prepared launch and its parameter storage."""
    import threading

    op, ref = ops["sum_diff"]
    inputs = [(torch.randn(4097, device="cuda"), torch.randn(4097, device="cuda")) for _ in range(4)]
    op(*inputs[0])  # prepare once
    torch.cuda.synchronize()
    errors = []

    def work(i):
        try:
            a, b = inputs[i]
            stream = torch.cuda.Stream()
            with torch.cuda.stream(stream):
                for _ in range(200):
                    out = op(a, b)
            stream.synchronize()
            close(out, ref(a, b))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append((i, exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_library_style_launch_recompiles_on_a_guard_miss_and_matches_torch():
    """Host code as libraries write it (a settings helper in another module, `if` on dims, num_warps from dims):
    the eager op records it per guard outcome, and each outcome's kernel is right."""
    from ..unit import shape_helpers

    plugin = tta.custom_plugin(tta.triton(shape_helpers.library_launch, configs=[{}]),
                               meta_impl=shape_helpers.meta_impl, name="gpu_library_rows")
    op = tta.custom_op("ttart::library_rows", impl=plugin)
    runner = eager_runner("ttart::library_rows")
    picked = {}
    for shape in ((4, 1000), (64, 600), (3, 3000), (2, 9000), (5, 1000)):
        x = torch.randn(shape, device="cuda")
        torch.testing.assert_close(op(x), x - x.max(dim=-1, keepdim=True).values)
        picked[shape] = runner._entries[next(k for k in runner._entries if k[0][0][0] == x.shape)].artifact
    assert picked[(4, 1000)] is picked[(64, 600)] is picked[(5, 1000)]  # same guards: one artifact
    assert len({id(a) for a in picked.values()}) == 3  # 1024, 4096 and 16384 blocks
    assert dict(picked[(2, 9000)].metadata)["num_warps"] == 16


def test_compiled_launcher_and_cuda_bindings_launch_alike(ops):
    """Where torch has its compiled launcher (torch >= 2.8 CUDA builds), the eager op launches through it from its
    guarded fast path; the cuda-bindings path gives the same bits, and a failure in the compiled launcher falls back
    to the checked launch (cuda-bindings)."""
    import functools

    from packaging.version import Version

    from torch_tensorrt_annotation import launcher

    static = launcher.static_launcher()
    if Version(torch.__version__.split("+")[0]) >= Version("2.8") and torch.version.hip is None:
        assert static is not None, "torch >= 2.8 with CUDA has torch._C._StaticCudaLauncher; tta did not find it"
    if static is None:
        pytest.skip("this torch has no compiled launcher")
    op, ref = ops["rmsnorm"]
    x, w = torch.randn(4, 8, 1000, device="cuda"), torch.randn(1000, device="cuda")
    expected = op(x, w, 1e-5)
    entry = next(e for k, e in eager_runner("ttart::rmsnorm")._entries.items() if k[0][0][0] == x.shape)
    prepared, compiled = entry.prepared, entry.static
    assert compiled is not None and compiled is prepared._static  # a Triton block is (32 * num_warps, 1, 1)
    calls = []

    def counting(*args):
        calls.append(args)
        return compiled(*args)

    entry.static = counting
    try:
        got = op(x, w, 1e-5)
        assert len(calls) == 1 and torch.equal(got, expected)
        close(got, ref(x, w, 1e-5))
        prepared._static, entry.static = None, entry.launch  # cuda-bindings alone
        assert torch.equal(op(x, w, 1e-5), expected)
        # the compiled launcher fails (a block of 2048 threads is over every GPU's limit): cuda-bindings launches
        entry.static = prepared._static = functools.partial(static, int(prepared.function), *prepared.grid, 64,
                                                            prepared.shared_mem, compiled.args[-1])
        assert torch.equal(op(x, w, 1e-5), expected)
    finally:
        entry.static = prepared._static = compiled
