"""Cold vs warm compilation of a 4-config plugin, and registration of an already-cached plugin.

    python benchmarks/bench_compile.py

Cold: empty tta disk cache and empty Triton cache. Warm: a new plugin object with the same content (a new process
would see the same), served from the disk cache. Registration: custom_plugin + custom_op + compile, cache warm.
Targets: warm >= 20x faster than cold; registration of a cached plugin < 50 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run() -> dict:
    root = tempfile.mkdtemp(prefix="tta-bench-compile-")
    os.environ["TTA_CACHE_DIR"] = os.path.join(root, "tta")
    os.environ["TRITON_CACHE_DIR"] = os.path.join(root, "triton")  # before Triton reads it
    import torch

    import torch_tensorrt_annotation as tta
    from torch_tensorrt_annotation.examples import triton_examples as ex

    configs = [{"BLOCK": 256, "num_warps": 2}, {"BLOCK": 1024, "num_warps": 4}, {"BLOCK": 2048, "num_warps": 8},
               {"BLOCK": 4096, "num_warps": 8}]
    meta = torch.empty(1 << 20, device="meta")

    def make():
        return tta.custom_plugin(tta.triton(ex.axpb_launch, configs=configs), meta_impl=ex.axpb_meta)

    start = time.perf_counter()
    cold = make().compile(meta, arch="sm_90", ptx_isa=(9, 0))
    cold_s = time.perf_counter() - start
    warm_samples, registration_samples = [], []
    for i in range(5):
        start = time.perf_counter()
        warm = make().compile(meta, arch="sm_90", ptx_isa=(9, 0))
        warm_samples.append(time.perf_counter() - start)
        assert [a.ptx for a in warm] == [a.ptx for a in cold]
        start = time.perf_counter()
        plugin = make()
        tta.custom_op(f"ttabench::cached_{i}", impl=plugin, tensorrt=False)
        plugin.compile(meta, arch="sm_90", ptx_isa=(9, 0))
        registration_samples.append(time.perf_counter() - start)
    warm_s = statistics.median(warm_samples)
    registration_ms = statistics.median(registration_samples) * 1e3
    return {"tactics": len(cold), "cold_s": cold_s, "warm_s": warm_s, "speedup": cold_s / warm_s,
            "registration_ms": registration_ms}


def markdown(r: dict) -> str:
    return "\n".join([
        f"## Compilation of a {r['tactics']}-config plugin",
        "",
        f"- cold (empty caches, parallel compile): {r['cold_s'] * 1e3:.0f} ms; warm (disk cache): "
        f"{r['warm_s'] * 1e3:.1f} ms; **{r['speedup']:.0f}x** faster (target >= 20x: "
        f"{'met' if r['speedup'] >= 20 else 'NOT met'})",
        f"- registering an already-cached plugin (custom_plugin + custom_op + compile): **{r['registration_ms']:.1f} "
        f"ms** (target < 50 ms: {'met' if r['registration_ms'] < 50 else 'NOT met'})",
        "",
    ])


if __name__ == "__main__":
    result = run()
    print(markdown(result))
    print(json.dumps(result))
