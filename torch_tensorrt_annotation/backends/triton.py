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
import re
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from .. import recording, symbolic
from ..errors import CompileError, RecordingError, context
from ..sources import referenced, source_of
from ..spec import CONSTANT, EXTRA, INPUT, OUTPUT, Config, KernelArg, KernelSpec, LaunchPlan, Target
from .base import Backend, CompiledKernel, check_config_keys, check_missing_keys

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
    """Route `JITFunction.run`, `Autotuner.run` and `Heuristics.run` to the active Recorder of the calling thread.

    An autotuned or heuristics-wrapped kernel is recorded as launched (the wrapper), and unwrapped when the launch
    is classified. The class attributes are patched while any thread records (refcounted under a lock); threads
    that are not recording fall through to Triton's own method, so concurrent real launches are unaffected.
    """
    global _patch_depth
    from triton.runtime.autotuner import Autotuner, Heuristics
    from triton.runtime.jit import JITFunction

    def jit_run(self, *args, grid, warmup, **kwargs):
        recorder = recording.active_recorder()
        if recorder is None:
            return _originals["jit"](self, *args, grid=grid, warmup=warmup, **kwargs)
        if warmup:
            raise _warmup_error(self)
        recorder.on_launch(self, grid, args, kwargs)

    def wrapper_run(original):
        def run(self, *args, **kwargs):
            recorder = recording.active_recorder()
            if recorder is None:
                return _originals[original](self, *args, **kwargs)
            if kwargs.pop("warmup", False):
                raise _warmup_error(self)
            grid = kwargs.pop("grid", None)
            recorder.on_launch(self, grid, args, kwargs)

        return run

    descriptor = _descriptor_class()

    def descriptor_post_init(self, *args, **kwargs):
        if recording.active_recorder() is not None:
            raise _tma_error("TensorDescriptor(...) / TensorDescriptor.from_tensor(...)")
        return _originals["descriptor"](self, *args, **kwargs)

    import triton

    with _patch_lock:
        if _patch_depth == 0:
            _originals["jit"], _originals["autotuner"], _originals["heuristics"] = (
                JITFunction.run, Autotuner.run, Heuristics.run)
            JITFunction.run = jit_run
            Autotuner.run = wrapper_run("autotuner")  # type: ignore[method-assign]
            Heuristics.run = wrapper_run("heuristics")  # type: ignore[method-assign]
            if descriptor is not None:
                _originals["descriptor"] = descriptor.__post_init__
                descriptor.__post_init__ = descriptor_post_init
            # helpers in any module (a library's "settings" function) call triton.cdiv / next_power_of_2 through
            # the module: they stay symbolic. The stand-ins defer to Triton's own for anything but a symbolic dim.
            _originals["cdiv"], _originals["next_power_of_2"] = triton.cdiv, triton.next_power_of_2
            triton.cdiv = _dispatching(recording.sym_cdiv, triton.cdiv)
            triton.next_power_of_2 = _dispatching(recording.sym_next_power_of_2, triton.next_power_of_2)
        _patch_depth += 1
    try:
        yield
    finally:
        with _patch_lock:
            _patch_depth -= 1
            if _patch_depth == 0:
                JITFunction.run, Autotuner.run, Heuristics.run = (
                    _originals["jit"], _originals["autotuner"], _originals["heuristics"])
                if descriptor is not None:
                    descriptor.__post_init__ = _originals["descriptor"]
                triton.cdiv, triton.next_power_of_2 = _originals["cdiv"], _originals["next_power_of_2"]



def _single_launch(recorder, what: str, rule: str, split_fix: str, where: str):
    """The one kernel launch a recording made; none or several is a RecordingError naming them and their lines."""
    if not recorder.launches:
        raise RecordingError(
            f"{what} ({where}) launched no Triton kernel. {rule} must launch exactly one @triton.jit kernel with "
            "kernel[grid](...). Fix: make sure the launch is not skipped (for example by an early return) and that "
            "the kernel is a @triton.jit function."
        )
    if len(recorder.launches) > 1:
        names = [_kernel_name(lnc.kernel) for lnc in recorder.launches]
        raise RecordingError(
            f"{what} ({where}) launched {len(names)} kernels ({', '.join(names)}), at "
            f"{'; '.join(lnc.location for lnc in recorder.launches)}. A TensorRT AOT plugin runs exactly one "
            f"kernel per tactic. Fix: fuse the kernels, or {split_fix}."
        )
    return recorder.launches[0]

def _dispatching(on_symbolic, original):
    """`original`, except for symbolic dims, which go to `on_symbolic` (so another thread's ints see no change)."""
    def dispatch(*args):
        if any(isinstance(a, recording.SymInt) for a in args):
            return on_symbolic(*args)
        return original(*args)

    dispatch.__name__, dispatch.__doc__, dispatch.__wrapped__ = original.__name__, original.__doc__, original  # type: ignore[attr-defined]
    return dispatch


def _descriptor_class():
    """Triton's host-side TensorDescriptor class (None where this Triton has none)."""
    try:
        from triton.tools.tensor_descriptor import TensorDescriptor
    except ImportError:
        return None
    return TensorDescriptor if hasattr(TensorDescriptor, "__post_init__") else None


def _warmup_error(kernel) -> RecordingError:
    return RecordingError(
        f"The launch function compiles kernel '{_kernel_name(kernel)}' itself (kernel.warmup(...) or "
        f"run(warmup=True)) at {recording.user_location()}, typically to size the grid from the compiled kernel's "
        "registers or shared memory (n_regs, occupancy). tta compiles the kernel later, once per tactic and target "
        "GPU, so no compiled kernel exists while the launch is recorded. Fix: compute the grid from tensor dims and "
        "config values (for a persistent kernel, make the number of programs a config value, e.g. NUM_SMS * 2)."
    )


def _symbolic_overrides() -> dict[int, Any]:
    """Objects in a launch function's globals to replace while recording: Triton's shape helpers."""
    import triton

    cdiv, next_pow2 = (getattr(f, "__wrapped__", f) for f in (triton.cdiv, triton.next_power_of_2))
    overrides = {id(cdiv): recording.sym_cdiv, id(next_pow2): recording.sym_next_power_of_2,
                 id(triton.reinterpret): _sym_reinterpret}
    overrides[id(triton)] = _TritonModuleProxy(triton)  # type: ignore[assignment]
    overrides.update(_tma_overrides())
    return overrides


class _TritonModuleProxy:
    """`triton` as seen by a launch function being recorded: cdiv and next_power_of_2 accept symbolic dims."""

    def __init__(self, module):
        self._module = module
        self.cdiv = recording.sym_cdiv
        self.next_power_of_2 = recording.sym_next_power_of_2
        self.reinterpret = _sym_reinterpret

    def __getattr__(self, item):
        return getattr(self._module, item)


def _sym_reinterpret(tensor, dtype):
    """`triton.reinterpret(t, dtype)` while recording: the same op tensor, read by the kernel as `dtype`."""
    if isinstance(tensor, recording.SymTensor):
        return tensor.tta_reinterpret(dtype)
    import triton

    return triton.reinterpret(tensor, dtype)


class TritonBackend(Backend):
    name = "triton"
    extra = "triton"
    module = "triton"
    compiles_attribute_values = False  # attributes reach the kernel only through the recorded plan

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
    def expand_configs(self, spec: KernelSpec) -> KernelSpec:
        """Without configs on the spec, an autotuned kernel the launch function names brings its triton.Configs."""
        if not spec.configs_from_kernel:
            return spec
        self.require()
        tuners = [k for k in referenced(spec.launch_fn, _is_kernel_like) if _autotuner_of(k) is not None]
        if len(tuners) != 1:
            return spec
        tuner = _autotuner_of(tuners[0])
        configs, dropped = [], []
        for c in tuner.configs:
            entry = _config_entry(c)
            if entry.get("num_ctas", 1) != 1 or getattr(c, "ir_override", None) is not None:
                dropped.append(entry)
            elif entry not in configs:
                configs.append(entry)
        if dropped:
            log.warning("%s: leaving out %d triton.Config(s) of kernel '%s' that TensorRT cannot launch (clusters, "
                        "num_ctas > 1, or an IR override): %s", spec.name, len(dropped), _kernel_name(tuners[0]),
                        dropped)
        if not configs:
            raise RecordingError(
                f"Every triton.Config of autotuned kernel '{_kernel_name(tuners[0])}' needs clusters (num_ctas > 1) "
                f"or an IR override, which TensorRT cannot launch: {dropped}. Fix: pass configs=[...] with "
                "num_ctas=1 to tta.triton."
            )
        import dataclasses

        return dataclasses.replace(spec, configs=tuple(Config(c) for c in configs))

    def record(self, spec: KernelSpec, config: Config, tensors: Sequence[Any], attrs: Sequence[Any]) -> LaunchPlan:
        self.require()
        if spec.op_body is not None:
            return self._record_body(spec, config, tensors, attrs)
        accepted = _accepted_keys(spec.launch_fn)
        unknown = [k for k in config if k not in accepted]
        if unknown and not spec.configs_from_kernel and not any(
                _autotuner_of(k) is not None for k in referenced(spec.launch_fn, _is_kernel_like)):
            check_config_keys(spec, config)  # raises: the keys are for neither the launch function nor an autotuner
        if spec.configs_from_kernel or unknown:
            # configs from an autotuned kernel, or keys the launch function does not take: for the kernel launch
            launch_kwargs = {} if spec.configs_from_kernel else {k: v for k, v in config.items() if k in accepted}
            kernel_config = {k: v for k, v in config.items() if k not in launch_kwargs}
        else:
            launch_kwargs, kernel_config = dict(config), {}
        check_missing_keys(spec, launch_kwargs)
        with _intercept_launches():
            recorder = recording.run_recording(spec.launch_fn, [*tensors, *attrs], launch_kwargs, _symbolic_overrides())
        launch = _single_launch(recorder, f"Launch function '{spec.name}'", "A spec's launch function",
                                "make each one its own plugin", context(kernel=None, config=config))
        if kernel_config and _autotuner_of(launch.kernel) is None:
            check_config_keys(spec, config)  # raises: the keys are for neither the launch function nor an autotuner
        return _classify(spec, config, launch, kernel_config)

    def _record_body(self, spec: KernelSpec, config: Config, tensors: Sequence[Any], attrs: Sequence[Any]):
        """An op body: config entries go to its keyword-only parameters, or override the launch's keyword
        arguments of the same name (for an autotuned kernel: its config, as for a launch function)."""
        from .. import body as B

        where = context(kernel=None, config=config)
        body_kwargs = {} if spec.configs_from_kernel else B.config_kwargs(spec.launch_fn, config)
        kernel_config = {k: v for k, v in config.items() if k not in body_kwargs}
        with _intercept_launches():
            recorder = B.record_body(spec, tensors, attrs, body_kwargs, _symbolic_overrides(), "")
        launch = _single_launch(recorder, f"Op body '{spec.name}'", "A body", "make each launch its own op", where)
        replaced: dict[str, Any] = {}
        if kernel_config and _autotuner_of(launch.kernel) is None:
            # the config overrides the body's hard-coded launch keywords (BLOCK_SIZE=256 -> the tactic's value)
            replaced = {k: launch.kwargs[k] for k in kernel_config
                        if k in launch.kwargs and launch.kwargs[k] != kernel_config[k]}
            launch = recording.RecordedLaunch(launch.kernel, launch.grid, launch.args,
                                              {**launch.kwargs, **kernel_config}, launch.location)
            kernel_config = {}
        plan = _classify(spec, config, launch, kernel_config)
        B.check_launch_override(plan.grid, callable(launch.grid), replaced,
                                f"Op body '{spec.name}' ({where}): ", launch.location)
        return plan

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
                signature[arg.name] = "*" + _triton_dtype(dtype if arg.dtype is None else arg.dtype)
                attrs[(i,)] = BaseBackend.parse_attr("D")  # TensorRT tensors are (at least) 16-byte aligned
                runtime_args.append(arg)
            else:
                # TensorRT passes extras as int32; an fp32 scalar's 32 bits land in an .f32 parameter (both are
                # 4-byte kernel parameters)
                signature[arg.name] = "fp32" if arg.dtype == "fp32" else "i32"
                constant = arg.expr.value if arg.dtype is None and isinstance(arg.expr, symbolic.Const) else None
                if arg.name in divisible or (constant is not None and constant % 16 == 0):
                    attrs[(i,)] = BaseBackend.parse_attr("D")  # what Triton's launcher infers from value % 16 == 0
                runtime_args.append(arg)
        options = {k: v for k, v in plan.options if k != "zeroed_outputs"}
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
                f"options {options}{_error_location(plan.kernel, exc)}: {type(exc).__name__}: "
                f"{str(exc).strip()[:2000]}{_removed_api_hint(exc, triton.__version__)}"
            ) from exc
        md = compiled.metadata
        for field_name in ("global_scratch_size", "profile_scratch_size"):
            if getattr(md, field_name, 0):
                found = _source_lines(plan.kernel, _DESCRIPTOR_APIS)
                cause = (f"it creates a tensor descriptor on the device at {found}, which Triton backs with "
                         "global scratch memory" if found else
                         "tensor descriptors, device-side allocation or profiling")
                raise CompileError(
                    f"Kernel '{plan.kernel_name}' needs {getattr(md, field_name)} bytes of Triton {field_name} "
                    f"memory: {cause}. TensorRT passes no scratch buffer to an AOT kernel, so it cannot run. Fix: "
                    "use plain pointer loads (tl.load / tl.store on pointer blocks) instead of "
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
_DESCRIPTOR_APIS = ("make_tensor_descriptor", "experimental_device_tensormap_create", "tensormap_create")
_REMOVED_API_PATTERNS = ("removed", "deprecated", "has no attribute", "not supported anymore", "no longer")


def _kernel_source(kernel) -> tuple[str, int, list[str]] | None:
    """(file, line number of the `def`, source lines from the `def`) of a @triton.jit function."""
    fn = _python_fn(kernel)
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None
    offset = next((i for i, line in enumerate(lines) if line.lstrip().startswith("def ")), 0)
    return fn.__code__.co_filename, start + offset, lines[offset:]


def _source_lines(kernel, needles) -> str:
    """'file:line: text' of the first kernel source line that mentions one of `needles`, or ''."""
    found = _kernel_source(kernel)
    if found is None:
        return ""
    filename, start, lines = found
    for i, line in enumerate(lines):
        if any(n in line for n in needles):
            return f"{filename}:{start + i}: {line.strip()}"
    return ""


def _error_location(kernel, exc) -> str:
    """' at file:line' for a Triton CompilationError inside the kernel's own source."""
    node, src = getattr(exc, "node", None), getattr(exc, "src", None)
    found = _kernel_source(kernel)
    if found is None or not hasattr(node, "lineno") or src is None:
        return ""
    filename, start, lines = found
    if src.strip().splitlines()[:1] != ["".join(lines).strip().splitlines()[0]]:
        return ""  # the error is in a @triton.jit helper the kernel calls
    return f" at {filename}:{start + getattr(node, 'lineno', 1) - 1}"


# a method called on an argument that Triton turned into a compile-time Python value: not a missing API
_CONSTANT_ARGUMENT = re.compile(r"'(int|float|bool|NoneType|constexpr)' object has no attribute '(\w+)'")


def _in_place_output_of(role: str, index: int, seen_tensors) -> int | None:
    """The output that updates input `index` in place (the recording's aliases), if its slot is still free."""
    if role != INPUT:
        return None
    ctx = recording.current_context()
    aliases = getattr(ctx, "aliases", ()) if ctx is not None else ()
    return next((j for j, a in enumerate(aliases) if a == index and (OUTPUT, j) not in seen_tensors), None)


def _removed_api_hint(exc, version: str) -> str:
    text = str(exc)
    constant = _CONSTANT_ARGUMENT.search(text)
    if constant:
        return (f"\nA kernel argument reached the kernel as a compile-time Python {constant[1]}, which has no "
                f"`.{constant[2]}`: Triton specializes an int argument equal to 1, bools, None and tl.constexpr "
                "arguments into constants (tta records them as Triton's own launcher does, which fails the same "
                "way). Fix: pass a runtime value there (an op attribute or a dim expression rather than a literal "
                "1 / bool / None), or change the kernel so it does not call that method on the argument.")
    if not any(p in text for p in _REMOVED_API_PATTERNS):
        return ""
    return (f"\nThe kernel uses an API that Triton {version}, the compiler installed here, does not have (any more). "
            "tta compiles the artifact with this Triton, whatever Triton the deployment runs, so the deployment's "
            "version does not help. Fix: install the Triton version the kernel was written for (pip install "
            "'triton==X.Y'), or port the kernel to this version's API.")


def _tma_error(what: str) -> RecordingError:
    return RecordingError(
        f"The launch function builds a host-side TMA tensor descriptor ({what} at {recording.user_location()}). A "
        "descriptor holds the tensor's address and is passed by value (128 bytes); TensorRT passes a plugin "
        "kernel only pointers and int32 values, and the addresses change per enqueue. Fix: pass the tensor "
        "itself and use pointer loads in the kernel (or tl.make_tensor_descriptor there, which needs scratch "
        "memory TensorRT does not provide either)."
    )


class _TensorDescriptorProxy:
    """triton.tools.tensor_descriptor.TensorDescriptor while recording: refused with the reason."""

    def __call__(self, *args, **kwargs):
        raise _tma_error("TensorDescriptor(...)")

    @staticmethod
    def from_tensor(*args, **kwargs):
        raise _tma_error("TensorDescriptor.from_tensor(...)")


def _tma_overrides() -> dict[int, Any]:
    import importlib

    overrides: dict[int, Any] = {}
    for module_name, names in (("triton.tools.tensor_descriptor", ("TensorDescriptor",)),
                               ("triton.tools.experimental_descriptor",
                                ("create_1d_tma_descriptor", "create_2d_tma_descriptor", "TensorDescriptor"))):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in names:
            obj = getattr(module, name, None)
            if obj is None:
                continue
            if isinstance(obj, type):
                overrides[id(obj)] = _TensorDescriptorProxy()
            else:
                overrides[id(obj)] = lambda *a, _n=name, **k: (_ for _ in ()).throw(_tma_error(f"{_n}(...)"))
    return overrides


def _is_host_descriptor(value) -> bool:
    name = type(value).__name__
    return "TensorDescriptor" in name or "TmaDesc" in name or "TmaDescKernelParam" in name
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
    from triton.runtime.jit import TensorWrapper, mangle_type

    if not isinstance(dtype, torch.dtype):  # a Triton dtype, from triton.reinterpret: specialized as Triton does
        return mangle_type(TensorWrapper(torch.empty(()), dtype))[1:]
    return mangle_type(torch.empty((), dtype=dtype))[1:]  # '*fp32' -> 'fp32'


_CONSTANT_TYPES = (int, float, bool, str, type(None))


def _autotuner_of(kernel):
    """The @triton.autotune wrapper (or a library subclass of Autotuner) in a kernel's wrapper chain, or None."""
    from triton.runtime.autotuner import Autotuner

    while kernel is not None and not _is_jit(kernel):
        if isinstance(kernel, Autotuner):
            return kernel
        kernel = getattr(kernel, "fn", None)
    return None


def _config_entry(config) -> dict:
    """A triton.Config as a tta config: its kwargs and launch options (num_warps, num_stages, ...)."""
    entry = dict(config.kwargs)
    for key in ("num_warps", "num_stages", "num_ctas", "maxnreg"):
        value = getattr(config, key, None)
        if value is not None and not (key == "num_ctas" and value == 1):
            entry[key] = value
    return entry


def _accepted_keys(launch_fn) -> "set[str] | _All":
    try:
        params = inspect.signature(launch_fn).parameters
    except (TypeError, ValueError):
        return _All()
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return _All()
    return {n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


class _All:
    def __contains__(self, _item) -> bool:
        return True


def _unwrap(spec: KernelSpec, config: Config, launch: recording.RecordedLaunch, kernel_config: dict):
    """Apply the wrappers of a launched kernel as Triton's own run() would, outermost first: @triton.autotune picks
    this tactic's config (its kwargs and launch options), @triton.heuristics computes meta-parameters from the
    (symbolic) arguments. Returns the @triton.jit function, its kwargs and the outputs the launch must find zeroed."""
    from triton.runtime.autotuner import Autotuner, Heuristics

    kernel, args, kwargs = launch.kernel, launch.args, dict(launch.kwargs)
    zeroed: list[int] = []
    where = context(kernel=_kernel_name(kernel), config=config)
    while not _is_jit(kernel):
        if isinstance(kernel, Autotuner):
            _check_hooks(kernel, where, launch.location)
            if not kernel_config:
                entries = [_config_entry(c) for c in kernel.configs]
                fix = (f"pass its configs to tta.triton: configs={entries} (tta finds an autotuned kernel's configs "
                       "itself only when the launch function names the kernel)" if spec.configs_from_kernel else
                       "give tta.triton no configs (the kernel's triton.Configs become the tactics), or put the "
                       f"kernel's config keys ({sorted({k for e in entries for k in e})}) in every spec config")
                raise RecordingError(
                    f"Kernel '{_kernel_name(kernel)}' ({where}) is @triton.autotune'd, launched at {launch.location}, "
                    f"but no config was chosen for it. Fix: {fix}."
                )
            clash = sorted(set(kernel_config) & set(kwargs))
            if clash:
                raise RecordingError(
                    f"Kernel '{_kernel_name(kernel)}' ({where}) gets {clash} both from the launch at "
                    f"{launch.location} and from its autotune config; Triton refuses conflicting meta-parameters. "
                    "Fix: do not pass the autotuned keys in the launch."
                )
            _check_pruned(kernel, args, kwargs, kernel_config, where)
            nargs = dict(zip(kernel.arg_names, args))
            for name in getattr(kernel, "reset_to_zero", None) or ():
                value = nargs.get(name, kwargs.get(name))
                if isinstance(value, recording.SymTensor) and value.tta_role[0] == OUTPUT:
                    zeroed.append(value.tta_role[1])
                elif isinstance(value, recording.SymTensor):
                    raise RecordingError(
                        f"Kernel '{_kernel_name(kernel)}' ({where}) declares reset_to_zero for '{name}', which is "
                        f"input {value.tta_role[1]} of the op: the kernel accumulates into an input. TensorRT "
                        "inputs are read-only to a plugin. Fix: make that buffer an output of the op."
                    )
            kwargs.update(kernel_config)
            kernel_config = {}
        elif isinstance(kernel, Heuristics):
            for key, heuristic in kernel.values.items():
                value = recording.symbolic_copy(heuristic, _symbolic_overrides())({**dict(zip(kernel.arg_names, args)),
                                                                          **kwargs})
                if isinstance(value, recording.SymBool):
                    bool(value)  # a decision on dims: raises the recording error that says so
                kwargs[key] = value
        else:
            raise RecordingError(
                f"Launch function '{spec.name}' launched '{_kernel_name(kernel)}', a {type(kernel).__name__}, at "
                f"{launch.location}. tta unwraps @triton.jit kernels under @triton.autotune and @triton.heuristics "
                "(and their subclasses) only. Fix: launch the @triton.jit function (kernel.fn) directly."
            )
        kernel = kernel.fn
    return kernel, kwargs, tuple(zeroed)


def _check_hooks(tuner, where: str, location: str) -> None:
    hooks = [h for h, user in (("pre_hook", getattr(tuner, "user_defined_pre_hook", False)),
                               ("post_hook", getattr(tuner, "user_defined_post_hook", False))) if user]
    hooks += [f"triton.Config(pre_hook=...) {_config_entry(c)}" for c in tuner.configs
              if getattr(c, "pre_hook", None) is not None]
    if hooks:
        raise RecordingError(
            f"Autotuned kernel '{_kernel_name(tuner)}' ({where}), launched at {location}, has {', '.join(hooks)}: "
            "Python code that runs around each launch. A TensorRT plugin runs only the kernel, so the hook would "
            "be silently skipped. Fix: do its work in the kernel, or in separate ops before/after this one."
        )


def _check_pruned(tuner, args, kwargs, kernel_config: dict, where: str) -> None:
    """Run the kernel's prune_configs_by (early_config_prune) on the recorded arguments, where it can decide
    without concrete dims; a config it drops is not a tactic for this signature (CompileError: dropped)."""
    prune = getattr(tuner, "early_config_prune", None)
    if prune is None:
        return
    entries = [_config_entry(c) for c in tuner.configs]
    if kernel_config not in entries:
        return  # explicit spec configs: the user chose them
    try:
        kept = recording.symbolic_copy(prune, _symbolic_overrides())(tuner.configs, dict(zip(tuner.arg_names, args)),
                                                            **kwargs)
    except recording.RankUnknown:
        raise
    except Exception as exc:  # noqa: BLE001 - it needs concrete dims: every config stays a tactic
        log.info("%s: prune_configs_by of kernel '%s' cannot run on symbolic dims (%s); every config stays a "
                 "tactic and the build times them all", where, _kernel_name(tuner), exc)
        return
    if kernel_config not in [_config_entry(c) for c in kept]:
        raise CompileError(f"config {kernel_config} of kernel '{_kernel_name(tuner)}' is pruned by its "
                           "prune_configs_by for this signature")


def _classify(spec: KernelSpec, config: Config, launch: recording.RecordedLaunch, kernel_config: dict) -> LaunchPlan:
    from triton.backends.nvidia.compiler import CUDAOptions
    from triton.language import constexpr
    from triton.language import dtype as tl_dtype

    kernel, launch_kwargs, zeroed = _unwrap(spec, config, launch, kernel_config)
    name = _kernel_name(kernel)
    where = context(kernel=name, config=config)
    option_names = set(CUDAOptions.__dataclass_fields__)
    param_names = [p.name for p in kernel.params]
    kernel_kwargs, options = {}, dict(_DEFAULT_OPTIONS)
    for key, value in launch_kwargs.items():
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
        if isinstance(value, recording.SymBool):  # a comparison of dims passed as a flag: taken and guarded
            value = bool(recording.decide(value.expr, f"passed to '{param.name}' of kernel '{name}' the flag",
                                          launch.location))
        if isinstance(value, recording.SymTensor):
            if param.is_constexpr:
                raise RecordingError(f"Tensor passed to tl.constexpr parameter ({arg_where}). Fix: drop tl.constexpr.")
            role, index = value.tta_role
            in_place_slot = _in_place_output_of(role, index, seen_tensors)
            if (role, index) in seen_tensors and in_place_slot is not None:
                # an in-place op's kernel that reads the input through one pointer and writes its result through
                # another (liger's JSD: X_ptr and dX_ptr): TensorRT passes the aliased output's pointer, equal to
                # the input's, in the output's slot, so the second pointer is that output
                seen_tensors[OUTPUT, in_place_slot] = param.name
                args.append(KernelArg(param.name, OUTPUT, index=in_place_slot, dtype=value.tta_reinterpreted_dtype))
                continue
            if (role, index) in seen_tensors:
                raise RecordingError(
                    f"{role.capitalize()} {index} is passed to kernel '{name}' twice (as '{seen_tensors[role, index]}'"
                    f" and '{param.name}'). TensorRT passes each tensor pointer exactly once. Fix: pass it once; for a "
                    "kernel that writes its result into that input, make the op in place (meta_impl returns the "
                    "input, and the launch function takes no output for it)."
                )
            seen_tensors[role, index] = param.name
            args.append(KernelArg(param.name, role, index=index, dtype=value.tta_reinterpreted_dtype))
        elif isinstance(value, recording.SymInt) and param.is_constexpr:
            # a compile-time value computed from dims: taken for the recording's dims and guarded
            ctx = recording.current_context()
            if ctx is None or (ctx.hints is None and ctx.profile is None):
                args.append(KernelArg(param.name, CONSTANT, expr=value.expr))
            else:
                args.append(KernelArg(param.name, CONSTANT, value=ctx.decide(
                    value.expr, f"passed to tl.constexpr '{param.name}' of kernel '{name}' the value",
                    launch.location)))
        elif isinstance(value, recording.SymInt):
            args.append(KernelArg(param.name, EXTRA, expr=value.expr))
        elif not param.is_constexpr and (scalar := recording.scalar_extra(
                value, specialize_one=not getattr(param, "do_not_specialize", False))) is not None:
            # a number passed to a runtime parameter stays one, typed as Triton's launcher types it (fp32 / i32):
            # TensorRT passes its 32 bits as an int32 extra. An op attribute is read at launch (one artifact for
            # every value); a literal or config value is a constant extra.
            expr, scalar_type = scalar
            args.append(KernelArg(param.name, EXTRA, expr=expr, dtype=None if scalar_type == "i32" else scalar_type))
        elif isinstance(value, _CONSTANT_TYPES) or isinstance(value, tl_dtype):
            # tl.constexpr values, bools, None, strings, the int 1 (Triton specializes it too) and ints beyond int32
            # (TensorRT passes no 64-bit scalars) are baked into the kernel.
            args.append(KernelArg(param.name, CONSTANT, value=recording.plain(value)))
        elif _is_host_descriptor(value):
            raise _tma_error(f"a {type(value).__name__} passed as '{param.name}' of kernel '{name}'")
        else:
            raise RecordingError(
                f"Unsupported kernel argument ({arg_where}): a {type(value).__name__} ({_short(value)}) at "
                f"{launch.location}. An AOT kernel receives only the op's input and output tensors, int32 values "
                "computed from their shapes, and constants" + (
                    ": this tensor is not one of the op's inputs or outputs (captured from outside the op, or "
                    "allocated in the launch function, but TensorRT passes no workspace). Fix: make it an input "
                    "or output of the op." if _is_torch_tensor(value) else
                    ". Fix: make a captured tensor an input of the op, and pass other values as op attributes or "
                    "config entries.")
            )
    meta = {k: (v.value if isinstance(v, constexpr) else v) for k, v in bound.arguments.items()}
    grid = _grid(launch.grid, meta, name, where, launch.location)
    plan_options: tuple[tuple[str, Any], ...] = tuple(sorted((k, v) for k, v in options.items()
                                                             if k not in _FIXED_OPTIONS))
    if zeroed:  # outputs the launch needs zeroed first: the plugin decides (CustomPlugin._check_zeroed_outputs)
        plan_options += (("zeroed_outputs", tuple(sorted(set(zeroed)))),)
    return LaunchPlan(kernel, name, grid, tuple(args), plan_options)


def _constant_option(key, value, where, location):
    if isinstance(value, recording.SymTensor):
        raise RecordingError(f"Launch option {key} ({where}) is a tensor at {location}; it must be an int.")
    return recording.concrete(value, f"set launch option {key} to", location)  # computed from dims: taken and guarded


def _grid(grid, meta, name, where, location) -> tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]:
    if callable(grid):
        grid = recording.symbolic_copy(grid, _symbolic_overrides())(meta)
    if isinstance(grid, (int, recording.SymInt)):
        grid = (grid,)
    if not isinstance(grid, (tuple, list)) or not 1 <= len(grid) <= 3:
        raise RecordingError(
            f"The grid of kernel '{name}' ({where}) must be a tuple of 1 to 3 ints or a lambda returning one, got "
            f"{_short(grid)} at {location}."
        )
    return recording.launch_dims(grid, lambda i, g: RecordingError(
        f"Grid dimension {i} of kernel '{name}' ({where}) is a {type(g).__name__} ({_short(g)}) at "
        f"{location}; it must be an int computed from tensor dims and config values. Fix: use // or "
        "triton.cdiv instead of / or math.ceil."))


def _is_torch_tensor(value) -> bool:
    import torch

    return isinstance(value, torch.Tensor)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
