"""Per-backend tactics of one RMSNorm-like op: median kernel time of every tactic (tta.check, CUDA events) and the
tactic the eager autotuner picks, in one run.

    python benchmarks/bench_backends.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_common import report  # noqa: E402

import torch_tensorrt_annotation as tta  # noqa: E402
from torch_tensorrt_annotation.examples import cuda_examples as cx  # noqa: E402
from torch_tensorrt_annotation.examples import triton_examples as tx  # noqa: E402
from torch_tensorrt_annotation.examples.reference import rmsnorm as rms_ref  # noqa: E402
from torch_tensorrt_annotation.runtime import time_artifacts  # noqa: E402
from torch_tensorrt_annotation.symbolic import Shapes  # noqa: E402
from torch_tensorrt_annotation.tables import format_table  # noqa: E402
from torch_tensorrt_annotation.torch_op import eager_runner  # noqa: E402


def run(n_rows: int = 4096, n_cols: int = 4096, command: str = "python benchmarks/bench_backends.py"):
    """(rows, markdown) for the RMSNorm-like op across backends."""
    specs = [tta.triton(tx.rmsnorm_launch, configs=tx.RMSNORM_CONFIGS),
             tta.cuda(cx.RMSNORM_SOURCE, "rmsnorm<{BLOCK}, TTA_IN0_T>", cx.rmsnorm_launch,
                      configs=[{"BLOCK": 128}, {"BLOCK": 256}, {"BLOCK": 512}])]
    try:  # quack-kernels' RMSNorm (cute.Tensor parameters), M dynamic, N static
        from torch_tensorrt_annotation.examples import quack_rmsnorm as q

        specs.append(q.spec())
    except ImportError as exc:  # nvidia-cutlass-dsl or quack-kernels not installed
        print(f"CuTe DSL tactics skipped: {exc}", file=sys.stderr)
    plugin = tta.custom_plugin(specs, meta_impl=cx.rmsnorm_meta, name="bench_rmsnorm")
    x = torch.randn(n_rows, n_cols, device="cuda", dtype=torch.float16)
    w = torch.randn(n_cols, device="cuda", dtype=torch.float16)
    report = tta.check(plugin, x, w, 1e-5, reference=rms_ref, reps=50)
    op = tta.custom_op("ttabench::rmsnorm_backends", impl=plugin)
    op(x, w, 1e-5)
    runner = eager_runner("ttabench::rmsnorm_backends")
    picked = runner.chosen_tactic(x, w, 1e-5)
    # the eager candidates (specialized for these exact shapes) timed exhaustively, as the autotuner sees them
    shapes = Shapes((tuple(x.shape), tuple(w.shape)), (tuple(x.shape),), (1e-5,))  # eps: a runtime fp32 extra
    eager = runner.artifacts(x.device, shapes, [x.dtype, w.dtype], [x.dtype], (1e-5,))
    eager_ms = time_artifacts(eager, [x, w], shapes, [x.dtype], x.device, reps=50)
    rows = [{"tactic": r.tactic, "backend": plugin.tactics[r.tactic - 1].spec.backend, "config": r.config,
             "status": r.status, "median_us": r.median_us, "eager_median_us": eager_ms.get(r.tactic, 0) * 1e3,
             "picked": r.tactic == picked} for r in report.results]
    lines = ["# RMSNorm tactics across backends", "",
             f"GPU: {torch.cuda.get_device_name()}; torch {torch.__version__}; input {tuple(x.shape)} fp16. "
             f"Command: `{command}`.", "",
             format_table(["tactic", "backend", "config", "status", "TensorRT artifact, median us",
                           "eager artifact, median us", "picked by the eager autotuner"],
                          [[r["tactic"], r["backend"], r["config"], r["status"], f"{r['median_us']:.2f}",
                            f"{r['eager_median_us']:.2f}", "yes" if r["picked"] else ""] for r in rows],
                          markdown=True)]
    fastest = min((r for r in rows if r["status"] == "ok"), key=lambda r: r["median_us"])
    fastest_eager = min(rows, key=lambda r: r["eager_median_us"])
    lines += ["", f"Fastest TensorRT artifact (tta.check): tactic {fastest['tactic']} ({fastest['backend']}). "
              f"Fastest eager artifact: tactic {fastest_eager['tactic']} ({fastest_eager['backend']}); the eager "
              f"autotuner picked tactic {picked}. Eager artifacts may assume 16-divisible extras for these exact "
              "shapes, TensorRT's may not, so the two columns can rank differently.",
              "cuTile tactics are not part of this run: cuTile cannot run on sm_90.", ""]
    return rows, "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=None)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--cols", type=int, default=4096)
    args = parser.parse_args()
    rows, text = run(args.rows, args.cols,
                     f"python benchmarks/bench_backends.py{' --out ' + args.out if args.out else ''}")
    report(args.out, "backends_rmsnorm", rows, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
