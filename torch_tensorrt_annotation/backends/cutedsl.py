"""CuTe DSL backend (nvidia-cutlass-dsl): a `@cute.jit` host function compiled ahead of time with fake arguments.

TensorRT passes raw pointers and int32 values, so the kernel takes `cute.Pointer` and `cutlass.Int32` parameters
and builds its tensors inside (`cute.make_tensor(ptr, cute.make_layout(n))`). A `cute.Tensor` parameter is passed
by value with its layout (pointer, dims, strides in one struct), which TensorRT cannot pass: it is refused with
that fix. Compile-time values (config entries, op attributes such as a float eps) are `cutlass.Constexpr`
parameters given as keywords.

    @cute.jit
    def add_host(x: cute.Pointer, y: cute.Pointer, n: cutlass.Int32, out: cute.Pointer, BLOCK: cutlass.Constexpr):
        add_kernel(x, y, n, out, BLOCK).launch(grid=[(n + BLOCK - 1) // BLOCK, 1, 1], block=[BLOCK, 1, 1])

    def launch(kernel, x, y, out, *, BLOCK):             # recorded by tta, like every backend
        n = x.numel()
        kernel[tta.cdiv(n, BLOCK), BLOCK](x, y, n, out, BLOCK=BLOCK)

    spec = tta.cutedsl(add_host, launch, configs=[{"BLOCK": 256}, {"BLOCK": 1024}])

The grid and block in the host function serve CuTe's own launcher (tta.check's reference); TensorRT uses the ones
recorded from the launch function, and a static block in the host function must equal the recorded one (the PTX
carries it as `.reqntid`). The PTX ISA is chosen when compiling (`ptx-version`), at most 8.8, which every CUDA
12.9+ driver loads.
"""

from __future__ import annotations

import inspect
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from .. import ptx_parsing, recording, symbolic
from ..dtypes import dtype_name, element_type
from ..errors import CompileError, RecordingError, context
from ..sources import global_values, referenced, source_of
from ..spec import CONSTANT, EXTRA, INPUT, OUTPUT, KernelArg, LaunchPlan
from .base import CompiledKernel, HandleBackend, KernelHandle

_MAX_PTX = 88  # the newest ISA both CuTe DSL flavours (cu12, cu13) can emit through ptx-version


class CuteKernel(KernelHandle):
    """A CuTe DSL `@cute.jit` host function, launched from a launch function as kernel[grid, block](*args, **kw)."""

    accepts_keywords = True

    def __init__(self, host_fn, dynamic_dims: Mapping[str, Sequence[int]] | None = None):
        if not callable(host_fn):
            raise RecordingError(f"tta.cutedsl takes a @cute.jit host function, got {type(host_fn).__name__}.")
        self.host_fn = host_fn
        self.name = getattr(inspect.unwrap(host_fn), "__name__", "cute_kernel")
        self.kinds = _host_param_kinds(host_fn)
        self.dynamic_dims = {k: tuple(int(d) for d in v) for k, v in (dynamic_dims or {}).items()}
        tensors = [n for n, k in self.kinds.items() if k == "tensor"]
        unknown = [k for k in self.dynamic_dims if k not in tensors]
        if unknown:
            raise RecordingError(
                f"dynamic_dims of CuTe DSL kernel '{self.name}' names {unknown}, which are not cute.Tensor "
                f"parameters of the host function (those are {tensors}). Fix: key dynamic_dims by the host "
                "function's cute.Tensor parameter names."
            )

    @property
    def tensor_params(self) -> bool:
        return any(k == "tensor" for k in self.kinds.values())

    def positional(self) -> list[str]:
        """Host parameters the launch function passes positionally, in order (streams are tta's)."""
        return [n for n, k in self.kinds.items() if k not in ("stream", "keyword")]

    def stream_param(self) -> str | None:
        return next((n for n, k in self.kinds.items() if k == "stream"), None)

    def __call__(self, *args, **kwargs):
        """kernel(*args, **constexprs): a launch whose grid, block and shared memory the host function decides
        (cute.Tensor kernels). tta reads them from the compiled host code."""
        if not self.tensor_params:
            raise RecordingError(
                f"Kernel '{self.name}' takes no cute.Tensor parameter, so tta cannot read its launch dims from its "
                f"host code. Launch it as kernel[grid, block](...) or kernel[grid, block, shared_mem](...) at "
                f"{recording.user_location()}."
            )
        return self._call(None, None, None, *args, **kwargs)

    def __repr__(self):
        return f"CuteKernel({self.name!r})"

    def fingerprint(self) -> str:
        fn = inspect.unwrap(self.host_fn)
        parts = [source_of(fn)]
        user = referenced(fn, lambda o: callable(o) and not isinstance(o, type)
                          and str(getattr(inspect.unwrap(o), "__module__", "")).split(".")[0]
                          not in ("cutlass", "builtins", "torch", "math", "torch_tensorrt_annotation"))
        parts += [source_of(o) for o in user]
        parts += global_values(fn)  # module-level values (Constexpr tables, block sizes) the host function reads
        for o in user:
            parts += global_values(o)
        # cute.compile re-creates a @cute.jit / @cute.kernel function from its AST (then `__wrapped__` leads to a
        # copy whose source starts at `def`, without the decorator): drop decorator lines, so that the op name of
        # a plugin made after a compile is the same as before it.
        return "\n----\n".join(_without_decorators(p) for p in parts)

    def launch_eagerly(self, grid, block, shared, args, kwargs) -> None:
        """CuTe's own launcher (JIT compile and launch), with real pointers or tensors: tta.check's reference."""
        import cutlass
        import torch
        from cutlass.cute.runtime import from_dlpack, make_ptr
        from cutlass.cute.typing import AddressSpace

        real: list[Any] = []
        kinds = [self.kinds[n] for n in self.positional()]
        device = None
        for a, kind in zip(args, kinds + ["pointer"] * (len(args) - len(kinds))):
            if isinstance(a, torch.Tensor):
                device = a.device
                if kind == "tensor":
                    real.append(from_dlpack(a.detach(), assumed_align=16))
                else:
                    real.append(make_ptr(cutlass_dtype(a.dtype), a.data_ptr(), AddressSpace.gmem,
                                         assumed_align=16))
            elif isinstance(a, float):
                real.append(cutlass.Float32(a))
            else:
                real.append(cutlass.Int32(int(a)))
        stream = self.stream_param()
        if stream is not None:
            import cuda.bindings.driver as cuda

            kwargs = {**kwargs, stream: cuda.CUstream(torch.cuda.current_stream(device).cuda_stream)}
        self.host_fn(*real, **kwargs)


def _without_decorators(source: str) -> str:
    lines = source.splitlines()
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    return "\n".join(lines)


def _host_param_kinds(host_fn) -> dict[str, str]:
    """Host parameter name -> 'tensor' (cute.Tensor), 'stream' (cuda.CUstream), 'keyword' (Constexpr or keyword
    only) or 'value' (pointers and scalars), from the annotations."""
    try:
        params = inspect.signature(inspect.unwrap(host_fn)).parameters
    except (TypeError, ValueError):
        return {}
    kinds = {}
    for name, p in params.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = p.annotation
        label = ann if isinstance(ann, str) else getattr(ann, "__name__", None) or str(ann)
        label = str(label).rsplit(".", 1)[-1]
        if p.kind == p.KEYWORD_ONLY or "Constexpr" in str(ann):
            kinds[name] = "keyword"
        elif label in ("Tensor", "Optional[Tensor]"):
            kinds[name] = "tensor"
        elif label == "CUstream":
            kinds[name] = "stream"
        else:
            kinds[name] = "value"
    return kinds


def cutlass_dtype(dtype):
    import cutlass

    name = element_type(dtype, "cutlass")
    if name is None:
        raise CompileError(f"CuTe DSL backend: tensors of dtype {dtype_name(dtype)} are not supported.")
    return getattr(cutlass, name)


def _arch_and_isa(target) -> tuple[str, int]:
    """The arch CuTe DSL compiles for (arch-specific from sm_90 on) and its `ptx-version` (e.g. 88 for 8.8): the
    target's ISA ceiling, at most what both DSL flavours emit. Raises CompileError below 8.7, the oldest it emits."""
    isa = _MAX_PTX if target.ptx_isa is None else min(_MAX_PTX, target.ptx_isa[0] * 10 + target.ptx_isa[1])
    if isa < 87:
        raise CompileError(f"CuTe DSL emits PTX ISA 8.7 or newer; the target allows {target.ptx_isa}.")
    arch = target.sm if target.suffix else f"sm_{target.arch}a" if target.arch >= 90 else f"sm_{target.arch}"
    return arch, isa


class CuteDslBackend(HandleBackend):
    name = "cutedsl"
    extra = "cutedsl"
    module = "cutlass"

    def toolchain_version(self) -> str:
        import importlib.metadata

        self.require()
        return f"nvidia-cutlass-dsl {importlib.metadata.version('nvidia-cutlass-dsl')}"

    def record(self, spec, config, tensors, attrs) -> LaunchPlan:
        plan = super().record(spec, config, tensors, attrs)
        handle: CuteKernel = plan.kernel
        if not handle.tensor_params:
            return plan
        names = handle.positional()
        runtime = [a for a in plan.args if a.kind != CONSTANT]
        where = context(kernel=handle.name, config=config)
        if len(runtime) != len(names):
            raise RecordingError(
                f"Kernel '{handle.name}' ({where}) is launched with {len(runtime)} positional arguments, but its "
                f"host function takes {len(names)} ({names}; a cuda.CUstream parameter is passed by tta). Fix: "
                "pass one argument per host parameter, in order; compile-time values as keywords."
            )
        by_role = {(t.tta_role): t for t in tensors}
        args: list[KernelArg] = []
        for name, arg in zip(names, runtime):
            if handle.kinds[name] == "tensor":
                if arg.kind not in (INPUT, OUTPUT):
                    raise RecordingError(f"Host parameter '{name}' of kernel '{handle.name}' is a cute.Tensor, but "
                                         f"the launch passes a {arg.kind} value there ({where}).")
                rank = by_role[(arg.kind, arg.index)].dim()
                dynamic = {d % rank if rank else d for d in handle.dynamic_dims.get(name, ())}
                if any(not -rank <= d < rank for d in handle.dynamic_dims.get(name, ())):
                    raise RecordingError(f"dynamic_dims['{name}'] of kernel '{handle.name}' names a dim out of "
                                         f"range for a tensor of rank {rank}.")
                args.append(KernelArg(name, arg.kind, index=arg.index, value=rank))
                for j in range(rank):
                    if j not in dynamic:  # a static dim: baked into the kernel, and guarded
                        args.append(KernelArg(f"{name}.shape[{j}]", CONSTANT,
                                              expr=symbolic.Dim(arg.kind, arg.index, j)))
            elif arg.kind == EXTRA and arg.dtype == "fp32":
                raise RecordingError(
                    f"Host parameter '{name}' of kernel '{handle.name}' ({where}) gets a float runtime value; with "
                    "cute.Tensor parameters tta passes only pointers, tensors and cutlass.Int32 values. Fix: pass "
                    "it as a cutlass.Constexpr keyword."
                )
            else:
                args.append(KernelArg(name, arg.kind, index=arg.index, expr=arg.expr, value=arg.value,
                                      dtype=arg.dtype))
        args += [a for a in plan.args if a.kind == CONSTANT]
        return LaunchPlan(plan.kernel, plan.kernel_name, plan.grid, tuple(args), plan.options)

    def compile(self, plan, *, kernel_name, target, input_dtypes, output_dtypes, constants, divisible=frozenset(),
                config=None, attributes=None) -> CompiledKernel:
        self.require()
        if plan.kernel.tensor_params:
            return self._compile_tensor_kernel(plan, kernel_name, target, input_dtypes, output_dtypes, constants)
        import cutlass
        import cutlass.cute as cute
        from cutlass.base_dsl.compiler import DumpDir, ExtraCompilerOpts, GPUArch, KeepPTX
        from cutlass.cute.runtime import make_ptr
        from cutlass.cute.typing import AddressSpace

        handle: CuteKernel = plan.kernel
        fakes: list[Any] = []
        for arg in plan.args:
            if arg.kind == CONSTANT:
                continue
            if arg.kind in (INPUT, OUTPUT):
                dtype = (input_dtypes if arg.kind == INPUT else output_dtypes)[arg.index]
                fakes.append(make_ptr(cutlass_dtype(dtype), 0, AddressSpace.gmem, assumed_align=16))
            elif arg.kind == EXTRA:
                fakes.append(cutlass.Float32(1.0) if arg.dtype == "fp32" else cutlass.Int32(1))
        arch, isa = _arch_and_isa(target)
        dump = tempfile.mkdtemp(prefix="tta_cute_")
        options = (GPUArch(arch), KeepPTX(True), DumpDir(dump), ExtraCompilerOpts(f"ptx-version=+ptx{isa}"))
        try:
            compiled = cute.compile[options](handle.host_fn, *fakes, **dict(dict(plan.options)["constexprs"]))
        except Exception as exc:  # the DSL raises many types; name the kernel and the reason
            raise CompileError(
                f"CuTe DSL failed to compile '{handle.name}' for {arch}: {type(exc).__name__}: "
                f"{str(exc).strip()[:2000]}. Kernel parameters must be cute.Pointer (one per tensor, in the "
                "launch's order) and cutlass.Int32; compile-time values are cutlass.Constexpr keywords."
            ) from exc
        finally:
            shutil.rmtree(dump, ignore_errors=True)
        text = compiled.__ptx__ or ""
        entries = ptx_parsing.parse(text).entries if text else ()
        if len(entries) != 1:
            raise CompileError(f"CuTe DSL produced {len(entries)} kernels for '{handle.name}'; a plugin tactic "
                               "launches exactly one.")
        (entry,) = entries
        if entry.needs_cluster:
            raise CompileError(f"Kernel '{handle.name}' needs a cluster launch, which TensorRT does not do.")
        if any(".b8" in p.decl for p in entry.params):
            raise CompileError(
                f"Kernel '{handle.name}' takes a parameter by value (a cute.Tensor carries its layout in a struct), "
                "but TensorRT passes only pointers and int32 values. Fix: take cute.Pointer and cutlass.Int32 "
                "parameters and build tensors inside the kernel with cute.make_tensor(ptr, cute.make_layout(n))."
            )
        shared = dict(plan.options)["shared_mem"]
        if re.search(r"\.extern\s+\.shared", text) and getattr(shared, "value", None) == 0:
            raise CompileError(
                f"Kernel '{handle.name}' uses dynamic shared memory, but the launch gives none. TensorRT needs its "
                "size: launch as kernel[grid, block, shared_mem_bytes](...)."
            )
        return self.finish(plan, text, entry.name, kernel_name, target, self.toolchain_version())

    def _compile_tensor_kernel(self, plan, kernel_name, target, input_dtypes, output_dtypes,
                               constants) -> CompiledKernel:
        """A kernel with cute.Tensor parameters: compiled with its static dims static and its dynamic dims
        symbolic, then flattened into TensorRT's calling convention (see cutedsl_abi)."""
        import cutlass
        import cutlass.cute as cute
        from cutlass.base_dsl.compiler import DumpDir, ExtraCompilerOpts, GPUArch, KeepPTX
        from cutlass.cute.runtime import make_fake_compact_tensor, make_fake_stream, make_ptr
        from cutlass.cute.typing import AddressSpace

        from . import cutedsl_abi

        handle: CuteKernel = plan.kernel
        location = dict(plan.options).get("location", "")
        where = f"CuTe DSL kernel '{handle.name}'" + (f" (launched at {location})" if location else "")
        by_name: dict[str, tuple[Any, cutedsl_abi.HostArg]] = {}
        static = {a.name: constants[a.name] for a in plan.args if a.kind == CONSTANT and a.expr is not None}
        for arg in plan.args:
            if arg.kind in (INPUT, OUTPUT):
                dtype = cutlass_dtype((input_dtypes if arg.kind == INPUT else output_dtypes)[arg.index])
                if handle.kinds.get(arg.name) == "tensor":
                    rank = int(arg.value)
                    shape = tuple(cute.sym_int32() if f"{arg.name}.shape[{j}]" not in static
                                  else int(static[f"{arg.name}.shape[{j}]"]) for j in range(rank))
                    fake = make_fake_compact_tensor(dtype, shape, stride_order=tuple(range(rank - 1, -1, -1)),
                                                    assumed_align=16)
                    by_name[arg.name] = (fake, cutedsl_abi.HostArg("tensor", role=(arg.kind, arg.index), rank=rank))
                else:
                    by_name[arg.name] = (make_ptr(dtype, 0, AddressSpace.gmem, assumed_align=16),
                                         cutedsl_abi.HostArg("pointer", role=(arg.kind, arg.index)))
            elif arg.kind == EXTRA:
                by_name[arg.name] = (cutlass.Int32(1), cutedsl_abi.HostArg("int", expr=arg.expr))
        kwargs = dict(dict(plan.options)["constexprs"])
        host_args: list[cutedsl_abi.HostArg] = []
        for name, kind in handle.kinds.items():  # the host function's block arguments, in signature order
            if kind == "stream":
                kwargs[name] = make_fake_stream()
                host_args.append(cutedsl_abi.HostArg("stream"))
            elif name in by_name:
                kwargs[name] = by_name[name][0]
                host_args.append(by_name[name][1])
        arch, isa = _arch_and_isa(target)
        dump = tempfile.mkdtemp(prefix="tta_cute_")
        options = (GPUArch(arch), KeepPTX(True), DumpDir(dump), ExtraCompilerOpts(f"ptx-version=+ptx{isa}"))
        try:
            with _keep_host_ir(dump):
                compiled = cute.compile[options](handle.host_fn, **kwargs)
            text = compiled.__ptx__ or ""
            host_ir = compiled.__mlir__ or ""
        except Exception as exc:  # the DSL raises many types; name the kernel and the reason
            raise CompileError(
                f"CuTe DSL failed to compile '{handle.name}' for {arch}: {type(exc).__name__}: "
                f"{str(exc).strip()[:2000]}. cute.Tensor parameters are compact row-major tensors whose dims "
                f"are static except those in dynamic_dims ({handle.dynamic_dims or 'none'})."
            ) from exc
        finally:
            shutil.rmtree(dump, ignore_errors=True)
        info = ptx_parsing.parse(text) if text else None
        entries = [e for e in info.entries] if info else []
        if len(entries) != 1:
            raise CompileError(f"CuTe DSL produced {len(entries)} kernels for '{handle.name}'; a plugin tactic "
                               "launches exactly one.")
        (entry,) = entries
        if not host_ir.lstrip().startswith(("module", "!", "#")):
            raise CompileError(f"The CuTe DSL did not return the host IR of '{handle.name}'; tta needs it to read "
                               "the launch. This nvidia-cutlass-dsl version is not supported; use 4.8.1.")
        try:
            cutedsl_abi.check_header(entry)
            smem = cutedsl_abi.shared_mem_from_lowered(compiled.ir_module)
            launch = cutedsl_abi.analyze_host(host_ir, host_args, smem, handle.name)
            flat, decls = cutedsl_abi.flatten(text, entry, launch.params, handle.name)
        except cutedsl_abi.Refused as exc:
            raise CompileError(
                f"{where}: TensorRT cannot launch it: {exc}. TensorRT passes only the input pointers, int32 extra "
                "args and the output pointers, with grid, block and dynamic shared memory that are int "
                "expressions of the input dims."
            ) from None
        args = []
        role_names = {(a.kind, a.index): a.name for a in plan.args if a.kind in (INPUT, OUTPUT)}
        for _name, _decl, kind, what in decls:
            if kind == "pointer":
                args.append(KernelArg(role_names.get(what, f"{what[0]}{what[1]}"), what[0], index=what[1]))
            else:
                args.append(KernelArg(f"{handle.name}:{what}", EXTRA, expr=what))
        flat = ptx_parsing.rename_entry(flat, entry.name, kernel_name)
        block: Any = launch.block
        shared: Any = launch.shared_mem
        return CompiledKernel(ptx=flat, entry=kernel_name, args=tuple(args), block=block, shared_mem=shared,
                              toolchain=self.toolchain_version(), grid=launch.grid,
                              metadata={"cute_params": len(launch.params)})


_HOST_IR_LOCK = threading.Lock()


class _keep_host_ir:
    """Ask the DSL to keep its host IR (after canonicalize/cse) in `dump` for this compile: CUTE_DSL_KEEP=ir."""

    def __init__(self, dump: str):
        self.dump = dump

    def __enter__(self):
        from cutlass.cutlass_dsl import CuTeDSL

        _HOST_IR_LOCK.acquire()
        self.envar = CuTeDSL._get_dsl().envar
        self.saved = (self.envar.keep_ir_clean, self.envar.dump_dir)
        self.envar.keep_ir_clean, self.envar.dump_dir = True, self.dump
        return self

    def __exit__(self, *exc):
        self.envar.keep_ir_clean, self.envar.dump_dir = self.saved
        _HOST_IR_LOCK.release()
        return False
