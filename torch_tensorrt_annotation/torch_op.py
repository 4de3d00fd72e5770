"""The plugin as a `torch.library` op: FakeTensor/export/compile via meta_impl, CUDA via the plugin's kernels.

Registration is thread-safe and idempotent: registering the same plugin (same content hash) under the same name
returns the existing op; a different plugin under a taken name is an error.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from .errors import RegistrationError, SpecError
from .plugin import CustomPlugin

log = logging.getLogger(__name__)

TACTIC_ENV = "TTA_TACTIC"

_lock = threading.Lock()
_registered: dict[str, tuple[str, Any, CustomPlugin]] = {}  # op name -> (plugin hash, op, plugin)


def register_torch_op(plugin: CustomPlugin, op_name: str | None = None):
    """Define `op_name` (default: the plugin's hashed name) as a torch op and return its OpOverload."""
    if not isinstance(plugin, CustomPlugin):
        raise SpecError(f"impl must be a plugin made by tta.custom_plugin(...), got {type(plugin).__name__}.")
    op_name = op_name or plugin.op_name
    if "::" not in op_name:
        raise SpecError(f"Op names look like 'namespace::name', got {op_name!r}.")
    existing = _registered.get(op_name)  # fast path without the lock: dict reads are atomic
    if existing is None:
        with _lock:
            existing = _registered.get(op_name)
            if existing is None:
                op = _define(plugin, op_name)
                existing = _registered[op_name] = (plugin.hash, op, plugin)
                log.info("registered torch op %s for %s", op_name, plugin.op_name)
    if existing[0] != plugin.hash:
        raise RegistrationError(
            f"Op '{op_name}' is already registered for a different plugin ({existing[2].op_name}); registering "
            f"{plugin.op_name} under the same name would silently replace its kernels. Fix: choose another op "
            "name, or reuse the plugin object that registered it."
        )
    return existing[1]


def registered_plugin(op_name: str) -> CustomPlugin | None:
    entry = _registered.get(op_name)
    return entry[2] if entry else None


def _define(plugin: CustomPlugin, op_name: str):
    import torch

    namespace, name = op_name.split("::", 1)
    schema = plugin.schema.torch_schema()
    if _torch_op_exists(namespace, name):
        raise RegistrationError(
            f"Op '{op_name}' already exists in torch (defined outside tta). Fix: choose another op name."
        )
    lib = torch.library.Library(namespace, "FRAGMENT")
    _libraries.append(lib)  # keep alive: dropping a Library deregisters its ops
    lib.define(name + schema)
    num_outputs = plugin.schema.num_outputs

    def fake(*args):
        result = plugin.meta_impl(*args)
        return tuple(result) if num_outputs > 1 else result

    def cuda_impl(*args):
        return eager_call(plugin, args)

    def not_cuda(*args):
        devices = sorted({str(a.device) for a in args if isinstance(a, torch.Tensor)})
        raise RuntimeError(
            f"Op '{op_name}' runs its GPU kernels on CUDA tensors only, got tensors on {devices}. "
            "Fix: move the inputs to a CUDA device (meta and fake tensors work for tracing)."
        )

    lib.impl(name, cuda_impl, "CUDA")
    lib.impl(name, not_cuda, "CPU")
    torch.library.register_fake(op_name, fake, lib=lib)
    return getattr(getattr(torch.ops, namespace), name).default


_libraries: list = []


def _torch_op_exists(namespace: str, name: str) -> bool:
    import torch

    try:
        torch._C._dispatch_find_schema_or_throw(f"{namespace}::{name}", "")
        return True
    except RuntimeError:
        return False


def pinned_tactic(plugin: CustomPlugin) -> int:
    raw = os.environ.get(TACTIC_ENV)
    if not raw:
        return 1
    try:
        number = int(raw)
    except ValueError:
        number = -1
    if not 1 <= number <= len(plugin.tactics):
        raise SpecError(f"{TACTIC_ENV}={raw!r} is not a tactic of {plugin.op_name} (1..{len(plugin.tactics)}).")
    return number


def eager_call(plugin: CustomPlugin, args: tuple):
    """Run the op on CUDA tensors with the user's launch function and its own backend launcher.

    Inputs are made contiguous first: the AOT artifacts assume contiguous (LINEAR) tensors, and eager must
    compute exactly what the engine computes.
    """
    import torch

    n_in = len(plugin.schema.inputs)
    tensors = [t.contiguous() for t in args[:n_in]]
    attrs = list(args[n_in:])
    meta = plugin.meta_impl(*[torch.empty(t.shape, dtype=t.dtype, device="meta") for t in tensors], *attrs)
    metas = meta if isinstance(meta, (tuple, list)) else (meta,)
    outputs = [torch.empty(m.shape, dtype=m.dtype, device=tensors[0].device) for m in metas]
    tactic = plugin.tactics[pinned_tactic(plugin) - 1]
    with torch.cuda.device(tensors[0].device):
        tactic.spec.launch_fn(*tensors, *outputs, *attrs, **dict(tactic.config))
    return tuple(outputs) if plugin.schema.num_outputs > 1 else outputs[0]
