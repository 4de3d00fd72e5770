"""On a GPU: launch what the emulated TensorRT build produced, for every tactic, the way TensorRT's AOT runtime
does (kernel name + PTX from get_kernel, evaluated KernelLaunchParams and extra args, raw pointers in TensorRT's
order), and compare with PyTorch. Skipped without a GPU or without the tensorrt-cu13-bindings wheel."""

import json
import os

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import launcher

from ..trt_harness import builder, standin
from .gpu_cases import SHAPES, TOLERANCE, as_tuple, make_inputs, max_errors

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(standin.bindings_dir() is None,
                                                  reason="needs the tensorrt-cu13-bindings wheel")]
REPORT = os.environ.get("TTA_GPU_REPORT")



@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("name", list(SHAPES))
def test_emulated_build_output_runs_correctly_on_the_gpu(trt, name, dtype):
    import tensorrt.plugin as trtp

    from torch_tensorrt_annotation.examples.triton_examples import plugins

    plugin, _, reference = plugins()[name]
    op_name = f"ttagputrt::{name}"
    tta.custom_op(op_name, impl=plugin)  # build arch from this GPU, PTX ISA from this driver
    trt_dtype = {torch.float32: trt.float32, torch.float16: trt.float16}[dtype]
    rtol, atol = TOLERANCE[dtype]
    stream = torch.cuda.current_stream().cuda_stream
    for shapes in SHAPES[name]:
        tensors, attrs = make_inputs(name, shapes, dtype)
        attr_values = dict(zip([a.name for a in plugin.schema.attrs], attrs))
        created = builder.create(trt, trtp, op_name, attr_values, len(tensors))
        _, out_shapes, results = builder.build(trt, created, list(shapes), [trt_dtype] * len(tensors))
        expected = as_tuple(reference(*tensors, *attrs))
        assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
        for r in results:
            outputs = [torch.full_like(e, float("nan")) for e in expected]
            assert [tuple(o.shape) for o in outputs] == out_shapes
            launcher.launch_raw(r.kernel, r.ptx, r.grid, r.block, r.shared_mem, r.extras,
                                [t.data_ptr() for t in tensors], [o.data_ptr() for o in outputs], stream)
            torch.cuda.synchronize()
            abs_err, rel_err = max_errors(outputs, expected)
            if REPORT:
                with open(REPORT, "a") as f:
                    f.write(json.dumps({"source": "emulated-trt-build", "plugin": name, "dtype": str(dtype),
                                        "shapes": shapes, "tactic": r.tactic, "kernel": r.kernel,
                                        "grid": r.grid, "block": r.block, "extras": r.extras,
                                        "max_abs_err": abs_err, "max_rel_err": rel_err}) + "\n")
            for o, e in zip(outputs, expected):
                torch.testing.assert_close(o, e, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["add", "rmsnorm", "sum_diff"])
def test_jit_fallback_enqueue_launches_the_same_artifact(trt, name):
    """TensorRT builds that prefer JIT call @trtp.impl at enqueue; it must compute what the AOT kernel does."""
    import tensorrt.plugin as trtp

    from torch_tensorrt_annotation.examples.triton_examples import plugins

    plugin, _, reference = plugins()[name]
    op_name = f"ttagpujit::{name}"
    tta.custom_op(op_name, impl=plugin)
    shapes = SHAPES[name][1]
    tensors, attrs = make_inputs(name, shapes, torch.float32)
    expected = as_tuple(reference(*tensors, *attrs))
    for tactic in (t.number for t in plugin.tactics):
        created = builder.create(trt, trtp, op_name, dict(zip([a.name for a in plugin.schema.attrs], attrs)),
                                 len(tensors), aot=False)
        outputs = [torch.full_like(e, float("nan")) for e in expected]
        builder.enqueue_jit(trt, created, list(shapes), [trt.float32] * len(tensors),
                            [t.data_ptr() for t in tensors], [o.data_ptr() for o in outputs],
                            torch.cuda.current_stream().cuda_stream, tactic)
        torch.cuda.synchronize()
        for o, e in zip(outputs, expected):
            torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-5)
