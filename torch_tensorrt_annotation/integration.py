"""Torch-TensorRT integration: QDP registration + upstream's own converter, and `custom_op(..., impl=plugin)`.

The converter is Torch-TensorRT's `generate_plugin_converter(..., use_aot_if_available=True)`, called after the
`aot_impl` is registered (it decides AOT vs JIT once, when it runs). Upstream's `generate_plugin` is *not* called:
it would register a second, JIT-only plugin under the same name.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading

from .errors import RegistrationError

log = logging.getLogger(__name__)

_lock = threading.Lock()
_converters: set[str] = set()


def register_with_tensorrt(plugin, op_name: str, *, capability_validator=None, priority=None,
                           supports_dynamic_shapes: bool = False, requires_output_allocator: bool = False,
                           arch=None, ptx_isa=None, require_converter: bool = False) -> None:
    from . import trt

    trt.register(plugin, op_name, arch=arch, ptx_isa=ptx_isa)
    try:
        from torch_tensorrt.dynamo.conversion.plugins import generate_plugin_converter
    except ImportError as exc:
        if require_converter:
            raise RegistrationError(
                f"Torch-TensorRT is not importable ({exc}); op '{op_name}' is registered with TensorRT but has no "
                "converter. Fix: pip install 'torch-tensorrt-annotation[trt]'."
            ) from exc
        log.info("torch_tensorrt not importable (%s): %s registered with TensorRT only, without a converter",
                 exc, op_name)
        return
    with _lock:
        if op_name in _converters:
            return
        kwargs = {"capability_validator": capability_validator,
                  "supports_dynamic_shapes": supports_dynamic_shapes,
                  "requires_output_allocator": requires_output_allocator,
                  "use_aot_if_available": True}
        if priority is not None:
            kwargs["priority"] = priority
        generate_plugin_converter(op_name, **kwargs)
        _converters.add(op_name)


def install_torch_tensorrt_hook() -> bool:
    """Make `torch_tensorrt.dynamo.conversion.plugins.custom_op(name, impl=plugin, ...)` register a tta plugin.

    With `impl=None` the call goes to upstream's function untouched. Returns False when torch_tensorrt is absent.
    """
    try:
        import torch_tensorrt.dynamo.conversion.plugins as plugins_module
    except Exception as exc:  # noqa: BLE001 - torch_tensorrt absent or broken: nothing to hook
        log.debug("torch_tensorrt hook not installed: %s", exc)
        return False
    original = plugins_module.custom_op
    if getattr(original, "__tta_hook__", False):
        return True
    upstream_sig = inspect.signature(original)

    @functools.wraps(original)
    def custom_op(*args, impl=None, **kwargs):
        if impl is None:
            return original(*args, **kwargs)
        from .api import custom_op as tta_custom_op

        bound = upstream_sig.bind(*args, **kwargs).arguments
        unsupported = {k for k in bound if k.startswith("_")}
        if unsupported or bound.get("use_aot_if_available", True) is not True:
            raise RegistrationError(
                f"custom_op(impl=<tta plugin>) always registers the AOT implementation; got {sorted(bound)}. "
                "Fix: drop use_aot_if_available / private arguments."
            )
        return tta_custom_op(
            bound["op_name"], impl=impl, capability_validator=bound.get("capability_validator"),
            priority=bound.get("priority"), supports_dynamic_shapes=bound.get("supports_dynamic_shapes", False),
            requires_output_allocator=bound.get("requires_output_allocator", False), tensorrt=True)

    custom_op.__tta_hook__ = True  # type: ignore[attr-defined]
    plugins_module.custom_op = custom_op
    return True
