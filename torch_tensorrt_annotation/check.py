"""`tta.check`: compile every tactic, launch each exactly as TensorRT would, compare, time. Before an engine build.

    report = tta.check(plugin, x, w, 1e-5)
    print(report)            # one row per tactic
    assert report.ok

The default reference is tactic 1's config run by its backend's own launcher (Triton's, for a Triton spec), which
checks the AOT path (parameter order, launch geometry, specialization) against the user's own launch. Pass
`reference=fn` (a torch function taking the op's arguments) to also check the kernels' math.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import launcher, symbolic
from .errors import CompileError, SpecError
from .tables import format_table

OK, MISMATCH, COMPILE_ERROR, LOAD_ERROR, OUT_OF_RESOURCES, LAUNCH_ERROR = (
    "ok", "mismatch", "compile error", "load error", "out of resources", "launch error")
_RESOURCE_CODES = {701, 1}  # CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, CUDA_ERROR_INVALID_VALUE (shared memory, block)
_LOAD_CODES = {218, 222, 209, 200}  # invalid PTX, unsupported PTX version, no binary for GPU, invalid image


@dataclass
class TacticResult:
    """One tactic's row of a `tta.check` report. `status` is one of "ok", "mismatch", "compile error", "load
    error", "out of resources", "launch error" (`detail` says why); `max_abs_err` / `max_rel_err` compare its
    outputs with the reference; `median_us` is its median kernel time in microseconds (NaN where it did not run).

    Example:

    >>> row = tta.TacticResult(1, {"BLOCK": 256}, median_us=4.2)
    >>> row.status, row.median_us
    ('ok', 4.2)
    """

    tactic: int
    config: dict
    kernel: str = ""
    status: str = OK
    max_abs_err: float = math.nan
    max_rel_err: float = math.nan
    median_us: float = math.nan
    detail: str = ""


@dataclass
class CheckReport:
    """What `tta.check` found for op `op` on GPU `device` (its name): one `TacticResult` per tactic. `ok` is True
    when every tactic matched the reference; `fastest` is the matching tactic with the lowest median time;
    `str(report)` is a table of all of them.

    Example::

        report = tta.check(op, x, y)
        print(report)          # tactic, config, status, errors, median us
        assert report.ok, report
    """

    op: str
    device: str
    results: list[TacticResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.status == OK for r in self.results)

    @property
    def fastest(self) -> TacticResult | None:
        good = [r for r in self.results if r.status == OK]
        return min(good, key=lambda r: r.median_us) if good else None

    def __str__(self) -> str:
        header = ["tactic", "config", "status", "max abs err", "max rel err", "median us", "detail"]
        best = self.fastest
        rows = [[f"{r.tactic}{'*' if best is r else ''}", ",".join(f"{k}={v}" for k, v in r.config.items()),
                 r.status, _num(r.max_abs_err), _num(r.max_rel_err), _num(r.median_us, "{:.2f}"), r.detail[:90]]
                for r in self.results]
        verdict = "all tactics ok" if self.ok else "FAILED"
        return f"tta.check {self.op} on {self.device}: {verdict} (* = fastest)\n" + format_table(header, rows)


def _num(value: float, fmt: str = "{:.3g}") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt.format(value)


def _plugin_of(plugin_or_op):
    from .plugin import CustomPlugin
    from .torch_op import registered_plugin

    if isinstance(plugin_or_op, CustomPlugin):
        return plugin_or_op, plugin_or_op.op_name
    name = getattr(plugin_or_op, "name", None)
    name = name() if callable(name) else name
    plugin = registered_plugin(str(name)) if name else None
    if plugin is None:
        raise SpecError(f"tta.check takes a plugin or an op registered with tta.custom_op, got {plugin_or_op!r}.")
    return plugin, str(name)


def check(plugin_or_op, *inputs, reference=None, rtol: float | None = None, atol: float | None = None,
          reps: int = 20) -> CheckReport:
    """Run every tactic of a plugin (or of an op registered with `tta.custom_op`) on the GPU and compare each with
    a reference; time the ones that match.

    `inputs` follow the op's schema: CUDA tensors, then attribute values (non-contiguous tensors are copied
    contiguous). `reference(*inputs)` returns the expected output(s); default: the first tactic's launch function
    run through the backend's own launcher. `rtol` / `atol` default to 2e-3 for float16, 2e-2 for bfloat16 and
    1e-5 otherwise. Each matching tactic is timed over `reps` launches (`median_us`, microseconds). A tactic that
    fails to compile, load or launch gets that status in the report; it does not raise.

    Raises:
        SpecError: `plugin_or_op` is neither a plugin nor a tta op, the tensors are not on a CUDA device, or the
            inputs do not match the op's schema.

    Example::

        report = tta.check(plugin, torch.randn(4096, device="cuda"), torch.randn(4096, device="cuda"))
        print(report)                 # one row per tactic: status, max abs/rel error, median us
        print(report.fastest.tactic)
    """
    import torch

    from .runtime import EagerOp

    plugin, op_name = _plugin_of(plugin_or_op)
    tensors, attrs = plugin.schema.split(tuple(inputs), {}, op_name)
    device = tensors[0].device
    if device.type != "cuda":
        raise SpecError("tta.check launches kernels: give CUDA tensors.")
    tensors = [t.contiguous() for t in tensors]
    meta = plugin.meta_impl(*[torch.empty(t.shape, dtype=t.dtype, device="meta") for t in tensors], *attrs)
    metas = meta if isinstance(meta, (tuple, list)) else (meta,)
    shapes = symbolic.Shapes(tuple(tuple(t.shape) for t in tensors), tuple(tuple(m.shape) for m in metas), tuple(attrs))
    expected = _reference(plugin, reference, tensors, attrs, metas, device)
    runner = EagerOp(plugin, op_name)
    report = CheckReport(op_name, torch.cuda.get_device_name(device))
    for tactic in plugin.tactics:
        result = TacticResult(tactic.number, dict(tactic.config))
        report.results.append(result)
        try:
            artifact = plugin.compile_tactic(
                tactic, runner.target(device), in_dtypes=[t.dtype for t in tensors],
                out_dtypes=[m.dtype for m in metas], in_ranks=[t.dim() for t in tensors],
                out_ranks=[m.dim() for m in metas], attrs=list(attrs), shapes=shapes)
        except CompileError as exc:
            result.status, result.detail = COMPILE_ERROR, exc.message
            continue
        result.kernel = artifact.kernel_name
        launched = _fresh_inputs(plugin, tensors)  # an in-place input is updated: each tactic gets a copy
        outputs = _outputs(plugin, metas, launched, device, fill=float("nan"))
        stream = torch.cuda.current_stream(device).cuda_stream
        try:
            prepared = launcher.PreparedLaunch(artifact, shapes, launcher.device_index(device))
            prepared([t.data_ptr() for t in launched], [o.data_ptr() for o in outputs], stream)
            torch.cuda.synchronize(device)
        except launcher.LaunchError as exc:
            result.status = (LOAD_ERROR if exc.code in _LOAD_CODES else
                             OUT_OF_RESOURCES if exc.code in _RESOURCE_CODES else LAUNCH_ERROR)
            result.detail = str(exc)
            continue
        result.max_abs_err, result.max_rel_err = _errors(outputs, expected)
        if not all(_close(o, e, rtol, atol) for o, e in zip(outputs, expected)):
            result.status = MISMATCH
            result.detail = "outputs differ from the reference beyond tolerance"
        result.median_us = _median_us(prepared, launched, outputs, stream, reps)
    return report


def _fresh_inputs(plugin, tensors) -> list:
    """The inputs, with a private copy of each one that an output updates in place."""
    aliased = {a for a in plugin.schema.aliases if a is not None}
    return [t.clone() if i in aliased else t for i, t in enumerate(tensors)]


def _outputs(plugin, metas, inputs, device, fill=None) -> list:
    """Output buffers as the op gets them: the input for an in-place output, zeros for a zeroed output, else
    `fill` (NaN makes an unwritten element visible) or uninitialized memory."""
    import torch

    out = []
    for j, m in enumerate(metas):
        alias = plugin.schema.alias_of(j)
        if alias is not None:
            out.append(inputs[alias])
        elif j in plugin.zeroed_outputs or (fill is not None and not m.dtype.is_floating_point):
            out.append(torch.zeros(m.shape, dtype=m.dtype, device=device))
        elif fill is not None:
            out.append(torch.full(m.shape, fill, dtype=m.dtype, device=device))
        else:
            out.append(torch.empty(m.shape, dtype=m.dtype, device=device))
    return out


def _reference(plugin, reference, tensors, attrs, metas, device):
    import torch

    inputs = _fresh_inputs(plugin, tensors)
    if reference is not None:
        out = reference(*inputs, *attrs)
        return [t.contiguous() for t in (out if isinstance(out, (tuple, list)) else (out,))]
    from .backends.base import get_backend

    tactic = plugin.tactics[0]
    outputs = _outputs(plugin, metas, inputs, device)
    launch_outputs = [outputs[j] for j in plugin.schema.launch_outputs]
    attributes = dict(zip((a.name for a in plugin.schema.attrs), attrs))
    with torch.cuda.device(device):
        get_backend(tactic.spec.backend).run_reference(tactic.spec, tactic.config, attributes,
                                                       [*inputs, *launch_outputs, *attrs])
    torch.cuda.synchronize(device)
    return outputs


def _close(out, ref, rtol, atol) -> bool:
    import torch

    default_rtol, default_atol = {torch.float16: (2e-3, 2e-3), torch.bfloat16: (2e-2, 2e-2)}.get(out.dtype,
                                                                                                 (1e-5, 1e-5))
    return torch.allclose(out.float(), ref.float(), rtol=rtol if rtol is not None else default_rtol,
                          atol=atol if atol is not None else default_atol, equal_nan=False)


def _errors(outputs, expected) -> tuple[float, float]:
    abs_err = rel_err = 0.0
    for o, e in zip(outputs, expected):
        if o.numel() == 0:
            continue
        diff = (o.float() - e.float()).abs()
        abs_err = max(abs_err, diff.max().item())
        rel_err = max(rel_err, (diff / e.float().abs().clamp_min(1e-6)).max().item())
    return abs_err, rel_err


def _median_us(prepared, tensors, outputs, stream, reps: int) -> float:
    import torch

    from .runtime import gpu_time_ms

    args = ([t.data_ptr() for t in tensors], [o.data_ptr() for o in outputs], stream)
    return gpu_time_ms(lambda: prepared(*args), torch.cuda.current_stream(), reps) * 1e3
