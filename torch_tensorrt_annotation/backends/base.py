"""The backend interface. One small module per backend implements it; nothing else knows a backend's toolchain.

A backend does three things for a spec: fingerprint its sources (for the op name and caches), record the user's
launch into a `LaunchPlan`, and compile one plan into a `CompiledKernel`. Turning a `CompiledKernel` into a
TensorRT-ready `Artifact` (parameter order, ISA checks) is shared, in `aot.py`.
"""

from __future__ import annotations

import importlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import BackendUnavailableError, RecordingError
from ..spec import Config, KernelArg, KernelSpec, LaunchPlan, Target


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
    check_missing_keys(spec, config)
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in config if k not in accepted]
    if unknown:
        raise RecordingError(
            f"Config {dict(config)} of '{spec.name}' has key(s) {unknown} that launch function '{spec.name}' does "
            f"not accept (its parameters: {list(params)}). Configs are passed to the launch function as keyword "
            "arguments. Fix: rename the key, or add a keyword-only parameter for it to the launch function."
        )


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
