"""Pure, frozen data: specs, targets, launch plans and compiled artifacts.

Nothing here compiles or launches anything. A backend turns a `KernelSpec` into `LaunchPlan`s (by recording the
user's launch function) and `Artifact`s (by compiling); the TensorRT module and the GPU launcher only read
artifacts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import symbolic
from .errors import SpecError

INPUT, OUTPUT, EXTRA, CONSTANT = "input", "output", "extra", "constant"
CONFIG_VALUE_TYPES = (int, float, bool, str, type(None))


# --- configs ----------------------------------------------------------------------------------------------------
class Config(Mapping[str, Any]):
    """An immutable, hashable config: kernel meta-parameters and launch options, e.g. {"BLOCK": 256}. Each config
    of a spec is one TensorRT tactic; its entries are passed to the launch function as keyword arguments.

    Raises:
        SpecError: `values` is not a mapping, a key is not an identifier, or a value is not an int, float, bool,
            str or None (values must hash the same in every process).

    Example:

    >>> config = tta.Config({"BLOCK": 256, "num_warps": 4})
    >>> config["BLOCK"], config == {"num_warps": 4, "BLOCK": 256}
    (256, True)
    """

    __slots__ = ("_items",)

    def __init__(self, values: Mapping[str, Any]):
        if not isinstance(values, Mapping):
            raise SpecError(
                f"A config must be a dict of keyword arguments for the launch function, got "
                f"{type(values).__name__} {values!r}. Fix: configs=[{{'BLOCK': 256}}, ...]."
            )
        for key, value in values.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise SpecError(f"Config keys must be identifiers, got {key!r} in {dict(values)}.")
            if not isinstance(value, CONFIG_VALUE_TYPES):
                raise SpecError(
                    f"Config values must be int, float, bool, str or None so that they hash the same in every "
                    f"process, got {key}={value!r} ({type(value).__name__}). Fix: use a plain value."
                )
        self._items = tuple(sorted(values.items()))

    def __getitem__(self, key):
        return dict(self._items)[key]

    def __iter__(self):
        return (k for k, _ in self._items)

    def __len__(self):
        return len(self._items)

    def __hash__(self):
        return hash(self._items)

    def __eq__(self, other):
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self):
        return repr(dict(self._items))

    def canonical(self) -> str:
        return json.dumps(dict(self._items), sort_keys=True)


# --- specs ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelSpec:
    """One backend's kernel and the configs to compile it with. Made by `tta.triton(...)` and friends, not
    directly: `backend` is the backend's name, `launch_fn` the user's launch function, `configs` one `Config` per
    tactic, `name` the spec's name in messages and op names, `kernel` the kernel handle (cuda, ptx, cutedsl, cutile).

    Raises:
        SpecError: no configs, or a config listed twice.

    Example:

    >>> spec = tta.triton(lambda x, out, *, BLOCK: None, configs=[{"BLOCK": 128}], name="copy")
    >>> spec.backend, spec.name, spec.configs
    ('triton', 'copy', ({'BLOCK': 128},))
    """

    backend: str
    launch_fn: Callable
    configs: tuple[Config, ...]
    name: str
    kernel: Any = None  # the kernel handle, for backends whose launch function receives one (cuda, ptx)
    # configs=None: the backend may take the configs from the kernel itself (a @triton.autotune kernel's Configs);
    # such configs are applied to the kernel launch, not passed to the launch function
    configs_from_kernel: bool = False
    # an op body (body.BodyInfo): launch_fn allocates and returns its outputs instead of receiving them
    op_body: Any = None

    def __post_init__(self):
        if not self.configs:
            raise SpecError(f"Spec '{self.name}' has no configs. Fix: pass configs=[{{...}}] with at least one dict.")
        if len(set(self.configs)) != len(self.configs):
            raise SpecError(f"Spec '{self.name}' lists a config twice: {list(self.configs)}. Fix: remove duplicates.")


@dataclass(frozen=True)
class Tactic:
    """Tactic `number` (1-based, as TensorRT numbers them) is `config` of `spec`. A plugin's `tactics` number
    every (spec, config) pair in the order given.

    Example:

    >>> spec = tta.triton(lambda x, out, *, BLOCK: None, configs=[{"BLOCK": 128}], name="copy")
    >>> tta.Tactic(1, spec, spec.configs[0]).describe()
    "tactic 1 (triton 'copy' {'BLOCK': 128})"
    """

    number: int
    spec: KernelSpec
    config: Config

    def describe(self) -> str:
        return f"tactic {self.number} ({self.spec.backend} '{self.spec.name}' {dict(self.config)})"


# --- targets ----------------------------------------------------------------------------------------------------
# The oldest PTX ISA that can target each SM arch (PTX ISA manual, "PTX ISA version" per target; the same table
# LLVM's NVPTX backend enforces): (arch, suffix) -> (major, minor). `a` = arch-specific, `f` = family-specific.
MIN_PTX_ISA: dict[tuple[int, str], tuple[int, int]] = {
    (50, ""): (4, 0), (52, ""): (4, 1), (53, ""): (4, 2), (60, ""): (5, 0), (61, ""): (5, 0), (62, ""): (5, 0),
    (70, ""): (6, 0), (72, ""): (6, 1), (75, ""): (6, 3), (80, ""): (7, 0), (86, ""): (7, 1), (87, ""): (7, 4),
    (88, ""): (9, 0), (89, ""): (7, 8), (90, ""): (7, 8), (90, "a"): (8, 0),
    (100, ""): (8, 6), (100, "a"): (8, 6), (100, "f"): (8, 8), (101, ""): (8, 6), (101, "a"): (8, 6),
    (101, "f"): (8, 8), (103, ""): (8, 8), (103, "a"): (8, 8), (103, "f"): (8, 8),
    (110, ""): (9, 0), (110, "a"): (9, 0), (110, "f"): (9, 0),
    (120, ""): (8, 7), (120, "a"): (8, 7), (120, "f"): (8, 8), (121, ""): (8, 8), (121, "a"): (8, 8),
    (121, "f"): (8, 8),
}
KNOWN_ARCHS = tuple(sorted({a for a, _ in MIN_PTX_ISA}))
_ARCH_FORMS = "'sm_90', 'sm_90a' (arch-specific), 'sm_100f' (family-specific) or an int such as 90"
_ISA_FORMS = "(9, 0) or '9.0'"


def min_ptx_isa(arch: int, suffix: str = "") -> tuple[int, int]:
    """The oldest PTX ISA that can express code for `sm_<arch><suffix>` (newer, unknown archs: the newest known's)."""
    if (arch, suffix) in MIN_PTX_ISA:
        return MIN_PTX_ISA[arch, suffix]
    if (arch, "") in MIN_PTX_ISA:
        return MIN_PTX_ISA[arch, ""]
    return max(MIN_PTX_ISA.values())


@dataclass(frozen=True)
class Target:
    """What to compile for: an SM arch (90 for sm_90), its suffix ('' / 'a' arch-specific / 'f' family-specific),
    and the newest PTX ISA the deployment driver accepts (a ceiling; (9, 0) for CUDA 13.0 drivers; None: the
    toolchain's default). Make one with `Target.parse`; `compile(arch=..., ptx_isa=...)` does.

    Raises:
        SpecError: from `parse`, for an arch or ISA of another form (a float such as 9.0, a bare int ISA such as
            90), an arch that is not an NVIDIA GPU arch, or an ISA too old for the arch.
        CompileError: from `check_ptx_isa`, for PTX newer than the ceiling.

    Example:

    >>> target = tta.Target.parse("sm_90a", (9, 0))
    >>> target, target.sm
    (Target(arch=90, ptx_isa=(9, 0), suffix='a'), 'sm_90a')
    """

    arch: int
    ptx_isa: tuple[int, int] | None = None
    suffix: str = ""

    @staticmethod
    def parse(arch: "str | int", ptx_isa: "tuple[int, int] | str | None" = None) -> "Target":
        """Validate and normalize `arch` and `ptx_isa`. Raises SpecError naming the accepted forms for a value of
        another form (a float arch such as 9.0, a bare int ISA such as 90), an arch that is not an NVIDIA GPU arch,
        or a PTX ISA too old to target the arch (which would otherwise crash the compiler)."""
        number, suffix = _parse_arch(arch)
        isa = _parse_isa(ptx_isa)
        target = Target(number, isa, suffix)
        if isa is not None:
            needed = min_ptx_isa(number, suffix)
            if isa < needed:
                raise SpecError(
                    f"ptx_isa={isa[0]}.{isa[1]} cannot target {target.sm}: PTX ISA {needed[0]}.{needed[1]} is the "
                    f"oldest that supports it. Fix: pass ptx_isa=({needed[0]}, {needed[1]}) or newer (the newest your "
                    "deployment driver accepts; CUDA 13.0 drivers accept 9.0), or target an older arch."
                )
        return target

    @property
    def sm(self) -> str:
        return f"sm_{self.arch}{self.suffix}"

    def min_ptx_isa(self, suffix: str | None = None) -> tuple[int, int]:
        """The oldest PTX ISA for this arch (with `suffix` instead of the target's own, e.g. 'a' for a toolchain
        that always emits arch-specific code)."""
        return min_ptx_isa(self.arch, self.suffix if suffix is None else suffix)

    def check_ptx_isa(self, version: tuple[int, int], what: str, fix: str) -> None:
        """The one ISA ceiling check: raise CompileError when PTX of ISA `version` (its `.version`), described by
        `what` (e.g. "The PTX of kernel 'add' (nvrtc 13.0)"), is newer than `ptx_isa`, which a driver limited to
        that ISA would refuse to load. `fix` says how to get PTX of an older ISA for this toolchain."""
        from .errors import CompileError

        if self.ptx_isa is not None and version > self.ptx_isa:
            raise CompileError(
                f"{what} is PTX ISA {version[0]}.{version[1]}, newer than the requested "
                f"{self.ptx_isa[0]}.{self.ptx_isa[1]}. tta never relabels .version: a driver limited to that ISA "
                f"would refuse to load it. Fix: {fix}"
            )


def _parse_arch(arch) -> tuple[int, str]:
    if isinstance(arch, str):
        m = re.fullmatch(r"sm_(\d+)([af]?)", arch.strip())
        if not m:
            raise SpecError(f"arch={arch!r} is not a GPU arch. Accepted forms: {_ARCH_FORMS}.")
        number, suffix = int(m.group(1)), m.group(2)
    elif isinstance(arch, int) and not isinstance(arch, bool):
        number, suffix = arch, ""
    else:
        hint = ""
        if isinstance(arch, float):
            hint = f" (for compute capability {arch}, pass 'sm_{int(round(arch * 10))}')"
        raise SpecError(f"arch={arch!r} ({type(arch).__name__}) is not accepted{hint}. Accepted forms: "
                        f"{_ARCH_FORMS}.")
    if number not in KNOWN_ARCHS and not KNOWN_ARCHS[-1] < number < 200:  # a newer arch than tta knows may pass
        raise SpecError(f"arch sm_{number} is not an NVIDIA GPU arch. Known: "
                        f"{', '.join(f'sm_{a}' for a in KNOWN_ARCHS)}. Accepted forms: {_ARCH_FORMS}.")
    if suffix == "a" and number < 90 or suffix == "f" and number < 100:
        raise SpecError(f"arch sm_{number}{suffix} does not exist: the 'a' suffix starts at sm_90, 'f' at sm_100. "
                        f"Fix: pass 'sm_{number}'.")
    return number, suffix


def _parse_isa(ptx_isa) -> tuple[int, int] | None:
    if ptx_isa is None:
        return None
    if isinstance(ptx_isa, str):
        m = re.fullmatch(r"(\d+)\.(\d+)", ptx_isa.strip())
        if not m:
            raise SpecError(f"ptx_isa={ptx_isa!r} is not a PTX ISA version. Accepted forms: {_ISA_FORMS}.")
        return int(m.group(1)), int(m.group(2))
    if isinstance(ptx_isa, (tuple, list)) and len(ptx_isa) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ptx_isa):
        return int(ptx_isa[0]), int(ptx_isa[1])
    hint = " (a bare number is ambiguous: 90 and 9 could both mean 9.0)" if isinstance(ptx_isa, (int, float)) else ""
    raise SpecError(f"ptx_isa={ptx_isa!r} ({type(ptx_isa).__name__}) is not accepted{hint}. Accepted forms: "
                    f"{_ISA_FORMS}.")


# --- launch plans -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelArg:
    """One argument of the recorded kernel call, classified for TensorRT's calling convention.

    - input/output: a tensor; `index` is its position among the op's inputs or outputs.
    - extra: a runtime int32 computed from dims (`expr`); TensorRT passes it after the inputs.
    - constant: baked into the kernel at compile time: a literal, an attribute value, a config value, or a
      shape-dependent `expr` that the artifact then guards.
    """

    name: str
    kind: str
    index: int = -1
    expr: symbolic.Expr | None = None
    value: Any = None
    dtype: Any = None  # tensors: the element type the kernel reads when a view reinterpreted it, else None


@dataclass(frozen=True)
class LaunchPlan:
    """A recorded launch: kernel, symbolic grid, classified arguments and backend launch options."""

    kernel: Any
    kernel_name: str
    grid: tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]
    args: tuple[KernelArg, ...]
    options: tuple[tuple[str, Any], ...] = ()
    guards: tuple[tuple[symbolic.Expr, int], ...] = ()  # decisions the recording took: valid where each still holds

    def holds_for(self, shapes: symbolic.Shapes) -> bool:
        return all(expr.evaluate(shapes) == value for expr, value in self.guards)

    def of_kind(self, kind: str) -> tuple[KernelArg, ...]:
        return tuple(a for a in self.args if a.kind == kind)

    def fingerprint(self) -> str:
        """A process-independent rendering of everything recorded (for cache keys): kernel name, grid, every
        argument's classification, expression and baked value, and the launch options."""
        args = [(a.name, a.kind, a.index, None if a.expr is None else str(a.expr), repr(a.value)) for a in self.args]
        return json.dumps({"kernel": self.kernel_name, "grid": [str(g) for g in self.grid], "args": args,
                           "options": [(k, repr(v)) for k, v in self.options]})


# --- artifacts --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One PTX parameter of an artifact: which input, extra or output TensorRT passes there. `kind` is 'input',
    'extra' or 'output'; `index` its position among those; `ptx_type` the PTX type ('.u64' for a pointer, '.u32'
    or '.s32' / '.b32' for a 32-bit extra); `source` the kernel argument's name, for messages.

    Example:

    >>> tta.Param("input", 0, ".u64", "x_ptr")
    Param(kind='input', index=0, ptx_type='.u64', source='x_ptr')
    """

    kind: str
    index: int
    ptx_type: str
    source: str = ""  # the kernel argument's name, for messages


@dataclass(frozen=True)
class LaunchParams:
    """Concrete launch parameters: what TensorRT's KernelLaunchParams and extra args evaluate to for one set of
    shapes. `grid`: blocks per dim (x, y, z); `block`: threads per dim (x, y, z); `shared_mem`: dynamic shared
    memory in bytes; `extras`: the int32 extra arguments, in TensorRT's order.

    Example:

    >>> tta.LaunchParams(grid=(4, 1, 1), block=(256, 1, 1), shared_mem=0, extras=(1000,)).grid
    (4, 1, 1)
    """

    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_mem: int
    extras: tuple[int, ...]


@dataclass(frozen=True)
class Artifact:
    """A TensorRT-ready compiled tactic: PTX plus everything needed to launch it with TensorRT's convention.

    `ptx` (text) has one `.entry` named `kernel_name` whose parameters are, in `params` order, every input pointer,
    the int32 extras, every output pointer. `ptx_version` is its ISA, (major, minor), never relabelled; `arch` e.g.
    'sm_90'. `grid` (blocks), `block` (threads), `shared_mem` (dynamic shared memory, bytes) and `extras` are
    expressions of the input dims; `launch_params(shapes)` evaluates them. `input_dtypes` / `output_dtypes` are
    torch dtype names ('float16'); `input_ranks` the ranks it was recorded for; `constants` the values baked into
    the kernel; `guards` ((expr, value), ...) the facts about the dims under which it may be reused.

    Raises:
        ValueError: from `launch_params`, for shapes of other ranks or shapes that break a guard.
        OverflowError: from `launch_params`, for an extra outside int32 (the only integer TensorRT passes).

    Example::

        artifacts = plugin.compile(x, y, arch="sm_90", ptx_isa=(9, 0))
        for a in artifacts:
            print(a.tactic, a.kernel_name, a.ptx_version, a.describe_params())
    """

    tactic: int
    backend: str
    config: Config
    kernel_name: str
    ptx: str = field(repr=False)  # kilobytes of text: left out of repr() so that printing artifacts stays readable
    ptx_version: tuple[int, int]
    arch: str
    params: tuple[Param, ...]
    grid: tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]
    block: tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]
    shared_mem: symbolic.Expr
    extras: tuple[symbolic.Expr, ...]
    input_dtypes: tuple[str, ...]
    output_dtypes: tuple[str, ...]
    input_ranks: tuple[int, ...]
    constants: tuple[tuple[str, Any], ...] = ()
    guards: tuple[tuple[symbolic.Expr, int], ...] = ()
    toolchain: str = ""
    metadata: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def launch_params(self, shapes: symbolic.Shapes) -> LaunchParams:
        """Evaluate grid, block, shared memory and extras for concrete shapes, checking TensorRT's limits."""
        ranks = tuple(len(s) for s in shapes.inputs)
        if ranks != self.input_ranks:
            raise ValueError(
                f"Artifact {self.kernel_name} was recorded for inputs of rank {self.input_ranks}, got shapes "
                f"{shapes.inputs} (rank {ranks}). Compile the plugin for inputs of this rank."
            )
        for expr, expected in self.guards:
            got = expr.evaluate(shapes)
            if got != expected:
                raise ValueError(
                    f"Artifact {self.kernel_name} was compiled under the guard `{expr} == {expected}` (a value baked "
                    f"in, or a decision the launch function took, for the shapes it was recorded with), but these "
                    f"shapes give {got}. Fix: compile for these shapes (the eager op does so by itself), or make "
                    "that value a runtime argument."
                )
        extras = symbolic.evaluate_all(self.extras, shapes)
        for expr, value in zip(self.extras, extras):
            if not symbolic.fits_int32(value):
                raise OverflowError(
                    f"Extra argument {expr} = {value} does not fit in int32, the only integer type TensorRT "
                    f"passes to an AOT kernel (artifact {self.kernel_name}, tactic {self.tactic}, config "
                    f"{dict(self.config)}), for input shapes {shapes.inputs}. Fix: keep every extra (e.g. numel) "
                    "below 2**31: split the tensor, or compute 64-bit offsets in the kernel from smaller extras."
                )
        gx, gy, gz = symbolic.evaluate_all(self.grid, shapes)
        bx, by, bz = symbolic.evaluate_all(self.block, shapes)
        return LaunchParams((gx, gy, gz), (bx, by, bz), self.shared_mem.evaluate(shapes), extras)

    @property
    def threads_per_block(self) -> int | None:
        values = [b.value for b in self.block if isinstance(b, symbolic.Const)]
        return math.prod(values) if len(values) == len(self.block) else None

    def describe_params(self) -> str:
        return ", ".join(f"{p.kind}{p.index}:{p.source}" for p in self.params)
