"""Triton backend: record `kernel[grid](...)` from an ordinary launch function, compile it ahead of time.

Recording: while a launch function runs under a Recorder, `JITFunction.run` is intercepted on this thread only,
so the first `kernel[grid](...)` call is captured instead of launched. Compiling: `triton.compile(ASTSource(...))`
for an explicit `GPUTarget`, which needs no GPU. The entry is renamed per tactic through Triton's own `repr` hook
(no text edit), and the PTX ISA is chosen with Triton's `ptx_version` option (no `.version` relabel).
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import logging
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from .. import recording as R
from .. import symbolic as S
from ..errors import CompileError, RecordingError, context
from ..sources import referenced, source_of
from ..spec import CONSTANT, EXTRA, INPUT, OUTPUT, Config, KernelArg, KernelSpec, LaunchPlan, Target
from .base import Backend, CompiledKernel, check_config_keys

log = logging.getLogger(__name__)

# Launch options that TensorRT's launch cannot honour, with the value it implies.
_FIXED_OPTIONS = {"num_ctas": 1, "launch_cooperative_grid": False, "launch_pdl": False}
_DEFAULT_OPTIONS = {"num_warps": 4, "num_stages": 3}

_patch_lock = threading.Lock()
_patch_depth = 0
_originals: dict = {}


def _is_jit(obj) -> bool:
    try:
        from triton.runtime.jit import JITFunction
    except ImportError:
        return False
    return isinstance(obj, JITFunction)


def _is_kernel_like(obj) -> bool:
    try:
        from triton.runtime.jit import KernelInterface
    except ImportError:
        return False
    return isinstance(obj, KernelInterface)


def _is_user_kernel(obj) -> bool:
    """A kernel or @triton.jit helper of the user's, not one of Triton's own (tl.sum, ...): those belong to the
    Triton version, which the artifact cache key covers, not the op name."""
    if not _is_kernel_like(obj):
        return False
    return not str(getattr(_python_fn(obj), "__module__", "")).split(".")[0] == "triton"


@contextmanager
def _intercept_launches():
    """Route `JITFunction.run` and `Autotuner.run` to the active Recorder of the calling thread.

    The class attributes are patched while any thread records (refcounted under a lock); threads that are not
    recording fall through to Triton's own method, so concurrent real launches are unaffected.
    """
    global _patch_depth
    from triton.runtime.autotuner import Autotuner
    from triton.runtime.jit import JITFunction

    def jit_run(self, *args, grid, warmup, **kwargs):
        recorder = R.active_recorder()
        if recorder is None or warmup:
            return _originals["jit"](self, *args, grid=grid, warmup=warmup, **kwargs)
        recorder.on_launch(self, grid, args, kwargs)

    def autotuner_run(self, *args, **kwargs):
        if R.active_recorder() is None:
            return _originals["autotuner"](self, *args, **kwargs)
        raise RecordingError(
            f"Kernel '{self.fn.__name__}' is wrapped in @triton.autotune, which benchmarks on a GPU at launch time "
            f"(at {R.user_location()}). Each config must be a separate AOT tactic instead. Fix: remove "
            "@triton.autotune and pass its configs to tta.triton(launch_fn, configs=[{...}, ...])."
        )

    with _patch_lock:
        if _patch_depth == 0:
            _originals["jit"], _originals["autotuner"] = JITFunction.run, Autotuner.run
            JITFunction.run, Autotuner.run = jit_run, autotuner_run
        _patch_depth += 1
    try:
        yield
    finally:
        with _patch_lock:
            _patch_depth -= 1
            if _patch_depth == 0:
                JITFunction.run, Autotuner.run = _originals["jit"], _originals["autotuner"]


def _symbolic_overrides() -> dict[int, Any]:
    """Objects in a launch function's globals to replace while recording: Triton's shape helpers."""
    import triton

    overrides = {id(triton.cdiv): R.sym_cdiv, id(triton.next_power_of_2): R.sym_next_power_of_2}
    overrides[id(triton)] = _TritonModuleProxy(triton)  # type: ignore[assignment]
    return overrides


class _TritonModuleProxy:
    """`triton` as seen by a launch function being recorded: cdiv and next_power_of_2 accept symbolic dims."""

    def __init__(self, module):
        self._module = module
        self.cdiv = R.sym_cdiv
        self.next_power_of_2 = R.sym_next_power_of_2

    def __getattr__(self, item):
        return getattr(self._module, item)


class TritonBackend(Backend):
    name = "triton"
    extra = "triton"
    module = "triton"

    def toolchain_version(self) -> str:
        return f"triton {self.require().__version__}"

    # --- fingerprint -----------------------------------------------------------------------------------------
    def fingerprint(self, spec: KernelSpec) -> str:
        self.require()
        parts = [source_of(spec.launch_fn)]
        seen: set[int] = set()
        queue = referenced(spec.launch_fn, _is_user_kernel)
        while queue:
            kernel = queue.pop(0)
            if id(kernel) in seen:
                continue
            seen.add(id(kernel))
            fn = _python_fn(kernel)
            parts.append(source_of(fn))
            parts.extend(_kernel_globals(kernel))
            queue.extend(referenced(fn, _is_user_kernel))  # @triton.jit helpers the kernel calls
        return "\n----\n".join(parts)

    def kernel_key(self, plan: LaunchPlan) -> str:
        """Triton's own cache key of the kernel: its source, every jit function it calls and the constexpr globals
        they read, as Triton itself sees them."""
        kernel = plan.kernel
        try:
            return str(kernel.cache_key)
        except Exception as exc:  # noqa: BLE001 - Triton refuses some globals; compiling will say so
            log.debug("no Triton cache key for %s: %s", plan.kernel_name, exc)
            return ""

    # --- recording -------------------------------------------------------------------------------------------
    def record(self, spec: KernelSpec, config: Config, tensors: Sequence[Any], attrs: Sequence[Any]) -> LaunchPlan:
        self.require()
        check_config_keys(spec, config)
        with _intercept_launches():
            recorder = R.run_recording(spec.launch_fn, [*tensors, *attrs], dict(config), _symbolic_overrides())
        where = context(kernel=None, config=config)
        if not recorder.launches:
            raise RecordingError(
                f"Launch function '{spec.name}' ({where}) launched no Triton kernel. A spec's launch function must "
                "launch exactly one @triton.jit kernel with kernel[grid](...). Fix: make sure the launch is not "
                "skipped (for example by an early return) and that the kernel is a @triton.jit function."
            )
        if len(recorder.launches) > 1:
            names = [_kernel_name(lnc.kernel) for lnc in recorder.launches]
            raise RecordingError(
                f"Launch function '{spec.name}' ({where}) launched {len(names)} kernels ({', '.join(names)}), at "
                f"{'; '.join(lnc.location for lnc in recorder.launches)}. A TensorRT AOT plugin runs exactly one "
                "kernel per tactic. Fix: fuse the kernels, or make each one its own plugin."
            )
        return _classify(spec, config, recorder.launches[0])

    # --- compile ---------------------------------------------------------------------------------------------
    def compile(self, plan: LaunchPlan, *, kernel_name: str, target: Target, input_dtypes, output_dtypes,
                constants: dict[str, Any], divisible: frozenset = frozenset(), config=None,
                attributes=None) -> CompiledKernel:
        triton = self.require()
        from triton.backends.compiler import BaseBackend, GPUTarget
        from triton.compiler import ASTSource

        kernel = copy.copy(plan.kernel)
        kernel._repr = lambda _specialization: kernel_name  # Triton's own hook for naming the entry
        signature, constexprs, attrs, runtime_args = {}, {}, {}, []
        for i, arg in enumerate(plan.args):
            if arg.kind == CONSTANT:
                signature[arg.name] = "constexpr"
                constexprs[(i,)] = constants[arg.name]
            elif arg.kind in (INPUT, OUTPUT):
                dtype = (input_dtypes if arg.kind == INPUT else output_dtypes)[arg.index]
                signature[arg.name] = "*" + _triton_dtype(dtype)
                attrs[(i,)] = BaseBackend.parse_attr("D")  # TensorRT tensors are (at least) 16-byte aligned
                runtime_args.append(arg)
            else:
                signature[arg.name] = "i32"  # TensorRT passes extras as int32
                if arg.name in divisible:  # what Triton's launcher infers from a value % 16 == 0
                    attrs[(i,)] = BaseBackend.parse_attr("D")
                runtime_args.append(arg)
        options = dict(plan.options)
        options.setdefault("enable_fp_fusion", True)  # Triton's default, stated so that it does not warn
        if target.ptx_isa is not None:  # a ceiling: never above what this Triton's ptxas can assemble
            requested = target.ptx_isa[0] * 10 + target.ptx_isa[1]
            options["ptx_version"] = min(requested, _toolchain_ptx_version(target.arch) or requested)
            # Triton emits arch-specific code (sm_90a, sm_100a, ...) from sm_90 on; an ISA too old for it would
            # abort the process inside LLVM, so it is refused here
            needed = target.min_ptx_isa("a" if target.arch >= 90 else "")
            if options["ptx_version"] < needed[0] * 10 + needed[1]:
                raise CompileError(
                    f"Triton compiles kernel '{plan.kernel_name}' for sm_{target.arch}"
                    f"{'a' if target.arch >= 90 else ''}, which needs PTX ISA {needed[0]}.{needed[1]} or newer, but "
                    f"the ceiling is {options['ptx_version'] // 10}.{options['ptx_version'] % 10} (ptx_isa="
                    f"{target.ptx_isa}, this Triton's ptxas). Fix: raise ptx_isa (the deployment driver's newest).")
        class NamedSource(ASTSource):
            # Triton's compile cache keys on the kernel source, not on the entry name set through _repr: without
            # the name in the key, a cached kernel could come back under another plugin's or tactic's name.
            def hash(self):
                return hashlib.sha256(f"{super().hash()}|{kernel_name}".encode()).hexdigest()

        try:
            compiled = triton.compile(
                NamedSource(kernel, signature, constexprs=constexprs, attrs=attrs),
                target=GPUTarget("cuda", target.arch, 32),
                options=options,
            )
        except Exception as exc:  # Triton raises many types; name the kernel and the reason
            raise CompileError(
                f"Triton failed to compile kernel '{plan.kernel_name}' as '{kernel_name}' for {target.sm} with "
                f"options {options}: {type(exc).__name__}: {str(exc).strip()[:2000]}"
            ) from exc
        md = compiled.metadata
        for field_name in ("global_scratch_size", "profile_scratch_size"):
            if getattr(md, field_name, 0):
                raise CompileError(
                    f"Kernel '{plan.kernel_name}' needs {getattr(md, field_name)} bytes of Triton {field_name} "
                    "memory (tensor descriptors, device-side allocation or profiling). TensorRT passes no scratch "
                    "buffer to an AOT kernel, so it cannot run. Fix: use plain pointer loads instead of "
                    "tl.make_tensor_descriptor / on-device allocation, and disable instrumentation."
                )
        hidden_params = ("global_scratch", "profile_scratch") if hasattr(md, "profile_scratch_size") else ()
        threads = md.num_warps * md.warp_size
        return CompiledKernel(
            ptx=compiled.asm["ptx"],
            entry=md.name,
            args=tuple(runtime_args),
            block=(threads, 1, 1),
            shared_mem=int(md.shared),
            hidden=hidden_params,
            toolchain=f"triton {triton.__version__}",
            metadata={"num_warps": md.num_warps, "num_stages": md.num_stages, "shared": int(md.shared)},
        )


# --- helpers ------------------------------------------------------------------------------------------------------
def _toolchain_ptx_version(arch: int) -> int | None:
    """Newest PTX ISA (e.g. 87 for 8.7) the ptxas bundled with this Triton accepts."""
    try:
        from triton.backends.nvidia.compiler import get_ptxas, ptx_get_version

        return ptx_get_version(get_ptxas(arch).version)
    except Exception as exc:  # noqa: BLE001 - an older/newer Triton layout: let Triton decide
        log.debug("could not read Triton's ptxas version: %s", exc)
        return None


def _kernel_globals(kernel) -> list[str]:
    """`module.name=value` of the globals a user kernel reads (tl.constexpr globals, for the most part), as Triton's
    own dependency finder sees them, restricted to the user's modules (Triton's own belong to its version)."""
    from ..sources import _plain_repr, global_values

    jit = kernel
    while not _is_jit(jit) and hasattr(jit, "fn"):
        jit = jit.fn
    try:
        jit.cache_key  # noqa: B018 - computing it fills used_global_vals
        used = dict(getattr(jit, "used_global_vals", {}) or {})
    except Exception as exc:  # noqa: BLE001 - Triton refuses some globals; compiling will say so
        log.debug("Triton's dependency finder failed on %s (%s); reading globals from the code", jit, exc)
        return global_values(_python_fn(kernel))
    out = []
    for (name, _), (value, scope) in used.items():
        owner = str(scope.get("__name__", "")) if isinstance(scope, dict) else ""
        if owner.split(".")[0] in ("triton",):
            continue
        text = _plain_repr(value)
        out.append(f"{owner}.{name}={text if text is not None else type(value).__qualname__}")
    return sorted(out)


def _python_fn(kernel) -> Any:
    while not _is_jit(kernel) and hasattr(kernel, "fn"):
        kernel = kernel.fn
    return getattr(kernel, "fn", kernel)


def _kernel_name(kernel) -> str:
    return getattr(_python_fn(kernel), "__name__", repr(kernel))


def _triton_dtype(dtype) -> str:
    import torch
    from triton.runtime.jit import mangle_type

    return mangle_type(torch.empty((), dtype=dtype))[1:]  # '*fp32' -> 'fp32'


_CONSTANT_TYPES = (int, float, bool, str, type(None))


def _classify(spec: KernelSpec, config: Config, launch: R.RecordedLaunch) -> LaunchPlan:
    from triton.backends.nvidia.compiler import CUDAOptions
    from triton.language import constexpr
    from triton.language import dtype as tl_dtype

    kernel = launch.kernel
    name = _kernel_name(kernel)
    if not _is_jit(kernel):
        raise RecordingError(
            f"Launch function '{spec.name}' launched '{name}', a {type(kernel).__name__}, at {launch.location}. "
            "Only plain @triton.jit kernels can be compiled ahead of time. Fix: launch the @triton.jit function "
            "directly and express heuristics as configs."
        )
    where = context(kernel=name, config=config)
    option_names = set(CUDAOptions.__dataclass_fields__)
    param_names = [p.name for p in kernel.params]
    kernel_kwargs, options = {}, dict(_DEFAULT_OPTIONS)
    for key, value in launch.kwargs.items():
        if key in param_names:
            kernel_kwargs[key] = value
        elif key in option_names:
            options[key] = _constant_option(key, value, where, launch.location)
        else:
            raise RecordingError(
                f"Keyword '{key}' passed to kernel '{name}' ({where}) at {launch.location} is neither a kernel "
                f"parameter ({param_names}) nor a Triton launch option. Fix: remove it or correct its name."
            )
    for key, required in _FIXED_OPTIONS.items():
        if options.get(key, required) != required:
            raise RecordingError(
                f"Kernel '{name}' ({where}) was launched with {key}={options[key]!r}, but TensorRT launches AOT "
                f"kernels without clusters, cooperative grids or programmatic dependent launch. Fix: use "
                f"{key}={required!r}."
            )
    try:
        bound = inspect.signature(kernel.fn).bind(*launch.args, **kernel_kwargs)
    except TypeError as exc:
        raise RecordingError(
            f"Kernel '{name}' ({where}) was called with arguments that do not match its signature at "
            f"{launch.location}: {exc}."
        ) from None
    bound.apply_defaults()

    args: list[KernelArg] = []
    seen_tensors: dict[tuple[str, int], str] = {}
    for param in kernel.params:
        value = bound.arguments[param.name]
        arg_where = context(kernel=name, config=config, arg=param.name)
        if isinstance(value, constexpr):
            value = value.value
        if isinstance(value, R.SymTensor):
            if param.is_constexpr:
                raise RecordingError(f"Tensor passed to tl.constexpr parameter ({arg_where}). Fix: drop tl.constexpr.")
            role, index = value.tta_role
            if (role, index) in seen_tensors:
                raise RecordingError(
                    f"{role.capitalize()} {index} is passed to kernel '{name}' twice (as '{seen_tensors[role, index]}'"
                    f" and '{param.name}'). TensorRT passes each tensor pointer exactly once. Fix: pass it once; for a "
                    "kernel that writes its result into that input, make the op in place (meta_impl returns the "
                    "input, and the launch function takes no output for it)."
                )
            seen_tensors[role, index] = param.name
            args.append(KernelArg(param.name, role, index=index))
        elif isinstance(value, R.SymInt):
            kind = CONSTANT if param.is_constexpr else EXTRA
            args.append(KernelArg(param.name, kind, expr=value.expr))
        elif isinstance(value, _CONSTANT_TYPES) or isinstance(value, tl_dtype):
            # literals, config values and op attributes are baked into the kernel: TensorRT cannot pass floats,
            # and a value known at compile time costs nothing at run time.
            args.append(KernelArg(param.name, CONSTANT, value=value))
        else:
            raise RecordingError(
                f"Unsupported kernel argument ({arg_where}): a {type(value).__name__} ({_short(value)}) at "
                f"{launch.location}. An AOT kernel receives only the op's input and output tensors, int32 values "
                "computed from their shapes, and constants. Fix: make a captured tensor an input of the op, and "
                "pass other values as op attributes or config entries."
            )
    meta = {k: (v.value if isinstance(v, constexpr) else v) for k, v in bound.arguments.items()}
    grid = _grid(launch.grid, meta, name, where, launch.location)
    plan_options = tuple(sorted((k, v) for k, v in options.items() if k not in _FIXED_OPTIONS))
    return LaunchPlan(kernel, name, grid, tuple(args), plan_options)


def _constant_option(key, value, where, location):
    if isinstance(value, (R.SymInt, R.SymTensor)):
        raise RecordingError(
            f"Launch option {key} ({where}) depends on tensor shapes at {location}; it must be a constant. "
            "Fix: take it from the config."
        )
    return value


def _grid(grid, meta, name, where, location) -> tuple[S.Expr, S.Expr, S.Expr]:
    if callable(grid):
        grid = R.symbolic_copy(grid, _symbolic_overrides())(meta)
    if isinstance(grid, (int, R.SymInt)):
        grid = (grid,)
    if not isinstance(grid, (tuple, list)) or not 1 <= len(grid) <= 3:
        raise RecordingError(
            f"The grid of kernel '{name}' ({where}) must be a tuple of 1 to 3 ints or a lambda returning one, got "
            f"{_short(grid)} at {location}."
        )
    return R.launch_dims(grid, lambda i, g: RecordingError(
        f"Grid dimension {i} of kernel '{name}' ({where}) is a {type(g).__name__} ({_short(g)}) at "
        f"{location}; it must be an int computed from tensor dims and config values. Fix: use // or "
        "triton.cdiv instead of / or math.ceil."))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
