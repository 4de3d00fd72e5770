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
import math
import threading
from collections.abc import Sequence
from typing import Any

from .. import kernel_types as T
from .. import ptx_parsing as P
from .. import recording as R
from .. import symbolic as S
from ..errors import CompileError, DtypeError, RecordingError, SpecError, context
from ..spec import CONSTANT, EXTRA, INPUT, OUTPUT, Config, KernelArg, KernelSpec, LaunchPlan, Target
from .base import Backend, CompiledKernel, check_config_keys

log = logging.getLogger(__name__)

_C_TYPES = {"float32": "float", "float16": "__half", "bfloat16": "__nv_bfloat16", "int32": "int",
            "int64": "long long", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}
_POINTER_TYPES = {".u64", ".b64", ".s64"}
_INT32_TYPES = {".u32", ".s32", ".b32"}
_FLOAT32_TYPES = {".f32", ".b32"}
_specialization = threading.local()  # (config, attributes) for a handle launched outside a recording


class KernelHandle:
    """What a launch function launches: `kernel[grid, block](*args)` or `kernel[grid, block, shared_mem](*args)`.
    While a launch is recorded, the call is reported to the recorder; otherwise the backend launches it for real."""

    name: str = ""
    accepts_keywords = False  # keyword arguments become compile-time constants (CuTe DSL Constexpr)

    def fingerprint(self) -> str:
        raise NotImplementedError

    def launch_eagerly(self, grid, block, shared, args, kwargs) -> None:
        raise NotImplementedError

    def __getitem__(self, launch):
        launch = launch if isinstance(launch, tuple) else (launch,)
        if not 2 <= len(launch) <= 3:
            raise RecordingError(
                f"Launch kernel '{self.name}' as kernel[grid, block](...) or kernel[grid, block, shared_mem](...); "
                f"got kernel[{', '.join(map(repr, launch))}] at {R.user_location()}."
            )
        grid, block, shared = (*launch, 0)[:3]
        return functools.partial(self._call, grid, block, shared)

    def _call(self, grid, block, shared, *args, **kwargs):
        if kwargs and not self.accepts_keywords:
            raise RecordingError(f"Kernel '{self.name}' takes positional arguments only, got {sorted(kwargs)}.")
        recorder = R.active_recorder()
        if recorder is not None:
            recorder.on_launch(self, (grid, block, shared), args, kwargs)
            return
        self.launch_eagerly(grid, block, shared, args, kwargs)


class CudaKernel(KernelHandle):
    """A CUDA C++ kernel (source + name) or a precompiled PTX kernel (ptx= + name)."""

    def __init__(self, source: str | None = None, name: str = "", *, ptx: str | None = None,
                 options: Sequence[str] = (), dtypes=None):
        if (source is None) == (ptx is None):
            raise SpecError("CudaKernel takes CUDA C++ source or ptx=, exactly one of them.")
        if not name:
            raise SpecError("CudaKernel needs the kernel's name (a C++ name expression, e.g. 'add' or 'k<{BLOCK}>').")
        self.source, self.ptx, self.name, self.options = source, ptx, name, tuple(options)
        self.dtypes = T.normalize_dtypes(dtypes, f"dtypes= of kernel '{name}'")

    def __repr__(self):
        return f"CudaKernel({self.name!r}, {'ptx' if self.ptx else 'cuda'})"

    def fingerprint(self) -> str:
        dtypes = "" if self.dtypes is None else f"|dtypes={_dtypes_text(self.dtypes)}"
        return f"{self.name}|{self.options}{dtypes}|{self.source if self.source is not None else self.ptx}"

    def launch_eagerly(self, grid, block, shared, args, kwargs) -> None:
        _launch_eagerly(self, grid, block, shared, args)


def _dims(value, what: str, name: str, location: str) -> tuple[S.Expr, S.Expr, S.Expr]:
    value = value if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(value) <= 3:
        raise RecordingError(f"The {what} of kernel '{name}' must have 1 to 3 dims, got {value!r} at {location}.")
    return R.launch_dims(value, lambda _i, v: RecordingError(
        f"The {what} of kernel '{name}' has a {type(v).__name__} ({v!r}) at {location}; it must be ints "
        "computed from tensor dims and config values (use // or tta.cdiv)."))


class _HandleBackend(Backend):
    leading_launch_params = 1
    runtime_float_scalars = True  # float arguments become fp32 runtime parameters

    def fingerprint(self, spec: KernelSpec) -> str:
        from ..sources import source_of

        handle = spec_handle(spec)
        return source_of(spec.launch_fn) + "\n----\n" + handle.fingerprint()

    def record(self, spec: KernelSpec, config: Config, tensors, attrs) -> LaunchPlan:
        self.require()
        check_config_keys(spec, config)
        handle = spec_handle(spec)
        recorder = R.run_recording(spec.launch_fn, [handle, *tensors, *attrs], dict(config), {})
        where = context(kernel=handle.name, config=config)
        launches = [lnc for lnc in recorder.launches if lnc.kernel is handle]
        if len(recorder.launches) != 1 or not launches:
            raise RecordingError(
                f"Launch function '{spec.name}' ({where}) launched {len(recorder.launches)} kernels; it must launch "
                f"its kernel handle exactly once, as kernel[grid, block](*args). Locations: "
                f"{[lnc.location for lnc in recorder.launches] or 'none'}."
            )
        (launch,) = launches
        _check_dtypes_count(handle, launch.args)
        grid, block, shared = launch.grid
        args, seen = [], {}
        for position, value in enumerate(launch.args):
            name = f"arg{position}"
            arg_where = context(kernel=handle.name, config=config, arg=name)
            if isinstance(value, R.SymTensor):
                if value.tta_role in seen:
                    raise RecordingError(f"{value.tta_role[0].capitalize()} {value.tta_role[1]} is passed twice to "
                                         f"kernel '{handle.name}' ({arg_where}); TensorRT passes each tensor once.")
                seen[value.tta_role] = name
                args.append(KernelArg(name, value.tta_role[0], index=value.tta_role[1]))
            elif isinstance(value, R.SymInt):
                args.append(KernelArg(name, EXTRA, expr=value.expr))
            elif isinstance(value, bool):
                args.append(KernelArg(name, EXTRA, expr=S.Const(int(value))))
            elif isinstance(value, (int, float)) and (isinstance(value, int) or self.runtime_float_scalars):
                # a number is a runtime parameter of a CUDA kernel: TensorRT passes its 32 bits (an fp32's IEEE-754
                # pattern) as an int32 extra; an op attribute is read at launch, a literal is a constant extra
                scalar = R.scalar_extra(value, specialize_one=False)
                if scalar is None:
                    raise RecordingError(
                        f"Kernel '{handle.name}' gets the int {int(value)} ({arg_where}) at {launch.location}, which "
                        "does not fit in int32, and TensorRT passes no 64-bit scalars to an AOT kernel. Fix: read "
                        "the value from its macro instead (every op attribute and config entry is defined for the "
                        "compiler, e.g. -DTTA_n=...), or pass it as two int32 halves."
                    )
                expr, scalar_type = scalar
                args.append(KernelArg(name, EXTRA, expr=expr, dtype=None if scalar_type == "i32" else scalar_type))
            elif isinstance(value, float):
                raise RecordingError(
                    f"Kernel '{handle.name}' takes a float runtime argument ({arg_where}, value {value!r}) at "
                    f"{launch.location}, which the {self.name} backend cannot pass. Fix: make it a compile-time "
                    "constant (a keyword argument of the launch)."
                )
            else:
                raise RecordingError(
                    f"Unsupported kernel argument ({arg_where}): a {type(value).__name__} at {launch.location}. "
                    "Pass the op's tensors and int values computed from their shapes."
                )
        constexprs = []
        for key, value in sorted(launch.kwargs.items()):
            if isinstance(value, (R.SymInt, R.SymTensor)) or not isinstance(value, (int, float, bool, str)):
                raise RecordingError(
                    f"Keyword argument '{key}' of kernel '{handle.name}' is a compile-time constant and must be an "
                    f"int, float, bool or str computed without tensor dims; got {type(value).__name__} at "
                    f"{launch.location}."
                )
            constexprs.append((key, value))
        if grid is None:  # kernel(...) without launch dims: the backend reads them from compiled host code
            return LaunchPlan(handle, handle.name, (S.Const(0), S.Const(0), S.Const(0)), tuple(args),
                              (("block", None), ("shared_mem", None), ("constexprs", tuple(constexprs)),
                               ("location", launch.location)))
        options = (("block", _dims(block, "block", handle.name, launch.location)),
                   ("shared_mem", _dims(shared, "shared memory", handle.name, launch.location)[0]),
                   ("constexprs", tuple(constexprs)))
        return LaunchPlan(handle, handle.name, _dims(grid, "grid", handle.name, launch.location), tuple(args),
                          options)

    def run_reference(self, spec, config, attributes, args) -> None:
        launch_with_specialization(spec, config, attributes, args)

    def finish(self, plan: LaunchPlan, ptx_text: str, entry: str, kernel_name: str, target: Target,
               toolchain: str) -> CompiledKernel:
        """Check the entry's parameters against the recorded launch, rename it, and package the result."""
        info = P.parse(ptx_text)
        try:
            found = info.entry(entry)
        except KeyError as exc:
            raise CompileError(f"{exc.args[0]} (kernel '{plan.kernel_name}').") from None
        runtime = [a for a in plan.args if a.kind != CONSTANT]
        if len(found.params) != len(runtime):
            raise CompileError(
                f"Kernel '{plan.kernel_name}' declares {len(found.params)} parameters in its PTX, but the launch "
                f"passes {len(runtime)} arguments. Fix: pass exactly one argument per kernel parameter."
            )
        for arg, param in zip(runtime, found.params):
            if arg.kind in (INPUT, OUTPUT):
                wanted, what = _POINTER_TYPES, "a pointer"
            elif arg.dtype == "fp32":
                wanted, what = _FLOAT32_TYPES, "a 32-bit float"
            else:
                wanted, what = _INT32_TYPES, "a 32-bit int"
            if param.ptx_type not in wanted:
                raise CompileError(
                    f"Parameter {param.name} of kernel '{plan.kernel_name}' is {param.ptx_type} in PTX, but the "
                    f"launch passes {what} there ({arg.kind} {arg.name}). TensorRT passes 64-bit pointers and "
                    "32-bit extras only. Fix: declare tensor parameters as pointers, ints as int and floats as "
                    "float (a double or 64-bit int parameter cannot be passed: read it from its TTA_ macro)."
                )
        target.check_ptx_isa(info.version, f"The PTX of kernel '{plan.kernel_name}' ({toolchain})",
                             "compile with a toolchain of the deployment driver's CUDA version (e.g. "
                             "pip install 'nvidia-cuda-nvrtc==13.0.*' for CUDA 13.0 drivers).")
        _check_target_arch(info.target, target, plan.kernel_name)
        text = P.rename_entry(ptx_text, entry, kernel_name)
        opts = dict(plan.options)
        block = opts["block"]
        maxntid = found.maxntid and math.prod(found.maxntid)
        threads = S.evaluate_all(block, S.Shapes(())) if all(isinstance(b, S.Const) for b in block) else None
        if maxntid and threads and threads[0] * threads[1] * threads[2] > maxntid:
            raise CompileError(f"Kernel '{plan.kernel_name}' allows at most {maxntid} threads per block "
                               f"(__launch_bounds__), but the launch uses block {threads}.")
        return CompiledKernel(ptx=text, entry=kernel_name, args=tuple(runtime), block=block,
                              shared_mem=opts["shared_mem"], toolchain=toolchain)


def _dtypes_text(dtypes) -> str:
    if isinstance(dtypes, frozenset):
        return ",".join(sorted(dtypes))
    return repr([None if d is None else sorted(d) for d in dtypes])


def _check_dtypes_count(handle: KernelHandle, args) -> None:
    """dtypes= with one entry per pointer parameter must have as many entries as the launch passes tensors."""
    explicit = getattr(handle, "dtypes", None)
    tensors = sum(isinstance(a, R.SymTensor) for a in args)
    if isinstance(explicit, tuple) and len(explicit) != tensors:
        raise SpecError(
            f"dtypes= of kernel '{handle.name}' has {len(explicit)} entries, but the launch passes {tensors} "
            "tensors (pointer parameters). Fix: one entry per pointer parameter, in the kernel's parameter order "
            "(a dtype, a tuple of dtypes, or None for any)."
        )


def check_pointer_dtypes(handle: CudaKernel, args: Sequence[KernelArg], entry: str, input_dtypes,
                         output_dtypes) -> None:
    """Refuse a tensor whose dtype the kernel's pointer parameter does not take (DtypeError). The accepted dtypes
    come from the kernel's signature (mangled name or source declaration) and from the spec's dtypes=."""
    stated = T.pointer_types(entry=entry, source=handle.source)
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
        dtype = T.dtype_name((input_dtypes if arg.kind == INPUT else output_dtypes)[arg.index])
        declaration = params[i] if params is not None else ""
        declared = T.pointer_element(declaration)[1] if params is not None else T.ANY
        given = explicit[k] if isinstance(explicit, tuple) else explicit
        if given is not None and declared not in (T.ANY, T.UNKNOWN) and not given <= declared:
            raise SpecError(
                f"dtypes= says {T.describe(given)} for pointer parameter {k} of kernel '{handle.name}', but the "
                f"kernel declares `{declaration}` ({T.describe(declared)}), read from {origin}. Fix: make dtypes= "
                "agree with the declaration, or leave that entry None."
            )
        accepted = given if given is not None else (None if declared == T.UNKNOWN else declared)
        if accepted is not None and dtype not in accepted:
            said = f"`{declaration}`, read from {origin}" if given is None else "the spec's dtypes="
            raise DtypeError(
                f"Kernel '{handle.name}' takes {T.describe(accepted)} at kernel parameter {i} ({said}), but the "
                f"{arg.kind} tensor passed there is {dtype}. A CUDA kernel reads its buffers with the element "
                f"type it declares, so it would compute garbage and write out of bounds. Fix: call the op with "
                f"{T.describe(accepted)} tensors (e.g. x.to(torch.{sorted(accepted)[0]})), or add a tactic "
                "whose kernel takes this dtype (a template over TTA_IN0_T, or a second tta.cuda spec).",
                arg.kind, arg.index,
            )


def spec_handle(spec: KernelSpec) -> KernelHandle:
    if not isinstance(spec.kernel, KernelHandle):
        raise SpecError(f"Spec '{spec.name}' has no kernel handle; make it with tta.cuda(...) or tta.ptx(...).")
    return spec.kernel


def _check_target_arch(ptx_target: str, target: Target, kernel: str) -> None:
    import re

    m = re.match(r"sm_(\d+)([af]?)", ptx_target or "")
    if not m:
        return
    arch, suffix = int(m.group(1)), m.group(2)
    if arch > target.arch or (suffix and arch != target.arch):
        raise CompileError(f"The PTX of kernel '{kernel}' targets {ptx_target}, which cannot run on {target.sm}.")


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
            defines[f"TTA_{prefix}{i}_T"] = _C_TYPES.get(str(d).replace("torch.", ""), "void")
    return defines


def _name_expression(handle: CudaKernel, config, attributes) -> str:
    try:
        return handle.name.format(**dict(config or {}), **dict(attributes or {}))
    except (KeyError, IndexError) as exc:
        raise SpecError(f"Kernel name '{handle.name}' uses {exc}, neither a config key nor an attribute.") from None


class CudaBackend(_HandleBackend):
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


class PtxBackend(_HandleBackend):
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
    config, attributes = getattr(_specialization, "value", ({}, {}))
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


def launch_with_specialization(spec: KernelSpec, config, attributes: dict, args: Sequence[Any]) -> None:
    """Run spec's launch function for real, its kernel compiled with this config's and attributes' macros."""
    previous = getattr(_specialization, "value", None)
    _specialization.value = (dict(config), dict(attributes))
    try:
        spec.launch_fn(spec_handle(spec), *args, **dict(config))
    finally:
        _specialization.value = previous
