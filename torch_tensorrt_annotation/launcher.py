"""Launch an Artifact on the GPU exactly as TensorRT does: the artifact's PTX, JIT-compiled by the driver, called
with input pointers, then the int32 extras, then output pointers, with grid/block/shared memory evaluated from
the shapes.

This is the only module that launches artifacts; it reaches the driver through `cuda_driver` (cuda-bindings) and
imports nothing CUDA-related until the first launch. Launches run in the primary context of the tensors' device,
whatever the current device is.
"""

from __future__ import annotations

import functools
import struct
import threading
from collections.abc import Sequence
from typing import Any

from . import cuda_driver, symbolic
from .cuda_driver import CONTEXT_ERRORS, CUDA_ERROR_INVALID_CONTEXT, CUDA_ERROR_UNSUPPORTED_PTX_VERSION, LaunchError
from .spec import Artifact

__all__ = ["LaunchError", "PreparedLaunch", "device_index", "launch", "launch_raw", "load", "load_ptx"]


def load(artifact: Artifact, device_index: int):
    """The artifact's kernel function (a CUfunction), its PTX loaded once per device into that device's primary
    context."""
    shared = artifact.shared_mem.value if isinstance(artifact.shared_mem, symbolic.Const) else 0
    return load_ptx(artifact.kernel_name, artifact.ptx, device_index, shared)


def load_ptx(kernel_name: str, ptx: "str | bytes", device_index: int, shared_mem: int = 0):
    data = ptx.encode() if isinstance(ptx, str) else bytes(ptx)
    return cuda_driver.load_function(kernel_name, data, device_index, shared_mem,
                                     describe_failure=lambda code, name: _load_failure(kernel_name, data, code, name))


def _load_failure(kernel_name: str, ptx: bytes, code: int, name: str) -> str:
    from .ptx_parsing import parse

    info = parse(ptx.decode(errors="replace"))
    if code == CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
        isa = cuda_driver.driver_ptx_isa()
        have = f"{isa[0]}.{isa[1]}" if isa else "unknown"
        return (f"The driver cannot load {kernel_name}: its PTX is ISA {info.version[0]}.{info.version[1]} but this "
                f"driver accepts at most {have} ({name}). Fix: compile with ptx_isa={isa or '(major, minor)'} (the "
                "default when a driver is present), or update the driver.")
    return f"cuModuleLoadData({kernel_name}) failed: {name} ({code}). The PTX targets {info.target}."


def device_index(device) -> int:
    """The CUDA ordinal of a torch device (`cuda` alone: the current device)."""
    if device.index is not None:
        return device.index
    import torch

    return torch.cuda.current_device()


def _current_device_getter():
    import torch

    get = getattr(torch._C, "_cuda_getDevice", None)
    return get if get is not None else torch.cuda.current_device


class PreparedLaunch:
    """One artifact at one set of concrete shapes on one device, ready to launch with minimal host work.

    The function handle, grid, block, shared memory and int32 extras are fixed here. A launch writes the tensor
    pointers into the prebuilt parameter storage with one `pack_into` (under a lock: the storage is shared by every
    caller) and calls cuLaunchKernel with the address of the prebuilt `void**` array. When the current device is
    not the tensors' device, the call pushes that device's primary context around the launch.
    """

    __slots__ = ("artifact", "function", "grid", "block", "shared_mem", "empty", "device_index", "params",
                 "_pack", "_storage", "_address", "_cu_launch", "_cu_stream", "_stream_handle", "_stream",
                 "_current_device", "_lock")

    def __init__(self, artifact: Artifact, shapes: symbolic.Shapes, device_index: int):
        values = artifact.launch_params(shapes)
        self.artifact, self.device_index = artifact, device_index
        self.empty = 0 in values.grid
        self.grid, self.block, self.shared_mem = values.grid, values.block, values.shared_mem
        n_in, n_out, n_extra = len(shapes.inputs), len(shapes.outputs), len(values.extras)
        # storage slots: input pointers, output pointers (written per call, contiguous), then the extras (fixed);
        # the kernel reads them in TensorRT's order: inputs, extras, outputs
        n_ptr = n_in + n_out
        order = [*range(n_in), *range(n_ptr, n_ptr + n_extra), *range(n_in, n_ptr)]
        self.params = cuda_driver.KernelParams("Q" * n_ptr + "i" * n_extra, order)
        self.params.write(n_ptr, values.extras)
        self._pack = struct.Struct("<" + "Q" * n_ptr).pack_into
        self._storage, self._address = self.params.storage, self.params.address
        self._lock = threading.Lock()
        self._stream_handle: int = -1  # the last stream launched on, and its cuda-bindings CUstream
        self._stream: Any = None
        if self.empty:  # nothing to launch (an empty tensor; the driver rejects empty grids): needs no driver
            self.function = None
            return
        self.function = load(artifact, device_index)
        driver = cuda_driver.api()
        self._cu_stream = driver.CUstream
        # cuLaunchKernel with the function, grid, block and shared memory bound: a call passes only the stream, the
        # parameter array's address and `extra` (0: cuda-bindings takes an int there, not None)
        self._cu_launch = functools.partial(driver.cuLaunchKernel, self.function, *self.grid, *self.block,
                                            self.shared_mem)
        self._current_device = _current_device_getter()

    def __call__(self, input_ptrs: Sequence[int], output_ptrs: Sequence[int], stream: int) -> None:
        """Launch with these input and output pointers (ints) on `stream` (a CUstream handle as an int)."""
        self.launch([*input_ptrs, *output_ptrs], stream)

    # Hand-written for speed, measured per call (benchmarks/bench_host_cpu.py): the stream handle's CUstream is
    # kept from the last call (cuda-bindings converts a CUstream fastest), and cuLaunchKernel is a partial with
    # every fixed argument bound.
    def launch(self, pointers: Sequence[int], stream: int) -> None:
        """Launch with `pointers`: the input pointers then the output pointers (ints), on `stream` (an int)."""
        if self.empty:
            return
        with self._lock:  # the parameter storage is shared by every caller of this prepared launch
            self._pack(self._storage, 0, *pointers)
            if stream != self._stream_handle:
                self._stream, self._stream_handle = self._cu_stream(stream), stream
            if self._current_device() == self.device_index:  # the common case: launch in the current context
                (err,) = self._cu_launch(self._stream, self._address, 0)
                if not err:
                    return
                if int(err) not in CONTEXT_ERRORS:
                    self._fail(int(err))
                if int(err) == CUDA_ERROR_INVALID_CONTEXT:  # a thread where CUDA has made no context current yet
                    cuda_driver.make_current(self.device_index)
                    (err,) = self._cu_launch(self._stream, self._address, 0)
                    if not err:
                        return
            with cuda_driver.in_context(self.device_index):  # the tensors live on another device than the current
                (err,) = self._cu_launch(self._stream, self._address, 0)
        if err:
            self._fail(int(err))

    def _fail(self, code: int):
        raise LaunchError(f"cuLaunchKernel({self.artifact.kernel_name}, grid={self.grid}, block={self.block}, "
                          f"shared={self.shared_mem}) on cuda:{self.device_index} failed: "
                          f"{cuda_driver.error_name(code)} ({code})", code)


def launch(artifact: Artifact, inputs: Sequence, outputs: Sequence, stream: int | None = None,
           attrs: Sequence = ()) -> None:
    """Launch `artifact` on contiguous CUDA tensors, in TensorRT's argument order, on `stream` (default: torch's
    current stream of the tensors' device). `attrs`: the op's attribute values, which runtime scalar extras read."""
    import torch

    index = device_index(inputs[0].device)
    shapes = symbolic.Shapes(tuple(tuple(t.shape) for t in inputs), tuple(tuple(t.shape) for t in outputs),
                             tuple(attrs))
    values = artifact.launch_params(shapes)
    if 0 in values.grid:
        return  # nothing to do (an empty tensor); the driver rejects empty grids
    function = load(artifact, index)
    if stream is None:
        stream = torch.cuda.current_stream(index).cuda_stream
    _launch(function, artifact.kernel_name, values.grid, values.block, values.shared_mem,
            [t.data_ptr() for t in inputs], values.extras, [t.data_ptr() for t in outputs], stream, index)


def launch_raw(kernel_name: str, ptx: "str | bytes", grid, block, shared_mem: int, extras, input_ptrs,
               output_ptrs, stream: int, device_index: int = 0) -> None:
    """Launch a kernel the way TensorRT's AOT runtime does, from exactly what a build recorded: the kernel name
    and PTX, evaluated launch parameters, and raw pointers (inputs, then int32 extras, then outputs)."""
    if 0 in tuple(grid):
        return
    function = load_ptx(kernel_name, ptx, device_index, shared_mem)
    _launch(function, kernel_name, tuple(grid), tuple(block), shared_mem, input_ptrs, extras, output_ptrs, stream,
            device_index)


def _launch(function, kernel_name, grid, block, shared_mem, input_ptrs, extras, output_ptrs, stream,
            device_index) -> None:
    values = [*input_ptrs, *extras, *output_ptrs]
    params = cuda_driver.KernelParams("Q" * len(input_ptrs) + "i" * len(extras) + "Q" * len(output_ptrs))
    params.write(0, values)
    cuda_driver.launch(function, grid, block, shared_mem, params, stream, device_index, kernel_name)
