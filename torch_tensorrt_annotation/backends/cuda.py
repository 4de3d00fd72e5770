"""CUDA C++ (compiled with NVRTC) and precompiled-PTX backends.

A launch function receives a kernel handle first, then the op's tensors, attributes and config, and launches the
kernel once:

    def launch(kernel, x, y, out, *, BLOCK):
        n = x.numel()
        kernel[tta.cdiv(n, BLOCK), BLOCK](x, y, out, n)       # kernel[grid, block(, shared_mem)](*args)

    spec = tta.cuda(SOURCE, "add", launch, configs=[{"BLOCK": 256}])   # or "scale<{BLOCK}>" for a template

TensorRT passes only pointers and 32-bit values: an `int` or `float` argument is a runtime parameter (a float's
IEEE-754 bits travel as an int32 extra; an op attribute passed straight to the kernel is read at launch), and
64-bit parameters (`double`, `long long`) are refused. Compile-time values reach the source as macros: every
config entry and op attribute is defined with a `TTA_` prefix (`-DTTA_BLOCK=256`, `-DTTA_eps=1e-05`), and so are
the tensor element types (`TTA_IN0_T`, `TTA_OUT0_T`, e.g. `float`, `__half`; half types need CUDA's headers, found
automatically when installed).
The kernel name may be a C++ name expression with `{config}` / `{attribute}` placeholders; name-mangled and
`extern "C"` kernels both work. Outside a recording, a handle launches for real (NVRTC + the CUDA driver, the
kernel's own argument order): that is the backend's own launcher, which `tta.check` uses as its reference.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from .. import kernel_types
from ..dtypes import element_type
from ..errors import CompileError, DtypeError, SpecError
from ..spec import EXTRA, INPUT, OUTPUT, KernelArg
from .base import CompiledKernel, HandleBackend, KernelHandle, current_specialization

log = logging.getLogger(__name__)



class CudaKernel(KernelHandle):
    """A CUDA C++ kernel (source + name) or a precompiled PTX kernel (ptx= + name)."""

    def __init__(self, source: str | None = None, name: str = "", *, ptx: str | None = None,
                 options: Sequence[str] = (), dtypes=None):
        if (source is None) == (ptx is None):
            raise SpecError("CudaKernel takes CUDA C++ source or ptx=, exactly one of them.")
        if not name:
            raise SpecError("CudaKernel needs the kernel's name (a C++ name expression, e.g. 'add' or 'k<{BLOCK}>').")
        self.source, self.ptx, self.name, self.options = source, ptx, name, tuple(options)
        self.dtypes = kernel_types.normalize_dtypes(dtypes, f"dtypes= of kernel '{name}'")

    def __repr__(self):
        return f"CudaKernel({self.name!r}, {'ptx' if self.ptx else 'cuda'})"

    def fingerprint(self) -> str:
        dtypes = "" if self.dtypes is None else f"|dtypes={_dtypes_text(self.dtypes)}"
        return f"{self.name}|{self.options}{dtypes}|{self.source if self.source is not None else self.ptx}"

    def launch_eagerly(self, grid, block, shared, args, kwargs) -> None:
        _launch_eagerly(self, grid, block, shared, args)


def _dtypes_text(dtypes) -> str:
    if isinstance(dtypes, frozenset):
        return ",".join(sorted(dtypes))
    return repr([None if d is None else sorted(d) for d in dtypes])


def check_pointer_dtypes(handle: CudaKernel, args: Sequence[KernelArg], entry: str, input_dtypes,
                         output_dtypes) -> None:
    """Refuse a tensor whose dtype the kernel's pointer parameter does not take (DtypeError). The accepted dtypes
    come from the kernel's signature (mangled name or source declaration) and from the spec's dtypes=."""
    stated = kernel_types.pointer_types(entry=entry, source=handle.source)
    params, origin = stated if stated is not None else (None, "")
    if params is not None and len(params) != len(args):
        params = None  # a declaration tta misread: the PTX parameter check has already passed, trust dtypes= only
    explicit = handle.dtypes
    pointer_args = [i for i, a in enumerate(args) if a.kind in (INPUT, OUTPUT)]
    if isinstance(explicit, tuple) and len(explicit) != len(pointer_args):
        raise SpecError(
            f"dtypes= of kernel '{handle.name}' has {len(explicit)} entries, but the launch passes "
            f"{len(pointer_args)} pointer arguments. Fix: one entry per pointer parameter, in the kernel's parameter "
            "order (a dtype, a tuple of dtypes, or None for any)."
        )
    for k, i in enumerate(pointer_args):
        arg = args[i]
        dtype = kernel_types.dtype_name((input_dtypes if arg.kind == INPUT else output_dtypes)[arg.index])
        declaration = params[i] if params is not None else ""
        declared = kernel_types.pointer_element(declaration)[1] if params is not None else kernel_types.ANY
        given = explicit[k] if isinstance(explicit, tuple) else explicit
        if given is not None and declared not in (kernel_types.ANY, kernel_types.UNKNOWN) and not given <= declared:
            raise SpecError(
                f"dtypes= says {kernel_types.describe(given)} for pointer parameter {k} of kernel '{handle.name}', "
                f"but the kernel declares `{declaration}` ({kernel_types.describe(declared)}), read from {origin}. "
                "Fix: make dtypes= agree with the declaration, or leave that entry None."
            )
        accepted = given if given is not None else (None if declared == kernel_types.UNKNOWN else declared)
        if accepted is not None and dtype not in accepted:
            said = f"`{declaration}`, read from {origin}" if given is None else "the spec's dtypes="
            raise DtypeError(
                f"Kernel '{handle.name}' takes {kernel_types.describe(accepted)} at kernel parameter {i} ({said}), "
                f"but the {arg.kind} tensor passed there is {dtype}. A CUDA kernel reads its buffers with the element "
                f"type it declares, so it would compute garbage and write out of bounds. Fix: call the op with "
                f"{kernel_types.describe(accepted)} tensors (e.g. x.to(torch.{sorted(accepted)[0]})), or add a tactic "
                "whose kernel takes this dtype (a template over TTA_IN0_T, or a second tta.cuda spec).",
                arg.kind, arg.index,
            )


def _c_literal(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value) + ("" if "e" in repr(value) or "." in repr(value) else ".0")
    return str(value)


def _defines(config, attributes, in_dtypes, out_dtypes) -> dict[str, str]:
    defines = {f"TTA_{k}": _c_literal(v) for k, v in {**dict(config or {}), **dict(attributes or {})}.items()
               if isinstance(v, (int, float, bool))}
    for prefix, dtypes in (("IN", in_dtypes), ("OUT", out_dtypes)):
        for i, d in enumerate(dtypes):
            defines[f"TTA_{prefix}{i}_T"] = (element_type(d, "c") or "void")
    return defines


def _name_expression(handle: CudaKernel, config, attributes) -> str:
    try:
        return handle.name.format(**dict(config or {}), **dict(attributes or {}))
    except (KeyError, IndexError) as exc:
        raise SpecError(f"Kernel name '{handle.name}' uses {exc}, neither a config key nor an attribute.") from None


class CudaBackend(HandleBackend):
    name = "cuda"
    extra = "nvrtc"
    module = "cuda.bindings.nvrtc"

    def toolchain_version(self) -> str:
        nvrtc = self.require()
        _, major, minor = nvrtc.nvrtcVersion()
        return f"nvrtc {major}.{minor}"

    def compile(self, plan, *, kernel_name, target, input_dtypes, output_dtypes, constants, divisible=frozenset(),
                config=None, attributes=None) -> CompiledKernel:
        handle: CudaKernel = plan.kernel
        defines = _defines(config, attributes, input_dtypes, output_dtypes)
        expression = _name_expression(handle, config, attributes)
        text, lowered = nvrtc_compile(handle.source, expression, f"{target.arch}{target.suffix}", defines,
                                      handle.options)  # compute_90a for 'sm_90a': the suffix reaches NVRTC
        compiled = self.finish(plan, text, lowered, kernel_name, target, self.toolchain_version())
        check_pointer_dtypes(handle, compiled.args, lowered, input_dtypes, output_dtypes)
        return compiled


class PtxBackend(HandleBackend):
    name = "ptx"
    extra = "ptx"
    module = "ctypes"  # nothing to install: the PTX comes from elsewhere

    def toolchain_version(self) -> str:
        return "ptx"

    def compile(self, plan, *, kernel_name, target, input_dtypes, output_dtypes, constants, divisible=frozenset(),
                config=None, attributes=None) -> CompiledKernel:
        handle: CudaKernel = plan.kernel
        entry = _name_expression(handle, config, attributes)
        compiled = self.finish(plan, handle.ptx or "", entry, kernel_name, target, "precompiled PTX")
        check_pointer_dtypes(handle, compiled.args, entry, input_dtypes, output_dtypes)
        return compiled


@functools.lru_cache(maxsize=1)
def cuda_include_dir() -> str | None:
    """A directory with CUDA's device headers (cuda_fp16.h, ...), which NVRTC does not ship, found by
    cuda.pathfinder (NVIDIA's wheels such as nvidia-cuda-runtime, conda, CUDA_PATH / CUDA_HOME, system installs).
    None if there is none."""
    import os

    try:
        from cuda.pathfinder import find_nvidia_header_directory
    except ImportError:
        log.info("cuda-pathfinder is not installed: CUDA headers (cuda_fp16.h) are not on NVRTC's include path")
        return None
    try:
        found = find_nvidia_header_directory("cudart")
    except RuntimeError as exc:  # a cuda-pathfinder older than 1.2.3 knows no CUDA Toolkit headers
        log.info("cuda-pathfinder cannot look for CUDA headers: %s", exc)
        return None
    if found and os.path.isfile(os.path.join(found, "cuda_fp16.h")):
        return found
    log.info("No CUDA headers found (cuda_fp16.h): pip install nvidia-cuda-runtime, or set CUDA_PATH")
    return None


@functools.lru_cache(maxsize=256)
def _nvrtc_cached(source: str, expression: str, arch: "int | str", defines: tuple, options: tuple) -> tuple[str, str]:
    from cuda.bindings import nvrtc

    def check(result, what):
        err = result[0] if isinstance(result, tuple) else result
        if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
            raise CompileError(f"NVRTC {what} failed for kernel '{expression}': {err}")
        return result[1:] if isinstance(result, tuple) and len(result) > 1 else None

    (prog,) = check(nvrtc.nvrtcCreateProgram(source.encode(), b"tta_kernel.cu", 0, [], []), "create")
    try:
        check(nvrtc.nvrtcAddNameExpression(prog, expression.encode()), "name expression")
        opts = [f"--gpu-architecture=compute_{arch}".encode(), b"-std=c++17"]
        include = cuda_include_dir()
        if include:
            opts.append(f"-I{include}".encode())
        opts += [f"-D{k}={v}".encode() for k, v in defines] + [o.encode() for o in options]
        err = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)[0]
        if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
            _, size = nvrtc.nvrtcGetProgramLogSize(prog)
            log_buf = b" " * size
            nvrtc.nvrtcGetProgramLog(prog, log_buf)
            raise CompileError(f"NVRTC could not compile kernel '{expression}' for compute_{arch}:\n"
                               f"{log_buf.decode(errors='replace').strip()[:3000]}")
        (size,) = check(nvrtc.nvrtcGetPTXSize(prog), "PTX size")
        buf = b" " * size
        check(nvrtc.nvrtcGetPTX(prog, buf), "PTX")
        (lowered,) = check(nvrtc.nvrtcGetLoweredName(prog, expression.encode()), "lowered name")
        return buf.rstrip(b"\0").decode(), lowered.decode()
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def nvrtc_compile(source, expression, arch, defines, options) -> tuple[str, str]:
    return _nvrtc_cached(source, expression, arch, tuple(sorted(defines.items())), tuple(options))


# --- the backend's own launcher (outside recordings): the kernel's own argument order --------------------------------
def _launch_eagerly(handle: CudaKernel, grid, block, shared, args) -> None:
    import torch

    from .. import cuda_driver, launcher

    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not tensors:
        raise SpecError(f"Kernel '{handle.name}' launched with no tensor argument; cannot tell the device.")
    device = tensors[0].device
    major, minor = torch.cuda.get_device_capability(device)
    config, attributes = current_specialization()
    expression = _name_expression(handle, config, attributes)
    if handle.ptx is not None:
        text, entry = handle.ptx, expression
    else:
        defines = _defines(config, attributes, [t.dtype for t in tensors], [])
        text, entry = nvrtc_compile(handle.source, expression, major * 10 + minor, defines, handle.options)
    if isinstance(handle, CudaKernel):  # the same element-type check as for the artifacts
        positions = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
        kernel_args = [KernelArg(f"arg{i}", INPUT, index=positions.index(i)) if i in positions
                       else KernelArg(f"arg{i}", EXTRA) for i in range(len(args))]
        check_pointer_dtypes(handle, kernel_args, entry, [t.dtype for t in tensors], [])
    device_index = device.index if device.index is not None else torch.cuda.current_device()
    function = launcher.load_ptx(entry, text, device_index, int(shared))
    formats = "".join("Q" if isinstance(a, torch.Tensor) else "f" if isinstance(a, float) else "i" for a in args)
    params = cuda_driver.KernelParams(formats)
    params.write(0, [a.data_ptr() if isinstance(a, torch.Tensor) else a if isinstance(a, float) else int(a)
                     for a in args])
    g = tuple(grid) if isinstance(grid, (tuple, list)) else (grid,)
    b = tuple(block) if isinstance(block, (tuple, list)) else (block,)
    g, b = (*g, 1, 1)[:3], (*b, 1, 1)[:3]
    if 0 in g:
        return
    stream = torch.cuda.current_stream(device).cuda_stream
    cuda_driver.launch(function, g, b, int(shared), params, stream, device_index, entry)

