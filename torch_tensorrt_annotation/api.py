"""The public entry points: backend spec factories, `custom_plugin`, `custom_op`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .errors import SpecError
from .spec import Config, KernelSpec


def _make_spec(backend: str, launch_fn, configs, name) -> KernelSpec:
    if not callable(launch_fn):
        raise SpecError(f"tta.{backend}(...) takes the launch function first, got {type(launch_fn).__name__}.")
    if configs is None:
        configs = [{}]
    if isinstance(configs, Mapping) or not isinstance(configs, Sequence):
        raise SpecError(
            f"configs of {backend} spec '{name or getattr(launch_fn, '__name__', '?')}' must be a list of dicts, got "
            f"{type(configs).__name__}. Fix: configs=[{{'BLOCK': 256}}, {{'BLOCK': 1024}}]."
        )
    return KernelSpec(
        backend=backend,
        launch_fn=launch_fn,
        configs=tuple(Config(c) for c in configs),
        name=name or getattr(launch_fn, "__name__", backend),
    )


def triton(launch_fn: Callable | None = None, *, configs: Sequence[Mapping] | None = None, name: str | None = None):
    """A Triton spec: `launch_fn(*inputs, *outputs, *attrs, **config)` launches one @triton.jit kernel.

    Works as a call, `tta.triton(fn, configs=[...])`, or as a decorator, bare or called. Each config becomes one
    TensorRT tactic. Triton is imported only when the spec is used.
    """
    if launch_fn is None:
        return lambda fn: _make_spec("triton", fn, configs, name)
    return _make_spec("triton", launch_fn, configs, name)


def custom_plugin(specs=None, *, meta_impl: Callable | None = None, name: str | None = None):
    """Combine specs into a plugin whose op name is `tta::<name>_<hash>`.

    `meta_impl(*inputs, *attrs)` returns empty tensors shaped like the outputs; its signature defines the schema
    (tensors first, then int/float/bool attributes). Also usable as a decorator on meta_impl:
    `@tta.custom_plugin(spec)`.
    """
    from .plugin import CustomPlugin

    if specs is None:
        raise SpecError("custom_plugin needs at least one spec, e.g. tta.custom_plugin(tta.triton(launch, ...), ...).")
    if meta_impl is None:
        return lambda fn: CustomPlugin(specs, fn, name)
    return CustomPlugin(specs, meta_impl, name)


def custom_op(op_name: str | None = None, impl=None):
    """Register `impl` (a plugin) as the torch op `op_name` (default: the plugin's hashed name); return the op.

    Idempotent and thread-safe. The op runs on CUDA tensors and traces with FakeTensor, torch.export and
    torch.compile through meta_impl.
    """
    from .torch_op import register_torch_op

    if impl is None:
        raise SpecError("custom_op needs impl=<plugin made by tta.custom_plugin(...)>.")
    return register_torch_op(impl, op_name)
