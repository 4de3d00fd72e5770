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


class RegistrationError(TTAError):
    """An op or plugin could not be registered (name clash, missing dependency, unsupported version)."""


class TensorRTUnavailableError(RegistrationError):
    """TensorRT is missing, or its version cannot host AOT plugins. The message names the version and the fix."""


class BackendUnavailableError(TTAError, ImportError):
    """A backend's toolchain is not installed. The message names the pip extra that installs it."""


class TTAWarning(UserWarning):
    """Something the user may lose (speed, a tactic) that does not stop the op: many recompiles, dropped tactics."""


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
