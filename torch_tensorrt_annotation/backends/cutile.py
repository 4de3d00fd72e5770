"""cuTile backend (cuda-tile): a `@ct.kernel` compiled ahead of time with tileiras, for GPUs cuTile supports.

    @ct.kernel
    def add(x, y, out, TILE: ct.Constant[int]):
        bid = ct.bid(0)
        ct.store(out, index=(bid,), tile=ct.load(x, index=(bid,), shape=(TILE,)) + ct.load(y, index=(bid,),
                                                                                            shape=(TILE,)))

    def launch(kernel, x, y, out, *, TILE):
        kernel[tta.cdiv(x.numel(), TILE)](x, y, out, TILE=TILE)     # grid in tiles; constants as keywords

    spec = tta.cutile(add, launch, configs=[{"TILE": 256}, {"TILE": 1024}])

How the PTX is obtained and fitted to TensorRT:
- `cuda.tile.compilation.export_kernel` compiles for `sm_XX` with tileiras, which emits no PTX file; the cubin it
  builds with line info carries the exact PTX it assembled (ELF section `.nv_debug_ptx_txt`), which is read back.
- cuTile passes every array as (pointer, extents..., strides...), int32 by default. TensorRT passes only pointers
  and int32 extras, so each array's extents and strides become extras (its dims and contiguous strides), and the
  parameter declarations are permuted into TensorRT's order (inputs, extras, outputs) like every backend's.
- The `.language` directive, which marks a TileIR kernel for the driver's TileIR launch path, is dropped so that a
  plain launch (grid of tiles, block = the kernel's `.reqntid`) runs it; debug `.file` lines (absolute paths) are
  removed. Kernels whose loads lower to TMA get hidden tensor-map parameters, which TensorRT cannot fill:
  they are refused (`allow_tma=False` on ct.load / ct.store avoids them).
- The PTX ISA is the tileiras version's (9.4 for 13.4); it is never relabelled.

cuTile supports compute capability 8.x, 10.x, 11.x and 12.x: compiling for sm_90 is refused. No GPU available to
this project runs cuTile, so these artifacts have been compiled and checked, never launched.
"""

from __future__ import annotations

import inspect
import os
import tempfile

from .. import ptx_parsing, symbolic
from ..dtypes import dtype_name, element_type
from ..errors import BackendUnavailableError, CompileError
from ..sources import global_values, source_of
from ..spec import CONSTANT, EXTRA, INPUT, OUTPUT, KernelArg
from .base import CompiledKernel, HandleBackend, KernelHandle

SUPPORTED_MAJORS = (8, 10, 11, 12)


class TileKernel(KernelHandle):
    """A `@ct.kernel`, launched from a launch function as kernel[grid](*args, **constants)."""

    accepts_keywords = True

    def __init__(self, kernel):
        self.kernel = kernel
        fn = getattr(kernel, "_pyfunc", kernel)
        self.name = getattr(fn, "__name__", "cutile_kernel")

    def __repr__(self):
        return f"TileKernel({self.name!r})"

    def __getitem__(self, grid):
        return super().__getitem__((grid, 1, 0))  # cuTile chooses the block itself (its .reqntid)

    def fingerprint(self) -> str:
        fn = getattr(self.kernel, "_pyfunc", self.kernel)
        return "\n----\n".join([source_of(fn), *global_values(fn)])  # with the module-level values it reads

    def parameters(self) -> list[str]:
        return list(inspect.signature(getattr(self.kernel, "_pyfunc", self.kernel)).parameters)

    def launch_eagerly(self, grid, block, shared, args, kwargs) -> None:
        import cuda.tile as ct
        import torch

        ordered = _ordered_arguments(self, args, kwargs)
        grid = grid if isinstance(grid, tuple) else (grid,)
        ct.launch(torch.cuda.current_stream().cuda_stream, grid, self.kernel, tuple(ordered))


def _ordered_arguments(handle: TileKernel, args, kwargs) -> list:
    positional = iter(args)
    return [kwargs[name] if name in kwargs else next(positional) for name in handle.parameters()]


def ptx_from_cubin(cubin: bytes) -> str:
    """The PTX that tileiras assembled, from the `.nv_debug_ptx_txt` section of a cubin built with line info (the
    ELF is read with pyelftools)."""
    import io

    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError as exc:
        raise BackendUnavailableError(
            f"The cutile backend reads the cubin with pyelftools, which failed to import ({exc}). "
            "Fix: pip install 'torch-tensorrt-annotation[cutile]'."
        ) from exc
    try:
        section = ELFFile(io.BytesIO(cubin)).get_section_by_name(".nv_debug_ptx_txt")
    except ELFError as exc:
        raise CompileError(f"tileiras did not produce a readable ELF cubin: {exc}") from exc
    if section is None:
        raise CompileError("The cubin from tileiras carries no PTX (.nv_debug_ptx_txt); compile with line info.")
    text = section.data().replace(b"\0", b"\n").decode(errors="replace")
    text = text.split(".nv_intermediate_source_section")[0]
    return "\n".join(line for line in text.splitlines() if line.strip())


def _clean(ptx: str) -> str:
    lines = []
    for line in ptx.splitlines():
        stripped = line.strip()
        if stripped.startswith((".language", ".file", ".loc")):
            continue  # TileIR launch marker and debug locations (absolute source paths)
        lines.append(line)
    return "\n".join(lines) + "\n"


class CuTileBackend(HandleBackend):
    runtime_float_scalars = False
    name = "cutile"
    extra = "cutile"
    module = "cuda.tile"

    def toolchain_version(self) -> str:
        import importlib.metadata

        self.require()
        versions = []
        for dist in ("cuda-tile", "nvidia-cuda-tileiras"):
            try:
                versions.append(f"{dist} {importlib.metadata.version(dist)}")
            except importlib.metadata.PackageNotFoundError:
                pass
        return ", ".join(versions)

    def compile(self, plan, *, kernel_name, target, input_dtypes, output_dtypes, constants, divisible=frozenset(),
                config=None, attributes=None) -> CompiledKernel:
        self.require()
        if target.arch // 10 not in SUPPORTED_MAJORS:
            raise CompileError(
                f"cuTile does not support {target.sm}: it compiles for compute capability 8.x, 10.x, 11.x and 12.x "
                f"only (kernel '{plan.kernel_name}'). Fix: use another backend's tactic for this GPU, or target "
                "sm_100 / sm_120."
            )
        import cuda.tile as ct
        from cuda.tile.compilation import (
            ArrayConstraint,
            CallingConvention,
            ConstantConstraint,
            KernelSignature,
            ScalarConstraint,
            export_kernel,
        )

        handle: TileKernel = plan.kernel
        kwargs = dict(dict(plan.options)["constexprs"])
        runtime = [a for a in plan.args if a.kind != CONSTANT]
        ranks = dict(dict(plan.options).get("ranks", ()))
        constraints, expanded = [], []
        position = iter(runtime)
        for name in handle.parameters():
            if name in kwargs:
                constraints.append(ConstantConstraint(kwargs[name]))
                continue
            arg = next(position)
            if arg.kind in (INPUT, OUTPUT):
                dtype = (input_dtypes if arg.kind == INPUT else output_dtypes)[arg.index]
                rank = ranks[(arg.kind, arg.index)]
                constraints.append(ArrayConstraint(_tile_dtype(ct, dtype), rank, index_dtype=ct.int32,
                                                   stride_lower_bound_incl=0, alias_groups=(),
                                                   may_alias_internally=False))
                expanded.append(arg)
                expanded += [KernelArg(f"{arg.name}.shape[{a}]", EXTRA, expr=symbolic.Dim(arg.kind, arg.index, a))
                             for a in range(rank)]
                expanded += [KernelArg(f"{arg.name}.stride({a})", EXTRA, expr=symbolic.Stride(arg.kind, arg.index, a))
                             for a in range(rank)]
            else:
                constraints.append(ScalarConstraint(ct.int32))
                expanded.append(arg)
        signature = KernelSignature(constraints, CallingConvention.cutile_python_v1(), symbol=kernel_name)
        with tempfile.TemporaryDirectory(prefix="tta_cutile_") as tmp:
            path = os.path.join(tmp, "kernel.cubin")
            try:
                export_kernel(handle.kernel, [signature], path, gpu_code=f"sm_{target.arch}", output_format="cubin")
            except Exception as exc:  # the toolchain raises many types; name the kernel and the reason
                raise CompileError(f"cuTile failed to compile '{handle.name}' for {target.sm}: "
                                   f"{type(exc).__name__}: {str(exc).strip()[:2000]}") from exc
            with open(path, "rb") as f:
                cubin = f.read()
        text = _clean(ptx_from_cubin(cubin))
        info = ptx_parsing.parse(text)
        entry = info.entry(kernel_name) if any(e.name == kernel_name for e in info.entries) else info.entries[0]
        if any(".hidden" in p.decl or ".b8" in p.decl for p in entry.params):
            raise CompileError(
                f"cuTile kernel '{handle.name}' has hidden tensor-map parameters (its loads lowered to TMA), which "
                "TensorRT cannot fill. Fix: pass allow_tma=False to ct.load / ct.store."
            )
        if len(entry.params) != len(expanded):
            raise CompileError(f"cuTile kernel '{handle.name}' has {len(entry.params)} PTX parameters, expected "
                               f"{len(expanded)} (pointer, extents and strides per array, int32 per scalar).")
        target.check_ptx_isa(info.version, f"The PTX tileiras emitted for '{handle.name}'",
                             "pass the deployment driver's ISA if it is newer, or install the tileiras of that CUDA "
                             "version.")
        if entry.reqntid is None:
            raise CompileError(f"cuTile kernel '{handle.name}' declares no .reqntid; cannot tell its block size.")
        bx, by, bz = (*entry.reqntid, 1, 1)[:3]
        block = (bx, by, bz)
        text = ptx_parsing.rename_entry(text, entry.name, kernel_name)
        return CompiledKernel(ptx=text, entry=kernel_name, args=tuple(expanded), block=block,
                              shared_mem=0, toolchain=self.toolchain_version())

    def record(self, spec, config, tensors, attrs):
        plan = super().record(spec, config, tensors, attrs)
        ranks = tuple(sorted((t.tta_role, t._rank) for t in tensors if t._rank is not None))
        return type(plan)(plan.kernel, plan.kernel_name, plan.grid, plan.args, plan.options + (("ranks", ranks),))


def _tile_dtype(ct, dtype):
    name = element_type(dtype, "cutile")
    if name is None:
        raise CompileError(f"cuTile backend: tensors of dtype {dtype_name(dtype)} are not supported.")
    return getattr(ct, name)


__all__ = ["CuTileBackend", "TileKernel", "ptx_from_cubin"]
