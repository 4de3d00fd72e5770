"""What the local CUDA driver accepts. Read through ctypes so that it works with no CUDA Python package."""

from __future__ import annotations

import ctypes
import functools
import logging

log = logging.getLogger(__name__)


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
    """cuDriverGetVersion(), or None when no driver library is present (CPU-only machines, CI)."""
    for lib in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            cuda = ctypes.CDLL(lib)
        except OSError:
            continue
        version = ctypes.c_int(0)
        if cuda.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value > 0:
            return version.value
    return None


def driver_ptx_isa() -> tuple[int, int] | None:
    version = driver_version()
    return None if version is None else ptx_isa_for_cuda(version)
