"""The `custom_plugin` descriptor: specs + meta_impl -> a named op with numbered tactics and AOT artifacts."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable, Sequence

from . import cache as disk_cache
from . import recording, symbolic
from . import schema as schema_mod
from ._version import __version__
from .aot import build_artifact
from .backends.base import get_backend
from .compile_pool import compile_many
from .errors import CompileError, CompileResult, DtypeError, RecordingError, SpecError, TTAWarning, warn
from .sources import global_values, source_of
from .spec import CONSTANT, EXTRA, INPUT, OUTPUT, Artifact, KernelSpec, LaunchPlan, Tactic, Target
from .write_check import check_writes

log = logging.getLogger(__name__)

HASH_LENGTH = 12
DROPPED = "were dropped (see the returned list's .dropped)"
RECOMPILE_LIMIT_ENV = "TTA_RECOMPILE_LIMIT"
DEFAULT_RECOMPILE_LIMIT = 8


@dataclasses.dataclass(frozen=True, eq=False)
class Specialization:
    """What one compile of a tactic is keyed on: the recorded launch for a dtype/rank/attribute signature, the values
    baked into the kernel, and the guards under which its artifact may be reused. Two equal `key`s give the same
    artifact (the memory cache's key; with the sources' hash and the toolchain's version, the disk cache's)."""

    tactic: Tactic
    target: Target
    plan: LaunchPlan
    constants: dict  # kernel argument name -> compile-time value
    guards: tuple  # ((symbolic expr, value), ...): facts about the dims the artifact holds for
    divisible: frozenset  # int32 extras the compiler may take to be multiples of 16
    in_dtypes: tuple
    out_dtypes: tuple
    in_ranks: tuple[int, ...]
    out_ranks: tuple[int, ...]
    attrs: tuple  # the op's attribute values, in schema order
    attr_key: tuple  # the attribute values when the backend compiles them into the source, else ()

    @functools.cached_property
    def key(self) -> tuple:
        return (self.tactic.number, self.target, self.in_dtypes, self.out_dtypes, (self.in_ranks, self.out_ranks),
                _freeze(self.constants), self.guards, tuple(sorted(self.divisible)), self.attr_key,
                _plan_key(self.plan))


class CustomPlugin:
    """An op made of one or more kernel specs. Create it with `tta.custom_plugin(...)`.

    - `op_name` is `tta::<name>_<hash>`, stable across processes and machines for the same sources.
    - `tactics` numbers every (spec, config) pair 1..N, in the order given.
    - `compile(*example_inputs, arch=..., ptx_isa=...)` returns one TensorRT-ready Artifact per tactic.
    """

    def __init__(self, specs: Sequence[KernelSpec], meta_impl: Callable | None, name: str | None = None,
                 zeroed_outputs: "Sequence[int | str] | int | str" = ()):
        if isinstance(specs, KernelSpec):
            specs = [specs]
        specs = tuple(specs)
        if not specs or not all(isinstance(s, KernelSpec) for s in specs):
            raise SpecError(
                f"custom_plugin takes a spec or a list of specs made by tta.triton(...), got {specs!r}."
            )
        specs = tuple(get_backend(s.backend).expand_configs(s) for s in specs)
        self.body_info = None
        if meta_impl is None:  # op bodies: they allocate and return their outputs (body.py)
            specs, meta_impl, self.body_info = _from_bodies(specs, _identifier(name or specs[0].name))
            if self.body_info.zeroed:
                listed = (zeroed_outputs,) if isinstance(zeroed_outputs, (int, str)) else tuple(zeroed_outputs)
                zeroed_outputs = tuple(dict.fromkeys((*listed, *self.body_info.zeroed)))
        self.specs = specs
        self.meta_impl = meta_impl
        self.name = _identifier(name or specs[0].name)
        where = f"plugin '{self.name}'"
        if self.body_info is not None:  # the bodies' fake runs already read which outputs are inputs
            aliases = self.body_info.aliases
        else:
            inputs, attrs = schema_mod.parse_params(meta_impl, where)
            aliases = _probe_aliases(meta_impl, len(inputs), attrs)
        self.schema = schema_mod.from_meta_impl(meta_impl, _outputs_from_launch_fns(specs, meta_impl, where), where,
                                                aliases)
        self.zeroed_outputs = _resolve_zeroed(zeroed_outputs, self.schema, specs, where)
        self.tactics = tuple(
            Tactic(n, spec, config)
            for n, (spec, config) in enumerate(((s, c) for s in specs for c in s.configs), start=1)
        )
        self.hash = self._content_hash()
        self.op_name = f"tta::{self.name}_{self.hash}"
        self._lock = threading.RLock()
        self._plans: dict = {}
        self._warned_recompiles: set[int] = set()
        self._artifacts: dict = {}
        self._check_meta_impl_returns_tensors()
        self._check_launches()

    def __repr__(self):
        return f"CustomPlugin({self.op_name}, {len(self.tactics)} tactic(s), schema {self.schema.torch_schema()})"

    # --- identity --------------------------------------------------------------------------------------------
    def _content_hash(self) -> str:
        payload: dict = {
            "name": self.name,
            "schema": self.schema.torch_schema(),
            "meta_impl": source_of(self.meta_impl),
            "meta_impl_globals": global_values(self.meta_impl),
            "specs": [
                {
                    "backend": s.backend,
                    "name": s.name,
                    "configs": [c.canonical() for c in s.configs],
                    "sources": get_backend(s.backend).fingerprint(s),
                    # module-level values the launch function (and the helpers it calls) reads: a grid divisor
                    # or block size edited there changes the recorded launch, so it must change the name too
                    "launch_globals": global_values(s.launch_fn),
                }
                for s in self.specs
            ],
        }
        if self.zeroed_outputs:
            payload["zeroed_outputs"] = list(self.zeroed_outputs)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:HASH_LENGTH]

    # --- early checks ----------------------------------------------------------------------------------------
    def _check_meta_impl_returns_tensors(self) -> None:
        """Call meta_impl on small meta tensors. Errors other than a wrong return type are left for compile time,
        since the probe's rank may simply not suit this meta_impl."""
        import torch

        probe = [torch.empty((8,) * 2, device="meta") for _ in self.schema.inputs]
        try:
            result = self.meta_impl(*probe, *(a.placeholder() for a in self.schema.attrs))
        except Exception as exc:  # noqa: BLE001 - the probe shape may not suit; compile will tell
            log.debug("meta_impl probe of %s skipped: %s", self.name, exc)
            return
        self._outputs_of(result, probe)

    def _outputs_of(self, result, inputs: Sequence = ()) -> tuple:
        """meta_impl's outputs, checked: tensors, as many as the schema has, aliasing the inputs it declares."""
        import torch

        outputs = result if isinstance(result, (tuple, list)) else (result,)
        bad = [type(o).__name__ for o in outputs if not isinstance(o, torch.Tensor)]
        if bad or len(outputs) != self.schema.num_outputs:
            raise SpecError(
                f"meta_impl of plugin '{self.name}' must return {self.schema.num_outputs} tensor(s) describing the "
                f"outputs (shape and dtype), got {type(result).__name__} ({', '.join(bad) or len(outputs)}). "
                "Fix: return torch.empty_like(x) / x.new_empty(shape, dtype=...) for each output."
            )
        if inputs:
            check_aliases(self, outputs, inputs)
        return tuple(outputs)

    def _check_launches(self) -> None:
        """Record every tactic once with placeholder tensors, so structural mistakes fail here, not in a build."""
        import torch

        for tactic in self.tactics:
            tensors = [recording.SymTensor(INPUT, i, n, torch.float32, None)
                       for i, n in enumerate(self.schema.inputs)]
            tensors += [recording.SymTensor(OUTPUT, j, f"out{j}", torch.float32, None)
                        for j in self.schema.launch_outputs]
            attrs = recording.attribute_proxies([a.name for a in self.schema.attrs],
                                        [a.placeholder() for a in self.schema.attrs])
            ctx = recording.ShapeContext()  # neither shapes nor a profile: a decision on a dim stops the check
            ctx.aliases = tuple(self.schema.aliases)
            try:
                with recording.shape_context(ctx):
                    get_backend(tactic.spec.backend).record(tactic.spec, tactic.config, tensors, attrs)
            except recording.ShapesUnknown as exc:
                log.debug("launch check of %s deferred to compile time: needs ranks or shapes (%s)",
                          tactic.describe(), exc)
            except CompileError as exc:  # e.g. pruned by the kernel's prune_configs_by: decided per signature
                log.debug("launch check of %s: %s", tactic.describe(), exc.message)
            except RecordingError as exc:
                raise type(exc)(f"[{self.name}, {tactic.describe()}] {exc.message}") from None

    # --- recording and compiling -----------------------------------------------------------------------------
    def example_signature(self, example_inputs: tuple, example_kwargs: dict | None = None):
        """(tensors, attr values, input shapes, input dtypes, output shapes, output dtypes) for example inputs."""
        import torch

        tensors, attrs = self.schema.split(tuple(example_inputs), example_kwargs or {}, self.op_name)
        for name, t in zip(self.schema.inputs, tensors):
            if not isinstance(t, torch.Tensor):
                raise SpecError(f"Input '{name}' of op '{self.op_name}' must be a tensor, got {type(t).__name__}.")
        meta_in = [torch.empty(t.shape, dtype=t.dtype, device="meta") for t in tensors]
        try:
            outputs = self._outputs_of(self.meta_impl(*meta_in, *attrs), meta_in)
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(f"meta_impl of plugin '{self.name}' failed on the example inputs: {exc!r}") from exc
        return (
            tensors,
            attrs,
            tuple(tuple(t.shape) for t in tensors),
            tuple(t.dtype for t in tensors),
            tuple(tuple(o.shape) for o in outputs),
            tuple(o.dtype for o in outputs),
        )

    def plan(self, tactic: Tactic, input_dtypes, input_ranks, output_dtypes, output_ranks, attrs,
             shapes: symbolic.Shapes | None = None, profile: symbolic.Profile | None = None) -> LaunchPlan:
        """The recorded launch of `tactic` for this dtype/rank/attribute signature, guarded specialization style.

        With `shapes` (concrete dims: eager, `compile`), the first recording whose guards hold for them is reused;
        on a guard miss the launch is recorded again with these shapes as hints (cached per guard outcome, like
        torch.compile's recompiles; `TTAWarning` once past TTA_RECOMPILE_LIMIT, default 8, recordings of one
        signature). With `profile` (a TensorRT build), one recording per profile: static dims concrete, dynamic
        dims symbolic. With neither, a launch that decides on a dim raises RecordingError.
        """
        base = (tactic.number, tuple(input_dtypes), tuple(input_ranks), tuple(output_dtypes), tuple(output_ranks),
                tuple(attrs))
        with self._lock:
            if profile is not None:
                key = base + (profile,)
                if key not in self._plans:
                    self._plans[key] = [self._record(tactic, input_dtypes, input_ranks, output_dtypes, output_ranks,
                                                     attrs, recording.ShapeContext(profile=profile))]
                return self._plans[key][0]
            entries = self._plans.setdefault(base, [])
            for plan in entries:
                if plan.holds_for(shapes) if shapes is not None else not plan.guards:
                    return plan
            plan = self._record(tactic, input_dtypes, input_ranks, output_dtypes, output_ranks, attrs,
                                recording.ShapeContext(hints=shapes))
            entries.append(plan)
            if len(entries) > 1:
                self._recompiled(tactic, plan, shapes, len(entries))
            return plan

    def _record(self, tactic, input_dtypes, input_ranks, output_dtypes, output_ranks, attrs,
                ctx: recording.ShapeContext) -> LaunchPlan:
        tensors = [recording.SymTensor(INPUT, i, n, d, r)
                   for i, (n, d, r) in enumerate(zip(self.schema.inputs, input_dtypes, input_ranks))]
        tensors += [recording.SymTensor(OUTPUT, j, f"out{j}", output_dtypes[j], output_ranks[j])
                    for j in self.schema.launch_outputs]
        ctx.names = {t.tta_role: t._name for t in tensors}
        ctx.aliases = tuple(self.schema.aliases)
        ctx.where = f"[{self.name}, {tactic.describe()}] "
        backend = get_backend(tactic.spec.backend)
        try:
            with recording.shape_context(ctx):
                proxies = recording.attribute_proxies([a.name for a in self.schema.attrs], attrs)
                plan = backend.record(tactic.spec, tactic.config, tensors, proxies)
            self._check_zeroed_outputs(plan)
        except RecordingError as exc:
            message = exc.message if exc.message.startswith(ctx.where) else ctx.where + exc.message
            raise type(exc)(message) from None
        except recording.ShapesUnknown as exc:
            raise RecordingError(
                f"{ctx.where}The launch function needs the value of a tensor dim ({exc}), which needs example "
                "shapes, but none were given. Fix: compile with example inputs (plugin.compile(x, ...)) or pass "
                "shapes=."
            ) from None
        return dataclasses.replace(plan, guards=tuple((g.expr, g.value) for g in ctx.guards))

    def _recompiled(self, tactic: Tactic, plan: LaunchPlan, shapes, count: int) -> None:
        import os
        import warnings

        guards = ", ".join(f"{e} == {v}" for e, v in plan.guards) or "none"
        log.info("%s: %s recorded again for shapes %s (guard miss; new guards: %s)", self.op_name,
                 tactic.describe(), shapes.inputs if shapes is not None else None, guards)
        limit = int(os.environ.get(RECOMPILE_LIMIT_ENV, "") or DEFAULT_RECOMPILE_LIMIT)
        if count > limit and tactic.number not in self._warned_recompiles:
            self._warned_recompiles.add(tactic.number)
            warnings.warn(
                f"Op '{self.op_name}' {tactic.describe()} was recorded and compiled {count} times for one dtype/rank "
                f"signature: its launch function decides on dims ({guards}) and each new outcome compiles a new "
                f"kernel. Fix: make the decision a config value, bucket the dims it reads (e.g. "
                f"triton.next_power_of_2), or raise {RECOMPILE_LIMIT_ENV} if this is expected.",
                TTAWarning, stacklevel=2)

    def _check_zeroed_outputs(self, plan: LaunchPlan) -> None:
        """A launch that needs outputs zeroed first (@triton.autotune(reset_to_zero=...)): accepted only where the
        plugin zeroes those outputs before the launch (`zeroed_outputs`)."""
        required = dict(plan.options).get("zeroed_outputs", ())
        missing = [i for i in required if i not in self.zeroed_outputs]
        if not missing:
            return
        fix = f"pass zeroed_outputs={tuple(missing)} to tta.custom_plugin"
        raise RecordingError(
            f"Kernel '{plan.kernel_name}' accumulates into output(s) {missing} (its @triton.autotune declares "
            f"reset_to_zero for them): they must start zeroed, but tta allocates outputs uninitialized, so the op "
            f"would return garbage. Fix: {fix}."
        )

    def compile(self, *example_inputs, arch: "str | int" = "sm_90", ptx_isa=None, workers: int | None = None,
                **example_kwargs) -> CompileResult:
        """Compile every tactic for `arch` (e.g. "sm_90", "sm_90a", 90) and `ptx_isa` (e.g. (9, 0) or "9.0", the
        newest ISA the deployment driver accepts); return the Artifacts that compiled, in tactic order.

        The result is a list (`CompileResult`) whose `.dropped` maps each tactic that did not compile to the reason;
        dropping one also warns (`TTAWarning`). If none compiles, CompileError lists every failure. A malformed
        `arch`/`ptx_isa`, or an ISA too old for the arch, raises SpecError before anything compiles; a compiler that
        crashes its worker process drops that tactic, naming it. Example inputs follow the op schema (tensors, then
        attribute values) and may be meta tensors. Artifacts come
        from the in-memory and disk caches when they can; the others compile in parallel processes (`workers`,
        default: one per tactic up to the CPU count; TTA_COMPILE_WORKERS overrides; 1 compiles in this process).
        """
        target = resolve_target(arch, ptx_isa)
        tensors, attrs, in_shapes, in_dtypes, out_shapes, out_dtypes = self.example_signature(
            example_inputs, example_kwargs
        )
        shapes = symbolic.Shapes(in_shapes, out_shapes, tuple(attrs))
        signature = dict(in_dtypes=in_dtypes, out_dtypes=out_dtypes, attrs=attrs, shapes=shapes,
                         in_ranks=[len(x) for x in in_shapes], out_ranks=[len(x) for x in out_shapes])
        results = compile_many(self, list(self.tactics), target, signature, workers)
        return self.keep_compiled(self.tactics, results, f" for {target.sm}")

    def keep_compiled(self, tactics, results, where: str = "", fate: str = DROPPED,
                      op_name: str | None = None) -> CompileResult:
        """The artifacts among `results` (one per tactic), with `.dropped` = {tactic: reason}. Tactics that failed
        to compile are left out and warned about once (TTAWarning), saying `fate`; one whose kernel does not take
        these dtypes (DtypeError) is left out quietly while another takes them. None left raises: DtypeError when
        no kernel takes the dtypes, else CompileError listing each failure."""
        op_name = op_name or self.op_name
        artifacts, failures, wrong_dtype, dropped = [], [], [], {}
        for tactic, result in zip(tactics, results):
            if isinstance(result, DtypeError):
                log.info("%s: %s does not take these dtypes: %s", op_name, tactic.describe(), result.message)
                wrong_dtype.append((tactic, result))
            elif isinstance(result, CompileError):
                log.info("%s: dropping %s: %s", op_name, tactic.describe(), result.message)
                failures.append(f"{tactic.describe()}: {result.message}")
                dropped[tactic.number] = result.message
            else:
                artifacts.append(result)
        if not artifacts:
            if wrong_dtype and not failures:
                first_tactic, first = wrong_dtype[0]
                same = [t for t, e in wrong_dtype[1:]
                        if e.message.replace(t.describe(), "") == first.message.replace(first_tactic.describe(), "")]
                rest = [e.message for t, e in wrong_dtype[1:] if t not in same]
                text = first.message + (f" (The same for tactic(s) {', '.join(str(t.number) for t in same)}.)"
                                        if same else "")
                raise DtypeError("\n".join([text, *rest]), first.role, first.index)
            failures += [e.message for _, e in wrong_dtype]
            raise CompileError(f"No tactic of op '{op_name}' compiled{where}:\n  " + "\n  ".join(failures))
        if dropped:
            count = f"{len(dropped)} of {len(tactics)}" if fate == DROPPED else str(len(dropped))
            warn(f"op '{op_name}': {count} tactic(s) did not compile{where} and {fate}:\n  " + "\n  ".join(failures),
                 stacklevel=3)
        return CompileResult(artifacts, dropped)

    def cached_artifact(self, tactic: Tactic, target: Target, **signature) -> Artifact | None:
        """The artifact from the in-memory or disk cache, without compiling (None on a miss)."""
        return self._lookup(self._specialize(tactic, target, **signature))[0]

    def compile_tactic(self, tactic: Tactic, target: Target, *, in_dtypes, out_dtypes, in_ranks, out_ranks, attrs,
                       shapes: symbolic.Shapes | None = None, specialize_divisibility: bool = False,
                       profile: symbolic.Profile | None = None) -> Artifact:
        """Compile one tactic for a signature (dtypes, ranks, attribute values) and the dims it is recorded for.

        `shapes` (concrete dims: eager launches, `compile`): the launch is recorded with these dims as hints, so its
        decisions on dims (branches, `int()`, values for `tl.constexpr`s, `num_warps`) are taken for them and
        guarded (`Artifact.guards`); other shapes that satisfy the guards reuse the artifact.
        `profile` (a TensorRT build): static dims are concrete, dynamic ones symbolic over their min/max; see
        `plan`. Extras that static dims make constant are known to the compiler (divisibility by 16), as eager's are.
        `specialize_divisibility` (with `shapes`): tell the compiler which int32 extras are multiples of 16 for these
        shapes, as Triton's own launcher does, which lets it vectorize masked loads; the artifact guards it.
        Raises RecordingError for a decision the dims cannot make, CompileError when the toolchain fails.
        """
        spec = self._specialize(tactic, target, in_dtypes=in_dtypes, out_dtypes=out_dtypes, in_ranks=in_ranks,
                                out_ranks=out_ranks, attrs=attrs, shapes=shapes,
                                specialize_divisibility=specialize_divisibility, profile=profile)
        artifact, disk_key = self._lookup(spec)
        if artifact is not None:
            return artifact
        plan, constants = spec.plan, spec.constants
        kernel_name = self.kernel_name(tactic, spec.key)
        backend = get_backend(tactic.spec.backend)
        try:
            compiled = backend.compile(plan, kernel_name=kernel_name, target=target, input_dtypes=spec.in_dtypes,
                                       output_dtypes=spec.out_dtypes, constants=constants, divisible=spec.divisible,
                                       config=tactic.config,
                                       attributes=dict(zip((a.name for a in self.schema.attrs), spec.attrs)))
        except DtypeError as exc:
            tensor = (f"input '{self.schema.inputs[exc.index]}'" if exc.role == INPUT
                      else f"output {exc.index}" if exc.role == OUTPUT else "a tensor")
            raise DtypeError(f"Op '{self.op_name}', {tactic.describe()}, {tensor}: {exc.message}", exc.role,
                             exc.index) from None
        artifact = build_artifact(tactic=tactic.number, backend=tactic.spec.backend, config=tactic.config,
                                  plan=plan, compiled=compiled, target=target, input_dtypes=spec.in_dtypes,
                                  output_dtypes=spec.out_dtypes, input_ranks=spec.in_ranks, constants=constants,
                                  guards=spec.guards, aliases=self.schema.aliases)
        check_writes(self, tactic, plan, artifact)
        if disk_key is not None:
            disk_cache.store(disk_key, artifact)
        return self.remember(spec, artifact)

    def remember(self, spec: Specialization, artifact: Artifact) -> Artifact:
        """Keep `artifact` in the memory cache under `spec` (the one already there wins: every caller gets the same
        object)."""
        with self._lock:
            return self._artifacts.setdefault(spec.key, artifact)

    def _specialize(self, tactic, target, *, in_dtypes, out_dtypes, in_ranks, out_ranks, attrs, shapes=None,
                    specialize_divisibility=False, profile=None) -> Specialization:
        """Everything that decides the artifact of `tactic` for this signature, and its cache key."""
        plan = self.plan(tactic, in_dtypes, in_ranks, out_dtypes, out_ranks, attrs, shapes=shapes, profile=profile)
        constants: dict = {}
        guards = list(plan.guards)
        # int32 extras (not a float scalar's bits): name -> the expression TensorRT's launch evaluates
        extras = {a.name: a.expr for a in plan.of_kind(EXTRA) if a.dtype is None and a.expr is not None}
        divisible = {name for name, e in extras.items() if isinstance(e, symbolic.Const) and e.value % 16 == 0}
        if profile is not None:  # an extra that static dims fix: the compiler may know what eager's launcher knows
            for name, e in extras.items():
                span = symbolic.bounds(e, profile) if e.tensors() else None
                if name not in divisible and span is not None and span[0] == span[1] and span[0] % 16 == 0:
                    divisible.add(name)
                    guards.append((symbolic.binop("mod", e, 16), 0))
        if specialize_divisibility and shapes is not None:
            for name, e in extras.items():
                if name not in divisible and e.tensors() and e.evaluate(shapes) % 16 == 0:
                    divisible.add(name)
                    guards.append((symbolic.binop("mod", e, 16), 0))
        for arg in plan.args:
            if arg.kind != CONSTANT:
                continue
            if arg.expr is None:
                constants[arg.name] = arg.value
            else:  # a shape-dependent compile-time value (a backend's static dim): bake it in, and guard it
                if profile is not None:
                    span = symbolic.bounds(arg.expr, profile)
                    if span is None or span[0] != span[1]:
                        raise CompileError(
                            f"{tactic.describe()} of op '{self.op_name}' bakes `{arg.expr}` into kernel argument "
                            f"'{arg.name}' (a compile-time value), but it depends on the dynamic dim(s) "
                            f"{', '.join(symbolic.dynamic_dims(arg.expr, profile))} of this TensorRT build, over which "
                            f"it takes values in {list(span) if span else 'an unknown range'}. Fix: make those dims "
                            "static in the optimization profile, or pass the value as a runtime argument (for "
                            "cute.Tensor kernels: list the dim in dynamic_dims)."
                        )
                    value = span[0]
                elif shapes is None:
                    raise CompileError(
                        f"{tactic.describe()} of op '{self.op_name}' bakes `{arg.expr}` into kernel argument "
                        f"'{arg.name}' (a compile-time value), which needs the dims' values, but no shapes were "
                        "given. Fix: pass that value as a runtime argument, or compile for example shapes."
                    )
                else:
                    value = arg.expr.evaluate(shapes)
                constants[arg.name] = value
                guards.append((arg.expr, value))
        # Attribute values decide the artifact through the recorded plan (constants, grid, options; a runtime scalar
        # attribute is an extra read at launch); backends that compile them into the source add them to the key.
        attr_key = tuple(attrs) if get_backend(tactic.spec.backend).compiles_attribute_values else ()
        return Specialization(tactic=tactic, target=target, plan=plan, constants=constants, guards=tuple(guards),
                              divisible=frozenset(divisible), in_dtypes=tuple(in_dtypes),
                              out_dtypes=tuple(out_dtypes), in_ranks=tuple(in_ranks), out_ranks=tuple(out_ranks),
                              attrs=tuple(attrs), attr_key=attr_key)

    def _lookup(self, spec: Specialization):
        """(artifact or None, disk key): memory first, then disk (a disk hit is remembered in memory). The disk key,
        which asks the toolchain for its version, is only computed on a memory miss."""
        with self._lock:
            cached = self._artifacts.get(spec.key)
        if cached is not None:
            return cached, None  # no disk key needed: nothing will be stored
        backend = get_backend(spec.tactic.spec.backend)
        # the recorded plan itself (grid, classified arguments, options) is part of the key: any value that reached
        # the launch, wherever it came from, shows up in it; and the toolchain's own view of the kernel's sources
        disk_key = disk_cache.make_key(self.hash, repr(spec.key), spec.plan.fingerprint(),
                                       backend.kernel_key(spec.plan), backend.toolchain_version(), __version__)
        cached = disk_cache.load(disk_key)
        if cached is not None:
            check_writes(self, spec.tactic, spec.plan, cached)
            cached = self.remember(spec, cached)
        return cached, disk_key

    def kernel_name(self, tactic: Tactic, key) -> str:
        digest = hashlib.sha256(f"{self.op_name}|{key!r}".encode()).hexdigest()[:8]
        return f"tta_{self.name}_t{tactic.number}_{digest}"


def _plan_key(plan: LaunchPlan) -> str:
    """The recorded launch as text (kernel, grid, classified arguments, options), for cache keys."""
    fn = getattr(plan.kernel, "fn", None)
    kernel = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', plan.kernel_name)}"
    args = [(a.name, a.kind, a.index, str(a.expr), repr(a.value), str(a.dtype)) for a in plan.args]
    return repr((kernel, [str(g) for g in plan.grid], args, plan.options))


def _probe_aliases(meta_impl, n_inputs: int, attrs) -> tuple | None:
    """Which input each output of meta_impl is (None: a new tensor), from calls on small meta tensors of a few ranks;
    None when no probe call succeeds (then the op is taken to have no in-place outputs, and every later call of
    meta_impl checks that)."""
    import torch

    from .body import PROBE_RANKS

    for rank in PROBE_RANKS:
        probe = [torch.empty((8,) * rank, device="meta") for _ in range(n_inputs)]
        try:
            result = meta_impl(*probe, *(a.placeholder() for a in attrs))
        except Exception as exc:  # noqa: BLE001 - this rank may not suit meta_impl; try another
            log.debug("meta_impl probe with rank %d failed: %s", rank, exc)
            continue
        if result is None:
            return ()
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        return tuple(next((i for i, t in enumerate(probe) if o is t), None) for o in outputs)
    return None


def check_aliases(plugin: "CustomPlugin", outputs: Sequence, inputs: Sequence) -> None:
    """meta_impl must return the same inputs as in-place outputs on every call as when the plugin was created."""
    schema = plugin.schema
    for j, out in enumerate(outputs):
        got = next((i for i, t in enumerate(inputs) if out is t), None)
        if got != schema.alias_of(j):
            now = f"input '{schema.inputs[got]}' itself" if got is not None else "a new tensor"
            declared = schema.alias_of(j)
            then = f"input '{schema.inputs[declared]}'" if declared is not None else "a new tensor"
            raise SpecError(
                f"meta_impl of plugin '{plugin.name}' returned {now} as output {j}, but {then} when the plugin was "
                "created. Whether an output is in place (the input object itself) decides the op's schema, so it "
                "must not depend on the inputs. Fix: always return the input for an in-place output, or always a "
                "new tensor."
            )


def _resolve_zeroed(zeroed, schema, specs, where) -> tuple[int, ...]:
    """Output indices from `zeroed_outputs=` (indices, or the output's name in the launch function / 'out<j>')."""
    if isinstance(zeroed, (int, str)):
        zeroed = (zeroed,)
    names: dict[str, int] = {f"out{j}": j for j in range(schema.num_outputs)}
    launch_outputs = schema.launch_outputs
    for spec in specs:
        if spec.op_body is not None:  # a body's parameters are inputs and attributes only
            continue
        try:
            params = [p for p in inspect.signature(spec.launch_fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            continue
        first = get_backend(spec.backend).leading_launch_params + len(schema.inputs)
        for k, p in enumerate(params[first: first + len(launch_outputs)]):
            names.setdefault(p.name, launch_outputs[k])
    result = set()
    for item in zeroed:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise SpecError(f"zeroed_outputs of {where} takes output indices or names, got {item!r}.")
        index = names.get(item) if isinstance(item, str) else item
        if index is None or not 0 <= index < schema.num_outputs:
            raise SpecError(
                f"zeroed_outputs of {where} names {item!r}, which is not an output (outputs: indices "
                f"0..{schema.num_outputs - 1}, names {sorted(names)}). Fix: use one of those."
            )
        if schema.alias_of(index) is not None:
            raise SpecError(
                f"zeroed_outputs of {where} names output {index}, which is input "
                f"'{schema.inputs[schema.alias_of(index)]}' updated in place; zeroing it would erase the input. "
                "Fix: leave it out of zeroed_outputs."
            )
        result.add(index)
    return tuple(sorted(result))


def _freeze(constants: dict) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in constants.items()))


def _identifier(name: str) -> str:
    cleaned = re.sub(r"\W", "_", str(name)).strip("_") or "plugin"
    return cleaned if not cleaned[0].isdigit() else f"k_{cleaned}"


def _from_bodies(specs, name: str):
    """Specs whose functions are op bodies: each one's outputs read (body.analyze), the meta_impl made from the
    first. All bodies must agree on which outputs are inputs (in place) and which are zeroed."""
    from . import body as B
    from .errors import RecordingError

    if any(s.backend != "triton" for s in specs):
        raise SpecError(
            f"Plugin '{name}' has no meta_impl, so its specs' functions are read as op bodies (they allocate and "
            "return their outputs), which the Triton backend supports; got "
            f"{sorted({s.backend for s in specs} - {'triton'})}. Fix: pass meta_impl= describing the outputs."
        )
    meta_impl = B.meta_impl_of(specs[0].launch_fn, name, specs[0].configs[0])
    inputs, attrs = schema_mod.parse_params(meta_impl, f"op body '{specs[0].name}'")
    placeholders = [a.placeholder() for a in attrs]
    out, first = [], None
    for spec in specs:
        info = B.analyze(spec.launch_fn, spec.name, placeholders, spec.configs[0])
        if first is not None and (info.aliases, info.zeroed) != (first.aliases, first.zeroed):
            raise RecordingError(
                f"The op bodies of plugin '{name}' disagree on their outputs: '{specs[0].name}' returns "
                f"{first.aliases} (input index per output, None: allocated), zeroed {first.zeroed}; "
                f"'{spec.name}' returns {info.aliases}, zeroed {info.zeroed}. Fix: make them return the same outputs."
            )
        first = first or info
        out.append(dataclasses.replace(spec, op_body=info))
    assert first is not None
    return tuple(out), meta_impl, first


def _outputs_from_launch_fns(specs, meta_impl, where) -> int | None:
    """Outputs = the launch function's positional parameters minus inputs and attributes (all specs must agree)."""
    try:
        meta_params = len(inspect.signature(meta_impl).parameters)
    except (TypeError, ValueError):
        return None
    counts = set()
    for spec in specs:
        if spec.op_body is not None:  # an op body allocates the outputs it does not update in place
            counts.add(len(spec.op_body.launch_outputs))
            continue
        try:
            params = inspect.signature(spec.launch_fn).parameters.values()
        except (TypeError, ValueError):
            continue
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            continue
        config_keys = set().union(*(set(c) for c in spec.configs))
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                      and p.name not in config_keys]
        counts.add(len(positional) - meta_params - get_backend(spec.backend).leading_launch_params)
    if len(counts) > 1:
        raise SpecError(
            f"The launch functions of {where} disagree on the number of outputs ({sorted(counts)}). Each takes the "
            "op's inputs, then its outputs, then its attributes, then the config as keywords."
        )
    return counts.pop() if counts else None


def resolve_target(arch, ptx_isa) -> Target:
    """Target for `arch`; ptx_isa None means: the local driver's newest ISA if a driver is present, else the
    toolchain's default (logged, since a deployment driver may be older)."""
    target = Target.parse(arch, ptx_isa)
    if target.ptx_isa is None:
        from .cuda_driver import driver_ptx_isa

        isa = driver_ptx_isa()
        if isa is not None:
            return dataclasses.replace(target, ptx_isa=isa)
        log.info("No CUDA driver found; compiling with the toolchain's default PTX ISA. Pass ptx_isa=(9, 0) (or "
                 "your deployment driver's ISA) so that the PTX loads there.")
    return target
