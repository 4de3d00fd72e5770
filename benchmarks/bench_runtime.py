"""GPU runtime benchmarks: host overhead per call, elementwise throughput against copy bandwidth, autotune quality.

    python benchmarks/bench_runtime.py --out benchmarks/results

On a host with two or more GPUs the host-overhead table also has the op on cuda:1 while cuda:0 is current (the
launch then pushes cuda:1's primary context).

All figures of one run come from one process on one GPU; medians of repeated measurements. Targets (checked here,
never by timed tests): tta eager op <= 1.5x torch's native `x + 1` and <= 0.6x a torch.library custom op calling
Triton's launcher; elementwise throughput >= 85% of torch's device-to-device copy bandwidth; the eager
autotuner's pick within 5% of the best tactic found by exhaustive timing.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import triton

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_common  # noqa: E402

import torch_tensorrt_annotation as tta  # noqa: E402
from torch_tensorrt_annotation import runtime  # noqa: E402
from torch_tensorrt_annotation.cuda_driver import driver_ptx_isa, driver_version  # noqa: E402
from torch_tensorrt_annotation.examples import triton_examples as ex  # noqa: E402
from torch_tensorrt_annotation.runtime import time_artifacts  # noqa: E402
from torch_tensorrt_annotation.symbolic import Shapes  # noqa: E402
from torch_tensorrt_annotation.torch_op import eager_runner  # noqa: E402


def per_call_us(fn, iters: int, repeats: int) -> float:
    """Median over `repeats` of the wall time per call of `iters` back-to-back calls (host-bound for tiny work)."""
    return bench_common.per_call_us(fn, iters, repeats, warmup=200, sync=torch.cuda.synchronize)


def per_call_us_two_clocks(fn, iters: int, repeats: int) -> tuple[float, float]:
    """(wall, thread CPU) microseconds per call: the medians over `repeats` windows of `iters` back-to-back calls
    (then a synchronize), both clocks read around the same window."""
    for _ in range(200):
        fn()
    torch.cuda.synchronize()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.thread_time()
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
        wall.append((time.perf_counter() - start_wall) / iters * 1e6)
        cpu.append((time.thread_time() - start_cpu) / iters * 1e6)
    return statistics.median(wall), statistics.median(cpu)


def gpu_ms(fn, reps: int = 30) -> float:
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return statistics.median(samples)


def host_overhead(iters: int, repeats: int) -> dict:
    add = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 256, "num_warps": 2}]),
                            meta_impl=ex.add_meta)
    op = tta.custom_op("ttabench::add", impl=add)

    @torch.library.custom_op("ttabench::triton_add", mutates_args=())
    def triton_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        ex.add_launch(x, y, out, BLOCK=256, num_warps=2)
        return out

    @triton_add.register_fake
    def _(x, y):
        return torch.empty_like(x)

    # the same op launching through cuda-bindings only (what runs where torch has no compiled launcher)
    op_bindings = tta.custom_op("ttabench::add_bindings", impl=add)
    # the same op without the guarded fast path (what runs where torch has no usable TensorGuards)
    guard_class = runtime.tensor_guard_class
    runtime.tensor_guard_class = lambda: None
    try:
        op_general = tta.custom_op("ttabench::add_general", impl=add)
    finally:
        runtime.tensor_guard_class = guard_class
    x, y = torch.ones(1, device="cuda"), torch.ones(1, device="cuda")
    torch.testing.assert_close(op(x, y), triton_add(x, y))
    torch.testing.assert_close(op_bindings(x, y), triton_add(x, y))
    torch.testing.assert_close(op_general(x, y), triton_add(x, y))
    bindings_entry = next(iter(eager_runner("ttabench::add_bindings")._entries.values()))
    static_used = bindings_entry.static is not bindings_entry.launch
    bindings_entry.prepared._static, bindings_entry.static = None, bindings_entry.launch
    paths = {
        "tta eager op": lambda: op(x, y),
        "tta eager op, launch through cuda-bindings": lambda: op_bindings(x, y),
        "tta eager op, general path (no tensor guard)": lambda: op_general(x, y),
        "torch native x + 1": lambda: x + 1,
        "torch.library custom_op + Triton launcher": lambda: triton_add(x, y),
    }
    if torch.cuda.device_count() > 1 and torch.cuda.current_device() == 0:
        x1, y1 = torch.ones(1, device="cuda:1"), torch.ones(1, device="cuda:1")
        torch.testing.assert_close(op(x1, y1), x1 + y1)
        paths["tta eager op, tensors on cuda:1, cuda:0 current"] = lambda: op(x1, y1)
        paths["torch native x + 1, tensors on cuda:1, cuda:0 current"] = lambda: x1 + 1
    # interleave the paths so that drift (other load on the host) affects them alike; the median of 9 rounds. Each
    # window is timed on two clocks at once: wall time, and the calling thread's CPU time, which leaves out the time
    # the thread waits for a core while other processes run (on a shared host the wall figures carry that noise)
    results: dict = {name: [] for name in paths}
    for _ in range(9):
        for name, fn in paths.items():
            results[name].append(per_call_us_two_clocks(fn, iters, repeats))
    us = {name: statistics.median(w for w, _ in v) for name, v in results.items()}
    cpu_us = {name: statistics.median(c for _, c in v) for name, v in results.items()}
    # where the tta op's time goes: each layer measured alone
    runner = eager_runner("ttabench::add")
    entry = next(iter(runner._entries.values()))
    prepared = entry.prepared
    stream = torch.cuda.current_stream().cuda_stream
    out = torch.empty_like(x)
    pointers = (x.data_ptr(), y.data_ptr(), *prepared.extras, out.data_ptr())  # the kernel's arguments, in order
    bindings = bindings_entry.prepared  # its parameter storage, written here once (the compiled launcher's is not)
    bindings._pack(bindings._storage, 0, *pointers)
    cu_stream = bindings._cu_stream(stream)
    address = bindings.params.address
    launch_kernel = bindings._cu_launch
    static = prepared._static
    index = torch.cuda.current_device()
    get_stream = torch._C._cuda_getCurrentRawStream
    device = x.device
    fallback_op, autograd_op, keep = _trivial_ops()
    breakdown = {
        "trivial Python op (empty_like), no Autograd kernel (torch's C++ fallback)": per_call_us(
            lambda: fallback_op(x, y), iters, repeats),
        "trivial Python op (empty_like) + tta's Autograd kernel": per_call_us(lambda: autograd_op(x, y), iters,
                                                                              repeats),
        "EagerOp called directly (no dispatcher)": per_call_us(lambda: runner(x, y), iters, repeats),
        "PreparedLaunch.launch (torch's compiled launcher)": per_call_us(
            lambda: prepared.launch(pointers, stream), iters, repeats),
        "PreparedLaunch.launch (pack pointers + cuLaunchKernel via cuda-bindings)": per_call_us(
            lambda: bindings.launch(pointers, stream), iters, repeats),
        "torch's compiled launcher alone (torch._C._StaticCudaLauncher._launch_kernel)": per_call_us(
            lambda: static(pointers, stream), iters, repeats) if static is not None else None,
        "cuLaunchKernel alone (cuda-bindings, prebuilt parameters)": per_call_us(
            lambda: launch_kernel(cu_stream, address, 0), iters, repeats),
        "current-device check (torch._C._cuda_getDevice)": per_call_us(torch._C._cuda_getDevice, iters, repeats),
        "current stream (torch._C._cuda_getCurrentRawStream)": per_call_us(lambda: get_stream(index), iters,
                                                                           repeats),
        "torch.empty_like(x) alone": per_call_us(lambda: torch.empty_like(x), iters, repeats),
        "x.new_empty((1,)) alone": per_call_us(lambda: x.new_empty((1,)), iters, repeats),
        "torch.empty((1,), dtype=, device=torch.device) alone": per_call_us(
            lambda: torch.empty((1,), dtype=torch.float32, device=device), iters, repeats),
        "torch.empty(1) alone (device='cuda')": per_call_us(
            lambda: torch.empty((1,), dtype=torch.float32, device="cuda"), iters, repeats),
    }
    del keep
    other = "tta eager op, tensors on cuda:1, cuda:0 current"
    return {
        "per_call_us": us,
        "per_call_thread_cpu_us": cpu_us,
        "ratio_vs_native_thread_cpu": cpu_us["tta eager op"] / cpu_us["torch native x + 1"],
        "ratio_vs_custom_op_triton_thread_cpu": (cpu_us["tta eager op"]
                                                 / cpu_us["torch.library custom_op + Triton launcher"]),
        "breakdown_us": breakdown,
        "other_device_extra_us": us[other] - us["tta eager op"] if other in us else None,
        "compiled_launcher_used": static_used,
        "tensor_guard_used": guard_class() is not None,
        "ratio_vs_native": us["tta eager op"] / us["torch native x + 1"],
        "ratio_bindings_vs_native": us["tta eager op, launch through cuda-bindings"] / us["torch native x + 1"],
        "ratio_vs_custom_op_triton": us["tta eager op"] / us["torch.library custom_op + Triton launcher"],
    }


def _trivial_ops():
    """Two ops whose CUDA kernel only allocates its output (empty_like): one without an Autograd kernel (torch's
    C++ fallback), one with tta's Autograd kernel; the difference is what tta's Autograd kernel costs."""
    from torch_tensorrt_annotation.torch_op import autograd_kernel

    lib = torch.library.Library("ttabench", "FRAGMENT")

    def kernel(x, y):
        return torch.empty_like(x)

    for name in ("trivial_fallback", "trivial_autograd"):
        lib.define(f"{name}(Tensor x, Tensor y) -> Tensor")
        lib.impl(name, kernel, "CUDA")
    autograd_op = torch.ops.ttabench.trivial_autograd.default
    lib.impl("trivial_autograd", autograd_kernel(autograd_op, {"CUDA": kernel}, "not differentiable"), "Autograd",
             with_keyset=True)
    return torch.ops.ttabench.trivial_fallback.default, autograd_op, lib


def throughput(mib: int) -> dict:
    n = mib * 1024 * 1024 // 4
    plugin = tta.custom_plugin(tta.triton(ex.axpb_launch, configs=ex.AXPB_CONFIGS), meta_impl=ex.axpb_meta)
    op = tta.custom_op("ttabench::axpb", impl=plugin)
    x = torch.randn(n, device="cuda")
    out = torch.empty_like(x)
    torch.testing.assert_close(op(x), x * 2 + 1)  # first call autotunes
    bytes_moved = 2 * x.numel() * x.element_size()  # read + write, for both
    copy_ms = gpu_ms(lambda: out.copy_(x))
    op_ms = gpu_ms(lambda: op(x))
    tactic = eager_runner("ttabench::axpb").chosen_tactic(x)
    return {
        "mib_per_tensor": mib,
        "copy_GBps": bytes_moved / copy_ms / 1e6,
        "tta_GBps": bytes_moved / op_ms / 1e6,
        "ratio": copy_ms / op_ms,
        "tactic": tactic,
        "config": dict(plugin.tactics[tactic - 1].config),
    }


def autotune_quality(mib: int) -> dict:
    n = mib * 1024 * 1024 // 4
    configs = [{"BLOCK": 64, "num_warps": 1}, {"BLOCK": 128, "num_warps": 1}, {"BLOCK": 4096, "num_warps": 8},
               {"BLOCK": 1024, "num_warps": 4}]
    plugin = tta.custom_plugin(tta.triton(ex.axpb_launch, configs=configs), meta_impl=ex.axpb_meta, name="tune")
    op = tta.custom_op("ttabench::tune", impl=plugin)
    x = torch.randn(n, device="cuda")
    op(x)
    picked = eager_runner("ttabench::tune").chosen_tactic(x)
    runner = eager_runner("ttabench::tune")
    shapes = Shapes(((n,),), ((n,),))
    artifacts = runner.artifacts(x.device, shapes, [x.dtype], [x.dtype], ())
    exhaustive = time_artifacts(artifacts, [x], shapes, [x.dtype], x.device, reps=50)
    best = min(exhaustive, key=exhaustive.get)
    return {
        "mib_per_tensor": mib,
        "exhaustive_ms": {str(k): v for k, v in sorted(exhaustive.items())},
        "slowest_over_fastest": max(exhaustive.values()) / min(exhaustive.values()),
        "picked": picked,
        "best": best,
        "picked_over_best": exhaustive[picked] / exhaustive[best],
    }


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def environment() -> dict:
    isa = driver_ptx_isa()
    return {
        "gpu": torch.cuda.get_device_name(),
        "gpu_count": torch.cuda.device_count(),
        "driver_cuda": driver_version(),
        "driver_ptx_isa": f"{isa[0]}.{isa[1]}" if isa else None,
        "torch": torch.__version__,
        "triton": triton.__version__,
        "cuda_bindings": _distribution_version("cuda-bindings"),
        "python": platform.python_version(),
        "tta": tta.__version__,
        "tta_commit": _commit(),
    }


def markdown(results: dict) -> str:
    env, h, t, a = results["environment"], results["host_overhead"], results["throughput"], results["autotune"]
    lines = [
        "# GPU runtime benchmarks",
        "",
        f"GPU: {env['gpu']} (x{env['gpu_count']}); driver CUDA {env['driver_cuda']} (PTX ISA "
        f"{env['driver_ptx_isa']}); torch {env['torch']}; Triton {env['triton']}; cuda-bindings "
        f"{env['cuda_bindings']}; Python {env['python']}; tta {env['tta']} (commit {env['tta_commit']}).",
        f"Command: `{results['command']}`. Medians; all figures from one run.",
        "",
        "## Host overhead per call (1-element tensors, back-to-back calls)",
        "",
        "| path | us per call (median) |",
        "| --- | --- |",
    ]
    lines[-2:] = ["| path | us per call, wall (median) | us per call, thread CPU time (median) |",
                  "| --- | --- | --- |"]
    lines += [f"| {k} | {v:.2f} | {h['per_call_thread_cpu_us'][k]:.2f} |" for k, v in h["per_call_us"].items()]
    lines += ["", "Where the tta op's time goes (each layer alone):", "", "| layer | us per call |", "| --- | --- |"]
    lines += [f"| {k} | {'n/a' if v is None else f'{v:.2f}'} |" for k, v in h["breakdown_us"].items()]
    lines += [
        "",
        f"- tta / torch native: **{h['ratio_vs_native']:.2f}x** (target <= 1.5x: "
        f"{'met' if h['ratio_vs_native'] <= 1.5 else 'NOT met'}); launching through torch's compiled launcher: "
        f"{'yes' if h['compiled_launcher_used'] else 'no (this torch has none)'}; guarded fast path (torch's "
        f"TensorGuards): {'yes' if h['tensor_guard_used'] else 'no'}",
        f"- on the thread's CPU time (the same windows; leaves out waiting for a core): tta / torch native "
        f"**{h['ratio_vs_native_thread_cpu']:.2f}x**, tta / custom_op + Triton launcher "
        f"**{h['ratio_vs_custom_op_triton_thread_cpu']:.2f}x**",
        f"- the same op launching through cuda-bindings only (torch without a compiled launcher) / torch native: "
        f"{h['ratio_bindings_vs_native']:.2f}x",
        f"- tta / custom_op + Triton launcher: **{h['ratio_vs_custom_op_triton']:.2f}x** (target <= 0.6x: "
        f"{'met' if h['ratio_vs_custom_op_triton'] <= 0.6 else 'NOT met'})",
    ]
    if h.get("other_device_extra_us") is not None:
        lines.append(f"- tensors on a device that is not the current one (context push/pop): "
                     f"{h['other_device_extra_us']:+.2f} us per call")
    lines += [
        "",
        f"## Elementwise throughput, {t['mib_per_tensor']} MiB fp32 in and out",
        "",
        f"- torch device-to-device copy: {t['copy_GBps']:.0f} GB/s; tta `x * 2 + 1` (tactic {t['tactic']}, "
        f"{t['config']}): {t['tta_GBps']:.0f} GB/s",
        f"- ratio **{t['ratio'] * 100:.1f}%** (target >= 85%: {'met' if t['ratio'] >= 0.85 else 'NOT met'})",
        "",
        f"## Autotune quality, {a['mib_per_tensor']} MiB",
        "",
        "| tactic | median ms (exhaustive, 50 reps) |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {v:.4f} |" for k, v in a["exhaustive_ms"].items()]
    lines += [
        "",
        f"- slowest / fastest tactic: {a['slowest_over_fastest']:.2f}x",
        f"- autotuner picked tactic {a['picked']}, best is {a['best']}: picked / best = "
        f"**{a['picked_over_best']:.3f}** (target <= 1.05: {'met' if a['picked_over_best'] <= 1.05 else 'NOT met'})",
        "",
    ]
    return "\n".join(lines)


def run(iters: int = 5000, repeats: int = 5, mib: int = 256, command: str = "") -> dict:
    return {
        "command": command or "python benchmarks/bench_runtime.py",
        "environment": environment(),
        "host_overhead": host_overhead(iters, repeats),
        "throughput": throughput(mib),
        "autotune": autotune_quality(64),
    }


def main() -> int:
    parser = bench_common.timing_parser(__doc__, "gpu_runtime")
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    results = run(args.iters, args.repeats, args.mib, "python benchmarks/bench_runtime.py " + " ".join(sys.argv[1:]))
    bench_common.report(args.out, "gpu_runtime", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
