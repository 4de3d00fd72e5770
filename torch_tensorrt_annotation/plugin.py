"""The `custom_plugin` descriptor: specs + meta_impl -> a named op with numbered tactics and AOT artifacts."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import re
import threading
from collections.abc import Callable, Sequence

from . import cache as disk_cache
from . import recording as R
from . import schema as schema_mod
from . import symbolic as S
from ._version import __version__
from .aot import build_artifact
from .backends.base import get_backend
from .errors import CompileError, RecordingError, SpecError
from .sources import source_of
from .spec import CONSTANT, EXTRA, INPUT, OUTPUT, Artifact, KernelSpec, LaunchPlan, Tactic, Target

log = logging.getLogger(__name__)

HASH_LENGTH = 12


class CustomPlugin:
    """An op made of one or more kernel specs. Create it with `tta.custom_plugin(...)`.

    - `op_name` is `tta::<name>_<hash>`, stable across processes and machines for the same sources.
    - `tactics` numbers every (spec, config) pair 1..N, in the order given.
    - `compile(*example_inputs, arch=..., ptx_isa=...)` returns one TensorRT-ready Artifact per tactic.
    """

    def __init__(self, specs: Sequence[KernelSpec], meta_impl: Callable, name: str | None = None):
        if isinstance(specs, KernelSpec):
            specs = [specs]
        specs = tuple(specs)
        if not specs or not all(isinstance(s, KernelSpec) for s in specs):
            raise SpecError(
                f"custom_plugin takes a spec or a list of specs made by tta.triton(...), got {specs!r}."
            )
        specs = tuple(get_backend(s.backend).expand_configs(s) for s in specs)
        self.specs = specs
        self.meta_impl = meta_impl
        self.name = _identifier(name or specs[0].name)
        where = f"plugin '{self.name}'"
        self.schema = schema_mod.from_meta_impl(meta_impl, _outputs_from_launch_fns(specs, meta_impl, where), where)
        self.tactics = tuple(
            Tactic(n, spec, config)
            for n, (spec, config) in enumerate(((s, c) for s in specs for c in s.configs), start=1)
        )
        self.hash = self._content_hash()
        self.op_name = f"tta::{self.name}_{self.hash}"
        self._lock = threading.RLock()
        self._plans: dict = {}
        self._artifacts: dict = {}
        self._check_meta_impl_returns_tensors()
        self._check_launches()

    def __repr__(self):
        return f"CustomPlugin({self.op_name}, {len(self.tactics)} tactic(s), schema {self.schema.torch_schema()})"

    # --- identity --------------------------------------------------------------------------------------------
    def _content_hash(self) -> str:
        payload = {
            "name": self.name,
            "schema": self.schema.torch_schema(),
            "meta_impl": source_of(self.meta_impl),
            "specs": [
                {
                    "backend": s.backend,
                    "name": s.name,
                    "configs": [c.canonical() for c in s.configs],
                    "sources": get_backend(s.backend).fingerprint(s),
                }
                for s in self.specs
            ],
        }
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
        self._outputs_of(result)

    def _outputs_of(self, result) -> tuple:
        import torch

        outputs = result if isinstance(result, (tuple, list)) else (result,)
        bad = [type(o).__name__ for o in outputs if not isinstance(o, torch.Tensor)]
        if bad or len(outputs) != self.schema.num_outputs:
            raise SpecError(
                f"meta_impl of plugin '{self.name}' must return {self.schema.num_outputs} tensor(s) describing the "
                f"outputs (shape and dtype), got {type(result).__name__} ({', '.join(bad) or len(outputs)}). "
                "Fix: return torch.empty_like(x) / x.new_empty(shape, dtype=...) for each output."
            )
        return tuple(outputs)

    def _check_launches(self) -> None:
        """Record every tactic once with placeholder tensors, so structural mistakes fail here, not in a build."""
        import torch

        n_out = self.schema.num_outputs
        for tactic in self.tactics:
            tensors = [R.SymTensor(INPUT, i, n, torch.float32, None) for i, n in enumerate(self.schema.inputs)]
            tensors += [R.SymTensor(OUTPUT, j, f"out{j}", torch.float32, None) for j in range(n_out)]
            attrs = R.attribute_proxies([a.name for a in self.schema.attrs],
                                        [a.placeholder() for a in self.schema.attrs])
            try:
                get_backend(tactic.spec.backend).record(tactic.spec, tactic.config, tensors, attrs)
            except R.RankUnknown as exc:
                log.debug("launch check of %s deferred to compile time: needs ranks (%s)", tactic.describe(), exc)
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
            outputs = self._outputs_of(self.meta_impl(*meta_in, *attrs))
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

    def plan(self, tactic: Tactic, input_dtypes, input_ranks, output_dtypes, output_ranks, attrs) -> LaunchPlan:
        """The recorded launch of `tactic` for this dtype/rank/attribute signature (cached)."""
        key = (tactic.number, tuple(input_dtypes), tuple(input_ranks), tuple(output_dtypes), tuple(output_ranks),
               tuple(attrs))
        with self._lock:
            if key not in self._plans:
                tensors = [R.SymTensor(INPUT, i, n, d, r)
                           for i, (n, d, r) in enumerate(zip(self.schema.inputs, input_dtypes, input_ranks))]
                tensors += [R.SymTensor(OUTPUT, j, f"out{j}", d, r)
                            for j, (d, r) in enumerate(zip(output_dtypes, output_ranks))]
                backend = get_backend(tactic.spec.backend)
                try:
                    proxies = R.attribute_proxies([a.name for a in self.schema.attrs], attrs)
                    plan = backend.record(tactic.spec, tactic.config, tensors, proxies)
                    self._check_zeroed_outputs(plan)
                    self._plans[key] = plan
                except RecordingError as exc:
                    raise type(exc)(f"[{self.name}, {tactic.describe()}] {exc.message}") from None
            return self._plans[key]

    def _check_zeroed_outputs(self, plan: LaunchPlan) -> None:
        """A launch that needs outputs zeroed first (@triton.autotune(reset_to_zero=...)): accepted only where the
        plugin zeroes those outputs before the launch (`zeroed_outputs`)."""
        required = dict(plan.options).get("zeroed_outputs", ())
        zeroed = getattr(self, "zeroed_outputs", None)
        missing = [i for i in required if zeroed is None or i not in zeroed]
        if not missing:
            return
        fix = (f"pass zeroed_outputs={tuple(missing)} to tta.custom_plugin" if zeroed is not None else
               "zero the output inside the kernel, or use a kernel that overwrites it; this version of tta does "
               "not yet zero outputs before a launch")
        raise RecordingError(
            f"Kernel '{plan.kernel_name}' accumulates into output(s) {missing} (its @triton.autotune declares "
            f"reset_to_zero for them): they must start zeroed, but tta allocates outputs uninitialized, so the op "
            f"would return garbage. Fix: {fix}."
        )

    def compile(self, *example_inputs, arch: "str | int" = "sm_90", ptx_isa=None, workers: int | None = None,
                **example_kwargs) -> list[Artifact]:
        """Compile every tactic for `arch` and `ptx_isa` (e.g. (9, 0)); return the Artifacts that compiled.

        Example inputs follow the op schema (tensors, then attribute values) and may be meta tensors. A tactic that
        fails to compile is logged and left out; if none compiles, CompileError lists every failure. Artifacts come
        from the in-memory and disk caches when they can; the others compile in parallel processes (`workers`,
        default: one per tactic up to the CPU count; TTA_COMPILE_WORKERS overrides; 1 compiles in this process).
        """
        target = resolve_target(arch, ptx_isa)
        tensors, attrs, in_shapes, in_dtypes, out_shapes, out_dtypes = self.example_signature(
            example_inputs, example_kwargs
        )
        shapes = S.Shapes(in_shapes, out_shapes, tuple(attrs))
        signature = dict(in_dtypes=in_dtypes, out_dtypes=out_dtypes, attrs=attrs, shapes=shapes,
                         in_ranks=[len(x) for x in in_shapes], out_ranks=[len(x) for x in out_shapes])
        results = compile_many(self, list(self.tactics), target, signature, workers)
        artifacts, failures = [], []
        for tactic, result in zip(self.tactics, results):
            if isinstance(result, CompileError):
                log.warning("%s: dropping %s: %s", self.op_name, tactic.describe(), result.message)
                failures.append(f"{tactic.describe()}: {result.message}")
            else:
                artifacts.append(result)
        if not artifacts:
            raise CompileError(
                f"No tactic of op '{self.op_name}' compiled for {target.sm}:\n  " + "\n  ".join(failures)
            )
        return artifacts

    def cached_artifact(self, tactic: Tactic, target: Target, **signature) -> Artifact | None:
        """The artifact from the in-memory or disk cache, without compiling (None on a miss)."""
        return self._lookup(*self._specialize(tactic, target, **signature))[0]

    def compile_tactic(self, tactic: Tactic, target: Target, *, in_dtypes, out_dtypes, in_ranks, out_ranks, attrs,
                       shapes: S.Shapes | None = None, specialize_divisibility: bool = False) -> Artifact:
        """Compile one tactic for a signature (dtypes, ranks, attribute values). `shapes` (concrete dims) is only
        needed when the launch bakes a dim-dependent value into the kernel; the artifact then guards it.

        `specialize_divisibility` (concrete shapes only): tell the compiler which int32 extras are multiples of 16
        for these shapes, as Triton's own launcher does, which lets it vectorize masked loads. The artifact guards
        it, so it is only used where the shapes are known exactly (eager launches), never for dynamic dims.
        """
        spec = self._specialize(tactic, target, in_dtypes=in_dtypes, out_dtypes=out_dtypes, in_ranks=in_ranks,
                                out_ranks=out_ranks, attrs=attrs, shapes=shapes,
                                specialize_divisibility=specialize_divisibility)
        artifact, disk_key = self._lookup(*spec)
        if artifact is not None:
            return artifact
        tactic, target, plan, constants, guards, divisible, key, in_dtypes, out_dtypes, ranks, attrs = spec
        kernel_name = self.kernel_name(tactic, key)
        backend = get_backend(tactic.spec.backend)
        compiled = backend.compile(plan, kernel_name=kernel_name, target=target, input_dtypes=in_dtypes,
                                   output_dtypes=out_dtypes, constants=constants, divisible=divisible,
                                   config=tactic.config,
                                   attributes=dict(zip((a.name for a in self.schema.attrs), attrs)))
        artifact = build_artifact(tactic=tactic.number, backend=tactic.spec.backend, config=tactic.config,
                                  plan=plan, compiled=compiled, target=target, input_dtypes=in_dtypes,
                                  output_dtypes=out_dtypes, input_ranks=ranks[0], constants=constants,
                                  guards=tuple(guards))
        if disk_key is not None:
            disk_cache.store(disk_key, artifact)
        with self._lock:
            return self._artifacts.setdefault(key, artifact)

    def _specialize(self, tactic, target, *, in_dtypes, out_dtypes, in_ranks, out_ranks, attrs, shapes=None,
                    specialize_divisibility=False):
        """Everything that decides the artifact of `tactic` for this signature, and its cache key."""
        plan = self.plan(tactic, in_dtypes, in_ranks, out_dtypes, out_ranks, attrs)
        constants, guards = {}, []
        divisible = frozenset()
        if specialize_divisibility and shapes is not None:
            shape_extras = [a for a in plan.of_kind(EXTRA) if a.dtype is None and a.expr.tensors()]
            divisible = frozenset(a.name for a in shape_extras if a.expr.evaluate(shapes) % 16 == 0)
            guards += [(S.binop("mod", a.expr, 16), 0) for a in shape_extras if a.name in divisible]
        for arg in plan.args:
            if arg.kind != CONSTANT:
                continue
            if arg.expr is None:
                constants[arg.name] = arg.value
            else:  # a shape-dependent compile-time value: bake it in, and guard it
                if shapes is None or any(d < 0 for shape in shapes.inputs for d in shape):
                    raise CompileError(
                        f"{tactic.describe()} of op '{self.op_name}' bakes `{arg.expr}` into kernel argument "
                        f"'{arg.name}' (a tl.constexpr), which needs static input dims, but they are dynamic here. "
                        "Fix: pass that value as a runtime argument, or make those dims static."
                    )
                value = arg.expr.evaluate(shapes)
                constants[arg.name] = value
                guards.append((arg.expr, value))
        ranks = (tuple(in_ranks), tuple(out_ranks))
        # Attribute values decide the artifact through the recorded plan (constants, grid, options; a runtime scalar
        # attribute is an extra read at launch); backends that compile them into the source add them to the key.
        attr_key = tuple(attrs) if get_backend(tactic.spec.backend).compiles_attribute_values else ()
        key = (tactic.number, target, tuple(in_dtypes), tuple(out_dtypes), ranks, _freeze(constants), tuple(guards),
               tuple(sorted(divisible)), attr_key, _plan_key(plan))
        return tactic, target, plan, constants, guards, divisible, key, in_dtypes, out_dtypes, ranks, attrs

    def _lookup(self, tactic, target, plan, constants, guards, divisible, key, *rest):
        """(artifact or None, disk key): memory first, then disk (a disk hit is remembered in memory). The disk key,
        which asks the toolchain for its version, is only computed on a memory miss."""
        with self._lock:
            cached = self._artifacts.get(key)
        if cached is not None:
            return cached, None  # no disk key needed: nothing will be stored
        backend = get_backend(tactic.spec.backend)
        disk_key = disk_cache.make_key(self.hash, repr(key), backend.toolchain_version(), __version__)
        cached = disk_cache.load(disk_key)
        if cached is not None:
            with self._lock:
                cached = self._artifacts.setdefault(key, cached)
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


def _freeze(constants: dict) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in constants.items()))


def _identifier(name: str) -> str:
    cleaned = re.sub(r"\W", "_", str(name)).strip("_") or "plugin"
    return cleaned if not cleaned[0].isdigit() else f"k_{cleaned}"


def _outputs_from_launch_fns(specs, meta_impl, where) -> int | None:
    """Outputs = the launch function's positional parameters minus inputs and attributes (all specs must agree)."""
    try:
        meta_params = len(inspect.signature(meta_impl).parameters)
    except (TypeError, ValueError):
        return None
    counts = set()
    for spec in specs:
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
            return Target(target.arch, isa)
        log.info("No CUDA driver found; compiling with the toolchain's default PTX ISA. Pass ptx_isa=(9, 0) (or "
                 "your deployment driver's ISA) so that the PTX loads there.")
    return target


# --- parallel cold compilation ----------------------------------------------------------------------------------------
_forked: dict[int, "CustomPlugin"] = {}  # plugins visible to forked compile workers, by id


def _compile_in_worker(plugin_id: int, number: int, target: Target, signature: dict):
    plugin = _forked[plugin_id]
    try:
        return plugin.compile_tactic(plugin.tactics[number - 1], target, **signature)
    except CompileError as exc:
        return exc


def _worker_count(requested: int | None, misses: int) -> int:
    import os

    raw = os.environ.get("TTA_COMPILE_WORKERS")
    if requested is None and raw:
        requested = int(raw)
    if requested is None:
        requested = os.cpu_count() or 1
    return max(1, min(requested, misses))


def compile_many(plugin: CustomPlugin, tactics: list[Tactic], target: Target, signature: dict,
                 workers: int | None = None) -> list:
    """Artifacts (or CompileErrors) for `tactics`, cached ones first, the rest compiled in forked processes.

    Compiling is CPU-bound and mostly holds the GIL, so processes, not threads. Workers are forked (Linux): they
    inherit the plugin and its user functions, which need not be picklable; only artifacts travel back. A progress
    line names each tactic when compiling takes more than a second and stderr is a terminal.
    """
    import sys
    import time

    results: list = [None] * len(tactics)
    missing = []
    for i, tactic in enumerate(tactics):
        try:
            results[i] = plugin.cached_artifact(tactic, target, **signature)
        except CompileError as exc:
            results[i] = exc
        if results[i] is None:
            missing.append(i)
    if not missing:
        return results
    count = _worker_count(workers, len(missing))
    progress = _Progress(plugin, len(missing))
    if count > 1 and sys.platform.startswith("linux"):
        import concurrent.futures
        import multiprocessing

        _forked[id(plugin)] = plugin
        try:
            context = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(count, mp_context=context) as pool:
                futures = {pool.submit(_compile_in_worker, id(plugin), tactics[i].number, target, signature): i
                           for i in missing}
                for future in concurrent.futures.as_completed(futures):
                    i = futures[future]
                    result = future.result()
                    if not isinstance(result, CompileError):
                        with plugin._lock:  # the worker's memory cache is gone: keep the artifact here
                            spec = plugin._specialize(tactics[i], target, **signature)
                            result = plugin._artifacts.setdefault(spec[6], result)
                    results[i] = result
                    progress.step(tactics[i])
        finally:
            _forked.pop(id(plugin), None)
    else:
        for i in missing:
            start = time.perf_counter()
            try:
                results[i] = plugin.compile_tactic(tactics[i], target, **signature)
            except CompileError as exc:
                results[i] = exc
            progress.step(tactics[i], time.perf_counter() - start)
    progress.done()
    return results


class _Progress:
    """One self-rewriting stderr line, shown only on a terminal and only once compiling has taken over a second."""

    def __init__(self, plugin: CustomPlugin, total: int):
        import sys
        import time

        self.plugin, self.total, self.count = plugin, total, 0
        self.start = time.perf_counter()
        self.enabled = total > 0 and sys.stderr.isatty()
        self.shown = False

    def step(self, tactic: Tactic, _seconds: float = 0.0) -> None:
        import sys
        import time

        self.count += 1
        if not self.enabled or time.perf_counter() - self.start < 1.0:
            return
        self.shown = True
        sys.stderr.write(f"\rtta: compiled {self.count}/{self.total} tactics of {self.plugin.op_name}: "
                         f"{tactic.describe()}\x1b[K")
        sys.stderr.flush()

    def done(self) -> None:
        import sys

        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
