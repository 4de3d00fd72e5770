"""What a compiled kernel writes, checked against the op's contract, from the artifact's final PTX.

TensorRT and torch give a plugin read-only inputs and uninitialized outputs. So, for every artifact of every
backend, the global stores, atomics and reductions of its PTX are traced back to the parameter their address
derives from (`ptx_parsing.memory_writes`), and a tactic is refused when:

- it writes through an input pointer, unless that input is updated in place (an output aliases it);
- it never writes an output (the op would return uninitialized memory);
- it writes an output only with atomics / reductions (they add to what the buffer holds, which is garbage), unless
  the output is declared in `zeroed_outputs`.

The last two need the whole picture: when some write's address cannot be traced to a parameter, or the kernel
calls a function, they are skipped (logged). Writes through an input are refused whenever they are seen.
"""

from __future__ import annotations

import logging

from . import ptx_parsing
from .errors import CompileError
from .spec import INPUT, OUTPUT, Artifact, LaunchPlan, Tactic

log = logging.getLogger(__name__)


def check_writes(plugin, tactic: Tactic, plan: LaunchPlan, artifact: Artifact) -> None:
    """Raise CompileError if `artifact` breaks the op's memory contract (see the module docstring)."""
    try:
        entry = ptx_parsing.parse(artifact.ptx).entry(artifact.kernel_name)
    except (ValueError, KeyError) as exc:
        raise CompileError(f"Could not read the PTX of {artifact.kernel_name}: {exc}") from exc
    report = ptx_parsing.memory_writes(artifact.ptx, entry)
    schema = plugin.schema
    where = f"Kernel '{plan.kernel_name}' of op '{plugin.op_name}', {tactic.describe()},"
    names = {(p.kind, p.index): (ptx.name, p.source) for p, ptx in zip(artifact.params, entry.params)}

    for i, input_name in enumerate(schema.inputs):
        param, source = names.get((INPUT, i), ("", ""))
        writes = report.of(param)
        if writes and i not in schema.aliases:
            arg = f" (kernel argument '{source}')" if source else ""
            raise CompileError(
                f"{where} writes through input '{input_name}'{arg}: `{writes[0].instruction}`. Inputs are read-only "
                "(TensorRT may share or reuse their buffers, and the torch op would silently change its caller's "
                f"tensor). Fix: write the result to an output; or, if the kernel updates '{input_name}' in place, "
                f"make the op in-place: have meta_impl return it (`return {input_name}`) and drop that output from "
                f"the launch function, so that the op is marked `Tensor(a!) {input_name}` and TensorRT aliases the "
                "output to the input."
            )

    for j in range(schema.num_outputs):
        alias = schema.alias_of(j)
        if alias is not None:
            param, _ = names.get((INPUT, alias), ("", ""))
            if report.complete and not report.of(param):
                log.info("%s never writes input '%s', which it declares updated in place", where,
                         schema.inputs[alias])
            continue
        param, source = names.get((OUTPUT, j), ("", ""))
        writes = report.of(param)
        label = f"output {j}" + (f" (kernel argument '{source}')" if source else " (not passed to the kernel)")
        if not report.complete:
            if not writes:
                log.info("%s: cannot tell whether %s is written (writes through untraced addresses: %s; calls: %s)",
                         where, label, list(report.unknown[:2]), report.has_calls)
            continue
        if not writes:
            inputs_written = [schema.inputs[i] for i in range(len(schema.inputs))
                              if report.of(names.get((INPUT, i), ("", ""))[0])]
            hint = (f" It writes input(s) {inputs_written} instead: for an in-place op, have meta_impl return the "
                    "input itself and drop this output from the launch function." if inputs_written else "")
            raise CompileError(
                f"{where} never writes {label}: the op would return uninitialized memory.{hint} Fix: store every "
                "element of the output in the kernel (or remove the output from meta_impl and the launch function)."
            )
        if all(w.kind == ptx_parsing.ACCUMULATE for w in writes) and j not in plugin.zeroed_outputs:
            raise CompileError(
                f"{where} writes {label} only with atomics or reductions (`{writes[0].instruction}`), which add to "
                "what the buffer already holds; outputs are allocated uninitialized (by tta and by TensorRT), so "
                f"the result would include garbage. Fix: declare it, tta.custom_plugin(..., zeroed_outputs=({j},)), "
                "and tta fills it with zeros before each eager launch (TensorRT cannot: such a plugin is refused "
                "for TensorRT); or have the kernel store every element before accumulating."
            )
