"""Drive a QDP plugin through the calls TensorRT's builder makes, on top of the stand-in (standin.py).

The sequence follows TensorRT's IPluginV3 build phase as the real `tensorrt.plugin` module implements it:
creation from a field collection (built the way `trtp.op.<ns>.<name>` builds it), output data types (fake shapes),
output shapes (an expression builder that evaluates), format/type combinations from autotune, then for every
combination and tactic: configure, set_tactic, get_launch_params, get_kernel.

As in TensorRT:
- every callback goes through a trampoline (standin.trampoline): an exception is printed as
  "[ERROR] Exception thrown from <callback>() ..." and turns into an error code; the build then fails with
  BuildFailed (TensorRT's build returns no engine) and the Python exception does NOT propagate;
- the format-combination and tactic queries are each made twice (getNb...() then get...());
- build-time descriptors carry -1 for a dynamic dim, with the optimization profile's min / opt / max.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np

from . import standin


class BuildFailed(RuntimeError):
    """The emulated build returned no engine: a callback failed. `lines` holds what TensorRT printed."""

    def __init__(self, lines):
        super().__init__("engine build failed:\n" + "\n".join(lines))
        self.lines = list(lines)


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


def build(trt, plugin, in_shapes, in_types, dynamic=frozenset(), ranges=None, log=None):
    """Run the build phase. `in_shapes` are the optimization profile's opt dims; `dynamic` = {(input, axis)}
    marks dims that are dynamic (symbolic shape expressions, -1 in build-time descriptors); `ranges` =
    {(input, axis): (min, max)} (default (1, 2 * opt)); an output dim's min/max are its expression at those.
    Returns (output dtypes, output opt shapes, [TacticBuild]); raises BuildFailed like a build that returns no
    engine, after the trampolines printed the callback's exception."""
    log = log if log is not None else standin.TrampolineLog()
    bounds = {k: dict(ranges or {}).get(k, (1, 2 * in_shapes[k[0]][k[1]])) for k in dynamic}
    n_in = len(in_shapes)

    def call(name, fn, *args):
        result = standin.trampoline(log, name, fn, *args)
        if result is standin.FAILED:
            raise BuildFailed(log.lines)
        return result

    out_types = call("get_output_data_types", plugin.get_output_data_types, list(in_types),
                     [len(s) for s in in_shapes])
    eb = trt.IExprBuilder()
    in_exprs = [trt.DimsExprs([eb.symbolic(d, *bounds[(i, a)]) if (i, a) in dynamic else eb.constant(d)
                               for a, d in enumerate(s)]) for i, s in enumerate(in_shapes)]
    out_exprs = call("get_output_shapes", plugin.get_output_shapes, in_exprs, [], eb)
    out_shapes = [tuple(trt.value_of(e) for e in de) for de in out_exprs]
    out_dynamic = [tuple(not e.is_constant() for e in de) for de in out_exprs]
    extremes = {"min": [tuple(e.bounds[0] for e in de) for de in out_exprs],
                "max": [tuple(e.bounds[1] for e in de) for de in out_exprs]}

    def descs(types, formats=None):
        out = []
        for i, (shape, dtype) in enumerate(zip(list(in_shapes) + out_shapes, types)):
            fmt = formats[i] if formats else trt.TensorFormat.LINEAR
            if i < n_in:
                dyn = [(i, a) in dynamic for a in range(len(shape))]
                lo = [bounds[(i, a)][0] if d else v for a, (v, d) in enumerate(zip(shape, dyn))]
                hi = [bounds[(i, a)][1] if d else v for a, (v, d) in enumerate(zip(shape, dyn))]
            else:
                dyn = out_dynamic[i - n_in]
                lo, hi = extremes["min"][i - n_in], extremes["max"][i - n_in]
            build_dims = [-1 if d else v for v, d in zip(shape, dyn)]
            out.append(trt.DynamicPluginTensorDesc(trt.PluginTensorDesc(build_dims, dtype, fmt),
                                                   min=lo, opt=shape, max=hi))
        return out

    in_out = descs(list(in_types) + list(out_types))
    call("get_supported_format_combinations", plugin.get_supported_format_combinations, in_out, n_in)  # getNb...
    flat = call("get_supported_format_combinations", plugin.get_supported_format_combinations, in_out, n_in)
    n_io = len(in_out)
    combos = [flat[i:i + n_io] for i in range(0, len(flat), n_io)]
    results = []
    for combo in combos:
        ios = descs([d.type for d in combo], [d.format for d in combo])
        call("configure_plugin", plugin.configure_plugin, ios[:n_in], ios[n_in:])
        call("get_valid_tactics", plugin.get_valid_tactics)  # getNbTactics()
        for tactic in call("get_valid_tactics", plugin.get_valid_tactics):
            call("set_tactic", plugin.set_tactic, tactic)
            params, extras = trt.KernelLaunchParams(), trt.ISymExprs()
            call("get_launch_params", plugin.get_launch_params, in_exprs, ios, n_in, params, extras,
                 trt.IExprBuilder())
            kernel, ptx = call("get_kernel", plugin.get_kernel, [d.desc for d in ios[:n_in]],
                               [d.desc for d in ios[n_in:]])
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
