"""CPU-only micro-benchmark of the eager op's per-call host path, with the CUDA driver call replaced by a no-op.

    python benchmarks/bench_host_cpu.py [--out DIR] [--clock thread|wall]

What a tta op costs on the host per call, layer by layer, on a machine without a GPU: the torch dispatcher and the
op's Autograd kernel, EagerOp.__call__ (cache key, pointer checks, output allocation), and PreparedLaunch.launch
(parameter packing, stream and current-device handling). The CUDA pieces are stand-ins at their seams: CPU tensors
instead of CUDA ones (torch's CPU allocator instead of its CUDA caching allocator), a Python no-op instead of
cuda-bindings' cuLaunchKernel, the current device fixed at 0. So the absolute figures are not the GPU's: use them to
compare variants of the Python path (before/after a change, one process, interleaved); the GPU figures come from
benchmarks/bench_runtime.py.

The default clock is the thread's CPU time (time.thread_time): on a shared machine it leaves out the time the
thread waits for a core, which wall time does not. Medians of repeated measurements, rows interleaved.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_common import per_call_us, report, timing_parser  # noqa: E402

import torch_tensorrt_annotation as tta  # noqa: E402
from torch_tensorrt_annotation import (  # noqa: E402
    cuda_driver,
    launcher,
    runtime,
    symbolic,  # noqa: E402
)
from torch_tensorrt_annotation.examples import triton_examples as ex  # noqa: E402
from torch_tensorrt_annotation.torch_op import autograd_kernel  # noqa: E402

NAMESPACE = "ttabenchcpu"


def stand_in_driver() -> None:
    """The driver seam: cuLaunchKernel answers CUDA_SUCCESS at once; function handles and streams are cuda-bindings'
    own types where cuda-bindings is installed (what the real launch passes), else ints."""
    try:
        from cuda.bindings import driver

        stream_type, function = driver.CUstream, driver.CUfunction(0x1000)
    except ImportError:
        stream_type, function = int, 0x1000
    cuda_driver._api = types.SimpleNamespace(cuLaunchKernel=lambda *args: (0,), CUstream=stream_type)
    # torch's compiled launcher (absent from CPU builds of torch): a no-op taking its arguments
    launcher.static_launcher = lambda: (lambda function, gx, gy, gz, warps, shared, types, args, stream: None)
    launcher.load = lambda artifact, device_index: function
    launcher._current_device_getter = lambda: (lambda: 0)


def trivial_ops():
    """Three ops whose CPU kernel only allocates its output: without an Autograd kernel (torch's C++ fallback),
    with torch.library.register_autograd, and with tta's autograd_kernel (what tta ops register)."""
    lib = torch.library.Library(NAMESPACE, "FRAGMENT")
    ops = {}

    def kernel(x, y):
        return torch.empty_like(x)

    for name in ("fallback", "register_autograd", "tta_autograd"):
        lib.define(f"{name}(Tensor x, Tensor y) -> Tensor")
        lib.impl(name, kernel, "CPU")
        op = ops[name] = getattr(getattr(torch.ops, NAMESPACE), name).default
        if name == "register_autograd":
            torch.library.register_autograd(f"{NAMESPACE}::{name}", lambda ctx, grad: None,
                                            setup_context=lambda ctx, inputs, output: None, lib=lib)
        elif name == "tta_autograd":
            lib.impl(name, autograd_kernel(op, {"CPU": kernel}, "not differentiable"), "Autograd", with_keyset=True)
    return lib, ops, kernel


def tta_op(x, y):
    """A real tta EagerOp for `add` (Triton, compiled here for sm_90) on CPU tensors, registered like a tta op with
    the CPU key standing in for CUDA; and its entry's PreparedLaunch."""
    plugin = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 256, "num_warps": 2}]),
                               meta_impl=ex.add_meta)
    meta = torch.empty(x.shape, dtype=x.dtype, device="meta")
    artifact = plugin.compile(meta, meta, arch="sm_90", ptx_isa=(9, 0), workers=1)[0]
    shapes = symbolic.Shapes((tuple(x.shape), tuple(y.shape)), (tuple(x.shape),))
    eager = runtime.EagerOp(plugin, f"{NAMESPACE}::add")
    runtime._bind_torch()
    entry = runtime._make_entry(artifact, (x, y), ((tuple(x.shape), x.dtype),), shapes, x.device, 0)
    eager._stream = lambda device_index: 0
    eager._prepare = lambda key, inputs, attrs: eager._entries.setdefault(key, entry)
    lib = torch.library.Library(NAMESPACE, "FRAGMENT")
    lib.define("add" + plugin.schema.torch_schema())
    lib.impl("add", eager, "CPU")
    torch.library.register_fake(f"{NAMESPACE}::add", ex.add_meta, lib=lib)
    op = getattr(torch.ops, NAMESPACE).add.default
    lib.impl("add", eager.autograd_kernel(autograd_kernel(op, {"CPU": eager}, "not differentiable"), "CPU"),
             "Autograd", with_keyset=True)
    return lib, op, eager, entry.prepared


def run(iters: int, repeats: int, rounds: int, clock_name: str) -> dict:
    clock = {"thread": time.thread_time, "wall": time.perf_counter}[clock_name]
    stand_in_driver()
    x, y = torch.ones(1), torch.ones(1)
    keep, ops, kernel = trivial_ops()
    keep2, op, eager, prepared = tta_op(x, y)
    bindings = runtime._make_entry(prepared.artifact, (x, y), ((tuple(x.shape), x.dtype),),
                                   symbolic.Shapes((tuple(x.shape), tuple(y.shape)), (tuple(x.shape),)), x.device,
                                   0).prepared
    bindings._static = None  # the same launch through cuda-bindings only
    assert op(x, y).shape == x.shape and len(eager._entries) == 1  # the op reaches the EagerOp's one entry
    pointers = (x.data_ptr(), y.data_ptr(), *prepared.extras, x.data_ptr())  # the kernel's arguments, in order
    dtype, device = x.dtype, x.device
    rows = {
        "torch x + 1": lambda: x + 1,
        "torch.empty_like(x)": lambda: torch.empty_like(x),
        "torch.empty((1,), dtype=, device=)": lambda: torch.empty((1,), dtype=dtype, device=device),
        "trivial op, no Autograd kernel (torch's C++ fallback)": lambda: ops["fallback"](x, y),
        "trivial op + torch.library.register_autograd": lambda: ops["register_autograd"](x, y),
        "trivial op + tta autograd_kernel": lambda: ops["tta_autograd"](x, y),
        "trivial kernel called directly": lambda: kernel(x, y),
        "PreparedLaunch.launch (no-op compiled launcher)": lambda: prepared.launch(pointers, 0),
        "PreparedLaunch.launch (pack + no-op cuda-bindings call)": lambda: bindings.launch(pointers, 0),
        "EagerOp called directly (no-op launch)": lambda: eager(x, y),
        "tta op through the dispatcher (no-op launch)": lambda: op(x, y),
    }
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(rounds):  # interleaved, so that drift affects every row alike
        for name, fn in rows.items():
            samples[name].append(per_call_us(fn, iters, repeats, warmup=iters // 10 + 100, clock=clock))
    del keep, keep2
    return {
        "command": "python benchmarks/bench_host_cpu.py " + " ".join(sys.argv[1:]),
        "environment": {"cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                        "python": platform.python_version(), "torch": torch.__version__, "tta": tta.__version__,
                        "clock": clock_name},
        "per_call_us": {name: statistics.median(v) for name, v in samples.items()},
    }


def markdown(results: dict) -> str:
    env = results["environment"]
    lines = [
        "# Eager op host path on CPU (no-op launch)",
        "",
        f"Python {env['python']}; torch {env['torch']}; tta {env['tta']}; {env['cpus']} CPUs; clock: {env['clock']}.",
        f"Command: `{results['command']}`. Medians of interleaved rounds; CPU tensors and a no-op driver call stand "
        "in for CUDA (compare rows, not GPUs).",
        "",
        "| path | us per call (median) |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {v:.2f} |" for k, v in results["per_call_us"].items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = timing_parser(__doc__, "host_cpu")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clock", choices=("thread", "wall"), default="thread")
    args = parser.parse_args()
    results = run(args.iters, args.repeats, args.rounds, args.clock)
    report(args.out, "host_cpu", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
