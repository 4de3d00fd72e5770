"""The one wrapper around the CUDA driver: driver version and PTX ISA, primary contexts, module load, function
attributes, kernel parameters and launch. Everything goes through cuda-bindings (`cuda.bindings.driver`), which is
imported the first time a driver call is made: importing this module needs neither cuda-bindings nor a GPU.

Contexts: tta launches in the *primary context* of the device that holds the tensors, the context PyTorch uses, so
artifacts run on `cuda:1` whatever the current device is. Modules are loaded once per (kernel, PTX, device).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import struct
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

CUDA_ERROR_INVALID_CONTEXT = 201
CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222
CUDA_ERROR_CONTEXT_IS_DESTROYED = 709
CUDA_ERROR_INVALID_HANDLE = 400
# errors of a launch made while another device's context (or none) was current: retried in the right context
CONTEXT_ERRORS = frozenset({CUDA_ERROR_INVALID_CONTEXT, CUDA_ERROR_INVALID_HANDLE, CUDA_ERROR_CONTEXT_IS_DESTROYED})
STATIC_SHARED_LIMIT = 48 * 1024  # above this, a kernel must opt in to dynamic shared memory


class LaunchError(RuntimeError):
    """The driver refused to load or launch an artifact. `code` is the CUresult (-1: no driver at all)."""

    def __init__(self, message: str, code: int = -1):
        super().__init__(message)
        self.code = code

    def __reduce__(self):
        return (type(self), (str(self), self.code))


# --- the driver module ---------------------------------------------------------------------------------------------
_api: Any = None
_api_lock = threading.Lock()


def api():
    """`cuda.bindings.driver`, initialised (cuInit) once. Raises LaunchError without cuda-bindings or a driver."""
    global _api
    if _api is not None:
        return _api
    with _api_lock:
        if _api is None:
            try:
                from cuda.bindings import driver
            except ImportError as exc:
                raise LaunchError(
                    f"Launching artifacts needs cuda-bindings ({exc}). Fix: pip install 'cuda-bindings>=12.8' (a "
                    "dependency of torch-tensorrt-annotation on Linux and Windows; use the major version of your "
                    "driver's CUDA)."
                ) from exc
            try:
                (err,) = driver.cuInit(0)
            except RuntimeError as exc:  # cuda-bindings raises when libcuda cannot be loaded
                raise LaunchError(f"No CUDA driver library: {exc}. Launching artifacts needs an NVIDIA GPU and "
                                  "its driver.") from exc
            if err:
                raise LaunchError(f"cuInit failed: {error_name(int(err))} ({int(err)}).", int(err))
            _api = driver
    return _api


def error_name(code: int) -> str:
    try:
        from cuda.bindings import driver

        return driver.CUresult(code).name
    except (ImportError, ValueError):
        return f"CUresult {code}"


def check(result: tuple, what: str):
    """The values of a cuda-bindings call's result tuple, or LaunchError naming `what` and the error."""
    err = result[0]
    if err:
        raise LaunchError(f"{what} failed: {error_name(int(err))} ({int(err)})", int(err))
    return result[1] if len(result) == 2 else result[1:]


# --- driver version and PTX ISA -------------------------------------------------------------------------------------
def ptx_isa_for_cuda(version: int) -> tuple[int, int]:
    """Newest PTX ISA a driver of CUDA `version` (e.g. 13000 for 13.0) can JIT-compile.

    The table follows the PTX ISA release notes: CUDA 12.0-12.5 -> 8.0-8.5, 12.6 -> 8.5, 12.7/12.8 -> 8.7,
    12.9 -> 8.8, 13.x -> 9.x.
    """
    major, minor = version // 1000, (version % 1000) // 10
    if major >= 13:
        return (9 + (major - 13), minor)
    if major == 12:
        return (8, {6: 5, 7: 7, 8: 7, 9: 8}.get(minor, min(minor, 5)))
    if major == 11:
        return (7, minor)
    raise ValueError(f"CUDA {major}.{minor} is too old for Hopper-class AOT kernels")


@functools.lru_cache(maxsize=1)
def driver_version() -> int | None:
    """cuDriverGetVersion() (e.g. 13000 for CUDA 13.0), or None without a driver library (CPU-only machines, CI)
    or without cuda-bindings."""
    try:
        from cuda.bindings import driver
    except ImportError:
        log.info("cuda-bindings is not installed: the CUDA driver version is unknown")
        return None
    try:
        err, version = driver.cuDriverGetVersion()
    except RuntimeError:  # no libcuda
        return None
    return int(version) if not err and version > 0 else None


def driver_ptx_isa() -> tuple[int, int] | None:
    """The newest PTX ISA the local driver loads, or None without a driver."""
    version = driver_version()
    return None if version is None else ptx_isa_for_cuda(version)


# --- contexts --------------------------------------------------------------------------------------------------------
_contexts: dict[int, Any] = {}


def primary_context(device_index: int):
    """The primary context of CUDA device `device_index` (the one PyTorch uses), retained for the process."""
    context = _contexts.get(device_index)
    if context is None:
        driver = api()
        with _api_lock:
            context = _contexts.get(device_index)
            if context is None:
                device = check(driver.cuDeviceGet(device_index), f"cuDeviceGet({device_index})")
                context = check(driver.cuDevicePrimaryCtxRetain(device), f"cuDevicePrimaryCtxRetain({device_index})")
                _contexts[device_index] = context
    return context


class in_context:
    """`with in_context(i):` makes device i's primary context current on this thread, and restores the previous
    one after (cuCtxPushCurrent / cuCtxPopCurrent)."""

    __slots__ = ("context",)

    def __init__(self, device_index: int):
        self.context = primary_context(device_index)

    def __enter__(self):
        check(api().cuCtxPushCurrent(self.context), "cuCtxPushCurrent")
        return self

    def __exit__(self, *exc):
        check(api().cuCtxPopCurrent(), "cuCtxPopCurrent")
        return False


def make_current(device_index: int) -> None:
    """Make device i's primary context current on this thread (what the CUDA runtime does lazily for PyTorch)."""
    check(api().cuCtxSetCurrent(primary_context(device_index)), "cuCtxSetCurrent")


# --- modules ---------------------------------------------------------------------------------------------------------
_functions: dict[tuple[str, int, int], Any] = {}
_load_lock = threading.Lock()


def load_function(kernel_name: str, image: "str | bytes", device_index: int, shared_mem: int = 0,
                  describe_failure=None):
    """The CUfunction `kernel_name` of PTX `image`, loaded once per device into that device's primary context.

    Dynamic shared memory above 48 KiB is opted in for `shared_mem` bytes (cuFuncSetAttribute). A load failure is a
    LaunchError; `describe_failure(code, error_name)`, if given, writes its message.
    """
    data = image.encode() if isinstance(image, str) else bytes(image)
    key = (kernel_name, hash(data), device_index)
    function = _functions.get(key)
    if function is not None:
        return function
    driver = api()
    with _load_lock:
        function = _functions.get(key)
        if function is None:
            with in_context(device_index):
                err, module = driver.cuModuleLoadData(data.rstrip(b"\0") + b"\0")
                if err:
                    code = int(err)
                    message = (describe_failure(code, error_name(code)) if describe_failure else
                               f"cuModuleLoadData({kernel_name}) failed: {error_name(code)} ({code})")
                    raise LaunchError(message, code)
                function = check(driver.cuModuleGetFunction(module, kernel_name.encode()),
                                 f"cuModuleGetFunction({kernel_name})")
                if shared_mem > STATIC_SHARED_LIMIT:
                    attribute = driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
                    check(driver.cuFuncSetAttribute(function, attribute, shared_mem),
                          f"cuFuncSetAttribute({kernel_name}, max dynamic shared memory = {shared_mem})")
            _functions[key] = function
    return function


# --- kernel parameters -----------------------------------------------------------------------------------------------
class KernelParams:
    """Host storage for a kernel's parameters and the `void**` array that cuLaunchKernel reads (`address`).

    `formats` gives each storage slot's struct code ("Q": pointer, "i": int32, "f": float32); every slot is 8 bytes.
    `order[k]` is the slot that kernel parameter k reads (default: slot k). Keeping the slots that change per call
    first and contiguous lets one precompiled `struct.Struct.pack_into` write them all: measured as the cheapest way
    to fill parameters from Python, so this storage stays hand-written (ctypes buffers for the bytes only; the
    driver itself is reached through cuda-bindings).
    """

    __slots__ = ("storage", "_pointers", "address", "formats")

    def __init__(self, formats: Sequence[str], order: Sequence[int] | None = None):
        self.formats = tuple(formats)
        n = max(len(self.formats), 1)
        self.storage = (ctypes.c_char * (8 * n))()
        base = ctypes.addressof(self.storage)
        order = range(len(self.formats)) if order is None else order
        self._pointers = (ctypes.c_uint64 * n)(*[base + 8 * slot for slot in order])
        self.address = ctypes.addressof(self._pointers)

    def write(self, first_slot: int, values: Sequence) -> None:
        """Write `values` into the slots from `first_slot` on, each in its slot's format."""
        for slot, value in enumerate(values, first_slot):
            fmt = self.formats[slot]
            try:
                struct.pack_into("<" + fmt, self.storage, 8 * slot, value)
            except struct.error as exc:
                kind = {"Q": "a pointer", "i": "an int32", "f": "a float32"}[fmt]
                raise LaunchError(f"Kernel parameter {slot} = {value!r} does not fit {kind}: {exc}.") from exc


def launch(function, grid: Sequence[int], block: Sequence[int], shared_mem: int, params: KernelParams, stream: int,
           device_index: int, what: str) -> None:
    """cuLaunchKernel in device `device_index`'s primary context (pushed for the call) on `stream`. Not the hot
    path: runtime.py launches through launcher.PreparedLaunch."""
    driver = api()
    with in_context(device_index):
        (err,) = driver.cuLaunchKernel(function, *grid, *block, shared_mem, driver.CUstream(stream), params.address,
                                       0)
    if err:
        raise LaunchError(f"cuLaunchKernel({what}, grid={tuple(grid)}, block={tuple(block)}, shared={shared_mem}) "
                          f"failed: {error_name(int(err))} ({int(err)})", int(err))
