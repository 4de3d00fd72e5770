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
from typing import Any

from . import symbolic as S
from .spec import Artifact

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
        # the same entry point without argtypes, for callers that pass prebuilt ctypes values (the hot path)
        self.raw_launch = ctypes.CDLL(lib._name).cuLaunchKernel

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


_functions: dict[tuple[str, int, int], ctypes.c_void_p] = {}
_load_lock = threading.Lock()


def load(artifact: Artifact, device_index: int) -> ctypes.c_void_p:
    """The artifact's kernel function, its PTX loaded once per device into torch's context on that device."""
    shared = artifact.shared_mem.value if isinstance(artifact.shared_mem, S.Const) else 0
    return load_ptx(artifact.kernel_name, artifact.ptx, device_index, shared, artifact)


def load_ptx(kernel_name: str, ptx: "str | bytes", device_index: int, shared_mem: int = 0,
             artifact: Artifact | None = None) -> ctypes.c_void_p:
    data = ptx.encode() if isinstance(ptx, str) else bytes(ptx)
    key = (kernel_name, hash(data), device_index)
    function = _functions.get(key)
    if function is not None:
        return function
    import torch

    with _load_lock:
        function = _functions.get(key)
        if function is None:
            with torch.cuda.device(device_index):
                torch.empty(1, device=f"cuda:{device_index}")  # make torch's primary context current here
                drv = driver()
                module, function = ctypes.c_void_p(), ctypes.c_void_p()
                code = drv.lib.cuModuleLoadData(ctypes.byref(module), data.rstrip(b"\0") + b"\0")
                if code != 0:
                    raise LaunchError(_load_failure(kernel_name, data, code, drv), code)
                drv.check(drv.lib.cuModuleGetFunction(ctypes.byref(function), module, kernel_name.encode()),
                          f"cuModuleGetFunction({kernel_name})")
                if shared_mem > _STATIC_SHARED_LIMIT:
                    drv.check(drv.lib.cuFuncSetAttribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                         shared_mem), "cuFuncSetAttribute(max dynamic shared)")
                _functions[key] = function
    return function


def _load_failure(kernel_name: str, ptx: bytes, code: int, drv: _Driver) -> str:
    from .ptx_parsing import parse

    name = drv.error_name(code)
    info = parse(ptx.decode(errors="replace"))
    if code == CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
        from .cuda_driver import driver_ptx_isa

        isa = driver_ptx_isa()
        have = f"{isa[0]}.{isa[1]}" if isa else "unknown"
        return (f"The driver cannot load {kernel_name}: its PTX is ISA {info.version[0]}.{info.version[1]} but this "
                f"driver accepts at most {have} ({name}). Fix: compile with ptx_isa={isa or '(major, minor)'} (the "
                "default when a driver is present), or update the driver.")
    return f"cuModuleLoadData({kernel_name}) failed: {name} ({code}). The PTX targets {info.target}."


class PreparedLaunch:
    """One artifact at one set of concrete shapes on one device, ready to launch with minimal host work.

    The function handle, grid, block, shared memory and int32 extras are fixed here; a launch only writes the
    tensor pointers into preallocated argument slots (under a lock: the slots are shared) and calls cuLaunchKernel.
    """

    __slots__ = ("artifact", "function", "grid", "block", "shared_mem", "empty", "_slots", "_params", "_n_in",
                 "_lock", "_args", "_pointer_slots", "_cu_launch", "_stream")

    def __init__(self, artifact: Artifact, shapes: S.Shapes, device_index: int):
        params = artifact.launch_params(shapes)
        self.artifact = artifact
        self.empty = 0 in params.grid
        self.grid, self.block, self.shared_mem = params.grid, params.block, params.shared_mem
        self.function = None if self.empty else load(artifact, device_index)
        n_in, n_out = len(shapes.inputs), len(shapes.outputs)
        self._n_in = n_in
        self._slots = ([ctypes.c_uint64(0) for _ in range(n_in)] + [ctypes.c_int32(v) for v in params.extras]
                       + [ctypes.c_uint64(0) for _ in range(n_out)])
        self._params = (ctypes.c_void_p * len(self._slots))(
            *[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in self._slots])
        # Prebuilt ctypes arguments for a cuLaunchKernel handle without argtypes: per-call conversion of eleven
        # arguments was the largest host cost measured on H200 hosts.
        handle = self.function.value if isinstance(self.function, ctypes.c_void_p) else self.function
        self._args = (ctypes.c_void_p(handle),
                      *(ctypes.c_uint(v) for v in (*self.grid, *self.block, self.shared_mem)))
        self._pointer_slots = self._slots[:n_in] + self._slots[len(self._slots) - n_out:]
        self._cu_launch: Any = None if self.empty else driver().raw_launch
        self._stream: tuple[Any, Any] = (None, None)
        self._lock = threading.Lock()

    def __call__(self, input_ptrs: Sequence[int], output_ptrs: Sequence[int], stream: int) -> None:
        if self.empty:
            return
        with self._lock:  # the argument slots are shared by every caller of this prepared launch
            for slot, ptr in zip(self._pointer_slots, (*input_ptrs, *output_ptrs)):
                slot.value = ptr
            if self._stream[0] != stream:
                self._stream = (stream, ctypes.c_void_p(stream))
            code = self._cu_launch(*self._args, self._stream[1], self._params, None)
        if code != 0:
            driver().check(code, f"cuLaunchKernel({self.artifact.kernel_name}, grid={self.grid}, "
                                 f"block={self.block}, shared={self.shared_mem})")


def launch(artifact: Artifact, inputs: Sequence, outputs: Sequence, stream: int | None = None) -> None:
    """Launch `artifact` on contiguous CUDA tensors, in TensorRT's argument order, on `stream` (default: torch's
    current stream)."""
    import torch

    device_index = inputs[0].device.index if inputs[0].device.index is not None else torch.cuda.current_device()
    shapes = S.Shapes(tuple(tuple(t.shape) for t in inputs), tuple(tuple(t.shape) for t in outputs))
    params = artifact.launch_params(shapes)
    if 0 in params.grid:
        return  # nothing to do (an empty tensor); the driver rejects empty grids
    function = load(artifact, device_index)
    if stream is None:
        stream = torch.cuda.current_stream(device_index).cuda_stream
    _launch(function, artifact.kernel_name, params.grid, params.block, params.shared_mem,
            [t.data_ptr() for t in inputs], params.extras, [t.data_ptr() for t in outputs], stream)


def launch_raw(kernel_name: str, ptx: "str | bytes", grid, block, shared_mem: int, extras, input_ptrs,
               output_ptrs, stream: int, device_index: int = 0) -> None:
    """Launch a kernel the way TensorRT's AOT runtime does, from exactly what a build recorded: the kernel name
    and PTX, evaluated launch parameters, and raw pointers (inputs, then int32 extras, then outputs)."""
    if 0 in tuple(grid):
        return
    function = load_ptx(kernel_name, ptx, device_index, shared_mem)
    _launch(function, kernel_name, tuple(grid), tuple(block), shared_mem, input_ptrs, extras, output_ptrs, stream)


def _launch(function, kernel_name, grid, block, shared_mem, input_ptrs, extras, output_ptrs, stream) -> None:
    values = ([ctypes.c_uint64(p) for p in input_ptrs] + [ctypes.c_int32(v) for v in extras]
              + [ctypes.c_uint64(p) for p in output_ptrs])
    pointers = (ctypes.c_void_p * len(values))(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
    drv = driver()
    drv.check(
        drv.lib.cuLaunchKernel(function, *grid, *block, shared_mem, ctypes.c_void_p(stream), pointers, None),
        f"cuLaunchKernel({kernel_name}, grid={grid}, block={block})",
    )
