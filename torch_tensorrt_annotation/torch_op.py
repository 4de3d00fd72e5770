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
    check_op_name(op_name)
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


# Namespaces of torch's own operators (and of libraries that ship with it): an op defined there would become an
# overload of, or a clash with, a built-in operator.
TORCH_NAMESPACES = frozenset({
    "aten", "prim", "prims", "quantized", "quantized_decomposed", "c10d", "c10d_functional", "profiler", "inductor",
    "higher_order", "debugprims", "rngprims", "torchvision", "torchaudio", "fbgemm", "mkldnn", "mkl", "onednn",
    "xnnpack", "sparse", "cuda", "cudnn", "torch", "triton", "nvprims", "torch_tensorrt", "tensorrt",
})


def check_op_name(op_name) -> None:
    """An op name is 'namespace::name', both Python identifiers, no overload ('.'), not in a namespace of torch's
    own operators (aten, prim, prims, ...) nor one starting with '_'. Raises SpecError before anything is
    registered."""
    fix = "Fix: use a name such as 'mylib::my_op'."
    if not isinstance(op_name, str) or op_name.count("::") != 1:
        raise SpecError(f"Op names look like 'namespace::name' (one '::'), got {op_name!r}. {fix}")
    namespace, name = op_name.split("::")
    if "." in op_name:
        raise SpecError(f"Op name {op_name!r} names an overload ('.{op_name.rsplit('.', 1)[1]}'); tta defines the "
                        f"op's single default overload itself. {fix}")
    bad = [part for part in (namespace, name) if not part.isidentifier() or not part.isascii()]
    if bad:
        raise SpecError(f"Op name {op_name!r}: {', '.join(repr(b) for b in bad)} is not a Python identifier "
                        f"(letters, digits and '_', not starting with a digit), which torch.ops.<ns>.<name> needs. "
                        f"{fix}")
    if namespace in TORCH_NAMESPACES or namespace.startswith("_"):
        raise SpecError(f"Op name {op_name!r} is in namespace '{namespace}', which belongs to torch's own operators "
                        f"(reserved: {', '.join(sorted(TORCH_NAMESPACES))} and any starting with '_'). Registering "
                        f"there would add to or clash with a built-in op. {fix}")


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
    if tactic is not None and not 1 <= tactic <= len(plugin.tactics):
        raise SpecError(f"tactic={tactic} is not a tactic of {plugin.op_name} (1..{len(plugin.tactics)}).")
    lib = torch.library.Library(namespace, "FRAGMENT")
    _libraries.append(lib)
    # pt2_compliant: the schema is functional, the fake kernel is meta_impl, and autograd is registered (below),
    # which torch.library.opcheck checks (tests/integration/test_gpu_default_attrs.py, on a GPU)
    lib.define(name + schema, tags=(torch.Tag.pt2_compliant_tag,))
    num_outputs = plugin.schema.num_outputs

    def fake(*args, **kwargs):  # torch leaves out attributes equal to their default: fill them in
        result = plugin.meta_impl(*plugin.schema.complete(args, kwargs, op_name))
        return tuple(result) if num_outputs > 1 else result

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
    op = getattr(getattr(torch.ops, namespace), name).default
    message = _not_differentiable(op_name, plugin)
    # instead of torch's fallback, which only warns and then returns no gradient for the inputs (silently wrong)
    if not plugin.schema.aliases:  # calls that need no gradient on plain CUDA tensors go straight to the EagerOp
        lib.impl(name, cuda_impl.autograd_kernel(autograd_kernel(op, {"CUDA": cuda_impl}, message)), "Autograd",
                 with_keyset=True)
    else:  # torch takes autograd formulas for functional ops only: the functional variant gets it
        def setup_context(ctx, inputs, output):
            pass

        def backward(ctx, *grads):
            raise RuntimeError(message)

        _define_functional_variant(lib, plugin, namespace, name, cuda_impl, not_cuda, (backward, setup_context))
        _refuse_gradients_of_in_place_op(lib, name, backward)
    return op


def _not_differentiable(op_name: str, plugin: CustomPlugin) -> str:
    return (f"Op '{op_name}' is not differentiable: its kernels (plugin {plugin.op_name}) have no backward, so no "
            "gradient can flow through it to its inputs. Fix: call it under torch.no_grad() or "
            "torch.inference_mode() (or on detached inputs), or wrap it in a torch.autograd.Function whose backward "
            "computes the gradient.")


def autograd_kernel(op, kernels: dict, backward_error: str):
    """The Autograd kernel of a tta op (register with `with_keyset=True`): the op's outputs carry a backward that
    raises RuntimeError(`backward_error`) when an input requires grad, and a call that needs no gradient goes on
    to the kernels below autograd.

    It does what `torch.library.register_autograd` registers, without its per-call cost: when nothing but one of
    `kernels` ({dispatch key name: the Python kernel registered there}) remains below autograd (no tensor subclass,
    mode, functionalization, conjugate view...), it calls that kernel itself instead of re-entering the dispatcher,
    which would call the same kernel. The check is one lookup per dispatch key set, cached. Hand-written for
    speed, measured (benchmarks/bench_host_cpu.py): `op.redispatch` under `_AutoDispatchBelowAutograd`, and
    torch's generated kernel even more, cost a second Python kernel round trip per call. A kernel registered
    later over one of `kernels` (another Library.impl at that key) is bypassed for such calls: override at a key
    left out of `kernels`.
    """
    import torch
    from torch import _C

    if any(argument.kwarg_only for argument in op._schema.arguments):  # tta's schemas have none
        raise ValueError(f"autograd_kernel: {op} has keyword-only arguments, which this kernel does not pass on.")
    after_autograd = _C._after_autograd_keyset
    by_key = {getattr(_C.DispatchKey, name): kernel for name, kernel in kernels.items()}
    direct: dict = {}  # DispatchKeySet.raw_repr() -> the Python kernel to call, or None: redispatch
    grad_enabled, any_requires_grad = _C.is_grad_enabled, _C._any_requires_grad

    def redispatch(keyset, args):
        with _C._AutoDispatchBelowAutograd():
            return op.redispatch(keyset & after_autograd, *args)

    class NotDifferentiable(torch.autograd.Function):
        @staticmethod
        def forward(ctx, keyset, *args):
            return redispatch(keyset, args)

        @staticmethod
        def backward(ctx, *grads):
            raise RuntimeError(backward_error)

    def kernel(keyset, *args):  # positional only: the dispatcher passes keyword-only arguments alone as keywords
        if grad_enabled() and any_requires_grad(*args):
            return NotDifferentiable.apply(keyset, *args)
        raw = keyset.raw_repr()
        target = direct.get(raw, redispatch)
        if target is redispatch:  # first call with this key set: only a kernel of ours below autograd?
            target = direct[raw] = by_key.get((keyset & after_autograd).highestPriorityTypeId())
        if target is not None:
            return target(*args)
        return redispatch(keyset, args)

    return kernel


FUNCTIONAL_SUFFIX = "_functional"


def _refuse_gradients_of_in_place_op(lib, name: str, backward) -> None:
    """An Autograd kernel for an in-place op: the not-differentiable error when an input requires grad, else the
    kernels below autograd."""
    import torch

    op = None

    def autograd_kernel(*args):
        nonlocal op
        if torch.is_grad_enabled() and any(isinstance(a, torch.Tensor) and a.requires_grad for a in args):
            backward(None)
        if op is None:
            op = getattr(getattr(torch.ops, lib.ns), name).default
        with torch._C._AutoDispatchBelowAutograd():
            return op(*args)

    lib.impl(name, autograd_kernel, "Autograd")


def _define_functional_variant(lib, plugin: CustomPlugin, namespace: str, name: str, cuda_impl, not_cuda,
                               autograd) -> None:
    """For an in-place op `name` (`Tensor(a!) x -> Tensor(a!)`): `name_functional`, the same op on a copy of each
    in-place input (`Tensor x -> Tensor`), and a functionalization kernel that rewrites `name` into it. Torch
    functionalizes graphs (torch.compile's AOT autograd, torch.export's run_decompositions) and refuses custom ops
    whose outputs alias their inputs unless the op says how, which this does."""
    import dataclasses

    import torch
    from torch._subclasses.functional_tensor import CppFunctionalizeAPI

    schema = plugin.schema
    functional_name = name + FUNCTIONAL_SUFFIX
    lib.define(functional_name + dataclasses.replace(schema, aliases=()).torch_schema())
    n_in = len(schema.inputs)

    def functional_cuda(*args):
        copies = [t.clone() if i in schema.aliases else t for i, t in enumerate(args[:n_in])]
        return cuda_impl(*copies, *args[n_in:])

    def functional_fake(*args):
        result = plugin.meta_impl(*args)
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        outputs = tuple(torch.empty_like(o) if schema.alias_of(j) is not None else o for j, o in enumerate(outputs))
        return outputs if schema.num_outputs > 1 else outputs[0]

    lib.impl(functional_name, functional_cuda, "CUDA")
    lib.impl(functional_name, not_cuda, "CPU")
    torch.library.register_fake(f"{namespace}::{functional_name}", functional_fake, lib=lib)
    torch.library.register_autograd(f"{namespace}::{functional_name}", autograd[0], setup_context=autograd[1],
                                    lib=lib)
    functional_op = getattr(getattr(torch.ops, namespace), functional_name).default

    def functionalize(*args):
        ctx = CppFunctionalizeAPI()
        unwrapped = ctx.unwrap_tensors(tuple(args))
        with ctx.redispatch_to_next():
            result = functional_op(*unwrapped)
        results = result if schema.num_outputs > 1 else (result,)
        outputs = []
        for j, value in enumerate(results):
            alias = schema.alias_of(j)
            if alias is None:
                outputs.append(ctx.wrap_tensors(value))
                continue
            ctx.replace(args[alias], value)  # the input now holds the updated value
            ctx.commit_update(args[alias])
            ctx.sync(args[alias])
            outputs.append(args[alias])
        return tuple(outputs) if schema.num_outputs > 1 else outputs[0]

    lib.impl(name, functionalize, "Functionalize")



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
