"""Per-architecture limits of one thread block, and the check every artifact passes when it is compiled.

A kernel over these limits compiles (on a CPU, nothing launches it) but fails at launch on the GPU, inside a
TensorRT engine build or at the first eager call. tta checks each artifact against its target arch instead and
drops the tactic with a warning that names the config and the numbers.

Shared memory per block is the opt-in maximum (static + dynamic) of the CUDA C++ Programming Guide's "Technical
Specifications per Compute Capability" table; CUTLASS's `cutlass/arch/arch.h` records the same capacities
(sm80 166912, sm86/89 101376, sm90/sm100 232448, sm120 101376 bytes).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

KIB = 1024


@dataclass(frozen=True)
class ArchLimits:
    """Limits of one thread block on an SM arch. `max_shared_per_block` is in bytes (static + dynamic, with the
    opt-in that TensorRT and tta's launcher use); None where the arch is not in the table."""

    max_shared_per_block: int | None
    max_threads_per_block: int = 1024
    max_registers_per_block: int = 64 * KIB
    max_static_shared_per_block: int = 48 * KIB  # `__shared__` arrays; more must be dynamic (opt-in)


# arch (major * 10 + minor) -> max shared memory per block, KiB (opt-in, static + dynamic)
SHARED_MEMORY_PER_BLOCK_KIB: dict[int, int] = {
    70: 96, 72: 96, 75: 64,
    80: 163, 86: 99, 87: 163, 89: 99,
    90: 227,
    100: 227, 101: 227, 103: 227, 110: 227,
    120: 99, 121: 99,
}


def arch_limits(arch: int) -> ArchLimits:
    kib = SHARED_MEMORY_PER_BLOCK_KIB.get(arch)
    return ArchLimits(kib * KIB if kib is not None else None)


_ELEMENT_BYTES = {"b8": 1, "u8": 1, "s8": 1, "b16": 2, "u16": 2, "s16": 2, "f16": 2, "bf16": 2, "b32": 4, "u32": 4,
                  "s32": 4, "f32": 4, "b64": 8, "u64": 8, "s64": 8, "f64": 8, "b128": 16}
_SHARED_DECL = re.compile(
    r"^\s*(?P<extern>\.extern\s+)?(?:\.visible\s+|\.weak\s+)?\.shared\s+(?:\.align\s+\d+\s+)?"
    r"(?:\.v(?P<vec>[248])\s+)?\.(?P<type>\w+)\s+(?P<name>[\w$]+)(?P<dims>(?:\[\d*\])*)\s*;", re.M)


def static_shared_bytes(ptx: str) -> int:
    """Bytes of statically sized `.shared` variables declared in a PTX module (`__shared__` arrays); `.extern`
    (dynamic) shared memory is the launch's shared_mem and is not counted."""
    total = 0
    for m in _SHARED_DECL.finditer(ptx):
        if m.group("extern"):
            continue
        dims = [int(d) for d in re.findall(r"\[(\d*)\]", m.group("dims")) if d]
        total += _ELEMENT_BYTES.get(m.group("type"), 1) * int(m.group("vec") or 1) * math.prod(dims)
    return total


def check_block_limits(*, arch: int, sm: str, where: str, threads: int | None, static_shared: int,
                       dynamic_shared: int | None, registers_per_thread: int | None = None) -> None:
    """Raise ResourceLimitError when one block of the kernel needs more than `arch` has. `dynamic_shared` is None
    when it depends on the shapes (only the static part is checked then)."""
    from .errors import ResourceLimitError

    limits = arch_limits(arch)
    problems = []
    if threads is not None and threads > limits.max_threads_per_block:
        problems.append(f"{threads} threads per block, over the {limits.max_threads_per_block} of every arch")
    if static_shared > limits.max_static_shared_per_block:
        problems.append(
            f"{static_shared} bytes of static shared memory (__shared__ arrays), over the "
            f"{limits.max_static_shared_per_block} bytes (48 KiB) a block may declare statically; more must be "
            "dynamic shared memory, given at launch (kernel[grid, block, shared_mem])"
        )
    shared = static_shared + (dynamic_shared or 0)
    if limits.max_shared_per_block is not None and shared > limits.max_shared_per_block:
        parts = f" ({static_shared} static + {dynamic_shared} dynamic)" if static_shared and dynamic_shared else ""
        problems.append(
            f"{shared} bytes ({shared / KIB:.1f} KiB) of shared memory per block{parts}, over {sm}'s "
            f"{limits.max_shared_per_block} bytes ({limits.max_shared_per_block // KIB} KiB)"
        )
    if registers_per_thread and threads and registers_per_thread * threads > limits.max_registers_per_block:
        problems.append(
            f"{registers_per_thread} registers x {threads} threads = {registers_per_thread * threads} registers per "
            f"block, over the {limits.max_registers_per_block} of a block"
        )
    if problems:
        raise ResourceLimitError(
            f"{where} needs {'; '.join(problems)}: it would fail to launch on {sm}. Fix: use a smaller config "
            "(smaller tiles, fewer pipeline stages (num_stages) or fewer warps) or remove it from the configs."
        )
