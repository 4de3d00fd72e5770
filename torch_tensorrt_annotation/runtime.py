"""The eager CUDA path of a tta op: the very artifacts TensorRT embeds, launched the way TensorRT launches them.

Per call: find the prepared launch for these exact shapes (a C++ tensor guard check of the op's recent
specializations, `EagerOp.autograd_kernel`, else a dict lookup), allocate the outputs, launch on torch's current
stream (torch's compiled launcher, else cuLaunchKernel through cuda-bindings). The first call for new shapes does
the rest once: output shapes from
meta_impl, compile (cached per dtype/rank/attribute signature), and tactic choice. Like Triton's own launcher,
the eager path tells the compiler which int32 extras are multiples of 16 for the shapes at hand (and guards it),
so that masked loads vectorize; the TensorRT path, whose dims may be dynamic, never assumes it.

Tactic choice mirrors TensorRT's build: the first call in a shape bucket (dtypes, attributes, every dim rounded up
to a power of two) times every tactic with CUDA events and keeps the fastest. `tactic=` on `tta.custom_op`, or the
TTA_TACTIC environment variable, pins one. Tuning needs a real launch, so it cannot happen while a CUDA graph is
being captured: warm the op up first (the usual rule for graph capture), or pin a tactic.

Inputs must be CUDA tensors. Non-contiguous inputs, or inputs not 16-byte aligned, are copied first (the artifacts
assume TensorRT's contiguous, aligned buffers); outputs are always freshly allocated and contiguous. An in-place
output is the input itself (no allocation; a copied input is written back after the launch), and a zeroed output
(`zeroed_outputs=`) is allocated filled with zeros.
"""

from __future__ import annotations

import functools
import logging
import os
import statistics
import struct
import threading

from . import launcher, symbolic
from .errors import CompileError, SpecError
from .plugin import CustomPlugin, resolve_target
from .spec import Artifact

log = logging.getLogger(__name__)

TACTIC_ENV = "TTA_TACTIC"
TUNE_REPS = 10


def _raw_stream_getter():
    import torch

    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if raw is not None:
        return raw
    return lambda device: torch.cuda.current_stream(device).cuda_stream


class EagerOp:
    """Callable eager implementation of one plugin (one per registered op name)."""

    def __init__(self, plugin: CustomPlugin, op_name: str, tactic: int | None = None):
        self.plugin, self.op_name = plugin, op_name
        self._pinned = tactic
        self._n_in = len(plugin.schema.inputs)
        self._n_args = self._n_in + len(plugin.schema.attrs)
        self._entries: dict = {}
        self._winners: dict = {}
        self._targets: dict = {}
        self._lock = threading.RLock()
        self._stream = None

    # -- the hot path --
    # Hand-written for speed: every line below runs on each eager call, and each choice was measured on the
    # per-call host time (benchmarks/bench_host_cpu.py on CPU, benchmarks/bench_runtime.py on a GPU): the key is one
    # list comprehension over (shape, dtype, device index); the launch gets one tuple of arguments in the kernel's
    # order (what torch's compiled launcher takes as is); an output shaped like an input comes from empty_like
    # (cheaper than torch.empty's keyword parsing); the common case (contiguous, aligned inputs, one output) builds
    # no other list.
    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self._n_args:  # torch leaves out attributes equal to their schema default
            args = self.plugin.schema.complete(args, kwargs, self.op_name)
        if self._n_args == self._n_in:  # no attributes
            inputs, attrs = args, ()
        else:
            inputs, attrs = args[:self._n_in], args[self._n_in:]
        key = (tuple([(t.shape, t.dtype, t.get_device()) for t in inputs]), attrs)
        entry = self._entries.get(key)
        if entry is None:  # new shapes or attribute values, or a float attribute that is zero or NaN (_attrs_key)
            entry = self._entry(key[0], inputs, attrs)
        pointers = []
        for t in inputs:
            ptr = t.data_ptr()
            if ptr & 15 or not t.is_contiguous():  # the artifact assumes TensorRT's contiguous, aligned buffers
                return self._call_copied(entry, inputs)
            pointers.append(ptr)
        like = entry.single_like
        if like is not None:  # one output, shaped like input `like`
            out = _empty_like(inputs[like])
            entry.launch((*pointers, *entry.extras, out.data_ptr()), self._stream(entry.device_index))
            return out
        return self._launch(entry, inputs, inputs, pointers)

    def autograd_kernel(self, general, key: str = "CUDA"):
        """This op's Autograd kernel (register with `with_keyset=True`): the whole eager call in one Python function
        for a call that matches one of the op's recent specializations by guard, everything else through
        `general(keyset, *args)` (torch_op.autograd_kernel: the not-differentiable error, a redispatch, or this
        EagerOp's `__call__`), which gives the same results.

        The guard is torch's own C++ tensor guard (`torch._C._dynamo.guards.TensorGuards`, what torch.compile
        guards graphs with), built from the inputs of a plain call that went through `general`: it passes only
        tensors of the same Python type, dispatch keys (thread-local ones included), dtype, device, requires_grad,
        sizes and strides (contiguous). A specialization has one guard per requires_grad pattern of its inputs; one
        with an input that requires grad (an nn.Parameter weight under torch.no_grad()) is taken only while grad
        mode is off (else `general` gives the not-differentiable error). The guard leaves the Python dispatch keys
        out (recent torch, unless a mode on the stack needs them seen), so a passing call also needs an empty
        dispatch mode stack: a mode, even one whose ignore_compile_internals() is True (DebugMode, selective
        activation checkpointing), sees the op through `general`. A passing call with the same attribute values and
        16-byte aligned inputs allocates the outputs and launches the specialization's prepared launch (torch's
        compiled launcher where there is one and the tensors' device is current, else the checked launch, which
        pushes the tensors' device context). Up to RECENT specializations are checked, most recent first. Where
        torch has no such guard (or it fails tta's self-test, `tensor_guard_class`), every call goes through
        `general`.

        Hand-written for speed, measured (benchmarks/bench_runtime.py, bench_host_cpu.py): one C++ guard check
        instead of building and hashing a key of shapes, dtypes and devices, checking contiguity and
        requires_grad in Python, and a second Python frame. `key`: the dispatch key this EagerOp is registered at
        (CUDA; the CPU benchmark and tests register it at CPU)."""
        from torch import _C

        after_autograd, backend_key = _C._after_autograd_keyset, getattr(_C.DispatchKey, key)
        grad_enabled, current_device = _C.is_grad_enabled, launcher._current_device_getter()
        guard_class = tensor_guard_class()
        dispatch_modes = getattr(_C, "_len_torch_dispatch_stack", None)  # modes on this thread's stack
        if dispatch_modes is None:  # a torch without it: no fast path
            guard_class = None
        n_args, n_in = self._n_args, self._n_in
        # one tuple of (guard check, attribute values, entry, whether an input requires grad), replaced whole
        # (thread-safe)
        recent: list = [()]

        def remember(keyset, args) -> None:
            """After `general` ran a plain call (only this op's kernel below autograd, no input requiring grad
            while grad mode is on, contiguous aligned inputs): put its specialization's guard first in `recent`."""
            inputs, attrs = args[:n_in], args[n_in:]
            if ((keyset & after_autograd).highestPriorityTypeId() != backend_key
                    or any(t.data_ptr() & 15 or not t.is_contiguous() for t in inputs)
                    or _attrs_key(attrs) != attrs):  # a float attribute given as 0.0, -0.0 or NaN: `==` can't tell
                return
            requires_grad = tuple([t.requires_grad for t in inputs])
            if any(requires_grad) and grad_enabled():  # the not-differentiable path
                return
            full = args if len(args) == n_args else self.plugin.schema.complete(args, {}, self.op_name)
            entry = self._entries.get((tuple([(t.shape, t.dtype, t.get_device()) for t in inputs]),
                                       _attrs_key(full[n_in:])))
            if entry is None:
                return
            check = entry.guards.get(requires_grad)
            if check is None:  # for contiguous strides (a size-1 dim's stride may be anything in this call)
                check = entry.guards[requires_grad] = guard_class(
                    *inputs, dynamic_dims_sizes=[list(t.shape) for t in inputs],
                    dynamic_dims_strides=[_contiguous_strides(t.shape) for t in inputs]).check
            kept = [item for item in recent[0] if item[0] is not check or item[1] != attrs]
            recent[0] = ((check, attrs, entry, any(requires_grad)), *kept[:RECENT - 1])

        def kernel(keyset, *args):
            inputs, attrs = args[:n_in], args[n_in:]
            for check, known_attrs, entry, requires_grad in recent[0]:
                if attrs == known_attrs and check(*inputs):
                    # the guard does not see the Python key a mode adds: `general` hands over; nor grad mode
                    if dispatch_modes() or (requires_grad and grad_enabled()):
                        break
                    pointers = []
                    for t in inputs:
                        ptr = t.data_ptr()
                        if ptr & 15:  # not aligned: the general path launches on an aligned copy
                            return general(keyset, *args)
                        pointers.append(ptr)
                    like = entry.single_like
                    if like is None:  # several outputs, or one not shaped like an input
                        return self._launch(entry, inputs, inputs, pointers)
                    out = _empty_like(inputs[like])
                    launch_args = (*pointers, *entry.extras, out.data_ptr())
                    stream = self._stream(entry.device_index)
                    if current_device() != entry.device_index:  # the checked launch pushes the tensors' device
                        entry.launch(launch_args, stream)
                        return out
                    try:
                        entry.static(launch_args, stream)
                    except (TypeError, RuntimeError):  # the checked launch: through cuda-bindings, or it raises
                        if entry.static is entry.launch:
                            raise
                        entry.launch(launch_args, stream)
                        entry.static = entry.prepared._static or entry.launch
                    return out
            result = general(keyset, *args)
            if guard_class is not None:
                remember(keyset, args)
            return result

        return kernel

    def _entry(self, shapes_key, inputs, attrs) -> "_Entry":
        """The entry for a call whose plain key missed: looked up again with the attributes keyed exactly
        (`_attrs_key`, which also keys every entry), else prepared."""
        key = (shapes_key, _attrs_key(attrs))
        entry = self._entries.get(key)
        return entry if entry is not None else self._prepare(key, inputs, attrs)

    def _call_copied(self, entry, inputs):
        """Inputs not contiguous or not 16-byte aligned: launch on contiguous, aligned copies."""
        ready, pointers = [], []
        for t in inputs:
            ptr = t.data_ptr()
            if ptr & 15 or not t.is_contiguous():
                t = t.contiguous().clone()
                ptr = t.data_ptr()
            pointers.append(ptr)
            ready.append(t)
        return self._launch(entry, inputs, ready, pointers)

    def _launch(self, entry, inputs, ready, pointers):
        """Allocate every output (`ready`: the contiguous inputs, `pointers` theirs), launch, return the output or a
        tuple of them."""
        device = entry.device
        if entry.in_place is not None:
            return self._call_in_place(entry, inputs, ready, pointers)
        outputs = [_empty_like(ready[like]) if like is not None else _empty(shape, dtype=dtype, device=device)
                   for (shape, dtype), like in zip(entry.out_specs, entry.like)]
        entry.launch((*pointers, *entry.extras, *[o.data_ptr() for o in outputs]), self._stream(entry.device_index))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    # -- in-place and zeroed outputs (kept off the hot path above) --
    def _call_in_place(self, entry, inputs, ready, pointers):
        """An op with in-place outputs (the input's own buffer, no allocation) or outputs that start as zeros."""
        import torch

        aliases, zeroed = entry.in_place
        outputs = []
        for j, ((shape, dtype), like) in enumerate(zip(entry.out_specs, entry.like)):
            alias = aliases[j] if j < len(aliases) else None
            if alias is not None:
                outputs.append(ready[alias])
            elif j in zeroed:
                outputs.append(torch.zeros(shape, dtype=dtype, device=entry.device))
            else:
                outputs.append(_empty_like(ready[like]) if like is not None
                               else _empty(shape, dtype=dtype, device=entry.device))
        entry.launch((*pointers, *entry.extras, *[o.data_ptr() for o in outputs]), self._stream(entry.device_index))
        results = []
        for j, out in enumerate(outputs):
            alias = aliases[j] if j < len(aliases) else None
            if alias is not None:
                if ready[alias] is not inputs[alias]:  # updated a contiguous copy: write it back to the caller's
                    inputs[alias].copy_(ready[alias])
                out = inputs[alias]
            results.append(out)
        return results[0] if len(results) == 1 else tuple(results)

    # -- first call for these shapes --
    def _prepare(self, key, inputs, attrs):
        import torch

        with self._lock:
            if key in self._entries:
                return self._entries[key]
            if self._stream is None:
                self._stream = _raw_stream_getter()
                _bind_torch()
            device = inputs[0].device
            if device.type != "cuda":
                raise RuntimeError(f"Op '{self.op_name}' runs on CUDA tensors only, got {device}.")
            others = sorted({str(t.device) for t in inputs if t.device != device})
            if others:
                raise RuntimeError(f"Op '{self.op_name}' got inputs on different devices ({device} and "
                                   f"{', '.join(others)}); its kernel runs on one GPU. Fix: move every input to "
                                   f"{device} (tensor.to('{device}')).")
            in_shapes = tuple(tuple(t.shape) for t in inputs)
            in_dtypes = tuple(t.dtype for t in inputs)
            metas = self.plugin.meta_impl(*[torch.empty(s, dtype=d, device="meta")
                                            for s, d in zip(in_shapes, in_dtypes)], *attrs)
            metas = metas if isinstance(metas, (tuple, list)) else (metas,)
            out_specs = tuple((tuple(m.shape), m.dtype) for m in metas)
            shapes = symbolic.Shapes(in_shapes, tuple(s for s, _ in out_specs), tuple(attrs))
            artifact = self._choose(device, shapes, in_dtypes, tuple(d for _, d in out_specs), attrs, inputs)
            index = device.index if device.index is not None else torch.cuda.current_device()
            schema = self.plugin.schema
            in_place = ((schema.aliases, frozenset(self.plugin.zeroed_outputs))
                        if schema.aliases or self.plugin.zeroed_outputs else None)
            entry = self._entries[key] = _make_entry(artifact, inputs, out_specs, shapes, torch.device("cuda", index),
                                                     index, in_place)
            return entry

    def target(self, device):
        if device.index not in self._targets:
            import torch

            major, minor = torch.cuda.get_device_capability(device)
            self._targets[device.index] = resolve_target(major * 10 + minor, None)
        return self._targets[device.index]

    def artifacts(self, device, shapes, in_dtypes, out_dtypes, attrs) -> list[Artifact]:
        """Every tactic that compiles for this signature (failures warned about and skipped)."""
        results: list = []
        for tactic in self.plugin.tactics:
            try:
                results.append(self.plugin.compile_tactic(
                    tactic, self.target(device), in_dtypes=in_dtypes, out_dtypes=out_dtypes,
                    in_ranks=[len(s) for s in shapes.inputs], out_ranks=[len(s) for s in shapes.outputs],
                    attrs=attrs, shapes=shapes, specialize_divisibility=True))
            except CompileError as exc:
                results.append(exc)
        return self.plugin.keep_compiled(self.plugin.tactics, results, f" for {self.target(device).sm}",
                                         "are left out of the eager autotuning", op_name=self.op_name)

    def _choose(self, device, shapes, in_dtypes, out_dtypes, attrs, inputs) -> Artifact:
        import torch

        pinned = self._pinned or _env_tactic(self.plugin)
        if pinned is not None:
            tactic = self.plugin.tactics[pinned - 1]
            return self.plugin.compile_tactic(
                tactic, self.target(device), in_dtypes=in_dtypes, out_dtypes=out_dtypes,
                in_ranks=[len(s) for s in shapes.inputs], out_ranks=[len(s) for s in shapes.outputs],
                attrs=attrs, shapes=shapes, specialize_divisibility=True)
        candidates = self.artifacts(device, shapes, in_dtypes, out_dtypes, attrs)
        bucket = (in_dtypes, attrs, tuple(tuple(symbolic._next_pow2(d) for d in s) for s in shapes.inputs))
        winner = self._winners.get(bucket)
        if winner is not None:
            return next((a for a in candidates if a.tactic == winner), candidates[0])
        if len(candidates) == 1:
            return candidates[0]
        if torch.cuda.is_current_stream_capturing():
            log.warning("%s: first call for shapes %s happens during CUDA graph capture, where tactics cannot be "
                        "timed; using tactic %d. Call the op once before capturing to autotune.",
                        self.op_name, shapes.inputs, candidates[0].tactic)
            return candidates[0]
        times = time_artifacts(candidates, inputs, shapes, out_dtypes, device, aliases=self.plugin.schema.aliases)
        best = min(candidates, key=lambda a: times[a.tactic])
        self._winners[bucket] = best.tactic
        log.info("%s: autotuned shapes %s -> tactic %d (%s)", self.op_name, shapes.inputs, best.tactic,
                 ", ".join(f"t{t}={ms * 1e3:.1f}us" for t, ms in sorted(times.items())))
        return best

    def chosen_tactic(self, *args, **kwargs) -> int | None:
        """The tactic the op uses for these arguments (after its first call with such shapes)."""
        args = self.plugin.schema.complete(args, kwargs, self.op_name)
        n_in = self._n_in
        key = (tuple([(t.shape, t.dtype, t.get_device()) for t in args[:n_in]]), _attrs_key(args[n_in:]))
        entry = self._entries.get(key)
        return entry.artifact.tactic if entry else None


class _Entry:
    """One specialization of an eager op: its prepared launch, output shapes and dtypes, and for each output the
    input it is shaped like (allocated with empty_like) or None; `single_like` is that input when the op has exactly
    one output shaped like an input and nothing in place or zeroed (the hot path's common case), else None.
    `in_place`: (aliases, zeroed outputs) when the op has either, else None. `launch` and `extras` are
    `prepared`'s; `static` the fast path's launch (same arguments); `guards` its tensor guard checks."""

    __slots__ = ("out_specs", "prepared", "launch", "static", "extras", "artifact", "device", "device_index",
                 "like", "single_like", "in_place", "guards")

    def __init__(self, out_specs, prepared, artifact, device, device_index, like, in_place=None):
        self.out_specs, self.prepared, self.artifact = out_specs, prepared, artifact
        self.launch = prepared.launch  # bound once (measured: saves a lookup and a method binding per call)
        self.extras = prepared.extras  # the int32 extras, between the input and the output pointers
        self.device, self.device_index, self.like = device, device_index, like
        self.in_place = in_place
        self.single_like = like[0] if len(like) == 1 and in_place is None else None
        # the launch of the guarded fast path (EagerOp.autograd_kernel): torch's compiled launcher, bound, where
        # there is one, else the checked launch
        self.static = getattr(prepared, "_static", None) or self.launch
        # its TensorGuards checks by the inputs' requires_grad pattern, each made at the first plain call with that
        # pattern through the general path
        self.guards: dict = {}


def _make_entry(artifact: Artifact, inputs, out_specs, shapes: symbolic.Shapes, device, device_index: int,
                in_place=None) -> "_Entry":
    """The entry for one specialization: `artifact` prepared for `shapes` on `device_index`."""
    # an output shaped like a contiguous input is allocated with empty_like (measured ~40% cheaper)
    like = tuple(next((i for i, t in enumerate(inputs) if tuple(t.shape) == shape and t.dtype == dtype), None)
                 for shape, dtype in out_specs)
    return _Entry(out_specs, launcher.PreparedLaunch(artifact, shapes, device_index), artifact, device, device_index,
                  like, in_place)


def _contiguous_strides(shape) -> list[int]:
    """The strides of a contiguous tensor of `shape` (torch's: a size-0 or size-1 dim counts as 1)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return strides[::-1]


def _attrs_key(attrs: tuple) -> tuple:
    """Attribute values as (part of) an entry's key: a float that is zero or NaN is keyed by its bits, since
    -0.0 == 0.0 (a specialization for one, e.g. an fp32 extra's bits, must not serve the other) and NaN != NaN (a
    call must find the entry made for its NaN). Other values are their own key, so for them the key equals the
    tuple of values and a plain lookup finds the entry; a zero or NaN float never matches a plain lookup (bytes
    are not floats) and goes through this key (`EagerOp._entry`)."""
    return tuple([struct.pack("<d", a) if a.__class__ is float and (a == 0.0 or a != a) else a for a in attrs])


RECENT = 4  # specializations per op that the guarded fast path checks, most recent first


@functools.lru_cache(maxsize=1)
def tensor_guard_class():
    """torch's C++ tensor guard, `torch._C._dynamo.guards.TensorGuards` (built as `TensorGuards(*tensors,
    dynamic_dims_sizes=[[int, ...], ...], dynamic_dims_strides=[[int, ...], ...])`, called as `.check(*tensors) ->
    bool`), or None: a torch without it, or one whose guard fails this self-test (same tensor passes; other sizes,
    strides, dtype, requires_grad, a tensor subclass and a dispatch mode fail). A private torch API: the
    self-test keeps a changed one from being trusted. It runs once, with the dispatch modes active then (an op
    registered while tracing under FakeTensorMode) set aside."""
    try:
        from torch._C._dynamo.guards import TensorGuards
        from torch.utils._python_dispatch import _disable_current_modes

        with _disable_current_modes():
            passes, fails = _guard_self_test(TensorGuards)
    except Exception as exc:  # noqa: BLE001 - any failure: no fast path, every call through the dispatcher's path
        log.info("torch's TensorGuards is unavailable (%s): eager calls take the general path", exc)
        return None
    if not (passes and fails):
        log.info("torch's TensorGuards failed tta's self-test: eager calls take the general path")
        return None
    return TensorGuards


def _guard_self_test(TensorGuards) -> tuple[bool, bool]:
    """(a guard passes what it was built from, it fails every other kind of tensor and a dispatch mode)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    class _Subclass(torch.Tensor):
        pass

    a = torch.zeros(2, 3)
    check = TensorGuards(a, dynamic_dims_sizes=[[2, 3]], dynamic_dims_strides=[[3, 1]]).check
    passes = check(a) and check(torch.ones(2, 3))
    others = [torch.zeros(3, 2), torch.zeros(3, 2).t(), torch.zeros(2, 3, dtype=torch.float64),
              torch.zeros(2, 3).requires_grad_(), torch.zeros(2, 3).as_subclass(_Subclass), torch.zeros(6)]
    fails = not any(check(t) for t in others)
    with _Mode():
        fails = fails and not check(a)
    return passes, fails


def _bind_torch() -> None:
    """Bind the allocators the hot path calls (at the first preparation: keeps `import tta` torch-free)."""
    import torch

    global _empty, _empty_like
    _empty, _empty_like = torch.empty, torch.empty_like


def _empty(*args, **kwargs):  # replaced by torch.empty at the first call (keeps `import tta` torch-free)
    import torch

    return torch.empty(*args, **kwargs)


def _empty_like(*args, **kwargs):  # likewise torch.empty_like
    import torch

    return torch.empty_like(*args, **kwargs)


def _env_tactic(plugin: CustomPlugin) -> int | None:
    raw = os.environ.get(TACTIC_ENV)
    if not raw:
        return None
    try:
        number = int(raw)
    except ValueError:
        number = -1
    if not 1 <= number <= len(plugin.tactics):
        raise SpecError(f"{TACTIC_ENV}={raw!r} is not a tactic of {plugin.op_name} (1..{len(plugin.tactics)}).")
    return number


def gpu_time_ms(fn, stream, reps: int = TUNE_REPS) -> float:
    """Median GPU milliseconds of `fn()` (one kernel launch) on `stream`.

    Each sample first queues a short device-side sleep, so the launch is enqueued while the GPU is busy and the
    events bracket the kernel itself, not the host's launch latency (which dominates small kernels otherwise).
    """
    import torch

    fn()  # warm-up (and module load)
    samples = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        with torch.cuda.stream(stream):
            torch.cuda._sleep(100_000)
        start.record(stream)
        fn()
        end.record(stream)
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return statistics.median(samples)


def time_artifacts(artifacts, inputs, shapes, out_dtypes, device, reps: int = TUNE_REPS,
                   aliases=()) -> dict[int, float]:
    """Median milliseconds per launch of each artifact, measured with CUDA events on the current stream.
    `aliases[j]`: the input that output j updates in place; timing then runs on a copy of that input."""
    import torch

    ready = [t.clone(memory_format=torch.contiguous_format) if i in aliases else t.contiguous()
             for i, t in enumerate(inputs)]
    outputs = [ready[aliases[j]] if j < len(aliases) and aliases[j] is not None
               else torch.empty(s, dtype=d, device=device) for j, (s, d) in enumerate(zip(shapes.outputs, out_dtypes))]
    stream = torch.cuda.current_stream(device)
    times = {}
    with torch.cuda.device(device):  # events and the device-side sleep on the tensors' device, not the current one
        for art in artifacts:
            prepared = launcher.PreparedLaunch(art, shapes, launcher.device_index(device))
            args = ([t.data_ptr() for t in ready], [o.data_ptr() for o in outputs], stream.cuda_stream)
            times[art.tactic] = gpu_time_ms(lambda p=prepared, a=args: p(*a), stream, reps)
    return times
