"""With a real TensorRT, Torch-TensorRT and GPU: build an engine with a tta plugin, serialize it, and run it in a
fresh process that imports neither tta nor Torch-TensorRT. Skips cleanly where any of them is missing (as in CI,
where no TensorRT builder can be installed)."""

import subprocess
import sys
import textwrap

import pytest
import torch


def _missing() -> str | None:
    try:
        import tensorrt as trt
    except Exception as exc:  # noqa: BLE001
        return f"TensorRT is not installed ({type(exc).__name__}: {exc})"
    if not hasattr(trt, "Builder"):
        return "the installed tensorrt module has no Builder (lean runtime or a test stand-in)"
    try:
        import torch_tensorrt  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return f"Torch-TensorRT is not installed ({type(exc).__name__}: {exc})"
    if not torch.cuda.is_available():
        return "no GPU"
    return None


MISSING = _missing()
pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu, pytest.mark.skipif(MISSING is not None, reason=str(MISSING))]

RUNNER = textwrap.dedent('''
    import sys
    import tensorrt as trt
    import torch

    engine_path, data_path = sys.argv[1], sys.argv[2]
    data = torch.load(data_path)
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(open(engine_path, "rb").read())
    assert engine is not None, "engine failed to deserialize"
    context = engine.create_execution_context()
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    outputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
    feeds = [t.cuda().contiguous() for t in data["inputs"]]
    for name, tensor in zip(inputs, feeds):
        context.set_input_shape(name, tuple(tensor.shape))
        context.set_tensor_address(name, tensor.data_ptr())
    results = []
    for name in outputs:
        out = torch.empty(tuple(context.get_tensor_shape(name)), dtype=data["expected"].dtype, device="cuda")
        context.set_tensor_address(name, out.data_ptr())
        results.append(out)
    stream = torch.cuda.Stream()
    assert context.execute_async_v3(stream.cuda_stream)
    stream.synchronize()
    assert "torch_tensorrt_annotation" not in sys.modules and "torch_tensorrt" not in sys.modules
    torch.testing.assert_close(results[0].cpu(), data["expected"], rtol=1e-4, atol=1e-4)
    print("engine ran without tta")
''')


def test_engine_with_tta_plugin_runs_in_a_process_without_python_plugin_code(tmp_path):
    import torch_tensorrt
    import torch_tensorrt.annotation  # noqa: F401 - installs custom_op(..., impl=...)
    import torch_tensorrt.dynamo.conversion.plugins as trt_plugins

    from torch_tensorrt_annotation.examples.triton_examples import plugins

    plugin, _, reference = plugins()["rmsnorm"]
    trt_plugins.custom_op("ttareal::rmsnorm", impl=plugin, supports_dynamic_shapes=True)

    class Model(torch.nn.Module):
        def forward(self, x, w):
            return torch.ops.ttareal.rmsnorm(x, w, 1e-5) * 2

    x = torch.randn(4, 8, 1000, device="cuda")
    w = torch.randn(1000, device="cuda")
    expected = reference(x, w, 1e-5) * 2
    exported = torch.export.export(Model(), (x, w))
    compiled = torch_tensorrt.dynamo.compile(exported, inputs=[x, w], min_block_size=1)
    torch.testing.assert_close(compiled(x, w), expected, rtol=1e-4, atol=1e-4)

    engine = torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(
        exported, inputs=[x, w], min_block_size=1)
    (tmp_path / "model.engine").write_bytes(bytes(engine))
    torch.save({"inputs": [x.cpu(), w.cpu()], "expected": expected.cpu()}, tmp_path / "data.pt")
    (tmp_path / "run.py").write_text(RUNNER)
    result = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "model.engine"),
                             str(tmp_path / "data.pt")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "engine ran without tta" in result.stdout
