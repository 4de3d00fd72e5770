"""Guarded specialization costs, and the TensorRT artifact against the eager one.

    python benchmarks/bench_guards.py  # CPU: recording + registration of a cached plugin, guard-miss recompile
    python benchmarks/bench_guards.py --gpu  # also: RMSNorm (4096, 4096) fp16, TensorRT artifact vs eager artifact

- Registration of a cached plugin: `custom_plugin` + `custom_op` + `compile` (recording included) with the disk
  cache warm, median of 20 in one process. Target: < 50 ms.
- Guard-miss recompile: the first call for shapes that break a recorded guard (here the hidden dim crosses a power
  of two): record again + compile (cold Triton cache) and, with a warm cache, record again only.
- GPU: the RMSNorm example's TensorRT artifact, as TensorRT's build compiles it for a static hidden dim of 4096
  and a dynamic batch, against the eager artifact for the same shapes; each launched the way TensorRT launches it
  (tta's launcher, TensorRT's argument order), median of CUDA-event timings. Target: within 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu(reps: int = 20) -> dict:
    root = tempfile.mkdtemp(prefix="tta-bench-guards-")
    os.environ["TTA_CACHE_DIR"] = os.path.join(root, "tta")
    os.environ["TRITON_CACHE_DIR"] = os.path.join(root, "triton")
    os.environ.setdefault("TTA_COMPILE_WORKERS", "1")
    import torch

    import torch_tensorrt_annotation as tta
    from tests.unit import shape_helpers

    def make(name="bench_rows"):
        return tta.custom_plugin(tta.triton(shape_helpers.library_launch, configs=[{}]),
                                 meta_impl=shape_helpers.meta_impl, name=name)

    meta = torch.empty(8, 1000, device="meta")
    make().compile(meta, arch="sm_90", ptx_isa=(9, 0))  # warm the disk cache
    register = []
    for i in range(reps):
        start = time.perf_counter()
        plugin = make()
        tta.custom_op(f"bench_guards::rows{i}", impl=plugin, tensorrt=False)
        plugin.compile(meta, arch="sm_90", ptx_isa=(9, 0))
        register.append(time.perf_counter() - start)

    plugin = make("bench_miss")
    plugin.compile(meta, arch="sm_90", ptx_isa=(9, 0))
    start = time.perf_counter()
    plugin.compile(torch.empty(8, 3000, device="meta"), arch="sm_90", ptx_isa=(9, 0))  # guard miss: cold compile
    miss_cold = time.perf_counter() - start
    again = make("bench_miss")  # same content: the artifacts come from the disk cache, only recording runs
    again.compile(meta, arch="sm_90", ptx_isa=(9, 0))
    start = time.perf_counter()
    again.compile(torch.empty(8, 3000, device="meta"), arch="sm_90", ptx_isa=(9, 0))
    miss_warm = time.perf_counter() - start
    return {"registration_cached_ms": statistics.median(register) * 1e3, "registration_target_ms": 50,
            "guard_miss_recompile_cold_ms": miss_cold * 1e3, "guard_miss_rerecord_warm_ms": miss_warm * 1e3}


def gpu(reps: int = 200) -> dict:
    import torch

    import torch_tensorrt_annotation as tta
    from torch_tensorrt_annotation import launcher, symbolic
    from torch_tensorrt_annotation.examples import triton_examples as ex
    from torch_tensorrt_annotation.plugin import resolve_target
    from torch_tensorrt_annotation.runtime import gpu_time_ms

    plugin = tta.custom_plugin(tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS), meta_impl=ex.rmsnorm_meta)
    major, minor = torch.cuda.get_device_capability()
    target = resolve_target(major * 10 + minor, None)
    x = torch.randn(4096, 4096, device="cuda", dtype=torch.float16)
    w = torch.randn(4096, device="cuda", dtype=torch.float16)
    out = torch.empty_like(x)
    shapes = symbolic.Shapes(((4096, 4096), (4096,)), ((4096, 4096),), (1e-5,))  # eps: a runtime fp32 extra
    common = dict(in_dtypes=[torch.float16] * 2, out_dtypes=[torch.float16], in_ranks=[2, 1], out_ranks=[2],
                  attrs=[1e-5])
    profile = symbolic.Profile((((1, 8192), (4096, 4096)), ((4096, 4096),)), (((1, 8192), (4096, 4096)),))
    stream = torch.cuda.current_stream()
    rows = {}
    for tactic in plugin.tactics:
        eager = plugin.compile_tactic(tactic, target, shapes=shapes, specialize_divisibility=True, **common)
        trt = plugin.compile_tactic(tactic, target, profile=profile, **common)
        times = {}
        for label, art in (("eager", eager), ("tensorrt", trt)):
            prepared = launcher.PreparedLaunch(art, shapes, torch.cuda.current_device())
            args = ([x.data_ptr(), w.data_ptr()], [out.data_ptr()], stream.cuda_stream)
            times[label] = gpu_time_ms(lambda p=prepared, a=args: p(*a), stream, reps) * 1e3
        rows[tactic.number] = {"eager_us": times["eager"], "tensorrt_us": times["tensorrt"],
                               "ratio": times["tensorrt"] / times["eager"],
                               "same_ptx": trt.ptx.replace(trt.kernel_name, "K") ==
                               eager.ptx.replace(eager.kernel_name, "K")}
    return {"rmsnorm_4096x4096_fp16_static_hidden": rows, "target_ratio": 1.05}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="also time the TensorRT vs eager RMSNorm artifacts")
    parser.add_argument("--out", help="write the results as JSON here")
    options = parser.parse_args()
    results = {"cpu": cpu()}
    if options.gpu:
        results["gpu"] = gpu()
    text = json.dumps(results, indent=2)
    print(text)
    if options.out:
        with open(options.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
