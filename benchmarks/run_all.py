"""Every benchmark in one run on a GPU machine: runtime (host overhead, throughput, autotune), backends (RMSNorm
tactics), compilation (cold vs warm, cached registration). Writes report.md, report.json and report.png.

    python benchmarks/run_all.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))


def chart(runtime: dict, backends: list, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    per_call = runtime["host_overhead"]["per_call_us"]
    axes[0].barh(list(per_call), list(per_call.values()), color=["#2a7", "#888", "#c55"])
    axes[0].set_xlabel("host time per call (us, lower is better)")
    axes[0].set_title("Per-call overhead, 1-element tensors")
    t = runtime["throughput"]
    axes[1].bar(["torch copy", "tta x*2+1"], [t["copy_GBps"], t["tta_GBps"]], color=["#888", "#2a7"])
    axes[1].set_ylabel("GB/s (read + write)")
    axes[1].set_title(f"Throughput at {t['mib_per_tensor']} MiB: {t['ratio'] * 100:.1f}% of copy")
    labels = [f"t{r['tactic']} {r['backend']}" for r in backends]
    axes[2].bar(labels, [r["eager_median_us"] for r in backends],
                color=["#d62" if r["picked"] else "#47a" for r in backends])
    axes[2].set_yscale("log")
    axes[2].set_ylabel("median kernel time (us, eager artifacts)")
    axes[2].set_title("RMSNorm tactics (orange: the autotuner's pick)")
    axes[2].tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def redraw(report_json: str, path: str) -> None:
    """Draw the chart again from a saved report.json."""
    with open(report_json) as f:
        report = json.load(f)
    chart(report["runtime"], report["backends"], path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    # compile timings first, in a clean process: they need empty caches that no import has touched
    out = subprocess.run([sys.executable, os.path.join(HERE, "bench_compile.py")], capture_output=True, text=True,
                         check=True).stdout
    compile_result = json.loads(out.strip().splitlines()[-1])
    import bench_backends
    import bench_compile
    import bench_runtime

    runtime = bench_runtime.run(command="python benchmarks/run_all.py")
    backend_rows, backend_text = bench_backends.run(command="python benchmarks/run_all.py")
    report = "\n".join([bench_runtime.markdown(runtime), backend_text.replace("# RMSNorm", "## RMSNorm"),
                        bench_compile.markdown(compile_result), "![benchmarks](report.png)", ""])
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report)
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump({"runtime": runtime, "backends": backend_rows, "compile": compile_result}, f, indent=2)
    chart(runtime, backend_rows, os.path.join(args.out, "report.png"))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
