"""Run with Python 3.13 (numpy only; no torch build for it here): tta's QDP registration through the real
`tensorrt.plugin` validator of one bindings version, over the stand-in.

    python3.13 tests/trt_harness/py313_registration.py <tensorrt_bindings dir>

TensorRT <= 11.1's validator calls `issubclass()` on attribute annotations, which Python 3.13 refuses for generic
aliases; tta applies Torch-TensorRT's workaround. Prints one JSON object: whether a plain registration with tta's
annotation fails (the bug), and what tta's registration gives (attributes, creation, decoding).
"""

import json
import os
import sys
import types
import typing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [ROOT]


def main(bindings_dir):
    import numpy as np

    from tests.trt_harness import standin

    trt = standin.install(bindings_dir)
    import tensorrt.plugin as trtp

    from torch_tensorrt_annotation import trt as tta_trt
    from torch_tensorrt_annotation.schema import Attr, OpSchema

    report = {"python": sys.version.split()[0], "tensorrt": trt.__version__}
    annotation = np.ndarray[typing.Any, np.dtype[np.int64]]

    def plain(x: trtp.TensorDesc, n: annotation) -> trtp.TensorDesc:
        return x.like()

    try:  # without tta's workaround
        trtp.register("plain313::op")(plain)
        report["plain_registration"] = "ok"
    except TypeError as exc:
        report["plain_registration"] = str(exc)

    schema = OpSchema(("x",), (Attr("scale", float), Attr("repeat", int, 1), Attr("square", bool, False)), 2)
    # tta's registration needs only the plugin's schema; a full CustomPlugin needs torch, absent on this Python
    plugin = types.SimpleNamespace(schema=schema, tactics=(), hash="py313", op_name="tta::py313")
    binding = tta_trt.QdpBinding(plugin, "tta313::rowstats", "sm_90", (9, 0))
    binding.install(trt, trtp)
    from tensorrt.plugin import _lib

    desc = _lib.QDP_REGISTRY["tta313::rowstats"]
    report["attrs"] = list(desc.input_attrs)
    report["has_aot_impl"] = desc.aot_impl_func is not None
    values = {"scale": 0.1, "repeat": 3, "square": True}
    encoded = {a.name: tta_trt.encode_attr(values[a.name], a) for a in schema.attrs}
    _, _, created = trtp.op.tta313.rowstats(trt.ITensor(), **encoded)(trt.QuickPluginCreationRequest.STRICT_AOT)
    report["decoded"] = {a.name: tta_trt._decode_attr(created.attrs[a.name], a) for a in schema.attrs}
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
