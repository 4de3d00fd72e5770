"""Drive a QDP plugin through the calls TensorRT's builder makes, on top of the stand-in (standin.py).

The sequence follows TensorRT's IPluginV3 build phase as the real `tensorrt.plugin` module implements it:
creation from a field collection (built the way Torch-TensorRT's converter and `trtp.op.<ns>.<name>` build it),
output data types (fake shapes), output shapes (an expression builder that evaluates), format/type combinations
from autotune, then for every combination and tactic: configure, set_tactic, get_launch_params, get_kernel.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np


@dataclass
class TacticBuild:
    types: tuple
    tactic: int
    kernel: str
    ptx: bytes
    grid: tuple
    block: tuple
    shared_mem: int
    extras: tuple
    extras_are_int32: bool


def converter_kwargs(trtp, op_name: str, values: dict) -> dict:
    """What Torch-TensorRT 2.14's converter passes as attributes: a 0-d array of the annotated dtype for ndarray
    annotations (its `_coerce_plugin_attr_for_qdp`), the Python value otherwise, in registration order."""
    from tensorrt.plugin import _lib

    annotations = _lib.QDP_REGISTRY[op_name].input_attrs
    out = {}
    for name, annotation in annotations.items():
        value = values[name]
        if typing.get_origin(annotation) is np.ndarray:
            dtype = typing.get_args(typing.get_args(annotation)[1])[0]
            value = np.asarray(value, dtype=dtype)
        out[name] = value
    return out


def create(trt, trtp, op_name: str, attrs: dict, n_inputs: int, aot: bool = True):
    """Create the plugin through trtp.op.<ns>.<name>, as `network.add_plugin(..., aot=aot)` does."""
    ns, name = op_name.split("::")
    make = getattr(getattr(trtp.op, ns), name)(*[trt.ITensor() for _ in range(n_inputs)],
                                               **converter_kwargs(trtp, op_name, attrs))
    request = trt.QuickPluginCreationRequest.STRICT_AOT if aot else trt.QuickPluginCreationRequest.STRICT_JIT
    _inputs, _shape_inputs, plugin = make(request)
    return plugin


def enqueue_jit(trt, plugin, in_shapes, in_types, input_ptrs, output_ptrs, stream: int, tactic: int):
    """The JIT runtime path: configure for concrete shapes, pick `tactic`, and enqueue with raw device pointers."""
    eb = trt.IExprBuilder()
    n_in = len(in_shapes)
    out_types = plugin.get_output_data_types(list(in_types), [len(s) for s in in_shapes])
    in_exprs = [trt.DimsExprs([eb.constant(d) for d in s]) for s in in_shapes]
    out_shapes = [tuple(trt.value_of(e) for e in de) for de in plugin.get_output_shapes(in_exprs, [], eb)]
    descs = [trt.PluginTensorDesc(s, t) for s, t in zip(list(in_shapes) + out_shapes, list(in_types) + out_types)]
    ios = [trt.DynamicPluginTensorDesc(d) for d in descs]
    plugin.get_supported_format_combinations(ios, n_in)
    plugin.configure_plugin(ios[:n_in], ios[n_in:])
    assert tactic in plugin.get_valid_tactics()
    plugin.set_tactic(tactic)
    strides = [trt.Dims([0] * len(d.dims)) for d in descs]
    plugin.enqueue(descs[:n_in], descs[n_in:], list(input_ptrs), list(output_ptrs), strides[:n_in],
                   strides[n_in:], stream)


def build(trt, plugin, in_shapes, in_types, dynamic=frozenset(), ranges=None):
    """Run the build phase for concrete input shapes; `dynamic` = {(input, axis)} are non-constant dims.

    As in TensorRT, a dynamic dim is a symbolic shape expression (whose runtime value here is the given one), -1 in
    the descriptors' dims, and spans its profile's min/max: `ranges` {(input, axis): (min, max)}, default (1, 2*d).
    An output dim is dynamic where its shape expression is not constant; its min/max are the output shape
    expressions evaluated at the inputs' min and max.
    """
    eb = trt.IExprBuilder()
    n_in = len(in_shapes)
    ranges = {key: (ranges or {}).get(key, (1, 2 * in_shapes[key[0]][key[1]])) for key in dynamic}
    out_types = plugin.get_output_data_types(list(in_types), [len(s) for s in in_shapes])

    def exprs(pick):
        return [trt.DimsExprs([eb.symbolic(pick((i, a), d)) if (i, a) in dynamic else eb.constant(d)
                               for a, d in enumerate(s)]) for i, s in enumerate(in_shapes)]

    out_min = [tuple(trt.value_of(e) for e in de)
               for de in plugin.get_output_shapes(exprs(lambda key, d: ranges[key][0]), [], eb)]
    out_max = [tuple(trt.value_of(e) for e in de)
               for de in plugin.get_output_shapes(exprs(lambda key, d: ranges[key][1]), [], eb)]
    in_exprs = exprs(lambda key, d: d)  # last: the plugin keeps the expressions of its latest call
    out_exprs = plugin.get_output_shapes(in_exprs, [], eb)
    out_shapes = [tuple(trt.value_of(e) for e in de) for de in out_exprs]
    shapes, types = list(in_shapes) + out_shapes, list(in_types) + list(out_types)
    dims = [tuple(-1 if (i, a) in dynamic else d for a, d in enumerate(s)) for i, s in enumerate(in_shapes)]
    dims += [tuple(trt.value_of(e) if e.is_constant() else -1 for e in de) for de in out_exprs]
    mins = [tuple(ranges[i, a][0] if (i, a) in dynamic else d for a, d in enumerate(s))
            for i, s in enumerate(in_shapes)] + out_min
    maxs = [tuple(ranges[i, a][1] if (i, a) in dynamic else d for a, d in enumerate(s))
            for i, s in enumerate(in_shapes)] + out_max

    def descs(formats=None):
        return [trt.DynamicPluginTensorDesc(
            trt.PluginTensorDesc(d, t if formats is None else formats[k].type,
                                 trt.TensorFormat.LINEAR if formats is None else formats[k].format),
            lo, opt, hi) for k, (d, t, lo, opt, hi) in enumerate(zip(dims, types, mins, shapes, maxs))]

    in_out = descs()
    flat = plugin.get_supported_format_combinations(in_out, n_in)
    n_io = len(shapes)
    combos = [flat[i:i + n_io] for i in range(0, len(flat), n_io)]
    results = []
    for combo in combos:
        ios = descs(combo)
        plugin.configure_plugin(ios[:n_in], ios[n_in:])
        for tactic in plugin.get_valid_tactics():
            plugin.set_tactic(tactic)
            params, extras = trt.KernelLaunchParams(), trt.ISymExprs()
            plugin.get_launch_params(in_exprs, ios, n_in, params, extras, trt.IExprBuilder())
            kernel, ptx = plugin.get_kernel([d.desc for d in ios[:n_in]], [d.desc for d in ios[n_in:]])
            values = [extras[i] for i in range(len(extras))]
            results.append(TacticBuild(
                types=tuple(d.type.name for d in combo), tactic=tactic, kernel=kernel, ptx=ptx,
                grid=tuple(trt.value_of(getattr(params, f)) for f in ("grid_x", "grid_y", "grid_z")),
                block=tuple(trt.value_of(getattr(params, f)) for f in ("block_x", "block_y", "block_z")),
                shared_mem=trt.value_of(params.shared_mem),
                extras=tuple(trt.value_of(v) for v in values),
                extras_are_int32=all(v.dtype == trt.PluginArgDataType.INT32 for v in values)))
    return out_types, out_shapes, results


def aliased_inputs(plugin, n_outputs: int) -> list:
    """What TensorRT's builder asks a plugin with aliased I/O (IPluginV3OneBuildV2::getAliasedInput, built with
    PreviewFeature.ALIASED_PLUGIN_IO_10_03) after get_output_data_types: per output, the input whose buffer it
    shares, or -1."""
    return [plugin.get_aliased_input(j) for j in range(n_outputs)]
