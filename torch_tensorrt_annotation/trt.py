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

from . import symbolic
from .dtypes import dtype_name, element_type, torch_name_of_trt
from .errors import CompileError, RecordingError, RegistrationError, SpecError, TensorRTUnavailableError, TTAError
from .plugin import CustomPlugin, resolve_target
from .spec import Artifact, Target

log = logging.getLogger(__name__)

MIN_AOT_VERSION = (10, 9)
RESERVED_NAMESPACES = {"", "trt", "tensorrt", "std"}
RESERVED_ATTRS = {"outputs", "stream", "tactic"}

_lock = threading.Lock()
_bindings: dict[str, "QdpBinding"] = {}

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


def encode_attr(value, attr):
    """A checked attribute value as `trtp.op.<ns>.<name>(...)` accepts it for `attr_annotation(attr.type)`: a bool
    as is, an int / float as a 0-d int64 / float64 array (not a Python scalar: NumPy >= 2.4 breaks those)."""
    import numpy as np

    value = attr.check(value.item() if isinstance(value, (np.ndarray, np.generic)) else value, "TensorRT plugin")
    if attr.type is bool:
        return value
    return np.asarray(value, dtype=np.int64 if attr.type is int else np.float64)


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
class TrtLowering(symbolic.Lowering):
    """Lowers a symbolic Expr to `trtp` expressions over the descriptors TensorRT passes (ints stay ints)."""

    def __init__(self, trtp, inputs: Sequence, outputs: Sequence = (), attrs: Sequence = ()):
        # attribute values: a runtime scalar extra becomes the constant SymInt32 of its 32-bit pattern
        self.trtp, self.inputs, self.outputs, self.attrs = trtp, inputs, outputs, tuple(attrs)

    def _desc(self, role, index):
        return (self.inputs if role == symbolic.INPUT else self.outputs)[index]

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
        self._autotuned: dict = {}
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
        """The tactic's artifact for the dims TensorRT's build describes: static dims concrete (the launch code
        decides on them freely, and extras they fix are known to the compiler), dynamic dims symbolic over the
        profile's min/max. Autotune and aot_impl see the same descriptors, so they get the same artifact."""
        in_dtypes, in_ranks = self._signature(tensors)
        out_dtypes, out_ranks = self._signature(outputs)
        profile = build_profile(tensors, outputs)
        tactic = self.plugin.tactics[tactic_number - 1]
        return self.plugin.compile_tactic(tactic, self.target(), in_dtypes=in_dtypes, out_dtypes=out_dtypes,
                                          in_ranks=in_ranks, out_ranks=out_ranks, attrs=attrs, profile=profile)

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

        callbacks = []
        for fn, sig in ((register_fn, register_sig), (autotune_fn, autotune_sig), (aot_impl_fn, aot_sig),
                        (impl_fn, impl_sig)):
            logged = self._logged(fn, fn.__name__.removesuffix("_fn"))
            logged.__signature__ = sig  # type: ignore[attr-defined]
            logged.__name__ = f"{self.op_name.replace('::', '_')}_{fn.__name__}"
            callbacks.append(logged)

        done = []
        try:
            _python_313_validator_workaround(trt)
            trtp.register(self.op_name)(callbacks[0])
            done.append("register")
            trtp.autotune(self.op_name)(callbacks[1])
            trtp.aot_impl(self.op_name)(callbacks[2])
            trtp.impl(self.op_name)(callbacks[3])
        except Exception as exc:
            if done or self.op_name in _qdp_registry():
                _undo_register(trt, trtp, self.op_name)
            raise RegistrationError(
                f"tensorrt.plugin refused to register op '{self.op_name}' (schema "
                f"{self.plugin.schema.torch_schema()}): {type(exc).__name__}: {exc}"
            ) from exc

    def _logged(self, fn, callback: str):
        """TensorRT's C++ trampolines catch what a Python plugin callback raises and print only a generic line, and
        the engine build then fails far from the cause: log tta's own message first, then re-raise."""
        op_name = self.op_name

        def call(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                message = exc.message if isinstance(exc, TTAError) else f"{type(exc).__name__}: {exc}"
                log.error("TensorRT plugin '%s' failed in its %s callback (TensorRT catches this error and its "
                          "engine build fails): %s", op_name, callback, message)
                raise

        return call

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
            trt_name = element_type(dtype, "trt")
            if trt_name is None:
                raise CompileError(
                    f"Output {j} of op '{self.op_name}' is {dtype_name(dtype)} (meta_impl says so), which has "
                    "no TensorRT data type. Fix: return a float32, float16, bfloat16, int8, uint8, int32, int64, "
                    "bool or float8_e4m3fn tensor from meta_impl."
                )
            trt_dtype = getattr(trt.DataType, trt_name)
            if fake:  # TensorRT's first call only wants dtypes; its shapes are placeholders
                shape_exprs = trtp.ShapeExprs(len(shape), _is_dummy=True)
            else:
                shape_exprs = tuple(lowering.lower(e) for e in shape)
            outs.append(trtp.from_shape_expr(shape_exprs, trt_dtype))
        return outs[0] if len(outs) == 1 else tuple(outs)

    def autotune(self, trtp, tensors, outputs, attrs):
        key = (tuple(self._signature(tensors)[0]), tuple(self._signature(outputs)[0]),
               repr(_profile_shapes(tensors, outputs, "min")), repr(_profile_shapes(tensors, outputs, "max")),
               repr([tuple(d.shape) for d in list(tensors) + list(outputs)]), tuple(attrs))
        with self._lock:  # TensorRT asks twice (getNbSupportedFormatCombinations, then the combinations)
            if key not in self._autotuned:
                self._autotuned[key] = self._autotune(tensors, outputs, attrs)
            compiled, error = self._autotuned[key]
        if error is not None:  # a fresh exception of the same type (DtypeError, CompileError) at each call
            raise type(error)(error.message)  # logged by the callback wrapper (QdpBinding._logged)
        types = ", ".join(_autotune_type(t.dtype) for t in list(tensors) + list(outputs))
        return [trtp.AutoTuneCombination(types, "LINEAR", compiled)]

    def _autotune(self, tensors, outputs, attrs) -> tuple[list[int], CompileError | None]:
        """(tactics that compiled for these dtypes, the error when none did)."""
        results: list = []
        for tactic in self.plugin.tactics:
            try:
                results.append(self.artifact(tactic.number, tensors, outputs, attrs))
            except CompileError as exc:
                results.append(exc)
            except RecordingError as exc:  # a decision on a dynamic dim: this tactic cannot serve the profile
                results.append(CompileError(exc.message))
        try:  # only the tactics whose kernels take these dtypes are offered
            compiled = self.plugin.keep_compiled(self.plugin.tactics, results, f" for {self.target().sm}",
                                                 "are not offered to TensorRT", op_name=self.op_name)
        except CompileError as exc:
            return [], exc
        return [a.tactic for a in compiled], None

    def aot_impl(self, trtp, tensors, outputs, attrs, tactic: int):
        # errors are logged by the callback wrapper (QdpBinding._logged): TensorRT swallows them
        artifact = self.artifact(tactic, tensors, outputs, attrs)
        lowering = TrtLowering(trtp, tensors, outputs, attrs)
        params = trtp.KernelLaunchParams()
        try:
            params.grid_x, params.grid_y, params.grid_z = (lowering.lower(g) for g in artifact.grid)
            params.block_x, params.block_y, params.block_z = (lowering.lower(b) for b in artifact.block)
            params.shared_mem = lowering.lower(artifact.shared_mem)
            extras = trtp.SymIntExprs(len(artifact.extras))
            lowered = [lowering.lower(expr) for expr in artifact.extras]
        except NotImplementedError as exc:
            raise CompileError(
                f"Op '{self.op_name}' tactic {tactic}: a launch parameter uses an operation on dynamic dims "
                f"that TensorRT's shape expressions cannot express ({exc}). Fix: make those dims static in the "
                "optimization profile, or compute the value with + - * // min max triton.cdiv."
            ) from None
        self._check_extras_fit_int32(artifact, lowered, tensors, outputs, tactic, attrs)
        for i, value in enumerate(lowered):
            extras[i] = trtp.SymInt32(value)  # must be SymInt32 exactly: wrap every result
        return artifact.kernel_name, artifact.ptx, params, extras

    def _check_extras_fit_int32(self, artifact: Artifact, lowered: list, tensors, outputs, tactic: int,
                                attrs=()) -> None:
        """Refuse, at engine build, an extra that cannot fit the int32 TensorRT passes: a build-time constant out
        of range, or, for dynamic dims, a value out of range at the optimization profile's min or max shapes (the
        engine never runs outside its profile). Eager launches check every call (Artifact.launch_params)."""
        problems = []
        for expr, value in zip(artifact.extras, lowered):
            constant = _constant_of(value)
            if constant is not None and not symbolic.fits_int32(constant):
                problems.append(f"{expr} = {constant}")
        if not problems:
            bounds = {bound: _profile_shapes(tensors, outputs, bound, attrs) for bound in ("min", "max")}
            for bound, shapes in bounds.items():
                if shapes is None or (bound == "max" and shapes == bounds["min"]):
                    continue
                try:
                    values = symbolic.evaluate_all(artifact.extras, shapes)
                except Exception:  # noqa: BLE001 - an expression the bounds cannot evaluate: nothing to check
                    continue
                where = (f"at the optimization profile's {bound} input shapes {shapes.inputs}"
                         if bounds["max"] != bounds["min"] else f"for input shapes {shapes.inputs}")
                problems += [f"{expr} = {v} {where}"
                             for expr, v in zip(artifact.extras, values) if not symbolic.fits_int32(v)]
        if problems:
            error = CompileError(
                f"Op '{self.op_name}', tactic {tactic} (kernel {artifact.kernel_name}, config "
                f"{dict(artifact.config)}): extra argument(s) {'; '.join(problems)} do not fit in int32, the only "
                "integer type TensorRT passes to an AOT kernel, so the kernel would read a wrapped value. Fix: "
                "keep every extra (e.g. numel) below 2**31 (split the tensor, or lower the profile's max shapes), "
                "or compute 64-bit offsets inside the kernel from smaller extras."
            )
            raise error  # logged by aot_impl, since TensorRT swallows exceptions raised from plugin callbacks

    def jit_impl(self, tensors, outputs, attrs, stream: int, tactic: int):
        import torch

        from . import launcher

        inputs = [torch.as_tensor(t, device="cuda") for t in tensors]
        outs = [torch.as_tensor(o, device="cuda") for o in outputs]
        tactic_obj = self.plugin.tactics[max(tactic, 1) - 1]
        artifact = self.plugin.compile_tactic(
            tactic_obj, self.target(), in_dtypes=[t.dtype for t in inputs], out_dtypes=[o.dtype for o in outs],
            in_ranks=[t.dim() for t in inputs], out_ranks=[o.dim() for o in outs], attrs=attrs,
            shapes=symbolic.Shapes(tuple(tuple(t.shape) for t in inputs), tuple(tuple(o.shape) for o in outs)))
        launcher.launch(artifact, inputs, outs, stream=stream, attrs=attrs)


def _constant_of(value) -> int | None:
    """The value of a lowered extra if it is a build-time constant (a folded int or a constant trtp expression)."""
    if isinstance(value, int):
        return value
    try:
        if getattr(value, "is_fake", False) or not value.is_constant:
            return None
        return int(value.constant_value())
    except Exception:  # noqa: BLE001 - fake or opaque expressions have no constant value
        return None


def _profile_shapes(tensors, outputs, bound: str, attrs=()) -> symbolic.Shapes | None:
    """Concrete shapes of the I/O descriptors, a dynamic dim (-1) replaced by the profile's `bound` ('min' or
    'max'); None where TensorRT gave no shapes."""
    result = []
    try:
        for desc in list(tensors) + list(outputs):
            shape = desc.shape
            dims = tuple(int(d) for d in shape)
            if any(d < 0 for d in dims):
                limit = tuple(int(d) for d in getattr(shape, bound))
                dims = tuple(lim if d < 0 else d for d, lim in zip(dims, limit))
            result.append(dims)
    except Exception:  # noqa: BLE001 - no shape information in this phase
        return None
    n = len(tensors)
    return symbolic.Shapes(tuple(result[:n]), tuple(result[n:]), tuple(attrs))


def _first_is_fake(desc) -> bool:
    try:
        return len(desc.shape_expr) > 0 and bool(getattr(desc.shape_expr[0], "is_fake", False))
    except Exception:  # noqa: BLE001 - shape exprs of rank 0
        return False


def _dim_ranges(desc) -> tuple[tuple[int, int], ...]:
    """(min, max) per axis of a TensorDesc: a static dim is (d, d); a dynamic one (-1 in the build's descriptor)
    spans its optimization profile, or everything when TensorRT gives no range."""
    try:
        shape = desc.shape  # concrete dims, -1 where dynamic (autotune, aot_impl)
        dims = [int(d) for d in shape]
    except Exception:  # noqa: BLE001 - no concrete shape in this phase: constant shape expressions are static
        exprs = desc.shape_expr
        return tuple((int(e.constant_value()),) * 2 if e.is_constant else symbolic.UNKNOWN_RANGE for e in exprs)
    if all(d >= 0 for d in dims):
        return tuple((d, d) for d in dims)
    try:
        lows, highs = [int(v) for v in shape.min], [int(v) for v in shape.max]
    except Exception:  # noqa: BLE001 - a descriptor without min/max
        lows, highs = [symbolic.UNKNOWN_RANGE[0]] * len(dims), [symbolic.UNKNOWN_RANGE[1]] * len(dims)
    return tuple((d, d) if d >= 0 else (lo, hi) if 0 <= lo <= hi else symbolic.UNKNOWN_RANGE
                 for d, lo, hi in zip(dims, lows, highs))


def build_profile(tensors, outputs) -> symbolic.Profile:
    """What TensorRT's build says about the dims of the inputs and outputs."""
    return symbolic.Profile(tuple(_dim_ranges(t) for t in tensors), tuple(_dim_ranges(o) for o in outputs))


def _torch_dtype(trt_dtype):
    import torch

    name = getattr(trt_dtype, "name", str(trt_dtype)).split(".")[-1]
    torch_name = torch_name_of_trt(name)
    if torch_name is not None:
        return getattr(torch, torch_name)
    raise CompileError(f"TensorRT data type {name} has no torch equivalent that tta compiles kernels for.")


def _autotune_type(trt_dtype) -> str:
    name = getattr(trt_dtype, "name", str(trt_dtype)).split(".")[-1]
    return _AUTOTUNE_NAMES.get(name, name)


def _qdp_registry() -> dict:
    from tensorrt.plugin import _lib

    return _lib.QDP_REGISTRY


def _undo_register(trt, trtp, op_name: str) -> None:
    """Forget a half-registered op so that a corrected retry can succeed: its QDP descriptor, its
    `trtp.op.<ns>.<name>` entry, and its plugin creator (in QDP_CREATORS, keyed "name::namespace" on 10.9-10.12
    and "namespace::name" later, and in TensorRT's plugin registry)."""
    from tensorrt.plugin import _lib

    namespace, _, name = op_name.partition("::")
    _lib.QDP_REGISTRY.pop(op_name, None)
    ns_module = getattr(_lib, "op", None) and _lib.op.__dict__.get(namespace)
    if ns_module is not None:
        ns_module.__dict__.pop(name, None)
    creators = getattr(_lib, "QDP_CREATORS", {})
    for key in (f"{namespace}::{name}", f"{name}::{namespace}"):
        creator = creators.get(key)
        if creator is not None and getattr(creator, "name", name) == name \
                and getattr(creator, "plugin_namespace", namespace) == namespace:
            del creators[key]
            registry = trt.get_plugin_registry()
            if hasattr(registry, "deregister_creator"):
                registry.deregister_creator(creator)


def _python_313_validator_workaround(trt) -> None:
    """TensorRT <= 11.1's validator calls `issubclass()` on attribute annotations, which Python >= 3.13 refuses for
    generic aliases such as tta's `np.ndarray[Any, np.dtype[np.int64]]` ("issubclass() arg 1 must be a class").
    As Torch-TensorRT does, make the validator's `issubclass` answer False for a non-class first argument (what
    11.2+ does with `inspect.isclass`). Idempotent; nothing is changed on other versions."""
    import sys

    if sys.version_info < (3, 13) or _version(str(getattr(trt, "__version__", "0"))).release[:2] > (11, 1):
        return
    from tensorrt.plugin import _validate

    if getattr(_validate, "__tta_issubclass__", False):
        return
    builtin = issubclass

    def safe_issubclass(cls, classinfo):
        return inspect.isclass(cls) and builtin(cls, classinfo)

    _validate.issubclass = safe_issubclass  # type: ignore[attr-defined]
    _validate.__tta_issubclass__ = True  # type: ignore[attr-defined]


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
