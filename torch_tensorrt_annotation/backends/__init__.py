"""Kernel backends behind one interface (`base.Backend`). Each imports its toolchain lazily."""

from .base import Backend, CompiledKernel, HandleBackend, KernelHandle, get_backend

__all__ = ["Backend", "CompiledKernel", "HandleBackend", "KernelHandle", "get_backend"]
