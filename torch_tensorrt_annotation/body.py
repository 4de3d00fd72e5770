"""Op bodies: a function that allocates its outputs, launches one kernel and returns the outputs.

    def add_one(X):                                     # the Torch-TensorRT AOT plugin example's op, unchanged
        Y = torch.empty_like(X)
        grid = lambda meta: (triton.cdiv(X.numel(), meta["BLOCK_SIZE"]),)
        add_one_kernel[grid](X, X.numel(), Y, BLOCK_SIZE=256)
        return Y

is the launch function *and* the meta_impl of a plugin:

- **outputs**: the body runs on fake CUDA tensors (FakeTensorMode, the kernel launch swallowed); each tensor it
  returns is either an allocation it made (`torch.empty`, `empty_like`, `zeros`, `zeros_like`, `x.new_empty`,
  `x.new_zeros`, `full` of a constant), which becomes an output (its fake shape and dtype describe it, so no
  `meta_impl` is written), or one of its inputs, which becomes an in-place output. `zeros` (and `full` of 0) marks
  the output zeroed. An allocation that is not returned is scratch, which a TensorRT plugin does not get: refused.
- **launch**: when the body is recorded with symbolic proxies (see recording.py), its n-th allocation hands out
  the proxy of the output that allocation became, so the recorded kernel writes the plugin's output buffers.
- **configs** override the launch's keyword arguments of the same name (`BLOCK_SIZE`, `num_warps`, ...), or are
  passed to the body's own keyword-only parameters.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import recording
from .errors import RecordingError, RegistrationError, SpecError, TTAError

log = logging.getLogger(__name__)

EMPTY = frozenset({"empty", "empty_like", "new_empty", "empty_strided"})
ZEROS = frozenset({"zeros", "zeros_like", "new_zeros"})
FILLED = frozenset({"full", "full_like", "new_full", "ones", "ones_like", "new_ones"})
COPIES = frozenset({"clone", "rand", "randn", "rand_like", "randn_like", "arange", "tensor", "new_tensor"})
ALLOCATING = EMPTY | ZEROS | FILLED | COPIES
PROBE_RANKS = (2, 1, 3, 4)


class NotABody(SpecError):
    """The function returned nothing on fake inputs: a launch function (it writes preallocated outputs)."""


class BodyProbeFailed(SpecError):
    """The function failed on fake inputs of every probed rank."""


@dataclass(frozen=True)
class Allocation:
    """One tensor the body allocated: which function, where, and what it starts as (None: uninitialized)."""

    what: str
    location: str
    fill: Any = None

    def describe(self) -> str:
        return f"{self.what}(...) at {self.location}"


@dataclass(frozen=True)
class BodyInfo:
    """What a body's outputs are, read from one run on fake tensors."""

    name: str
    slots: tuple[int, ...]  # per allocation, in the order the body makes them: the output it becomes
    aliases: tuple[int | None, ...]  # per output: the input it is (in place), or None for an allocation
    zeroed: tuple[int, ...]  # outputs allocated with zeros
    allocations: tuple[Allocation, ...] = ()

    @property
    def num_outputs(self) -> int:
        return len(self.aliases)

    @property
    def launch_outputs(self) -> tuple[int, ...]:
        return tuple(j for j, a in enumerate(self.aliases) if a is None)


def _fill_value(name: str, args, kwargs):
    if name in ZEROS:
        return 0
    if name in ("ones", "ones_like", "new_ones"):
        return 1
    if name in ("full", "full_like", "new_full"):
        value = kwargs.get("fill_value", args[1] if len(args) > 1 else None)
        return value.item() if hasattr(value, "item") else value
    return None


def _tracker(body: Callable):
    import sys

    from torch.overrides import TorchFunctionMode

    body_code = getattr(inspect.unwrap(body), "__code__", None)
    own_codes = set()  # the body's code and the functions defined in it (they share its globals when recorded)
    stack = [body_code] if body_code is not None else []
    while stack:
        code = stack.pop()
        own_codes.add(code)
        stack.extend(c for c in code.co_consts if isinstance(c, type(code)))

    class Allocations(TorchFunctionMode):
        """Every tensor allocation made while the body runs (in the body or any helper it calls); `elsewhere`: those
        made by `torch.<fn>(...)` outside the body's own code, which the recording cannot hand an output."""

        def __init__(self):
            super().__init__()
            self.made: list[tuple[Any, Allocation]] = []
            self.elsewhere: list[Allocation] = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            name = getattr(func, "__name__", "")
            if name in ALLOCATING and type(out).__name__ != "Parameter" and hasattr(out, "shape"):
                allocation = Allocation(name, recording.user_location(), _fill_value(name, args, kwargs))
                self.made.append((out, allocation))
                # x.new_empty(...) is recorded wherever it is called; torch.<fn>(...) only in the body's code
                if own_codes and not name.startswith("new_") and sys._getframe(1).f_code not in own_codes:
                    self.elsewhere.append(allocation)
            return out

    return Allocations()


@dataclass
class FakeRun:
    """The body's run on fake tensors: what it returned (inputs mapped back to the caller's objects), the outputs
    as the caller's kind of tensor, and the analysis."""

    outputs: tuple
    info: BodyInfo


def _launch_interception():
    from .backends.triton import _intercept_launches

    return _intercept_launches()


def _no_wrap_triton():
    import contextlib

    try:
        from torch._library.triton import set_wrap_triton_enabled
    except ImportError:  # an older torch without wrap_triton: nothing to switch off
        return contextlib.nullcontext()
    return set_wrap_triton_enabled(False)


def run_fake(body: Callable, name: str, args: Sequence, kwargs: Mapping, n_inputs: int) -> FakeRun:
    """Run `body(*args, **kwargs)` on fake CUDA copies of its tensor inputs with kernel launches swallowed, and read
    its outputs. Inputs may be fake tensors of an active FakeTensorMode (symbolic shapes are kept), meta tensors or
    real tensors. Raises SpecError / RecordingError (naming the body's line) for outputs a plugin cannot have."""
    import torch
    from torch._guards import detect_fake_mode
    from torch._subclasses.fake_tensor import FakeTensorMode

    inputs = list(args[:n_inputs])
    outer = detect_fake_mode(inputs)
    mode = outer or FakeTensorMode()
    tracker = _tracker(body)
    with mode:
        fakes = [torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="cuda")
                 if isinstance(t, torch.Tensor) else t for t in inputs]
        with _launch_interception(), recording.swallowing_launches(name) as recorder, _no_wrap_triton(), tracker:
            result = body(*fakes, *args[n_inputs:], **kwargs)
    where = f"op body '{name}'"
    if result is None:
        raise NotABody(
            f"The {where} returned nothing. An op body returns its outputs: the tensors it allocates (return Y) or "
            "the inputs it updates in place (return x). Fix: return them; or, for a launch function that writes "
            "preallocated outputs, pass meta_impl= to tta.custom_plugin."
        )
    outputs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    made = tracker.made
    if tracker.elsewhere:
        raise SpecError(
            f"The {where} allocates outside its own code: {'; '.join(a.describe() for a in tracker.elsewhere)}. "
            "tta hands the plugin's output buffers to the allocations the body itself makes (torch.<fn>(...) in "
            "the body, or x.new_empty(...) anywhere). Fix: allocate the outputs in the body and pass them to the "
            "helper."
        )
    aliases: list[int | None] = []
    slot_of: dict[int, int] = {}
    zeroed: list[int] = []
    for j, out in enumerate(outputs):
        k_input = next((i for i, t in enumerate(fakes) if out is t), None)
        k_alloc = next((k for k, (t, _) in enumerate(made) if out is t), None)
        if k_input is not None:
            aliases.append(k_input)
            continue
        if k_alloc is None:
            raise SpecError(
                f"Output {j} of {where} is neither a tensor the body allocated (torch.empty / empty_like / zeros / "
                f"new_empty ...) nor one of its inputs, but a {type(out).__name__}"
                f"{'' if not isinstance(out, torch.Tensor) else ' computed or viewed from other tensors'}. A "
                "TensorRT plugin's outputs are buffers TensorRT allocates and the kernel writes. Fix: allocate the "
                "output and let the kernel write it, then return it as allocated (not a view of it)."
            )
        allocation = made[k_alloc][1]
        if k_alloc in slot_of:
            raise SpecError(f"{where} returns the tensor from {allocation.describe()} twice. Fix: return it once.")
        if allocation.what in COPIES:
            raise SpecError(
                f"Output {j} of {where} comes from {allocation.describe()}, which fills it with data before the "
                "kernel runs; TensorRT runs a plugin as one kernel on outputs it does not initialize. Fix: "
                "allocate it with torch.empty / empty_like and let the kernel write every element."
            )
        if allocation.fill is not None and allocation.fill != 0:
            raise SpecError(
                f"Output {j} of {where} starts as {allocation.fill!r} ({allocation.describe()}), but a TensorRT "
                "plugin runs one kernel on outputs it does not initialize, and tta can only start an output as "
                "zeros (eagerly). Fix: allocate it with torch.empty / empty_like and write the value in the kernel."
            )
        if allocation.fill == 0:
            zeroed.append(j)
        slot_of[k_alloc] = j
        aliases.append(None)
    scratch = [a for k, (_, a) in enumerate(made) if k not in slot_of]
    if scratch:
        raise SpecError(
            f"{where} allocates {len(scratch)} tensor(s) it does not return: "
            f"{'; '.join(a.describe() for a in scratch)}. A tensor the body allocates but does not return is "
            "scratch memory, and a TensorRT AOT plugin gets no workspace (it runs one kernel on the buffers "
            "TensorRT passes: the op's inputs and outputs). Fix: return it as an extra output of the op, or compute "
            "without it in the kernel."
        )
    if not recorder.launches:
        raise RecordingError(
            f"The {where} launched no Triton kernel. A body must launch exactly one @triton.jit kernel with "
            "kernel[grid](...) or torch.library.wrap_triton(kernel)[grid](...). Fix: make sure the launch is not "
            "skipped (for example by an early return)."
        )
    if len(recorder.launches) > 1:
        raise RecordingError(
            f"The {where} launched {len(recorder.launches)} kernels, at "
            f"{'; '.join(lnc.location for lnc in recorder.launches)}. A TensorRT AOT plugin runs exactly one kernel "
            "per tactic. Fix: fuse the kernels, or make each launch its own op."
        )
    slots = tuple(slot_of[k] for k in range(len(made)))
    info = BodyInfo(name, slots, tuple(aliases), tuple(zeroed), tuple(a for _, a in made))
    mapped = []
    for alias, out in zip(aliases, outputs):
        if alias is not None:
            mapped.append(inputs[alias])  # the caller's own input object: in place
        elif outer is None:  # the caller passed meta or real tensors: meta tensors describe the outputs
            mapped.append(torch.empty_strided(out.shape, out.stride(), dtype=out.dtype, device="meta"))
        else:  # fake tensors of the caller's mode, on the caller's device (the body ran on CUDA copies)
            device = next((t.device for t in inputs if isinstance(t, torch.Tensor)), out.device)
            with outer:
                mapped.append(out if out.device == device else
                              torch.empty_strided(out.shape, out.stride(), dtype=out.dtype, device=device))
    return FakeRun(tuple(mapped), info)


def signature_of(body: Callable, where: str) -> inspect.Signature:
    """The op's signature: the body's positional parameters (tensors, then attributes); keyword-only parameters
    are configuration (a config entry of that name is passed to it)."""
    try:
        sig = inspect.signature(body)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"Cannot read the signature of {where}: {exc}.") from exc
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return sig.replace(parameters=params)


def keyword_params(body: Callable) -> "set[str] | None":
    """The body's keyword-only parameter names (None: it takes **kwargs, so every config key)."""
    params = inspect.signature(body).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind == p.KEYWORD_ONLY}


def config_kwargs(body: Callable, config: Mapping) -> dict:
    """The config entries the body takes as keyword-only parameters."""
    accepted = keyword_params(body)
    return {k: v for k, v in config.items() if accepted is None or k in accepted}


def meta_impl_of(body: Callable, name: str, config: Mapping | None = None) -> Callable:
    """A meta_impl (and torch fake kernel) for `body`: its positional signature, running the body on fake tensors
    with launches swallowed. Its outputs are the body's allocations (meta / fake tensors) and inputs (in place)."""
    sig = signature_of(body, f"op body '{name}'")
    n_inputs_cache: list[int] = []
    kwargs = config_kwargs(body, config or {})

    @functools.wraps(body)
    def meta_impl(*args, **attrs):
        if not n_inputs_cache:
            from .schema import parse_params

            n_inputs_cache.append(len(parse_params(meta_impl, f"op body '{name}'")[0]))
        bound = sig.bind(*args, **attrs)
        bound.apply_defaults()
        run = run_fake(body, name, tuple(bound.args), kwargs, n_inputs_cache[0])
        return run.outputs[0] if len(run.outputs) == 1 and not _returns_tuple(body) else run.outputs

    meta_impl.__signature__ = sig  # type: ignore[attr-defined]
    meta_impl.__tta_body__ = body  # type: ignore[attr-defined]
    return meta_impl


def _returns_tuple(body: Callable) -> bool:
    import typing

    try:
        ret = typing.get_type_hints(body).get("return")
    except Exception:  # noqa: BLE001 - unresolvable annotations: not a tuple
        return False
    return typing.get_origin(ret) is tuple


def analyze(body: Callable, name: str, attrs: Sequence, config: Mapping | None = None) -> BodyInfo:
    """The body's outputs, from runs on small fake tensors of a few ranks (the first rank the body accepts).
    Errors tta raises about the body (scratch, launches, outputs) are raised at once."""
    import torch

    from .schema import parse_params

    sig_holder = meta_impl_of(body, name, config)
    inputs, _ = parse_params(sig_holder, f"op body '{name}'")
    kwargs = config_kwargs(body, config or {})
    failures = []
    for rank in PROBE_RANKS:
        probe = [torch.empty((8,) * rank, device="meta") for _ in inputs]
        try:
            return run_fake(body, name, (*probe, *attrs), kwargs, len(inputs)).info
        except TTAError:
            raise
        except Exception as exc:  # noqa: BLE001 - this rank may not suit the body; try another
            failures.append(f"rank {rank}: {type(exc).__name__}: {exc}")
    raise BodyProbeFailed(
        f"Op body '{name}' failed on fake CUDA inputs of every probed rank {PROBE_RANKS} (all dims 8, float32), so "
        f"its outputs cannot be read: {'; '.join(failures)}. Fix: make the body run for such inputs, or pass "
        "meta_impl= describing the outputs."
    )


# --- recording -----------------------------------------------------------------------------------------------
class OutputAllocator:
    """While a body is recorded: its k-th allocation is the proxy of the output it became (BodyInfo.slots)."""

    def __init__(self, info: BodyInfo, outputs: Mapping[int, Any], where: str):
        self.info, self.outputs, self.where, self.count = info, outputs, where, 0

    def __call__(self, what: str, args, kwargs):
        k = self.count
        self.count += 1
        if k >= len(self.info.slots):
            raise RecordingError(
                f"{self.where}The op body allocates more tensors ({what}(...) at {recording.user_location()} is "
                f"allocation {k + 1}) than when its outputs were read ({len(self.info.slots)}): it allocates "
                "differently for these shapes or dtypes. Fix: allocate the same outputs, in the same order, for every "
                "input."
            )
        expected = self.info.allocations[k].what if k < len(self.info.allocations) else what
        if expected != what and not {expected, what} <= EMPTY | ZEROS:
            raise RecordingError(
                f"{self.where}Allocation {k + 1} of the op body is {what}(...) at {recording.user_location()}, but was "
                f"{expected}(...) when its outputs were read. Fix: allocate the same outputs, in the same order, "
                "for every input."
            )
        return self.outputs[self.info.slots[k]]


def record_body(spec, tensors: Sequence, attrs: Sequence, kwargs: Mapping, overrides: Mapping[int, Any],
                where: str) -> "recording.Recorder":
    """Record `spec.launch_fn`, an op body: inputs and attributes in, allocations handed the output proxies; the
    outputs it returns are checked against its BodyInfo."""
    from .spec import INPUT, OUTPUT

    info: BodyInfo = spec.op_body
    inputs = [t for t in tensors if t.tta_role[0] == INPUT]
    outputs = {t.tta_role[1]: t for t in tensors if t.tta_role[0] == OUTPUT}
    allocator = OutputAllocator(info, outputs, where)
    with recording.allocating_outputs(allocator), _no_wrap_triton():
        recorder = recording.run_recording(spec.launch_fn, [*inputs, *attrs], kwargs, overrides)
    if not recorder.launches:
        return recorder  # the backend says that no kernel was launched
    result = recorder.result
    returned = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    expected = [inputs[a] if a is not None else outputs.get(j) for j, a in enumerate(info.aliases)]
    if len(returned) != len(expected) or any(r is not e for r, e in zip(returned, expected)):
        raise RecordingError(
            f"{where}The op body returned {len(returned)} value(s) that are not the outputs read from its run on "
            f"fake tensors ({info.num_outputs}: {', '.join(_describe(info, j) for j in range(info.num_outputs))}). "
            "Fix: return the same allocations and inputs, in the same order, for every input."
        )
    return recorder


def _describe(info: BodyInfo, j: int) -> str:
    a = info.aliases[j]
    if a is not None:
        return f"input {a}"
    k = info.slots.index(j)
    return info.allocations[k].describe() if k < len(info.allocations) else f"allocation {k + 1}"


def check_launch_override(plan_grid, grid_is_callable: bool, replaced: Mapping[str, Any], where: str,
                          location: str) -> None:
    """A config that overrides a hard-coded launch keyword (BLOCK_SIZE=256 -> 1024) must also change the grid. With
    a grid lambda reading meta[...] it does; a grid tuple computed from the hard-coded value would not, and the
    kernel would cover the wrong range: refused when the grid contains that value."""
    import re

    if grid_is_callable or not replaced:
        return
    text = " ".join(str(g) for g in plan_grid)
    stale = {k: v for k, v in replaced.items() if isinstance(v, int) and not isinstance(v, bool)
             and v > 1 and re.search(rf"(?<![\w.]){v}(?![\w.])", text)}
    if stale:
        key, value = next(iter(stale.items()))
        raise RecordingError(
            f"{where}The config overrides {key}={value} hard-coded in the kernel launch at {location}, but the grid "
            f"({text}) was computed from {value} before the launch, so it would not follow the config. Fix: make "
            f"the grid a lambda reading the launch's value, e.g. grid = lambda meta: (triton.cdiv(n, "
            f"meta['{key}']),), or take {key} as a keyword-only parameter of the body."
        )


# --- registering an existing torch op ------------------------------------------------------------------------
@dataclass(frozen=True)
class Aot:
    """`tta.aot(configs=[...])`: the TensorRT AOT side of a torch op that already exists (see `tta.aot`)."""

    configs: Any = None
    fn: Callable | None = None
    name: str | None = None


def _user_function(op_name: str, fn: Callable | None) -> tuple[Callable, Any]:
    """(the op's Python body, its CustomOpDef or None) for an op defined with torch.library.custom_op/triton_op."""
    from torch._library.custom_ops import OPDEFS

    opdef = OPDEFS.get(op_name)
    if fn is not None:
        return fn, opdef
    if opdef is None:
        raise RegistrationError(
            f"No torch op '{op_name}' defined with torch.library.custom_op or torch.library.triton_op in this process "
            "(define it before registering its TensorRT side). Fix: import the module that defines it first, or "
            f"pass its body: tta.custom_op('{op_name}', impl=tta.aot(fn=<the function>, configs=[...]))."
        )
    init = opdef._init_fn
    inner = inspect.getclosurevars(init).nonlocals.get("fn") if getattr(init, "__name__", "") == "backend_fn" \
        else None
    return (inner if callable(inner) else init), opdef


def plugin_for_op(op_name: str, request: Aot):
    """The CustomPlugin of an existing torch op's body, its schema checked against the op's, its outputs against
    the op's fake kernel (register_fake) on example shapes."""
    from .api import triton
    from .plugin import CustomPlugin

    body, _opdef = _user_function(op_name, request.fn)
    short = op_name.split("::")[-1]
    spec = triton(body, configs=request.configs, name=request.name or short)
    plugin = CustomPlugin([spec], None, request.name or short)
    _check_schema(plugin, op_name)
    _check_fake(plugin, op_name)
    return plugin


def _torch_op(op_name: str):
    import torch

    namespace, name = op_name.split("::")
    try:
        return getattr(getattr(torch.ops, namespace), name).default
    except (AttributeError, RuntimeError):
        return None


def _check_schema(plugin, op_name: str) -> None:
    op = _torch_op(op_name)
    if op is None:
        raise RegistrationError(f"torch op '{op_name}' does not exist. Fix: define it (torch.library.custom_op) first.")
    theirs = op._schema
    args = [(a.name, str(a.type)) for a in theirs.arguments]
    ours = [(n, "Tensor") for n in plugin.schema.inputs] + [(a.name, a.type.__name__) for a in plugin.schema.attrs]
    if [n for n, _ in args] != [n for n, _ in ours] or any(
            (t == "Tensor") != (o == "Tensor") for (_, t), (_, o) in zip(args, ours)) or \
            len(theirs.returns) != plugin.schema.num_outputs:
        raise RegistrationError(
            f"torch op '{op_name}' has schema {theirs}, but its body reads as {plugin.schema.torch_schema()} "
            f"({len(theirs.returns)} vs {plugin.schema.num_outputs} outputs). Fix: register the body of that very op."
        )
    mutated = [a.name for a in theirs.arguments if a.alias_info is not None and a.alias_info.is_write]
    if mutated:
        raise RegistrationError(
            f"torch op '{op_name}' mutates {mutated}; Torch-TensorRT functionalizes such ops before conversion, so "
            "its TensorRT converter would never be called. Fix: make the op functional (return new outputs), or "
            "use tta.custom_plugin(tta.triton(body)) whose in-place outputs are returned inputs."
        )


def same_arity(specs, meta_impl) -> bool:
    """Whether every Triton spec's function takes exactly meta_impl's positional parameters (no outputs): an op
    body, or a launch function whose outputs are all in place."""
    from .spec import KernelSpec

    specs = [specs] if isinstance(specs, KernelSpec) else list(specs)
    try:
        wanted = len(signature_of(meta_impl, "meta_impl").parameters)
        return all(s.backend == "triton" and len(signature_of(s.launch_fn, s.name).parameters) == wanted
                   for s in specs)
    except (SpecError, TypeError, ValueError):
        return False


def _check_fake(plugin, op_name: str) -> None:
    """The op's fake kernel (the user's register_fake) and the body's outputs agree on example shapes."""
    op = _torch_op(op_name)
    check_outputs_agree(plugin, op, "its fake kernel (register_fake)", f"torch op '{op_name}'", RegistrationError)


def check_outputs_agree(plugin, theirs_fn, what: str, where: str, error: type) -> None:
    """`theirs_fn` (a fake kernel or meta_impl) and the body's outputs agree (count, shapes, dtypes) on example
    shapes; otherwise `error` names each output and says `what` is the wrong one."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    op = theirs_fn
    attrs = [a.placeholder() for a in plugin.schema.attrs]
    for rank in PROBE_RANKS:
        shape = (8,) * rank
        try:
            recorded = plugin.meta_impl(*[torch.empty(shape, device="meta") for _ in plugin.schema.inputs], *attrs)
        except TTAError:
            raise
        except Exception as exc:  # noqa: BLE001 - try another rank
            log.debug("%s: body on rank %d: %s", where, rank, exc)
            continue
        recorded = recorded if isinstance(recorded, (tuple, list)) else (recorded,)
        try:
            with FakeTensorMode():
                fakes = [torch.empty(shape, device="cuda") for _ in plugin.schema.inputs]
                theirs = op(*fakes, *attrs)
                theirs = theirs if isinstance(theirs, (tuple, list)) else (theirs,)
                theirs = [(tuple(t.shape), t.dtype) for t in theirs]
        except Exception as exc:  # noqa: BLE001 - no fake kernel, or it failed: torch will say so when tracing
            log.warning("%s: %s could not be checked against the body on shape %s: %s", where, what, shape, exc)
            return
        ours = [(tuple(t.shape), t.dtype) for t in recorded]
        if theirs != ours:
            info = plugin.body_info
            lines = "; ".join(f"output {j}: {_describe(info, j)} gives {ours[j][0]} {ours[j][1]}"
                              for j in range(len(ours)))
            raise error(
                f"{where}: {what} says the outputs for inputs of shape {shape} float32 are "
                f"{[f'{s} {d}' for s, d in theirs]} ({len(theirs)}), but the op's body allocates {lines}. TensorRT "
                f"sizes its buffers from the body, torch.export and torch.compile from {what}, so {what} is "
                "wrong. Fix: make it return tensors like the body's allocations."
            )
        return
