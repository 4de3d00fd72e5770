"""Launch an Artifact on the GPU exactly as TensorRT does: the artifact's PTX, JIT-compiled by the driver, called
with input pointers, then the int32 extras, then output pointers, with grid/block/shared memory evaluated from
the shapes.

This is the only module that launches artifacts; it reaches the driver through `cuda_driver` (cuda-bindings) and
imports nothing CUDA-related until the first launch. Launches run in the primary context of the tensors' device,
whatever the current device is.

The eager hot path (`PreparedLaunch.launch`) calls cuLaunchKernel through PyTorch's compiled launcher for Triton
kernels, `torch._C._StaticCudaLauncher._launch_kernel` (torch/csrc/inductor/static_launcher/cuda.cpp, what
torch.compile launches cubins with), when the torch build has it and the artifact's block is (32 * warps, 1, 1):
one C call that packs the arguments on its stack and launches in the current context. Everything else (other
blocks, a tensor device other than the current one, any error, a torch without it) goes through cuda-bindings.
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
from collections.abc import Sequence
from typing import Any

from . import cuda_driver, symbolic
from .cuda_driver import CONTEXT_ERRORS, CUDA_ERROR_INVALID_CONTEXT, CUDA_ERROR_UNSUPPORTED_PTX_VERSION, LaunchError
from .spec import Artifact

log = logging.getLogger(__name__)

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


STATIC_LAUNCHER_ENV = "TTA_STATIC_LAUNCHER"  # "0": launch through cuda-bindings only


@functools.lru_cache(maxsize=1)
def static_launcher():
    """PyTorch's compiled kernel launcher, `torch._C._StaticCudaLauncher._launch_kernel(function, grid_x, grid_y,
    grid_z, num_warps, shared_mem_bytes, arg_types, args, stream)`, or None: a torch build without it (CPU builds,
    torch < 2.8, ROCm), or TTA_STATIC_LAUNCHER=0.

    It launches `function` (a CUfunction as an int) with block (32 * num_warps, 1, 1) in the current context, on
    `stream` (an int), with `args` (a tuple) packed by `arg_types` (one character an argument: "K" uint64, "i" int32);
    a driver error is a RuntimeError. A private torch API, so tta checks for it and falls back to cuda-bindings."""
    import os

    if os.environ.get(STATIC_LAUNCHER_ENV, "1") == "0":
        return None
    import torch

    launcher_class = getattr(torch._C, "_StaticCudaLauncher", None)
    launch = getattr(launcher_class, "_launch_kernel", None)
    if launch is None or getattr(torch.version, "hip", None):
        return None
    return launch


class PreparedLaunch:
    """One artifact at one set of concrete shapes on one device, ready to launch with minimal host work.

    The function handle, grid, block, shared memory and int32 extras (`extras`) are fixed here. `launch(args,
    stream)` takes the kernel's arguments in TensorRT's order: the input pointers, `extras`, the output pointers.
    Where torch has its compiled launcher (`static_launcher()`) and the block is (32 * warps, 1, 1), a launch is one
    call into it (arguments packed on its stack: no lock). Otherwise, or when it fails, the arguments are written
    into prebuilt parameter storage with one `pack_into` (under a lock: the storage is shared by every caller) and
    cuLaunchKernel (cuda-bindings) gets the address of the prebuilt `void**` array. When the current device is not
    the tensors' device, the call pushes that device's primary context around the launch.
    """

    __slots__ = ("artifact", "function", "grid", "block", "shared_mem", "empty", "device_index", "params", "extras",
                 "n_inputs", "_pack", "_storage", "_address", "_cu_launch", "_cu_stream", "_stream_handle",
                 "_stream", "_current_device", "_lock", "_static")

    def __init__(self, artifact: Artifact, shapes: symbolic.Shapes, device_index: int):
        values = artifact.launch_params(shapes)
        self.artifact, self.device_index = artifact, device_index
        self.empty = 0 in values.grid
        self.grid, self.block, self.shared_mem = values.grid, values.block, values.shared_mem
        self.extras: tuple[int, ...] = tuple(values.extras)
        n_in, n_out, n_extra = len(shapes.inputs), len(shapes.outputs), len(self.extras)
        self.n_inputs = n_in
        formats = "Q" * n_in + "i" * n_extra + "Q" * n_out  # TensorRT's order: inputs, extras, outputs
        self.params = cuda_driver.KernelParams(formats)
        self.params.write(n_in, self.extras)  # a LaunchError here when an extra does not fit an int32
        # every slot is 8 bytes: an int32 is followed by 4 pad bytes
        self._pack = struct.Struct("<" + formats.replace("i", "i4x")).pack_into
        self._storage, self._address = self.params.storage, self.params.address
        self._lock = threading.Lock()
        self._stream_handle: int = -1  # the last stream launched on, and its cuda-bindings CUstream
        self._stream: Any = None
        self._static: Any = None  # torch's compiled launcher with every fixed argument bound, or None
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
        static = static_launcher()
        grid_x, grid_y, grid_z = self.grid
        # the C launcher multiplies the grid dims as C ints (and skips a launch whose product is <= 0): only grids
        # whose block count fits an int32 go through it
        if (static is not None and self.block[1:] == (1, 1) and self.block[0] % 32 == 0
                and grid_x * grid_y * grid_z < 2**31):
            self._static = functools.partial(static, int(self.function), grid_x, grid_y, grid_z, self.block[0] // 32,
                                             self.shared_mem, formats.replace("Q", "K"))

    def __call__(self, input_ptrs: Sequence[int], output_ptrs: Sequence[int], stream: int) -> None:
        """Launch with these input and output pointers (ints) on `stream` (a CUstream handle as an int)."""
        self.launch((*input_ptrs, *self.extras, *output_ptrs), stream)

    # Hand-written for speed, measured per call (benchmarks/bench_runtime.py on a GPU, bench_host_cpu.py on CPU):
    # torch's compiled launcher with every fixed argument bound; on the cuda-bindings path the stream handle's
    # CUstream is kept from the last call (cuda-bindings converts a CUstream fastest) and cuLaunchKernel is a
    # partial with every fixed argument bound.
    def launch(self, args: Sequence[int], stream: int) -> None:
        """Launch with `args`, the kernel's arguments in TensorRT's order (input pointers, `self.extras`, output
        pointers; ints, a tuple or a list), on `stream` (a CUstream handle as an int)."""
        if self.empty:
            return
        static = self._static
        if static is not None and self._current_device() == self.device_index:
            try:
                static(tuple(args), stream)
                return
            except TypeError:  # this torch's launcher takes other arguments: use cuda-bindings from now on
                log.info("torch's compiled launcher refused the call; launching through cuda-bindings")
                self._static = None
            except RuntimeError:  # a driver error: cuda-bindings below retries, or reports it with its CUresult
                pass
        with self._lock:  # the parameter storage is shared by every caller of this prepared launch
            self._pack(self._storage, 0, *args)
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
