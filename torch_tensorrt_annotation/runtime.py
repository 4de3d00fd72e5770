"""The eager CUDA path of a tta op: the very artifacts TensorRT embeds, launched the way TensorRT launches them.

Per call: look up the prepared launch for these exact shapes (dict hit), allocate the outputs, write pointers,
cuLaunchKernel on torch's current stream. The first call for new shapes does the rest once: output shapes from
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

import logging
import os
import statistics
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
        if entry is None:
            entry = self._prepare(key, inputs, attrs)
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
        """This op's Autograd kernel (register with `with_keyset=True`), the whole eager call in one Python function
        for the common case: only this op's CUDA kernel below autograd (plain CUDA tensors, no mode), every
        attribute given, shapes seen before, one output shaped like an input, inputs contiguous, 16-byte aligned,
        none requiring grad (or grad mode off), on the current device, launched through torch's compiled
        launcher. Every other call goes to `general(keyset, *args)` (torch_op.autograd_kernel: the
        not-differentiable error, a redispatch, or this EagerOp's `__call__`), which gives the same results.

        Hand-written for speed, measured (benchmarks/bench_runtime.py, bench_host_cpu.py): one Python frame
        instead of two, and the requires-grad check folded into the pointer loop. `key`: the dispatch key this
        EagerOp is registered at (CUDA; the CPU benchmark registers it at CPU)."""
        from torch import _C

        after_autograd, cuda_key = _C._after_autograd_keyset, getattr(_C.DispatchKey, key)
        grad_enabled, current_device = _C.is_grad_enabled, launcher._current_device_getter()
        plain: dict = {}  # DispatchKeySet.raw_repr() -> whether only this op's CUDA kernel is below autograd
        entries, n_args, n_in = self._entries, self._n_args, self._n_in

        def kernel(keyset, *args):
            raw = keyset.raw_repr()
            only_cuda = plain.get(raw)
            if only_cuda is None:
                only_cuda = plain[raw] = (keyset & after_autograd).highestPriorityTypeId() == cuda_key
            if not only_cuda or len(args) != n_args:
                return general(keyset, *args)
            inputs = args if n_args == n_in else args[:n_in]
            entry = entries.get((tuple([(t.shape, t.dtype, t.get_device()) for t in inputs]), args[n_in:]))
            if entry is None or entry.static is None:
                return general(keyset, *args)
            grad = grad_enabled()
            pointers = []
            for t in inputs:
                ptr = t.data_ptr()
                if ptr & 15 or not t.is_contiguous() or (grad and t.requires_grad):
                    return general(keyset, *args)
                pointers.append(ptr)
            if current_device() != entry.device_index:
                return general(keyset, *args)
            out = _empty_like(inputs[entry.single_like])
            launch_args = (*pointers, *entry.extras, out.data_ptr())
            stream = self._stream(entry.device_index)
            try:
                entry.static(launch_args, stream)
            except (TypeError, RuntimeError):  # the checked launch: retries through cuda-bindings, or raises
                entry.launch(launch_args, stream)
                entry.static = entry.prepared._static
            return out

        return kernel

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
        key = (tuple([(t.shape, t.dtype, t.get_device()) for t in args[:n_in]]), args[n_in:])
        entry = self._entries.get(key)
        return entry.artifact.tactic if entry else None


class _Entry:
    """One specialization of an eager op: its prepared launch, output shapes and dtypes, and for each output the
    input it is shaped like (allocated with empty_like) or None; `single_like` is that input when the op has exactly
    one output shaped like an input and nothing in place or zeroed (the hot path's common case), else None.
    `in_place`: (aliases, zeroed outputs) when the op has either, else None. `launch` and `extras` are
    `prepared`'s; `static` its compiled-launcher call when `single_like` is set, else None."""

    __slots__ = ("out_specs", "prepared", "launch", "static", "extras", "artifact", "device", "device_index",
                 "like", "single_like", "in_place")

    def __init__(self, out_specs, prepared, artifact, device, device_index, like, in_place=None):
        self.out_specs, self.prepared, self.artifact = out_specs, prepared, artifact
        self.launch = prepared.launch  # bound once (measured: saves a lookup and a method binding per call)
        self.extras = prepared.extras  # the int32 extras, between the input and the output pointers
        self.device, self.device_index, self.like = device, device_index, like
        self.in_place = in_place
        self.single_like = like[0] if len(like) == 1 and in_place is None else None
        # torch's compiled launcher, bound, for the common case (EagerOp.autograd_kernel), else None
        self.static = getattr(prepared, "_static", None) if self.single_like is not None else None


def _make_entry(artifact: Artifact, inputs, out_specs, shapes: symbolic.Shapes, device, device_index: int,
                in_place=None) -> "_Entry":
    """The entry for one specialization: `artifact` prepared for `shapes` on `device_index`."""
    # an output shaped like a contiguous input is allocated with empty_like (measured ~40% cheaper)
    like = tuple(next((i for i, t in enumerate(inputs) if tuple(t.shape) == shape and t.dtype == dtype), None)
                 for shape, dtype in out_specs)
    return _Entry(out_specs, launcher.PreparedLaunch(artifact, shapes, device_index), artifact, device, device_index,
                  like, in_place)


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
