"""Typed, picklable errors.

Every message follows one shape: the rule that was broken, what was observed, and how to fix it. Where they are
known, the op, kernel, config and argument are named, so an error raised deep inside a recording or a compile still
points at the user's code.
"""

from __future__ import annotations


class TTAError(Exception):
    """Base class of every error this package raises on purpose."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __reduce__(self):  # picklable across processes (xdist workers, compile pools)
        return (type(self), (self.message,))


class SpecError(TTAError, ValueError):
    """A spec, config or meta_impl is malformed. Raised when the spec or plugin is created."""


class RecordingError(TTAError):
    """The launch function did something a recorded, ahead-of-time launch cannot express."""


class CompileError(TTAError):
    """A kernel could not be compiled into a TensorRT-ready artifact."""


class DtypeError(CompileError, TypeError):
    """A tensor's dtype is not one the kernel's pointer parameter takes (a `const float*` kernel called with float16,
    say). `role` / `index` name the tensor ('input' or 'output', its position) where known."""

    def __init__(self, message: str, role: str = "", index: int = -1):
        super().__init__(message)
        self.role, self.index = role, index

    def __reduce__(self):
        return (type(self), (self.message, self.role, self.index))


class ResourceLimitError(CompileError):
    """A compiled kernel needs more of a thread block (shared memory, threads, registers) than its target arch has.
    The message names the kernel, tactic, config and the numbers."""


class RegistrationError(TTAError):
    """An op or plugin could not be registered (name clash, missing dependency, unsupported version)."""


class TensorRTUnavailableError(RegistrationError):
    """TensorRT is missing, or its version cannot host AOT plugins. The message names the version and the fix."""


class BackendUnavailableError(TTAError, ImportError):
    """A backend's toolchain is not installed. The message names the pip extra that installs it."""


class TTAWarning(UserWarning):
    """Something the user lost without an error: a tactic dropped because it did not compile, an artifact cache entry
    that could not be written or was corrupt and rebuilt. Filter with `warnings.simplefilter("error", TTAWarning)`
    to make them errors (CI), or "ignore" to silence them."""


class CompileResult(list):
    """The artifacts `CustomPlugin.compile` returns: a list of Artifacts (one per tactic that compiled), plus
    `dropped`, {tactic number: reason} for every tactic that did not compile."""

    def __init__(self, artifacts=(), dropped: "dict[int, str] | None" = None):
        super().__init__(artifacts)
        self.dropped: dict[int, str] = dict(dropped or {})


def warn(message: str, stacklevel: int = 2) -> None:
    """`warnings.warn(message, TTAWarning)`, pointing at the caller's caller by default."""
    import warnings

    warnings.warn(message, TTAWarning, stacklevel=stacklevel + 1)


def context(*, op: str | None = None, kernel: str | None = None, config=None, arg: str | None = None) -> str:
    """Render 'op X, kernel Y, config Z, argument A' for whichever parts are known."""
    parts = []
    if op:
        parts.append(f"op '{op}'")
    if kernel:
        parts.append(f"kernel '{kernel}'")
    if config is not None:
        parts.append(f"config {dict(config)}")
    if arg:
        parts.append(f"argument '{arg}'")
    return ", ".join(parts)
