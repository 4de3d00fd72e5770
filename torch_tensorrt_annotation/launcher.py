"""Launch an Artifact on the GPU exactly as TensorRT does: the artifact's PTX, JIT-compiled by the driver, called
with input pointers, then the int32 extras, then output pointers, with grid/block/shared memory evaluated from
the shapes.

This is the only module that launches on the GPU. It talks to the CUDA driver through ctypes, so it needs no CUDA
Python package, and imports nothing CUDA-related until the first launch.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from . import symbolic as S
from .spec import EXTRA, INPUT, Artifact

CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222
_STATIC_SHARED_LIMIT = 48 * 1024


class LaunchError(RuntimeError):
    """The driver refused to load or launch an artifact. `code` is the CUresult."""

    def __init__(self, message: str, code: int = -1):
        super().__init__(message)
        self.code = code

    def __reduce__(self):
        return (type(self), (str(self), self.code))


class _Driver:
    def __init__(self):
        for name in ("libcuda.so.1", "libcuda.so"):
            try:
                self.lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        else:
            raise LaunchError("No CUDA driver library (libcuda.so.1) found: launching artifacts needs an NVIDIA GPU.")
        lib = self.lib
        lib.cuGetErrorName.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        lib.cuModuleLoadData.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]
        lib.cuModuleGetFunction.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_char_p]
        lib.cuFuncSetAttribute.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        lib.cuLaunchKernel.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 7 + [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        lib.cuCtxGetCurrent.argtypes = [ctypes.POINTER(ctypes.c_void_p)]

    def error_name(self, code: int) -> str:
        name = ctypes.c_char_p()
        self.lib.cuGetErrorName(code, ctypes.byref(name))
        return name.value.decode() if name.value else f"CUresult {code}"

    def check(self, code: int, what: str) -> None:
        if code != 0:
            raise LaunchError(f"{what} failed: {self.error_name(code)} ({code})", code)


_driver: _Driver | None = None
_driver_lock = threading.Lock()


def driver() -> _Driver:
    global _driver
    if _driver is None:
        with _driver_lock:
            if _driver is None:
                _driver = _Driver()
    return _driver


@dataclass
class LoadedKernel:
    artifact: Artifact
    function: ctypes.c_void_p
    module: ctypes.c_void_p


_loaded: dict[tuple[str, int, int], LoadedKernel] = {}
_load_lock = threading.Lock()


def load(artifact: Artifact, device_index: int) -> LoadedKernel:
    """Load the artifact's PTX into the current context of `device_index` (once) and return its function."""
    key = (artifact.kernel_name, hash(artifact.ptx), device_index)
    kernel = _loaded.get(key)
    if kernel is not None:
        return kernel
    import torch

    with _load_lock:
        kernel = _loaded.get(key)
        if kernel is None:
            with torch.cuda.device(device_index):
                torch.cuda.init()
                torch.empty(1, device=f"cuda:{device_index}")  # make torch's primary context current here
                drv = driver()
                module, function = ctypes.c_void_p(), ctypes.c_void_p()
                code = drv.lib.cuModuleLoadData(ctypes.byref(module), artifact.ptx.encode() + b"\0")
                if code != 0:
                    raise LaunchError(_load_failure(artifact, code, drv), code)
                drv.check(drv.lib.cuModuleGetFunction(ctypes.byref(function), module, artifact.kernel_name.encode()),
                          f"cuModuleGetFunction({artifact.kernel_name})")
                shared = artifact.shared_mem
                if isinstance(shared, S.Const) and shared.value > _STATIC_SHARED_LIMIT:
                    drv.check(drv.lib.cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                         shared.value), "cuFuncSetAttribute(max dynamic shared)")
                kernel = _loaded[key] = LoadedKernel(artifact, function, module)
    return kernel


def _load_failure(artifact: Artifact, code: int, drv: _Driver) -> str:
    name = drv.error_name(code)
    if code == CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
        from .cuda_driver import driver_ptx_isa

        isa = driver_ptx_isa()
        have = f"{isa[0]}.{isa[1]}" if isa else "unknown"
        return (f"The driver cannot load {artifact.kernel_name}: its PTX is ISA {artifact.ptx_version[0]}."
                f"{artifact.ptx_version[1]} but this driver accepts at most {have} ({name}). Fix: compile with "
                f"ptx_isa={isa or '(major, minor)'} (the default when a driver is present), or update the driver.")
    return f"cuModuleLoadData({artifact.kernel_name}) failed: {name} ({code}). The PTX targets {artifact.arch}."


def launch(artifact: Artifact, inputs: Sequence, outputs: Sequence, stream: int | None = None) -> None:
    """Launch `artifact` on contiguous CUDA tensors, in TensorRT's argument order, on `stream` (default: torch's
    current stream)."""
    import torch

    device_index = inputs[0].device.index if inputs[0].device.index is not None else torch.cuda.current_device()
    shapes = S.Shapes(tuple(tuple(t.shape) for t in inputs), tuple(tuple(t.shape) for t in outputs))
    params = artifact.launch_params(shapes)
    if 0 in params.grid:
        return  # nothing to do (an empty tensor); the driver rejects empty grids
    kernel = load(artifact, device_index)
    values = []
    for p in artifact.params:
        if p.kind == EXTRA:
            values.append(ctypes.c_int32(params.extras[p.index]))
        else:
            tensor = (inputs if p.kind == INPUT else outputs)[p.index]
            values.append(ctypes.c_uint64(tensor.data_ptr()))
    pointers = (ctypes.c_void_p * len(values))(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
    if stream is None:
        stream = torch.cuda.current_stream(device_index).cuda_stream
    drv = driver()
    drv.check(
        drv.lib.cuLaunchKernel(kernel.function, *params.grid, *params.block, params.shared_mem,
                               ctypes.c_void_p(stream), pointers, None),
        f"cuLaunchKernel({artifact.kernel_name}, grid={params.grid}, block={params.block})",
    )
