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
from typing import Any

from .. import ptx_parsing as P
from ..errors import CompileError, RecordingError
from ..sources import referenced, source_of
from ..spec import CONSTANT, EXTRA, INPUT, OUTPUT
from .base import CompiledKernel
from .cuda import KernelHandle, _HandleBackend

_MAX_PTX = 88  # the newest ISA both CuTe DSL flavours (cu12, cu13) can emit through ptx-version


class CuteKernel(KernelHandle):
    """A CuTe DSL `@cute.jit` host function, launched from a launch function as kernel[grid, block](*args, **kw)."""

    accepts_keywords = True

    def __init__(self, host_fn):
        if not callable(host_fn):
            raise RecordingError(f"tta.cutedsl takes a @cute.jit host function, got {type(host_fn).__name__}.")
        self.host_fn = host_fn
        self.name = getattr(inspect.unwrap(host_fn), "__name__", "cute_kernel")

    def __repr__(self):
        return f"CuteKernel({self.name!r})"

    def fingerprint(self) -> str:
        fn = inspect.unwrap(self.host_fn)
        parts = [source_of(fn)]
        user = referenced(fn, lambda o: callable(o) and not isinstance(o, type)
                          and str(getattr(inspect.unwrap(o), "__module__", "")).split(".")[0]
                          not in ("cutlass", "builtins", "torch", "math", "torch_tensorrt_annotation"))
        parts += [source_of(o) for o in user]
        return "\n----\n".join(parts)

    def launch_eagerly(self, grid, block, shared, args, kwargs) -> None:
        """CuTe's own launcher (JIT compile and launch), with real pointers: the reference for tta.check."""
        import cutlass
        import torch
        from cutlass.cute.runtime import make_ptr
        from cutlass.cute.typing import AddressSpace

        real: list[Any] = []
        for a in args:
            if isinstance(a, torch.Tensor):
                real.append(make_ptr(cutlass_dtype(a.dtype), a.data_ptr(), AddressSpace.gmem, assumed_align=16))
            else:
                real.append(cutlass.Int32(int(a)))
        self.host_fn(*real, **kwargs)


def cutlass_dtype(dtype):
    import cutlass

    name = str(dtype).replace("torch.", "")
    table = {"float32": "Float32", "float16": "Float16", "bfloat16": "BFloat16", "int32": "Int32",
             "int64": "Int64", "int8": "Int8", "uint8": "Uint8"}
    if name not in table:
        raise CompileError(f"CuTe DSL backend: tensors of dtype {name} are not supported.")
    return getattr(cutlass, table[name])


class CuteDslBackend(_HandleBackend):
    name = "cutedsl"
    extra = "cutedsl"
    module = "cutlass"

    def toolchain_version(self) -> str:
        import importlib.metadata

        self.require()
        return f"nvidia-cutlass-dsl {importlib.metadata.version('nvidia-cutlass-dsl')}"

    def compile(self, plan, *, kernel_name, target, input_dtypes, output_dtypes, constants, divisible=frozenset(),
                config=None, attributes=None) -> CompiledKernel:
        self.require()
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
                fakes.append(cutlass.Int32(1))
        isa = _MAX_PTX if target.ptx_isa is None else min(_MAX_PTX, target.ptx_isa[0] * 10 + target.ptx_isa[1])
        if isa < 87:
            raise CompileError(f"CuTe DSL emits PTX ISA 8.7 or newer; the target allows {target.ptx_isa}.")
        arch = f"sm_{target.arch}a" if target.arch >= 90 else f"sm_{target.arch}"
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
        entries = [e.name for e in P.parse(text).entries] if text else []
        if len(entries) != 1:
            raise CompileError(f"CuTe DSL produced {len(entries)} kernels for '{handle.name}'; a plugin tactic "
                               "launches exactly one.")
        header = text[text.index(entries[0]):]
        header = header[: header.index("{")]
        if re.search(r"\.(reqnctapercluster|explicitcluster|maxclusterrank)\b", header):
            raise CompileError(f"Kernel '{handle.name}' needs a cluster launch, which TensorRT does not do.")
        if ".b8" in header:
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
        return self.finish(plan, text, entries[0], kernel_name, target, self.toolchain_version())
