"""Typed, picklable errors.

Every message follows one shape: the rule that was broken, what was observed, and how to fix it. Where they are
known, the op, kernel, config and argument are named, so an error raised deep inside a recording or a compile still
points at the user's code.
"""

from __future__ import annotations


class TTAError(Exception):
    """Base class of every error this package raises on purpose; `message` is the text (rule, observation, fix).

    Raised only as one of its subclasses (SpecError, RecordingError, CompileError, RegistrationError,
    BackendUnavailableError), which say when. Errors pickle, so they cross compile processes intact.

    Example::

        try:
            artifacts = plugin.compile(x, y, arch="sm_90", ptx_isa=(9, 0))
        except tta.TTAError as exc:
            print(type(exc).__name__, exc.message)
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __reduce__(self):  # picklable across processes (xdist workers, compile pools)
        return (type(self), (self.message,))


class SpecError(TTAError, ValueError):
    """A spec, config or meta_impl is malformed. Also a ValueError.

    Raised when the spec or plugin is created (`tta.triton(...)`, `tta.custom_plugin(...)`), by `tta.custom_op`
    for a malformed `arch` / `ptx_isa`, and by `compile` / the eager op for arguments that do not match the op's
    schema (the message names the parameter and the accepted forms).

    Example:

    >>> try:
    ...     tta.Config({"BLOCK": [256]})
    ... except tta.SpecError as exc:
    ...     print(exc.message.split(" so ")[0])
    Config values must be int, float, bool, str or None
    """


class RecordingError(TTAError):
    """The launch function did something a recorded, ahead-of-time launch cannot express.

    Raised when the plugin is created (`tta.custom_plugin` records every tactic once with placeholder tensors) or
    when it is compiled for real dtypes and shapes: no launch or two launches, a branch on tensor data, a float
    in the grid, an argument TensorRT cannot pass. The message names the kernel, config and the user's line.

    Example::

        def launch(x, out, *, BLOCK):
            if x.sum() > 0:          # data-dependent: RecordingError when the plugin is created
                ...
    """


class CompileError(TTAError):
    """A kernel could not be compiled into a TensorRT-ready artifact.

    Raised by `plugin.compile(...)` when no tactic compiles (the message lists each tactic's reason; tactics that
    fail while others compile are dropped with a TTAWarning instead), by the eager op when no tactic compiles
    for the call's dtypes and shapes, and by a TensorRT build (logged too, as TensorRT swallows it).

    Example::

        try:
            plugin.compile(x, y, arch="sm_90", ptx_isa=(7, 0))
        except tta.CompileError as exc:
            print(exc.message)
    """


class DtypeError(CompileError, TypeError):
    """A tensor's dtype is not one the kernel's pointer parameter takes (a `const float*` kernel called with float16,
    say). `role` / `index` name the tensor ('input' or 'output', its position) where known. Also a CompileError
    and a TypeError.

    Raised when compiling or calling the op with dtypes that no tactic's kernel takes, before anything launches;
    a tactic that does not take them is left out quietly while another does.

    Example::

        op = tta.custom_op("mylib::add", impl=plugin)     # kernel: add(const float*, const float*, float*, int)
        op(x.half(), y.half())                            # DtypeError: takes float32, input 'x' is float16
    """

    def __init__(self, message: str, role: str = "", index: int = -1):
        super().__init__(message)
        self.role, self.index = role, index

    def __reduce__(self):
        return (type(self), (self.message, self.role, self.index))


class ResourceLimitError(CompileError):
    """A compiled kernel needs more of a thread block than its target arch has: shared memory (bytes), threads per
    block, registers. The message names the kernel, tactic, config and the numbers. Also a CompileError.

    Raised when a tactic is compiled (and then dropped from `compile`'s result with a TTAWarning while other
    tactics compile), before TensorRT or the driver would fail to launch it.

    Example::

        # a config asking for 2048 threads per block on sm_90 (at most 1024)
        result = plugin.compile(x, y, arch="sm_90", ptx_isa=(9, 0))
        print(result.dropped)   # {2: "... 2048 threads per block ..."}
    """


class RegistrationError(TTAError):
    """An op or plugin could not be registered (name clash, missing dependency, unsupported version).

    Raised by `tta.custom_op` before anything is registered: an op name torch or TensorRT refuses, a name already
    taken by a different plugin, or TensorRT registration asked for (`tensorrt=True`, converter options) for a
    plugin TensorRT cannot run (outputs that must start zeroed).

    Example::

        tta.custom_op("mylib::add", impl=plugin_a)
        tta.custom_op("mylib::add", impl=plugin_b)   # RegistrationError: the name is taken by another plugin
    """


class TensorRTUnavailableError(RegistrationError):
    """TensorRT is missing, or its version cannot host AOT plugins. The message names the version and the fix.
    Also a RegistrationError.

    Raised by `tta.custom_op(..., tensorrt=True)` (or with converter options) when TensorRT or Torch-TensorRT is
    not importable, or its version is refused (TensorRT older than 10.9 or 10.14.x; Torch-TensorRT 2.10). With the
    default `tensorrt="auto"` the op is registered with torch only and the reason is logged instead.

    Example::

        op = tta.custom_op("mylib::add", impl=plugin, tensorrt=True)   # raises here without TensorRT
    """


class BackendUnavailableError(TTAError, ImportError):
    """A backend's toolchain is not installed. The message names the pip extra that installs it. Also an
    ImportError.

    Raised when a spec of that backend is first recorded or compiled (toolchains are imported lazily), e.g. a
    `tta.cutile` spec without cuda-tile: `pip install 'torch-tensorrt-annotation[cutile]'`.

    Example::

        try:
            plugin = tta.custom_plugin(tta.cutile(kernel, launch), meta_impl=meta)
        except tta.BackendUnavailableError as exc:
            print(exc.message)   # names the extra to install
    """


class TTAWarning(UserWarning):
    """Something the user lost without an error: a tactic dropped because it did not compile, an artifact cache entry
    that could not be written or was corrupt and rebuilt. Filter with `warnings.simplefilter("error", TTAWarning)`
    to make them errors (CI), or "ignore" to silence them.

    Issued with `warnings.warn` by `compile` (dropped tactics), the artifact cache, `tta.ptx` without dtypes, and
    the eager op (a launch recorded again too often: TTA_RECOMPILE_LIMIT).

    Example::

        import warnings
        warnings.simplefilter("error", tta.TTAWarning)   # a dropped tactic now fails the build
    """


class CompileResult(list):
    """The artifacts `CustomPlugin.compile` returns: a list of Artifacts (one per tactic that compiled, in tactic
    order), plus `dropped`, {tactic number: reason} for every tactic that did not compile.

    Example:

    >>> result = tta.CompileResult([], {2: "ptxas: too many resources requested"})
    >>> len(result), result.dropped
    (0, {2: 'ptxas: too many resources requested'})
    """

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
