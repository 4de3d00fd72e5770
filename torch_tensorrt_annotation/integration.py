"""Torch-TensorRT integration: QDP registration, tta's own converter, and `custom_op(..., impl=plugin)`.

The converter is tta's, registered with Torch-TensorRT's own `dynamo_tensorrt_converter` decorator (the registry
every converter uses). It does what upstream's generated converter does (`ctx.net.add_plugin(trtp.op.<ns>.<name>(
*itensors, **attrs), aot=True)`, every output returned), but builds the attributes itself, so it works the same on
every Torch-TensorRT version: upstream's converter puts defaulted attributes first (2.13/2.14: "Unexpected schema"
for `meta_impl(x, scale: float, repeat: int = 1)`), passes raw Python scalars (2.10-2.12), drops attributes
without defaults (2.9) and returns only output 0 (2.9-2.12). Upstream's `generate_plugin` is not called either: it
would register a second, JIT-only plugin under the same name.

Torch-TensorRT switches Quick Deployable Plugins off for some (Torch-TensorRT, TensorRT) pairs; `qdp_gate` mirrors
those gates, so such a pair is refused clearly, before anything is registered.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading

from .errors import RegistrationError, TensorRTUnavailableError

log = logging.getLogger(__name__)

PLUGINS_MODULE = "torch_tensorrt.dynamo.conversion.plugins"

_lock = threading.Lock()
_converters: set[str] = set()


def qdp_gate(torch_tensorrt_version: str, tensorrt_version: str, tensorrt_rtx: bool = False) -> str | None:
    """Why Torch-TensorRT `torch_tensorrt_version` disables Quick Deployable Plugins on TensorRT `tensorrt_version`
    (its `_features.py`), or None where it enables them. Mirrors 2.9 to 2.14."""
    from .trt import _version

    tt, trt = _version(torch_tensorrt_version).release[:2], _version(tensorrt_version).release[:2]
    pair = f"Torch-TensorRT {torch_tensorrt_version} with TensorRT {tensorrt_version}"
    if tensorrt_rtx:
        return f"{pair}: Torch-TensorRT disables Quick Deployable Plugins on TensorRT-RTX"
    if tt == (2, 10):
        return (f"{pair}: Torch-TensorRT 2.10 disables Quick Deployable Plugins with every TensorRT version. Fix: "
                "use Torch-TensorRT 2.9 or >= 2.11")
    if tt >= (2, 10) and trt == (10, 14):
        return f"{pair}: Torch-TensorRT disables Quick Deployable Plugins on TensorRT 10.14.x. Fix: TensorRT >= 10.15"
    if tt in ((2, 11), (2, 12)) and trt == (10, 15):
        return (f"{pair}: Torch-TensorRT 2.11/2.12 disable Quick Deployable Plugins on TensorRT 10.15.x. Fix: "
                "TensorRT >= 10.16, or Torch-TensorRT >= 2.13")
    return None


def _torch_tensorrt(op_name: str, require: bool):
    """torch_tensorrt's version string, or None (logged) when it is not importable and not required."""
    try:
        import torch_tensorrt
        from torch_tensorrt.dynamo.conversion._ConverterRegistry import dynamo_tensorrt_converter  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - absent, or failing to import (no TensorRT library)
        if require:
            raise TensorRTUnavailableError(
                f"Torch-TensorRT is not importable ({type(exc).__name__}: {exc}); op '{op_name}' cannot get a "
                "converter. Fix: pip install 'torch-tensorrt-annotation[trt]'."
            ) from exc
        log.info("torch_tensorrt not importable (%s): %s registered with TensorRT only, without a converter",
                 exc, op_name)
        return None
    return str(getattr(torch_tensorrt, "__version__", "0"))


def register_with_tensorrt(plugin, op_name: str, *, capability_validator=None, priority=None,
                           supports_dynamic_shapes: bool = False, requires_output_allocator: bool = False,
                           arch=None, ptx_isa=None, require_converter: bool = False) -> None:
    """Register `plugin` as TensorRT QDP op `op_name` and, where Torch-TensorRT is importable, tta's converter for
    torch op `op_name`. Raises TensorRTUnavailableError for a version (pair) without AOT Quick Deployable Plugins,
    RegistrationError when TensorRT refuses the registration."""
    from . import trt

    tensorrt, _ = trt.import_trtp()
    tt_version = _torch_tensorrt(op_name, require_converter)
    if tt_version is not None:
        reason = qdp_gate(tt_version, tensorrt.__version__, getattr(tensorrt, "_package_name", "") == "tensorrt_rtx")
        if reason is not None:
            raise TensorRTUnavailableError(f"Op '{op_name}' cannot become a TensorRT plugin: {reason}.")
    trt.register(plugin, op_name, arch=arch, ptx_isa=ptx_isa)
    if tt_version is None:
        return
    with _lock:
        if op_name in _converters:
            return
        _register_converter(plugin, op_name, capability_validator=capability_validator, priority=priority,
                            supports_dynamic_shapes=supports_dynamic_shapes,
                            requires_output_allocator=requires_output_allocator)
        _converters.add(op_name)


def _register_converter(plugin, op_name: str, *, capability_validator, priority, supports_dynamic_shapes,
                        requires_output_allocator) -> None:
    import torch
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import ConverterPriority, dynamo_tensorrt_converter

    namespace, name = op_name.split("::")
    overload = getattr(getattr(torch.ops, namespace), name).default

    def tta_plugin_converter(ctx, target, args, kwargs, node_name):
        return convert(ctx, plugin, op_name, target, args, kwargs, node_name)

    tta_plugin_converter.__name__ = f"tta_converter_{namespace}_{name}"
    dynamo_tensorrt_converter(
        overload, capability_validator=capability_validator,
        priority=ConverterPriority.STANDARD if priority is None else priority,
        supports_dynamic_shapes=supports_dynamic_shapes, requires_output_allocator=requires_output_allocator,
    )(tta_plugin_converter)


def convert(ctx, plugin, op_name: str, target, args, kwargs, node_name: str):
    """The converter body: one AOT plugin layer with every attribute, in registration order, encoded the way the
    QDP op was registered; returns the layer's output (one output) or a tuple of every output."""
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.converter_utils import get_trt_tensor

    from . import trt

    schema = plugin.schema
    tensors, attrs = schema.split(tuple(args), dict(kwargs), op_name)
    itensors = [get_trt_tensor(ctx, t, f"{node_name}_{n}") for t, n in zip(tensors, schema.inputs)]
    encoded = {a.name: trt.encode_attr(value, a) for a, value in zip(schema.attrs, attrs)}
    namespace, name = op_name.split("::")
    create = getattr(getattr(trtp.op, namespace), name)(*itensors, **encoded)
    layer = ctx.net.add_plugin(create, aot=True)
    if layer is None:
        raise RegistrationError(f"TensorRT could not add plugin '{op_name}' for node {node_name}: see TensorRT's "
                                "[ERROR] lines above and tta's log.")
    layer.name = f"[{target}]-[{node_name}]"
    if schema.num_outputs == 1:
        return layer.get_output(0)
    return tuple(layer.get_output(i) for i in range(schema.num_outputs))


# --- custom_op(name, impl=plugin) in torch_tensorrt --------------------------------------------------------------
def _hook_params(op_name, capability_validator=None, priority=None, supports_dynamic_shapes=False,
                 requires_output_allocator=False, *, use_aot_if_available=True, arch=None, ptx_isa=None,
                 tactic=None):
    return locals()


_HOOK_SIGNATURE = ("(op_name, capability_validator=None, priority=None, supports_dynamic_shapes=False, "
                   "requires_output_allocator=False, *, impl, arch=None, ptx_isa=None, tactic=None)")


def install_torch_tensorrt_hook(plugins_module=None) -> bool:
    """Make `torch_tensorrt.dynamo.conversion.plugins.custom_op(name, impl=plugin, ...)` register a tta plugin
    (through `tta.custom_op(..., tensorrt=True)`); with `impl=None` the call goes to upstream's function untouched.
    The tta call is bound to tta's own parameters (upstream's, plus `arch`, `ptx_isa`, `tactic`), whatever the
    wrapper upstream's function carries. Returns False when torch_tensorrt is absent."""
    if plugins_module is None:
        plugins_module = sys.modules.get(PLUGINS_MODULE)
    if plugins_module is None:
        try:
            import torch_tensorrt.dynamo.conversion.plugins  # noqa: F401
        except Exception as exc:  # noqa: BLE001 - torch_tensorrt absent or broken: nothing to hook
            log.debug("torch_tensorrt hook not installed: %s", exc)
            return False
        plugins_module = sys.modules[PLUGINS_MODULE]
    original = plugins_module.custom_op
    if getattr(original, "__tta_hook__", False):
        return True

    @functools.wraps(original)
    def custom_op(*args, impl=None, **kwargs):
        if impl is None:
            return original(*args, **kwargs)
        from .api import custom_op as tta_custom_op

        try:
            bound = _hook_params(*args, **kwargs)
        except TypeError as exc:
            raise RegistrationError(
                f"torch_tensorrt custom_op(..., impl=<tta plugin>): {exc}. It takes {_HOOK_SIGNATURE}. Fix: drop "
                "the other arguments (private ones such as _aot_register belong to upstream's own path)."
            ) from None
        if bound["use_aot_if_available"] is not True:
            raise RegistrationError(
                f"custom_op('{bound['op_name']}', impl=<tta plugin>) always registers the AOT implementation; got "
                f"use_aot_if_available={bound['use_aot_if_available']!r}. Fix: drop use_aot_if_available."
            )
        return tta_custom_op(
            bound["op_name"], impl=impl, capability_validator=bound["capability_validator"],
            priority=bound["priority"], supports_dynamic_shapes=bound["supports_dynamic_shapes"],
            requires_output_allocator=bound["requires_output_allocator"], tensorrt=True, arch=bound["arch"],
            ptx_isa=bound["ptx_isa"], tactic=bound["tactic"])

    custom_op.__tta_hook__ = True  # type: ignore[attr-defined]
    plugins_module.custom_op = custom_op
    return True


class _HookOnImport:
    """A meta-path finder that, once, wraps the loading of torch_tensorrt's plugins module so that the hook is
    installed right after it executes (so that `import torch_tensorrt_annotation` alone is enough, without
    importing torch_tensorrt eagerly)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != PLUGINS_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_and_hook(module):
            exec_module(module)
            try:
                install_torch_tensorrt_hook(module)
            except Exception as exc:  # noqa: BLE001 - never break torch_tensorrt's own import
                log.warning("torch_tensorrt custom_op(..., impl=) hook not installed: %s", exc)

        loader.exec_module = exec_and_hook
        _remove_import_hook()
        return spec


def _remove_import_hook() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _HookOnImport)]


def install_hook_when_loaded() -> None:
    """At `import torch_tensorrt_annotation`: hook now if torch_tensorrt's plugins module is loaded, else when it
    is. Imports nothing."""
    module = sys.modules.get(PLUGINS_MODULE)
    if module is not None:
        install_torch_tensorrt_hook(module)
    elif not any(isinstance(f, _HookOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _HookOnImport())
