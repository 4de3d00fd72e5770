"""The plugin as a `torch.library` op: FakeTensor/export/compile via meta_impl, CUDA via the plugin's kernels.

Registration is thread-safe and idempotent: registering the same plugin (same content hash) under the same name
returns the existing op; a different plugin under a taken name is an error.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from .errors import RegistrationError, SpecError
from .plugin import CustomPlugin

log = logging.getLogger(__name__)

_lock = threading.Lock()
_registered: dict[str, tuple[str, Any, CustomPlugin]] = {}  # op name -> (plugin hash, op, plugin)
_eager: dict = {}  # op name -> its EagerOp (the CUDA kernel)
_libraries: list = []  # keep Library objects alive: dropping one deregisters its ops


def register_torch_op(plugin: CustomPlugin, op_name: str | None = None, tactic: int | None = None):
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
                op = _define(plugin, op_name, tactic)
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


def _define(plugin: CustomPlugin, op_name: str, tactic: int | None):
    import torch

    from .runtime import EagerOp

    namespace, name = op_name.split("::", 1)
    schema = plugin.schema.torch_schema()
    if _torch_op_exists(namespace, name):
        raise RegistrationError(
            f"Op '{op_name}' already exists in torch (defined outside tta). Fix: choose another op name."
        )
    lib = torch.library.Library(namespace, "FRAGMENT")
    _libraries.append(lib)
    lib.define(name + schema)
    num_outputs = plugin.schema.num_outputs

    def fake(*args, **kwargs):  # torch leaves out attributes equal to their default: fill them in
        result = plugin.meta_impl(*plugin.schema.complete(args, kwargs, op_name))
        return tuple(result) if num_outputs > 1 else result

    if tactic is not None and not 1 <= tactic <= len(plugin.tactics):
        raise SpecError(f"tactic={tactic} is not a tactic of {plugin.op_name} (1..{len(plugin.tactics)}).")
    cuda_impl = EagerOp(plugin, op_name, tactic)
    _eager[op_name] = cuda_impl

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



def _torch_op_exists(namespace: str, name: str) -> bool:
    import torch

    try:
        torch._C._dispatch_find_schema_or_throw(f"{namespace}::{name}", "")
        return True
    except RuntimeError:
        return False


def eager_runner(op_name: str):
    """The EagerOp behind a registered op (to inspect its tactic choices)."""
    return _eager.get(op_name)
