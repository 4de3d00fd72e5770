"""The backend interface. One small module per backend implements it; nothing else knows a backend's toolchain.

A backend does three things for a spec: fingerprint its sources (for the op name and caches), record the user's
launch into a `LaunchPlan`, and compile one plan into a `CompiledKernel`. Turning a `CompiledKernel` into a
TensorRT-ready `Artifact` (parameter order, ISA checks) is shared, in `aot.py`.

Backends whose launch function launches a kernel handle (`kernel[grid, block](*args)`: CUDA C++, PTX, CuTe DSL,
cuTile) derive from `HandleBackend` and their handles from `KernelHandle`, both here.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import ptx_parsing, recording, symbolic
from ..errors import BackendUnavailableError, CompileError, RecordingError, SpecError, context
from ..spec import CONSTANT, EXTRA, INPUT, OUTPUT, Config, KernelArg, KernelSpec, LaunchPlan, Target


@dataclass(frozen=True)
class CompiledKernel:
    """A backend's raw compile result, before it is fitted to TensorRT's calling convention.

    `ptx` has one `.entry` named `entry`. Its parameters are, in order, one per `args` entry (the plan's runtime
    arguments in the kernel's own order), then `hidden` trailing parameters that TensorRT will not pass and that
    must be unused.
    """

    ptx: str
    entry: str
    args: tuple[KernelArg, ...]
    block: tuple[int, int, int]
    shared_mem: int
    hidden: tuple[str, ...] = ()
    toolchain: str = ""
    metadata: dict = field(default_factory=dict)
    grid: tuple | None = None  # launch grid read from the kernel's own host code; None: the recorded grid


class Backend(ABC):
    """Contract of a kernel backend. Implementations import their toolchain lazily, inside methods."""

    name: ClassVar[str]
    extra: ClassVar[str]  # the pip extra that installs the toolchain: pip install 'torch-tensorrt-annotation[X]'
    module: ClassVar[str]  # the toolchain's import name
    leading_launch_params: ClassVar[int] = 0  # launch-function parameters before the op's tensors (a kernel handle)
    # whether `compile` reads the op's attribute values (macros, name expressions); if not, an artifact is keyed
    # on the recorded plan alone, so a runtime scalar attribute needs one artifact for all its values
    compiles_attribute_values: ClassVar[bool] = True

    def require(self) -> Any:
        """Import and return the toolchain module, or raise BackendUnavailableError saying what to install."""
        try:
            return importlib.import_module(self.module)
        except ImportError as exc:
            raise BackendUnavailableError(
                f"The {self.name} backend needs the '{self.module}' package, which failed to import ({exc}). "
                f"Fix: pip install 'torch-tensorrt-annotation[{self.extra}]'."
            ) from exc

    def expand_configs(self, spec: KernelSpec) -> KernelSpec:
        """The spec with the configs its kernel declares, where the user gave none (`spec.configs_from_kernel`);
        by default the spec itself."""
        return spec

    def run_reference(self, spec: KernelSpec, config: Config, attributes: dict, args: Sequence[Any]) -> None:
        """Run the launch function for real through the backend's own launcher (tta.check's default reference)."""
        spec.launch_fn(*args, **dict(config))

    @abstractmethod
    def toolchain_version(self) -> str:
        """A string naming the toolchain and its version, e.g. 'triton 3.6.0'. Part of every artifact cache key."""

    @abstractmethod
    def fingerprint(self, spec: KernelSpec) -> str:
        """Text that changes whenever anything that decides the compiled kernel changes: the launch function's
        source and the source of every kernel (and kernel helper) it can reach. It must be identical across
        processes and machines for the same sources, so it may hold no addresses, ids or versions."""

    def kernel_key(self, plan: LaunchPlan) -> str:
        """Extra text for the artifact cache key: what the toolchain itself knows decides the compiled kernel beyond
        the recorded plan (Triton: the kernel's cache key, covering called jit functions and constexpr globals)."""
        return ""

    @abstractmethod
    def record(self, spec: KernelSpec, config: Config, tensors: Sequence[Any], attrs: Sequence[Any]) -> LaunchPlan:
        """Call `spec.launch_fn(*tensors, *attrs, **config)` with symbolic proxies (`tensors` holds the input then
        output SymTensors) and classify the one kernel launch it makes. Raise RecordingError for anything an AOT
        launch cannot express: no launch, two launches, data-dependent control flow, unsupported arguments."""

    @abstractmethod
    def compile(self, plan: LaunchPlan, *, kernel_name: str, target: Target, input_dtypes: Sequence[Any],
                output_dtypes: Sequence[Any], constants: dict[str, Any], divisible: frozenset = frozenset(),
                config: Config | None = None, attributes: dict[str, Any] | None = None) -> CompiledKernel:
        """Compile the plan's kernel to PTX for `target`, naming its entry `kernel_name`. `constants` gives the value
        of every 'constant' argument (shape-dependent ones already evaluated); `divisible` names extras the kernel
        may assume are multiples of 16 (a backend may ignore it); `config` and `attributes` are the tactic's config
        and the op's attribute values, for backends that specialize source code on them. Never relabel `.version`:
        ask the toolchain for `target.ptx_isa`. Raise CompileError, naming kernel and reason, when it cannot."""


def check_missing_keys(spec: KernelSpec, keys) -> None:
    """Every keyword-only parameter of the launch function without a default must come from the config (`keys`)."""
    try:
        params = inspect.signature(spec.launch_fn).parameters
    except (TypeError, ValueError):
        return
    missing = [n for n, p in params.items() if p.kind == p.KEYWORD_ONLY and p.default is p.empty and n not in keys]
    if missing:
        raise RecordingError(
            f"Config {dict((k, keys[k]) for k in keys) if isinstance(keys, Mapping) else sorted(keys)} of "
            f"'{spec.name}' lacks {missing}, keyword-only parameter(s) of launch function '{spec.name}' without a "
            f"default. Configs are passed to the launch function as keyword arguments. Fix: add {missing} to every "
            f"config (e.g. configs=[{{'{missing[0]}': ...}}]), or give the parameter a default."
        )


def check_config_keys(spec: KernelSpec, config: Config) -> None:
    """Config entries are keyword arguments of the launch function: an unknown key fails before any call."""
    try:
        params = inspect.signature(spec.launch_fn).parameters
    except (TypeError, ValueError):
        return
    accepted = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in config if k not in accepted]
    if unknown and not any(p.kind == p.VAR_KEYWORD for p in params.values()):  # a misspelt key is named first
        raise RecordingError(
            f"Config {dict(config)} of '{spec.name}' has key(s) {unknown} that launch function '{spec.name}' does "
            f"not accept (its parameters: {list(params)}). Configs are passed to the launch function as keyword "
            "arguments. Fix: rename the key, or add a keyword-only parameter for it to the launch function."
        )
    check_missing_keys(spec, config)


# --- kernel handles: the backends whose launch function launches a handle ------------------------------------
_POINTER_TYPES = {".u64", ".b64", ".s64"}
_INT32_TYPES = {".u32", ".s32", ".b32"}
_FLOAT32_TYPES = {".f32", ".b32"}
_specialization = threading.local()  # (config, attributes) for a handle launched outside a recording

class KernelHandle:
    """What a launch function launches: `kernel[grid, block](*args)` or `kernel[grid, block, shared_mem](*args)`.
    While a launch is recorded, the call is reported to the recorder; otherwise the backend launches it for real."""

    name: str = ""
    accepts_keywords = False  # keyword arguments become compile-time constants (CuTe DSL Constexpr)

    def fingerprint(self) -> str:
        raise NotImplementedError

    def launch_eagerly(self, grid, block, shared, args, kwargs) -> None:
        raise NotImplementedError

    def __getitem__(self, launch):
        launch = launch if isinstance(launch, tuple) else (launch,)
        if not 2 <= len(launch) <= 3:
            raise RecordingError(
                f"Launch kernel '{self.name}' as kernel[grid, block](...) or kernel[grid, block, shared_mem](...); "
                f"got kernel[{', '.join(map(repr, launch))}] at {recording.user_location()}."
            )
        grid, block, shared = (*launch, 0)[:3]
        return functools.partial(self._call, grid, block, shared)

    def _call(self, grid, block, shared, *args, **kwargs):
        if kwargs and not self.accepts_keywords:
            raise RecordingError(f"Kernel '{self.name}' takes positional arguments only, got {sorted(kwargs)}.")
        recorder = recording.active_recorder()
        if recorder is not None:
            recorder.on_launch(self, (grid, block, shared), args, kwargs)
            return
        self.launch_eagerly(grid, block, shared, args, kwargs)

def _dims(value, what: str, name: str, location: str) -> tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]:
    value = value if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(value) <= 3:
        raise RecordingError(f"The {what} of kernel '{name}' must have 1 to 3 dims, got {value!r} at {location}.")
    return recording.launch_dims(value, lambda _i, v: RecordingError(
        f"The {what} of kernel '{name}' has a {type(v).__name__} ({v!r}) at {location}; it must be ints "
        "computed from tensor dims and config values (use // or tta.cdiv)."))


class HandleBackend(Backend):
    """The base of backends whose launch function launches a `KernelHandle` (CUDA C++, PTX, CuTe DSL, cuTile):
    recording classifies the handle launch's arguments; `finish` checks a compiled entry against it."""

    leading_launch_params = 1
    runtime_float_scalars = True  # float arguments become fp32 runtime parameters

    def fingerprint(self, spec: KernelSpec) -> str:
        from ..sources import source_of

        handle = spec_handle(spec)
        return source_of(spec.launch_fn) + "\n----\n" + handle.fingerprint()

    def record(self, spec: KernelSpec, config: Config, tensors, attrs) -> LaunchPlan:
        self.require()
        check_config_keys(spec, config)
        handle = spec_handle(spec)
        recorder = recording.run_recording(spec.launch_fn, [handle, *tensors, *attrs], dict(config), {})
        where = context(kernel=handle.name, config=config)
        launches = [lnc for lnc in recorder.launches if lnc.kernel is handle]
        if len(recorder.launches) != 1 or not launches:
            raise RecordingError(
                f"Launch function '{spec.name}' ({where}) launched {len(recorder.launches)} kernels; it must launch "
                f"its kernel handle exactly once, as kernel[grid, block](*args). Locations: "
                f"{[lnc.location for lnc in recorder.launches] or 'none'}."
            )
        (launch,) = launches
        _check_dtypes_count(handle, launch.args)
        grid, block, shared = launch.grid
        args, seen = [], {}
        for position, value in enumerate(launch.args):
            name = f"arg{position}"
            arg_where = context(kernel=handle.name, config=config, arg=name)
            if isinstance(value, recording.SymTensor):
                if value.tta_role in seen:
                    raise RecordingError(f"{value.tta_role[0].capitalize()} {value.tta_role[1]} is passed twice to "
                                         f"kernel '{handle.name}' ({arg_where}); TensorRT passes each tensor once.")
                seen[value.tta_role] = name
                args.append(KernelArg(name, value.tta_role[0], index=value.tta_role[1]))
            elif isinstance(value, recording.SymInt):
                args.append(KernelArg(name, EXTRA, expr=value.expr))
            elif isinstance(value, bool):
                args.append(KernelArg(name, EXTRA, expr=symbolic.Const(int(value))))
            elif isinstance(value, (int, float)) and (isinstance(value, int) or self.runtime_float_scalars):
                # a number is a runtime parameter of a CUDA kernel: TensorRT passes its 32 bits (an fp32's IEEE-754
                # pattern) as an int32 extra; an op attribute is read at launch, a literal is a constant extra
                scalar = recording.scalar_extra(value, specialize_one=False)
                if scalar is None:
                    raise RecordingError(
                        f"Kernel '{handle.name}' gets the int {int(value)} ({arg_where}) at {launch.location}, which "
                        "does not fit in int32, and TensorRT passes no 64-bit scalars to an AOT kernel. Fix: read "
                        "the value from its macro instead (every op attribute and config entry is defined for the "
                        "compiler, e.g. -DTTA_n=...), or pass it as two int32 halves."
                    )
                expr, scalar_type = scalar
                args.append(KernelArg(name, EXTRA, expr=expr, dtype=None if scalar_type == "i32" else scalar_type))
            elif isinstance(value, float):
                raise RecordingError(
                    f"Kernel '{handle.name}' takes a float runtime argument ({arg_where}, value {value!r}) at "
                    f"{launch.location}, which the {self.name} backend cannot pass. Fix: make it a compile-time "
                    "constant (a keyword argument of the launch)."
                )
            else:
                raise RecordingError(
                    f"Unsupported kernel argument ({arg_where}): a {type(value).__name__} at {launch.location}. "
                    "Pass the op's tensors and int values computed from their shapes."
                )
        constexprs = []
        for key, value in sorted(launch.kwargs.items()):
            if isinstance(value, (recording.SymInt, recording.SymTensor)) \
                    or not isinstance(value, (int, float, bool, str)):
                raise RecordingError(
                    f"Keyword argument '{key}' of kernel '{handle.name}' is a compile-time constant and must be an "
                    f"int, float, bool or str computed without tensor dims; got {type(value).__name__} at "
                    f"{launch.location}."
                )
            constexprs.append((key, value))
        if grid is None:  # kernel(...) without launch dims: the backend reads them from compiled host code
            unknown = symbolic.Const(0)
            return LaunchPlan(handle, handle.name, (unknown, unknown, unknown), tuple(args),
                              (("block", None), ("shared_mem", None), ("constexprs", tuple(constexprs)),
                               ("location", launch.location)))
        options = (("block", _dims(block, "block", handle.name, launch.location)),
                   ("shared_mem", _dims(shared, "shared memory", handle.name, launch.location)[0]),
                   ("constexprs", tuple(constexprs)))
        return LaunchPlan(handle, handle.name, _dims(grid, "grid", handle.name, launch.location), tuple(args),
                          options)

    def run_reference(self, spec, config, attributes, args) -> None:
        launch_with_specialization(spec, config, attributes, args)

    def finish(self, plan: LaunchPlan, ptx_text: str, entry: str, kernel_name: str, target: Target,
               toolchain: str) -> CompiledKernel:
        """Check the entry's parameters against the recorded launch, rename it, and package the result."""
        info = ptx_parsing.parse(ptx_text)
        try:
            found = info.entry(entry)
        except KeyError as exc:
            raise CompileError(f"{exc.args[0]} (kernel '{plan.kernel_name}').") from None
        runtime = [a for a in plan.args if a.kind != CONSTANT]
        if len(found.params) != len(runtime):
            raise CompileError(
                f"Kernel '{plan.kernel_name}' declares {len(found.params)} parameters in its PTX, but the launch "
                f"passes {len(runtime)} arguments. Fix: pass exactly one argument per kernel parameter."
            )
        for arg, param in zip(runtime, found.params):
            if arg.kind in (INPUT, OUTPUT):
                wanted, what = _POINTER_TYPES, "a pointer"
            elif arg.dtype == "fp32":
                wanted, what = _FLOAT32_TYPES, "a 32-bit float"
            else:
                wanted, what = _INT32_TYPES, "a 32-bit int"
            if param.ptx_type not in wanted:
                raise CompileError(
                    f"Parameter {param.name} of kernel '{plan.kernel_name}' is {param.ptx_type} in PTX, but the "
                    f"launch passes {what} there ({arg.kind} {arg.name}). TensorRT passes 64-bit pointers and "
                    "32-bit extras only. Fix: declare tensor parameters as pointers, ints as int and floats as "
                    "float (a double or 64-bit int parameter cannot be passed: read it from its TTA_ macro)."
                )
        target.check_ptx_isa(info.version, f"The PTX of kernel '{plan.kernel_name}' ({toolchain})",
                             "compile with a toolchain of the deployment driver's CUDA version (e.g. "
                             "pip install 'nvidia-cuda-nvrtc==13.0.*' for CUDA 13.0 drivers).")
        _check_target_arch(info.target, target, plan.kernel_name)
        text = ptx_parsing.rename_entry(ptx_text, entry, kernel_name)
        opts = dict(plan.options)
        block = opts["block"]
        maxntid = found.maxntid and math.prod(found.maxntid)
        static = all(isinstance(b, symbolic.Const) for b in block)
        threads = symbolic.evaluate_all(block, symbolic.Shapes(())) if static else None
        if maxntid and threads and threads[0] * threads[1] * threads[2] > maxntid:
            raise CompileError(f"Kernel '{plan.kernel_name}' allows at most {maxntid} threads per block "
                               f"(__launch_bounds__), but the launch uses block {threads}.")
        return CompiledKernel(ptx=text, entry=kernel_name, args=tuple(runtime), block=block,
                              shared_mem=opts["shared_mem"], toolchain=toolchain)

def _check_dtypes_count(handle: KernelHandle, args) -> None:
    """dtypes= with one entry per pointer parameter must have as many entries as the launch passes tensors."""
    explicit = getattr(handle, "dtypes", None)
    tensors = sum(isinstance(a, recording.SymTensor) for a in args)
    if isinstance(explicit, tuple) and len(explicit) != tensors:
        raise SpecError(
            f"dtypes= of kernel '{handle.name}' has {len(explicit)} entries, but the launch passes {tensors} "
            "tensors (pointer parameters). Fix: one entry per pointer parameter, in the kernel's parameter order "
            "(a dtype, a tuple of dtypes, or None for any)."
        )

def spec_handle(spec: KernelSpec) -> KernelHandle:
    if not isinstance(spec.kernel, KernelHandle):
        raise SpecError(f"Spec '{spec.name}' has no kernel handle; make it with tta.cuda(...) or tta.ptx(...).")
    return spec.kernel


def _check_target_arch(ptx_target: str, target: Target, kernel: str) -> None:
    import re

    m = re.match(r"sm_(\d+)([af]?)", ptx_target or "")
    if not m:
        return
    arch, suffix = int(m.group(1)), m.group(2)
    if arch > target.arch or (suffix and arch != target.arch):
        raise CompileError(f"The PTX of kernel '{kernel}' targets {ptx_target}, which cannot run on {target.sm}.")

def current_specialization() -> tuple[dict, dict]:
    """(config, attributes) of the `launch_with_specialization` running in this thread; ({}, {}) outside one."""
    return getattr(_specialization, "value", None) or ({}, {})


def launch_with_specialization(spec: KernelSpec, config, attributes: dict, args: Sequence[Any]) -> None:
    """Run spec's launch function for real, its kernel compiled with this config's and attributes' macros."""
    previous = getattr(_specialization, "value", None)
    _specialization.value = (dict(config), dict(attributes))
    try:
        spec.launch_fn(spec_handle(spec), *args, **dict(config))
    finally:
        _specialization.value = previous


_BACKENDS: dict[str, str] = {
    "triton": "torch_tensorrt_annotation.backends.triton:TritonBackend",
    "cuda": "torch_tensorrt_annotation.backends.cuda:CudaBackend",
    "ptx": "torch_tensorrt_annotation.backends.cuda:PtxBackend",
    "cutedsl": "torch_tensorrt_annotation.backends.cutedsl:CuteDslBackend",
    "cutile": "torch_tensorrt_annotation.backends.cutile:CuTileBackend",
}
_INSTANCES: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    if name not in _INSTANCES:
        if name not in _BACKENDS:
            raise KeyError(f"unknown backend {name!r}; known: {sorted(_BACKENDS)}")
        module, cls = _BACKENDS[name].split(":")
        _INSTANCES[name] = getattr(importlib.import_module(module), cls)()
    return _INSTANCES[name]
