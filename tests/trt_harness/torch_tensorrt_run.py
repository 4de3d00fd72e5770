"""Run in a subprocess: the REAL Torch-TensorRT Python of one version over the stand-in, from `import
torch_tensorrt.annotation` to the emulated build of the plugin object the converter created.

    python -m tests.trt_harness.torch_tensorrt_run <torch-tensorrt dir> <bindings package dir> <deps dir> [mode]

Modes: "alias" (default: `import torch_tensorrt.annotation`), "plain" (`import torch_tensorrt_annotation` before
torch_tensorrt, nothing else). Last, tta's qdp_gate is compared with Torch-TensorRT's own `_features.py`,
re-evaluated for several TensorRT versions.

Path: trt_plugins.custom_op(name, impl=plugin, ...) -> torch.export (dynamic batch dim) -> the real
DYNAMO_CONVERTERS lookup for each node of the op -> the registered converter, called as Torch-TensorRT's
TRTInterpreter calls it, with a real ConversionContext over standin.Network -> builder.build of the layer's plugin
object. Prints one JSON object (the test asserts on it). One version per process: Torch-TensorRT registers
process-wide state, and the CPU-torch shims below must not leak into the test process.
"""

import hashlib
import json
import logging
import os
import sys
import traceback


def cpu_torch_shims(torch):
    """What Torch-TensorRT's import asks a CUDA build of torch for; this torch is the CPU build."""
    torch.cuda.get_device_capability = lambda device=None: (9, 0)
    torch.cuda.current_device = lambda: 0
    if not hasattr(torch._C, "_CudaDeviceProperties"):
        torch._C._CudaDeviceProperties = type("_CudaDeviceProperties", (), {})



def conversion_context(trt, standin, graph):
    """A network double, a real ConversionContext on it (default settings, also given to the converter registry),
    and the graph's placeholders as network inputs: (network, context, {node: ITensor})."""
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._ConversionContext import ConversionContext
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS

    settings = CompilationSettings()
    DYNAMO_CONVERTERS.set_compilation_settings(settings)
    net = standin.Network()
    return net, ConversionContext(net, settings), network_inputs(net, trt, graph)

def network_inputs(net, trt, graph):
    """Network inputs for the exported program's placeholders: -1 for a symbolic dim."""
    import torch

    dtypes = {torch.float32: trt.float32, torch.float16: trt.float16}
    tensors = {}
    for node in graph.nodes:
        if node.op == "placeholder":
            val = node.meta["val"]
            shape = [d if isinstance(d, int) else -1 for d in val.shape]
            tensors[node] = net.add_input(node.name, dtypes[val.dtype], shape)
    return tensors


def expected_tactics(tta, plugin, attrs, out_shapes):
    """What tta itself compiles for these attributes at the opt shapes, for the test to compare with the build."""
    import torch

    from torch_tensorrt_annotation import symbolic

    shapes = symbolic.Shapes(((8, 300),), tuple(tuple(s) for s in out_shapes))
    # the build's profile: batch dynamic in [1, 64], the row length static
    profile = symbolic.Profile((((1, 64), (300, 300)),), (((1, 64),), ((1, 64),)))
    out = []
    for tactic in plugin.tactics:
        art = plugin.compile_tactic(tactic, tta.Target.parse(arch="sm_90", ptx_isa=(9, 0)), in_dtypes=[torch.float16],
                                    out_dtypes=[torch.float32, torch.float16], in_ranks=[2], out_ranks=[1, 1],
                                    attrs=attrs, profile=profile)
        lp = art.launch_params(shapes)
        out.append({"tactic": tactic.number, "kernel": art.kernel_name, "grid": lp.grid, "block": lp.block,
                    "extras": lp.extras, "ptx_sha": hashlib.sha256(art.ptx.encode()).hexdigest()})
    return out


def gate_against_upstream(torch_tensorrt):
    """{TensorRT version: [upstream's ENABLED_FEATURES.qdp_plugin, tta's qdp_gate(...) is None]}."""
    import importlib

    from torch_tensorrt_annotation.integration import qdp_gate

    proxy = sys.modules["tensorrt"]
    out = {}
    for version in ("10.9.0.34", "10.13.3.9", "10.14.1.48", "10.15.1.29", "10.16.1.11", "11.1.0.106", "11.4.0.106"):
        proxy.__version__ = version
        features = importlib.reload(sys.modules["torch_tensorrt._features"])
        out[version] = [bool(features.ENABLED_FEATURES.qdp_plugin),
                        qdp_gate(torch_tensorrt.__version__, version) is None]
    return out


def add_one(tta, trt, trt_plugins, builder, standin):
    """Mode "add_one": the Torch-TensorRT AOT plugin example's `my::add_one` (a torch.library.custom_op, defined in
    tests/third_party/torch_tensorrt_aot_plugin.py as the example writes it) gets its TensorRT side with one line,
    then goes through torch.export (dynamic batch), the real converter lookup, tta's converter and the emulated
    build."""
    import torch

    from tests.third_party import torch_tensorrt_aot_plugin  # noqa: F401 - defines my::add_one
    from torch_tensorrt_annotation import symbolic

    plugin = trt_plugins.custom_op("my::add_one", impl=tta.aot(configs=[{"BLOCK_SIZE": 256}, {"BLOCK_SIZE": 1024}]),
                                   supports_dynamic_shapes=True, arch="sm_90", ptx_isa=(9, 0))

    class MyModel(torch.nn.Module):  # the example's model
        def forward(self, X):
            return torch.ops.my.add_one.default(X)

    batch = torch.export.Dim("batch", min=1, max=64)
    exported = torch.export.export(MyModel(), (torch.full((8, 300), 2.0),), dynamic_shapes={"X": {0: batch}})
    graph = exported.graph_module.graph

    from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS

    net, ctx, values = conversion_context(trt, standin, graph)
    nodes = []
    for node in graph.nodes:
        if node.op != "call_function" or node.target is not torch.ops.my.add_one.default:
            continue
        converter = DYNAMO_CONVERTERS[node][0]
        output = converter(ctx, node.target, tuple(values.get(a, a) for a in node.args), dict(node.kwargs),
                           node.name)
        layer = net.layers[-1]
        out_types, out_shapes, results = builder.build(trt, layer.plugin, [(8, 300)], [trt.float32],
                                                       dynamic={(0, 0)}, ranges={(0, 0): (1, 64)})
        profile = symbolic.Profile((((1, 64), (300, 300)),), (((1, 64), (300, 300)),))
        expected = []
        for tactic in plugin.tactics:
            art = plugin.compile_tactic(tactic, tta.Target.parse(arch="sm_90", ptx_isa=(9, 0)),
                                        in_dtypes=[torch.float32], out_dtypes=[torch.float32], in_ranks=[2],
                                        out_ranks=[2], attrs=[], profile=profile)
            lp = art.launch_params(symbolic.Shapes(((8, 300),), ((8, 300),)))
            expected.append({"tactic": tactic.number, "kernel": art.kernel_name, "grid": lp.grid,
                             "extras": lp.extras, "ptx_sha": hashlib.sha256(art.ptx.encode()).hexdigest()})
        nodes.append({"converter": converter.__name__, "aot": type(layer.plugin).__name__,
                      "output": [list(output.shape), output.dtype.name],
                      "out_types": [t.name for t in out_types], "out_shapes": out_shapes, "expected": expected,
                      "tactics": [{"tactic": r.tactic, "kernel": r.kernel, "grid": r.grid, "extras": r.extras,
                                   "ptx_sha": hashlib.sha256(r.ptx).hexdigest()} for r in results]})
    return {"nodes": nodes, "schema": plugin.schema.torch_schema()}


def main(tt_dir, bindings_dir, deps_dir, mode="alias"):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:0] = [root]
    from tests.trt_harness import builder, standin
    from tests.trt_harness import plugins as test_plugins

    trt = standin.install(bindings_dir)
    sys.path[:0] = [tt_dir, deps_dir]
    import torch

    cpu_torch_shims(torch)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report = {"tensorrt": trt.__version__}
    if mode == "plain":
        import torch_tensorrt_annotation as tta  # alone: the hook waits for torch_tensorrt's plugins module

        assert "torch_tensorrt" not in sys.modules
    import torch_tensorrt

    report["torch_tensorrt"] = torch_tensorrt.__version__
    if mode != "plain":
        import torch_tensorrt.annotation as tta  # the alias: the very same module, and the custom_op hook
    import torch_tensorrt.dynamo.conversion.plugins as trt_plugins

    assert tta.__name__ == "torch_tensorrt_annotation"
    if mode == "add_one":
        report.update(add_one(tta, trt, trt_plugins, builder, standin))
        print(json.dumps(report))
        return
    plugin = tta.custom_plugin(tta.triton(test_plugins.rowstats_launch, configs=[{"BLOCK": 64}, {"BLOCK": 256}]),
                               meta_impl=test_plugins.rowstats_meta)
    try:
        trt_plugins.custom_op("ttareal::rowstats", impl=plugin, supports_dynamic_shapes=True, arch="sm_90",
                              ptx_isa=(9, 0))
    except tta.TensorRTUnavailableError as exc:
        report["refused"] = exc.message
        # tensorrt="auto" (the default of tta.custom_op) keeps the torch op and only logs the refusal
        op = tta.custom_op("ttareal::rowstats_auto", impl=plugin)
        report["auto_kept_torch_op"] = op is not None and hasattr(torch.ops.ttareal, "rowstats_auto")
        report["gate"] = gate_against_upstream(torch_tensorrt)
        print(json.dumps(report))
        return

    class Model(torch.nn.Module):
        def forward(self, x):
            s1, m1 = torch.ops.ttareal.rowstats(x, 0.5)  # defaults omitted
            s2, m2 = torch.ops.ttareal.rowstats(x, 0.25, 3, True)  # every attribute given
            return s1 + s2, m1, m2

    batch = torch.export.Dim("batch", min=1, max=64)
    x = torch.randn(8, 300, dtype=torch.float16)
    exported = torch.export.export(Model(), (x,), dynamic_shapes={"x": {0: batch}})
    graph = exported.graph_module.graph

    from torch_tensorrt.dynamo.conversion._ConverterRegistry import DYNAMO_CONVERTERS

    net, ctx, values = conversion_context(trt, standin, graph)
    report["nodes"] = []
    for node in graph.nodes:
        if node.op != "call_function" or node.target is not torch.ops.ttareal.rowstats.default:
            continue
        packet = DYNAMO_CONVERTERS[node]  # the real lookup, validating dynamic-shape support
        converter = packet[0]
        args = tuple(values.get(a, a) for a in node.args)
        outputs = converter(ctx, node.target, args, dict(node.kwargs), node.name)
        layer = net.layers[-1]
        entry = {"converter": converter.__name__, "layer_name": layer.name,
                 "attrs": {k: [type(v).__name__, v.item() if hasattr(v, "item") else v, str(getattr(v, "dtype", ""))]
                           for k, v in layer.plugin.attrs.items()},
                 "aot": type(layer.plugin).__name__,
                 "outputs": [[list(o.shape), o.dtype.name] for o in outputs] if isinstance(outputs, tuple)
                 else "single"}
        # the emulated build of the object the converter created: batch dynamic, opt 8 in [1, 64]
        out_types, out_shapes, results = builder.build(trt, layer.plugin, [(8, 300)], [trt.float16],
                                                       dynamic={(0, 0)}, ranges={(0, 0): (1, 64)})
        attrs = [v.item() if hasattr(v, "item") else v for v in layer.plugin.attrs.values()]
        entry["expected"] = expected_tactics(tta, plugin, attrs, out_shapes)
        entry["build"] = {"out_types": [t.name for t in out_types], "out_shapes": out_shapes,
                          "tactics": [{"tactic": r.tactic, "kernel": r.kernel, "grid": r.grid, "block": r.block,
                                       "extras": r.extras, "ptx_sha": hashlib.sha256(r.ptx).hexdigest()}
                                      for r in results]}
        report["nodes"].append(entry)
    report["gate"] = gate_against_upstream(torch_tensorrt)
    print(json.dumps(report))


if __name__ == "__main__":
    try:
        main(*sys.argv[1:5])
    except Exception:  # noqa: BLE001 - reported to the parent test as JSON
        print(json.dumps({"error": traceback.format_exc()}))
