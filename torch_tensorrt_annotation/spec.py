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

from . import symbolic as S
from .errors import SpecError

INPUT, OUTPUT, EXTRA, CONSTANT = "input", "output", "extra", "constant"
CONFIG_VALUE_TYPES = (int, float, bool, str, type(None))


# --- configs ----------------------------------------------------------------------------------------------------
class Config(Mapping[str, Any]):
    """An immutable, hashable config: kernel meta-parameters and launch options, e.g. {"BLOCK": 256}."""

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
    """One backend's kernel and the configs to compile it with. Made by `tta.triton(...)` and friends."""

    backend: str
    launch_fn: Callable
    configs: tuple[Config, ...]
    name: str
    kernel: Any = None  # the kernel handle, for backends whose launch function receives one (cuda, ptx)
    # configs=None: the backend may take the configs from the kernel itself (a @triton.autotune kernel's Configs);
    # such configs are applied to the kernel launch, not passed to the launch function
    configs_from_kernel: bool = False

    def __post_init__(self):
        if not self.configs:
            raise SpecError(f"Spec '{self.name}' has no configs. Fix: pass configs=[{{...}}] with at least one dict.")
        if len(set(self.configs)) != len(self.configs):
            raise SpecError(f"Spec '{self.name}' lists a config twice: {list(self.configs)}. Fix: remove duplicates.")


@dataclass(frozen=True)
class Tactic:
    """Tactic `number` (1-based, as TensorRT numbers them) is `config` of `spec`."""

    number: int
    spec: KernelSpec
    config: Config

    def describe(self) -> str:
        return f"tactic {self.number} ({self.spec.backend} '{self.spec.name}' {dict(self.config)})"


# --- targets ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """What to compile for: an SM arch (90 for sm_90) and the newest PTX ISA the deployment driver accepts."""

    arch: int
    ptx_isa: tuple[int, int] | None = None

    @staticmethod
    def parse(arch: "str | int", ptx_isa: "tuple[int, int] | str | None" = None) -> "Target":
        if isinstance(arch, str):
            m = re.fullmatch(r"sm_?(\d+)[af]?", arch.strip())
            if not m:
                raise SpecError(f"arch must look like 'sm_90', got {arch!r}.")
            arch = int(m.group(1))
        if isinstance(ptx_isa, str):
            m = re.fullmatch(r"(\d+)\.(\d+)", ptx_isa.strip())
            if not m:
                raise SpecError(f"ptx_isa must look like '9.0' or (9, 0), got {ptx_isa!r}.")
            ptx_isa = (int(m.group(1)), int(m.group(2)))
        isa: tuple[int, int] | None = None
        if ptx_isa is not None:
            values = tuple(int(v) for v in ptx_isa)
            if len(values) != 2:
                raise SpecError(f"ptx_isa must be (major, minor), got {ptx_isa!r}.")
            isa = (values[0], values[1])
        return Target(int(arch), isa)

    @property
    def sm(self) -> str:
        return f"sm_{self.arch}"


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
    expr: S.Expr | None = None
    value: Any = None
    dtype: Any = None  # tensors: the element type the kernel reads when a view reinterpreted it, else None


@dataclass(frozen=True)
class LaunchPlan:
    """A recorded launch: kernel, symbolic grid, classified arguments and backend launch options."""

    kernel: Any
    kernel_name: str
    grid: tuple[S.Expr, S.Expr, S.Expr]
    args: tuple[KernelArg, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def of_kind(self, kind: str) -> tuple[KernelArg, ...]:
        return tuple(a for a in self.args if a.kind == kind)


# --- artifacts --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One PTX parameter of an artifact: which input, extra or output TensorRT passes there."""

    kind: str
    index: int
    ptx_type: str
    source: str = ""  # the kernel argument's name, for messages


@dataclass(frozen=True)
class LaunchParams:
    """Concrete launch parameters: what TensorRT's KernelLaunchParams and extra args evaluate to."""

    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_mem: int
    extras: tuple[int, ...]


INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class Artifact:
    """A TensorRT-ready compiled tactic: PTX plus everything needed to launch it with TensorRT's convention."""

    tactic: int
    backend: str
    config: Config
    kernel_name: str
    ptx: str
    ptx_version: tuple[int, int]
    arch: str
    params: tuple[Param, ...]
    grid: tuple[S.Expr, S.Expr, S.Expr]
    block: tuple[S.Expr, S.Expr, S.Expr]
    shared_mem: S.Expr
    extras: tuple[S.Expr, ...]
    input_dtypes: tuple[str, ...]
    output_dtypes: tuple[str, ...]
    input_ranks: tuple[int, ...]
    constants: tuple[tuple[str, Any], ...] = ()
    guards: tuple[tuple[S.Expr, int], ...] = ()
    toolchain: str = ""
    metadata: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def launch_params(self, shapes: S.Shapes) -> LaunchParams:
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
                    f"Artifact {self.kernel_name} was compiled with {expr} = {expected} baked in, but these shapes "
                    f"give {got}. Recompile for these shapes, or make that value a runtime argument."
                )
        extras = S.evaluate_all(self.extras, shapes)
        for expr, value in zip(self.extras, extras):
            if not -(2**31) <= value <= INT32_MAX:
                raise OverflowError(
                    f"Extra argument {expr} = {value} does not fit in int32, the only integer type TensorRT "
                    f"passes to an AOT kernel (artifact {self.kernel_name})."
                )
        gx, gy, gz = S.evaluate_all(self.grid, shapes)
        bx, by, bz = S.evaluate_all(self.block, shapes)
        return LaunchParams((gx, gy, gz), (bx, by, bz), self.shared_mem.evaluate(shapes), extras)

    @property
    def threads_per_block(self) -> int | None:
        values = [b.value for b in self.block if isinstance(b, S.Const)]
        return math.prod(values) if len(values) == len(self.block) else None

    def describe_params(self) -> str:
        return ", ".join(f"{p.kind}{p.index}:{p.source}" for p in self.params)
