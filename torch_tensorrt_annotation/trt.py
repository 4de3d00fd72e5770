"""The only module that talks to `tensorrt.plugin` (TensorRT's Quick Deployable Plugins, QDP).

For a plugin it registers, under a process-wide lock, one QDP op whose id equals the torch op name:

- `@trtp.register`: output descriptors. Shapes come from `meta_impl` run on symbolic dims (meta_shapes.py) and are
  lowered to `trtp` shape expressions; each output keeps its own dtype.
- `@trtp.autotune`: one tactic per (spec, config) that compiles for the dtypes TensorRT proposes, LINEAR format.
- `@trtp.aot_impl`: the tactic's artifact (compiled lazily, cached) and its grid / block / shared memory / extra
  args lowered to `trtp` expressions.
- `@trtp.impl`: a JIT fallback that launches the same artifact through `launcher.py`.

Attributes. The QDP module's plugin creation calls `int()` / `float()` on a one-element array, which NumPy >= 2.4
refuses, and `numpy.typing.NDArray[...]` annotations break its validator once NDArray is a type alias (NumPy 2.5).
So int and float attributes are declared as `np.ndarray[Any, np.dtype[np.int64 | np.float64]]`, spelled as a
plain generic alias of `np.ndarray` (what the validator and Torch-TensorRT's converter both recognise), and bool
attributes as `bool`. The converter turns a scalar into a 0-d array of that dtype; the plugin receives a
one-element array, which `_decode_attr` turns back into the Python value. float64 keeps a Python float exact.

TensorRT quirks followed here: `SymInt32(x) + 1` is a plain SymIntExpr, so extras are wrapped in `SymInt32`; there
is no `__radd__` / `__rmul__`, so an int on the left is swapped or lifted into a `ShapeExpr`; `cdiv`/`max`/`min`
refuse two plain ints, which are folded in Python instead.
"""

from __future__ import annotations

import inspect
import logging
import threading
import typing
from collections.abc import Sequence
from typing import Any

from . import symbolic as S
from .errors import CompileError, RegistrationError, SpecError, TensorRTUnavailableError, warn
from .plugin import CustomPlugin, resolve_target
from .spec import Artifact, Target

log = logging.getLogger(__name__)

MIN_AOT_VERSION = (10, 9)
RESERVED_NAMESPACES = {"", "trt", "tensorrt", "std"}
RESERVED_ATTRS = {"outputs", "stream", "tactic"}

_lock = threading.Lock()
_bindings: dict[str, "QdpBinding"] = {}

_TORCH_TO_TRT = {"float32": "FLOAT", "float16": "HALF", "bfloat16": "BF16", "int8": "INT8", "int32": "INT32",
                 "int64": "INT64", "bool": "BOOL", "uint8": "UINT8", "float8_e4m3fn": "FP8"}
_AUTOTUNE_NAMES = {"FLOAT": "FP32", "HALF": "FP16"}


# --- import and version gates -------------------------------------------------------------------------------------
def _version(text: str):
    """`text` as a packaging Version (an unparsable one counts as 0: too old)."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


def import_trtp():
    """(tensorrt, tensorrt.plugin), or a RegistrationError that says what to install."""
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise TensorRTUnavailableError(
            f"TensorRT is not installed ({exc}), so the plugin cannot be registered with TensorRT. The torch op "
            "works without it. Fix: pip install 'torch-tensorrt-annotation[trt]' (TensorRT >= 10.9, not 10.14)."
        ) from exc
    version = _version(str(getattr(trt, "__version__", "0")))
    if version.release[:2] < MIN_AOT_VERSION or not hasattr(trt, "QuickPluginCreationRequest"):
        raise TensorRTUnavailableError(
            f"TensorRT {trt.__version__} has no ahead-of-time Quick Deployable Plugins (they arrived in 10.9). "
            "Fix: upgrade to TensorRT >= 10.9 (pip install -U tensorrt-cu13)."
        )
    if version.release[:2] == (10, 14):
        raise TensorRTUnavailableError(
            f"TensorRT {trt.__version__}: Torch-TensorRT disables Quick Deployable Plugins on 10.14.x. "
            "Fix: use TensorRT 10.15 or newer (or 10.9-10.13)."
        )
    try:
        import tensorrt.plugin as trtp
    except ImportError as exc:
        raise TensorRTUnavailableError(f"TensorRT {trt.__version__} is installed but tensorrt.plugin fails to import: "
                                f"{exc}. Fix: reinstall TensorRT's Python bindings.") from exc
    return trt, trtp


# --- attributes ---------------------------------------------------------------------------------------------------
def attr_annotation(attr_type: type):
    import numpy as np

    if attr_type is bool:
        return bool
    scalar = np.int64 if attr_type is int else np.float64
    return np.ndarray[typing.Any, np.dtype[scalar]]  # type: ignore[valid-type]


def _decode_attr(raw, attr) -> Any:
    import numpy as np

    if isinstance(raw, np.ndarray):
        if raw.size != 1:
            raise SpecError(f"Attribute '{attr.name}' reached the plugin as an array of shape {raw.shape}; "
                            "expected one value.")
        raw = raw.reshape(()).item()
    elif isinstance(raw, np.generic):
        raw = raw.item()
    return attr.check(attr.type(raw), "TensorRT plugin")


def _default_attr(attr, op_name: str) -> Any:
    if not attr.has_default:
        raise SpecError(f"TensorRT created op '{op_name}' without attribute '{attr.name}', which has no default. "
                        f"Fix: pass {attr.name}= to the op.")
    return attr.default


# --- lowering to trtp expressions ---------------------------------------------------------------------------------
class TrtLowering(S.Lowering):
    """Lowers a symbolic Expr to `trtp` expressions over the descriptors TensorRT passes (ints stay ints)."""

    def __init__(self, trtp, inputs: Sequence, outputs: Sequence = ()):
        self.trtp, self.inputs, self.outputs = trtp, inputs, outputs

    def _desc(self, role, index):
        return (self.inputs if role == S.INPUT else self.outputs)[index]

    def rank(self, role, index):
        return len(self._desc(role, index).shape_expr)

    def dim(self, role, index, axis):
        return self._desc(role, index).shape_expr[axis]

    def const(self, value):
        return value

    def _lift(self, value):
        return self.trtp.ShapeExpr(value) if isinstance(value, int) else value

    def add(self, a, b):
        if isinstance(a, int) and isinstance(b, int):
            return a + b
        return b + a if isinstance(a, int) else a + b  # no __radd__ in trtp

    def mul(self, a, b):
        if isinstance(a, int) and isinstance(b, int):
            return a * b
        return b * a if isinstance(a, int) else a * b  # no __rmul__ in trtp

    def sub(self, a, b):
        return a - b if isinstance(a, int) and isinstance(b, int) else self._lift(a) - b

    def floordiv(self, a, b):
        return a // b if isinstance(a, int) and isinstance(b, int) else self._lift(a) // b

    def cdiv(self, a, b):
        return -(-a // b) if isinstance(a, int) and isinstance(b, int) else self.trtp.cdiv(self._lift(a), b)

    def max(self, a, b):
        return max(a, b) if isinstance(a, int) and isinstance(b, int) else self.trtp.max(self._lift(a), b)

    def min(self, a, b):
        return min(a, b) if isinstance(a, int) and isinstance(b, int) else self.trtp.min(self._lift(a), b)


# --- the registration ---------------------------------------------------------------------------------------------
class QdpBinding:
    """One plugin registered with TensorRT as QDP op `op_name`."""

    def __init__(self, plugin: CustomPlugin, op_name: str, arch, ptx_isa):
        self.plugin, self.op_name = plugin, op_name
        self._arch, self._ptx_isa = arch, ptx_isa
        self._target: Target | None = None
        self._outputs: dict = {}
        self._lock = threading.RLock()

    # target: the build GPU's arch and the deployment driver's ISA, resolved at the first build call
    def target(self) -> Target:
        if self._target is None:
            arch = self._arch
            if arch is None:
                import torch

                if not torch.cuda.is_available():
                    raise CompileError(f"Op '{self.op_name}': no GPU visible to pick the build arch. Fix: pass "
                                       "arch='sm_90' (the GPU TensorRT builds for) to custom_op.")
                major, minor = torch.cuda.get_device_capability()
                arch = major * 10 + minor
            self._target = resolve_target(arch, self._ptx_isa)
        return self._target

    # -- helpers shared by the QDP callbacks --
    def _split(self, sig: inspect.Signature, args, kwargs):
        bound = sig.bind_partial(*args, **kwargs).arguments
        schema = self.plugin.schema
        missing = [n for n in schema.inputs if n not in bound]
        if missing:
            raise SpecError(f"TensorRT called op '{self.op_name}' without tensor(s) {missing}.")
        tensors = [bound[n] for n in schema.inputs]
        # an attribute TensorRT did not pass takes its schema default, as in the torch op
        attrs = [_decode_attr(bound[a.name], a) if a.name in bound else _default_attr(a, self.op_name)
                 for a in schema.attrs]
        return tensors, attrs, bound

    def _signature(self, tensors) -> tuple[list, list]:
        return [_torch_dtype(t.dtype) for t in tensors], [len(t.shape_expr) for t in tensors]

    def outputs_info(self, in_dtypes, in_ranks, attrs):
        from .meta_shapes import infer_outputs

        key = (tuple(in_dtypes), tuple(in_ranks), tuple(attrs))
        with self._lock:
            if key not in self._outputs:
                self._outputs[key] = infer_outputs(self.plugin.meta_impl, in_ranks, in_dtypes, attrs,
                                                   f"op '{self.op_name}'")
            return self._outputs[key]

    def artifact(self, tactic_number: int, tensors, outputs, attrs) -> Artifact:
        in_dtypes, in_ranks = self._signature(tensors)
        out_dtypes, out_ranks = self._signature(outputs)
        shapes = _concrete_shapes(tensors)
        tactic = self.plugin.tactics[tactic_number - 1]
        return self.plugin.compile_tactic(tactic, self.target(), in_dtypes=in_dtypes, out_dtypes=out_dtypes,
                                          in_ranks=in_ranks, out_ranks=out_ranks, attrs=attrs, shapes=shapes)

    # -- installation --
    def install(self, trt, trtp) -> None:
        P = inspect.Parameter
        schema = self.plugin.schema
        desc, n_out = trtp.TensorDesc, schema.num_outputs
        tensor_params = [P(n, P.POSITIONAL_OR_KEYWORD, annotation=desc) for n in schema.inputs]
        attr_params = [P(a.name, P.POSITIONAL_OR_KEYWORD, annotation=attr_annotation(a.type)) for a in schema.attrs]
        outputs_desc = tuple[(desc,) * n_out]  # type: ignore[misc,valid-type]
        outputs_param = P("outputs", P.POSITIONAL_OR_KEYWORD, annotation=outputs_desc)

        register_sig = inspect.Signature(tensor_params + attr_params,
                                         return_annotation=desc if n_out == 1 else outputs_desc)
        autotune_sig = inspect.Signature(tensor_params + attr_params + [outputs_param],
                                         return_annotation=list[trtp.AutoTuneCombination])
        aot_sig = inspect.Signature(
            tensor_params + attr_params + [outputs_param, P("tactic", P.POSITIONAL_OR_KEYWORD, annotation=int)],
            return_annotation=tuple[typing.Union[str, bytes], typing.Union[str, bytes],
                                           trtp.KernelLaunchParams, trtp.SymIntExprs])
        tensor_t = trtp.Tensor
        impl_sig = inspect.Signature(
            [P(n, P.POSITIONAL_OR_KEYWORD, annotation=tensor_t) for n in schema.inputs] + attr_params
            + [P("outputs", P.POSITIONAL_OR_KEYWORD, annotation=tuple[(tensor_t,) * n_out]),  # type: ignore[misc]
               P("stream", P.POSITIONAL_OR_KEYWORD, annotation=int),
               P("tactic", P.POSITIONAL_OR_KEYWORD, annotation=int)],
            return_annotation=None)

        def register_fn(*args, **kwargs):
            tensors, attrs, _ = self._split(register_sig, args, kwargs)
            return self.describe_outputs(trt, trtp, tensors, attrs)

        def autotune_fn(*args, **kwargs):
            tensors, attrs, bound = self._split(autotune_sig, args, kwargs)
            return self.autotune(trtp, tensors, list(bound["outputs"]), attrs)

        def aot_impl_fn(*args, **kwargs):
            tensors, attrs, bound = self._split(aot_sig, args, kwargs)
            return self.aot_impl(trtp, tensors, list(bound["outputs"]), attrs, bound["tactic"])

        def impl_fn(*args, **kwargs):
            tensors, attrs, bound = self._split(impl_sig, args, kwargs)
            self.jit_impl(tensors, list(bound["outputs"]), attrs, bound["stream"], bound["tactic"])

        for fn, sig in ((register_fn, register_sig), (autotune_fn, autotune_sig), (aot_impl_fn, aot_sig),
                        (impl_fn, impl_sig)):
            fn.__signature__ = sig  # type: ignore[attr-defined]
            fn.__name__ = f"{self.op_name.replace('::', '_')}_{fn.__name__}"

        done = []
        try:
            trtp.register(self.op_name)(register_fn)
            done.append("register")
            trtp.autotune(self.op_name)(autotune_fn)
            trtp.aot_impl(self.op_name)(aot_impl_fn)
            trtp.impl(self.op_name)(impl_fn)
        except Exception as exc:
            if done:
                _undo_register(trt, trtp, self.op_name)
            raise RegistrationError(
                f"tensorrt.plugin refused to register op '{self.op_name}' (schema "
                f"{self.plugin.schema.torch_schema()}): {type(exc).__name__}: {exc}"
            ) from exc

    # -- the QDP callbacks --
    def describe_outputs(self, trt, trtp, tensors, attrs):
        in_dtypes, in_ranks = self._signature(tensors)
        info = self.outputs_info(in_dtypes, in_ranks, attrs)
        fake = any(getattr(t.shape_expr, "is_fake", False) or _first_is_fake(t) for t in tensors)
        lowering = TrtLowering(trtp, tensors)
        outs = []
        for j, (shape, dtype) in enumerate(zip(info.shapes, info.dtypes)):
            alias = self.plugin.schema.alias_of(j)
            if alias is not None:  # in place: TensorRT binds the output to the input's buffer
                outs.append(tensors[alias].aliased())
                continue
            trt_dtype = getattr(trt.DataType, _TORCH_TO_TRT[str(dtype).replace("torch.", "")])
            if fake:  # TensorRT's first call only wants dtypes; its shapes are placeholders
                shape_exprs = trtp.ShapeExprs(len(shape), _is_dummy=True)
            else:
                shape_exprs = tuple(lowering.lower(e) for e in shape)
            outs.append(trtp.from_shape_expr(shape_exprs, trt_dtype))
        return outs[0] if len(outs) == 1 else tuple(outs)

    def autotune(self, trtp, tensors, outputs, attrs):
        compiled, failures = [], []
        for tactic in self.plugin.tactics:
            try:
                self.artifact(tactic.number, tensors, outputs, attrs)
                compiled.append(tactic.number)
            except CompileError as exc:
                log.warning("%s: dropping %s from autotune: %s", self.op_name, tactic.describe(), exc.message)
                failures.append(f"{tactic.describe()}: {exc.message}")
        if compiled and failures:
            warn(f"op '{self.op_name}': {len(failures)} tactic(s) did not compile for {self.target().sm} and are not "
                 "offered to TensorRT:\n  " + "\n  ".join(failures))
        if not compiled:
            raise CompileError(f"No tactic of op '{self.op_name}' compiled for {self.target().sm}:\n  "
                               + "\n  ".join(failures))
        types = ", ".join(_autotune_type(t.dtype) for t in list(tensors) + list(outputs))
        return [trtp.AutoTuneCombination(types, "LINEAR", compiled)]

    def aot_impl(self, trtp, tensors, outputs, attrs, tactic: int):
        artifact = self.artifact(tactic, tensors, outputs, attrs)
        lowering = TrtLowering(trtp, tensors, outputs)
        params = trtp.KernelLaunchParams()
        params.grid_x, params.grid_y, params.grid_z = (lowering.lower(g) for g in artifact.grid)
        params.block_x, params.block_y, params.block_z = (lowering.lower(b) for b in artifact.block)
        params.shared_mem = lowering.lower(artifact.shared_mem)
        extras = trtp.SymIntExprs(len(artifact.extras))
        for i, expr in enumerate(artifact.extras):
            extras[i] = trtp.SymInt32(lowering.lower(expr))  # must be SymInt32 exactly: wrap every result
        return artifact.kernel_name, artifact.ptx, params, extras

    def jit_impl(self, tensors, outputs, attrs, stream: int, tactic: int):
        import torch

        from . import launcher

        inputs = [torch.as_tensor(t, device="cuda") for t in tensors]
        outs = [torch.as_tensor(o, device="cuda") for o in outputs]
        tactic_obj = self.plugin.tactics[max(tactic, 1) - 1]
        artifact = self.plugin.compile_tactic(
            tactic_obj, self.target(), in_dtypes=[t.dtype for t in inputs], out_dtypes=[o.dtype for o in outs],
            in_ranks=[t.dim() for t in inputs], out_ranks=[o.dim() for o in outs], attrs=attrs,
            shapes=S.Shapes(tuple(tuple(t.shape) for t in inputs), tuple(tuple(o.shape) for o in outs)))
        launcher.launch(artifact, inputs, outs, stream=stream)


def _first_is_fake(desc) -> bool:
    try:
        return len(desc.shape_expr) > 0 and bool(getattr(desc.shape_expr[0], "is_fake", False))
    except Exception:  # noqa: BLE001 - shape exprs of rank 0
        return False


def _concrete_shapes(tensors) -> S.Shapes | None:
    try:
        shapes = tuple(tuple(int(d) for d in t.shape) for t in tensors)
    except Exception:  # noqa: BLE001 - shapes are not known in every phase
        return None
    return S.Shapes(shapes)


def _torch_dtype(trt_dtype):
    import torch

    name = getattr(trt_dtype, "name", str(trt_dtype)).split(".")[-1]
    for torch_name, trt_name in _TORCH_TO_TRT.items():
        if trt_name == name:
            return getattr(torch, torch_name)
    raise CompileError(f"TensorRT data type {name} has no torch equivalent that tta compiles kernels for.")


def _autotune_type(trt_dtype) -> str:
    name = getattr(trt_dtype, "name", str(trt_dtype)).split(".")[-1]
    return _AUTOTUNE_NAMES.get(name, name)


def _undo_register(trt, trtp, op_name: str) -> None:
    """Best effort: forget a half-registered op so that a corrected retry can succeed."""
    from tensorrt.plugin import _lib

    _lib.QDP_REGISTRY.pop(op_name, None)
    creator = _lib.QDP_CREATORS.pop(op_name, None) if hasattr(_lib, "QDP_CREATORS") else None
    registry = trt.get_plugin_registry()
    if creator is not None and hasattr(registry, "deregister_creator"):
        registry.deregister_creator(creator)


def check_registrable(plugin: CustomPlugin, op_name: str) -> None:
    """TensorRT's naming rules, checked before anything is registered."""
    namespace, _, name = op_name.partition("::")
    if namespace in RESERVED_NAMESPACES or "." in op_name or not name:
        raise RegistrationError(
            f"'{op_name}' cannot name a TensorRT plugin: the namespace must not be one of "
            f"{sorted(RESERVED_NAMESPACES)} and the name must not contain '.'. Fix: use 'mylib::my_op'."
        )
    clash = [a.name for a in plugin.schema.attrs if a.name in RESERVED_ATTRS]
    if clash:
        raise RegistrationError(
            f"Op '{op_name}' has attribute(s) {clash}, names TensorRT reserves ({sorted(RESERVED_ATTRS)}). "
            "Fix: rename them in meta_impl."
        )


def zeroed_outputs_message(plugin: CustomPlugin, op_name: str) -> str:
    return (
        f"Op '{op_name}' declares zeroed_outputs {list(plugin.zeroed_outputs)}, which cannot be a TensorRT AOT "
        "plugin: TensorRT runs an AOT plugin as exactly one kernel on output buffers it does not initialize, so "
        "nothing would zero them and the kernel's atomics would add to garbage. The torch op works (it zeroes them "
        "before each launch). Fix: use the op eagerly / with torch.compile (tensorrt=False), or make the kernel "
        "store every element of the output before accumulating into it."
    )


def register(plugin: CustomPlugin, op_name: str, *, arch=None, ptx_isa=None) -> QdpBinding:
    """Register `plugin` as TensorRT QDP op `op_name` (idempotent, thread-safe)."""
    check_registrable(plugin, op_name)
    if plugin.zeroed_outputs:
        raise RegistrationError(zeroed_outputs_message(plugin, op_name))
    binding = _bindings.get(op_name)
    if binding is None:
        trt, trtp = import_trtp()
        with _lock:
            binding = _bindings.get(op_name)
            if binding is None:
                from tensorrt.plugin import _lib

                if op_name in _lib.QDP_REGISTRY:
                    raise RegistrationError(
                        f"A TensorRT plugin '{op_name}' is already registered outside tta (for example by "
                        "torch_tensorrt's custom_op without impl=). Fix: choose another op name."
                    )
                binding = QdpBinding(plugin, op_name, arch, ptx_isa)
                binding.install(trt, trtp)
                _bindings[op_name] = binding
                log.info("registered TensorRT AOT plugin %s (%d tactics)", op_name, len(plugin.tactics))
                if plugin.schema.aliases:
                    log.info("%s has in-place (aliased) outputs: the engine build needs "
                             "config.set_preview_feature(trt.PreviewFeature.ALIASED_PLUGIN_IO_10_03, True)", op_name)
    if binding.plugin.hash != plugin.hash:
        raise RegistrationError(
            f"TensorRT plugin '{op_name}' is already registered for a different plugin "
            f"({binding.plugin.op_name}). Fix: choose another op name."
        )
    return binding
