"""Fit a backend's CompiledKernel to TensorRT's AOT calling convention and produce an Artifact.

TensorRT passes, in order: every input pointer, the extra int32 args, every output pointer, and nothing else
(see the project README, "How AOT works"). This module permutes the PTX parameter declarations into that order,
drops compiler-added parameters that the kernel never reads (Triton's scratch pointers), adds an unused pointer
for a tensor the kernel ignores, and checks the ISA and block size that TensorRT will use.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from . import ptx_parsing, symbolic
from .backends.base import CompiledKernel
from .dtypes import dtype_name
from .errors import CompileError
from .limits import check_block_limits, static_shared_bytes
from .spec import EXTRA, INPUT, OUTPUT, Artifact, Config, LaunchPlan, Param, Target

log = logging.getLogger(__name__)


def build_artifact(*, tactic: int, backend: str, config: Config, plan: LaunchPlan, compiled: CompiledKernel,
                   target: Target, input_dtypes: Sequence[Any], output_dtypes: Sequence[Any],
                   input_ranks: Sequence[int], constants: dict[str, Any], guards: tuple,
                   aliases: Sequence[int | None] = ()) -> Artifact:
    """`aliases[j]`: the input that output j aliases (in place). TensorRT still passes that output, with a pointer
    equal to the input's, so it keeps its slot in the parameter list as an unused pointer: the kernel writes the
    memory through the input pointer."""
    where = f"kernel '{plan.kernel_name}' (tactic {tactic}, config {dict(config)})"
    try:
        info = ptx_parsing.parse(compiled.ptx)
        entry = info.entry(compiled.entry)
    except (ValueError, KeyError) as exc:
        raise CompileError(f"Could not read the PTX of {where}: {exc}") from exc

    n_args, n_hidden = len(compiled.args), len(compiled.hidden)
    if len(entry.params) != n_args + n_hidden:
        raise CompileError(
            f"The PTX entry of {where} has {len(entry.params)} parameters, but the recorded launch has {n_args} "
            f"runtime arguments plus {n_hidden} hidden ones ({', '.join(compiled.hidden) or 'none'}). The "
            "toolchain's calling convention is not the one this version of tta knows; please report it."
        )
    for param, label in zip(entry.params[n_args:], compiled.hidden):
        if ptx_parsing.is_referenced(compiled.ptx, entry, param):
            raise CompileError(
                f"The PTX of {where} reads its hidden '{label}' parameter, which TensorRT does not pass. "
                "Refusing to remove a parameter the kernel uses. Fix: avoid features that need scratch memory."
            )

    by_role: dict[tuple[str, int], ptx_parsing.PtxParam] = {}
    extras: list[tuple[ptx_parsing.PtxParam, Any]] = []
    for arg, param in zip(compiled.args, entry.params):
        if arg.kind == EXTRA:
            extras.append((param, arg))
        else:
            by_role[arg.kind, arg.index] = param

    ordered: list[ptx_parsing.PtxParam] = []
    layout: list[Param] = []
    for role, dtypes in ((INPUT, input_dtypes), (OUTPUT, output_dtypes)):
        if role == OUTPUT:
            for param, arg in extras:
                ordered.append(param)
                layout.append(Param(EXTRA, len(layout) - len(input_dtypes), param.ptx_type, arg.name))
        for index in range(len(dtypes)):
            found = by_role.get((role, index))
            source = next((a.name for a in compiled.args if a.kind == role and a.index == index), "")
            alias = aliases[index] if role == OUTPUT and index < len(aliases) else None
            if found is None and alias is not None:  # in place: the kernel writes through the input pointer
                found = ptx_parsing.unused_pointer_param(compiled.entry, f"alias_{role}{index}")
                source = f"=input{alias}"
            elif found is None:  # TensorRT passes every tensor; the kernel ignores this one
                found = ptx_parsing.unused_pointer_param(compiled.entry, f"unused_{role}{index}")
                log.info("%s does not use %s %d; declaring an unused pointer parameter for it", where, role, index)
            ordered.append(found)
            layout.append(Param(role, index, found.ptx_type, source))

    ptx_text = ptx_parsing.rewrite_params(compiled.ptx, entry, ordered)
    version = ptx_parsing.parse(ptx_text).version
    target.check_ptx_isa(version, f"The PTX of {where} ({compiled.toolchain or 'its toolchain'})",
                         "use a toolchain that can target that ISA, or a newer driver (and ptx_isa) at deployment.")
    bx, by, bz = (symbolic.as_expr(b) for b in compiled.block)
    block = (bx, by, bz)
    consts = [b.value for b in block if isinstance(b, symbolic.Const)]
    threads = consts[0] * consts[1] * consts[2] if len(consts) == 3 else None
    if entry.reqntid is not None and threads is not None:
        if math.prod(entry.reqntid) != threads:
            raise CompileError(
                f"The PTX of {where} requires {entry.reqntid} threads per block (.reqntid), but the launch uses "
                f"block {compiled.block}. TensorRT would fail to launch it."
            )
    dynamic_shared = symbolic.as_expr(compiled.shared_mem)
    check_block_limits(
        arch=target.arch, sm=target.sm, where=where, threads=threads, static_shared=static_shared_bytes(ptx_text),
        dynamic_shared=dynamic_shared.value if isinstance(dynamic_shared, symbolic.Const) else None,
        registers_per_thread=compiled.metadata.get("n_regs"))
    return Artifact(
        tactic=tactic,
        backend=backend,
        config=config,
        kernel_name=compiled.entry,
        ptx=ptx_text,
        ptx_version=version,
        arch=target.sm,
        params=tuple(layout),
        grid=compiled.grid if compiled.grid is not None else plan.grid,
        block=block,
        shared_mem=symbolic.as_expr(compiled.shared_mem),
        extras=tuple(arg.expr for _, arg in extras),
        input_dtypes=tuple(dtype_name(d) for d in input_dtypes),
        output_dtypes=tuple(dtype_name(d) for d in output_dtypes),
        input_ranks=tuple(input_ranks),
        constants=tuple(sorted((k, v if _is_plain(v) else str(v)) for k, v in constants.items())),
        guards=guards,
        toolchain=compiled.toolchain,
        metadata=tuple(sorted(compiled.metadata.items())),
    )


def _is_plain(value) -> bool:
    return isinstance(value, (int, float, bool, str, type(None)))
