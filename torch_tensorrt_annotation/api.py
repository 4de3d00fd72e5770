"""The public entry points: backend spec factories, `custom_plugin`, `custom_op`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .errors import RegistrationError, SpecError
from .spec import Config, KernelSpec


def _make_spec(backend: str, launch_fn, configs, name, kernel=None) -> KernelSpec:
    if not callable(launch_fn):
        raise SpecError(f"tta.{backend}(...) takes the launch function first, got {type(launch_fn).__name__}.")
    # no configs, or one empty config: a kernel that declares its own configs (@triton.autotune) brings them
    from_kernel = configs is None or (isinstance(configs, Sequence) and len(configs) == 1 and configs[0] == {})
    if configs is None:
        configs = [{}]
    if isinstance(configs, Mapping) or not isinstance(configs, Sequence):
        raise SpecError(
            f"configs of {backend} spec '{name or getattr(launch_fn, '__name__', '?')}' must be a list of dicts, got "
            f"{type(configs).__name__}. Fix: configs=[{{'BLOCK': 256}}, {{'BLOCK': 1024}}]."
        )
    return KernelSpec(
        backend=backend,
        launch_fn=launch_fn,
        configs=tuple(Config(c) for c in configs),
        name=name or getattr(launch_fn, "__name__", backend),
        kernel=kernel,
        configs_from_kernel=from_kernel,
    )


def triton(launch_fn: Callable | None = None, *, configs: Sequence[Mapping] | None = None, name: str | None = None):
    """A Triton spec: `launch_fn(*inputs, *outputs, *attrs, **config)` launches one @triton.jit kernel.

    Works as a call, `tta.triton(fn, configs=[...])`, or as a decorator, bare or called. Each config becomes one
    TensorRT tactic. Without `configs`, a `@triton.autotune` kernel's `triton.Config`s are the tactics (applied to
    the kernel launch: kwargs, num_warps, num_stages); config keys the launch function does not take are applied
    to an autotuned kernel the same way. Triton is imported only when the spec is used.

    Tensors may have any shape and any dtype the kernel takes: the launch is recorded with symbolic tensors, so
    the grid and int arguments become expressions of the input dims (int32 at launch). Returns a `KernelSpec`
    (as a decorator: the spec, in place of the function). Recording errors (RecordingError) come when the plugin
    is created, compile errors (CompileError) when it is compiled.

    Raises:
        SpecError: `launch_fn` is not callable, or `configs` is not a list of dicts (a key that is not an
            identifier, a value that is not int/float/bool/str/None, an empty list, a config listed twice).

    Example::

        @triton.jit
        def add_kernel(x, y, out, n, BLOCK: tl.constexpr):
            offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
            tl.store(out + offs, tl.load(x + offs, mask=offs < n) + tl.load(y + offs, mask=offs < n), mask=offs < n)

        @tta.triton(configs=[{"BLOCK": 256}, {"BLOCK": 1024}])     # two tactics
        def add(x, y, out, *, BLOCK):
            n = x.numel()
            add_kernel[(tta.cdiv(n, BLOCK),)](x, y, out, n, BLOCK=BLOCK)
    """
    if launch_fn is None:
        return lambda fn: _make_spec("triton", fn, configs, name)
    return _make_spec("triton", launch_fn, configs, name)


def cuda(source: str, kernel_name: str, launch_fn: Callable | None = None, *,
         configs: Sequence[Mapping] | None = None, name: str | None = None, options: Sequence[str] = (),
         dtypes=None):
    """A CUDA C++ spec compiled with NVRTC. `launch_fn(kernel, *inputs, *outputs, *attrs, **config)` launches
    `kernel[grid, block(, shared_mem)](*args)` once; or pass a declarative launch (`tta.elementwise(...)`,
    `tta.reduction(...)`) for kernels that take (inputs..., extras..., outputs...). Config entries and op
    attributes are compiler macros (TTA_<name>); `kernel_name` may be a name expression like "scale<{BLOCK}>".
    Decorator form:
    `@tta.cuda(SOURCE, "name", configs=[...])`.

    Element types: each pointer parameter's dtype is read from the kernel's signature (its mangled name, template
    arguments instantiated, or its `extern "C"` declaration; `TTA_IN0_T`-style types take any dtype). A tensor of
    another dtype raises DtypeError (a CompileError) before anything runs, and TensorRT is offered only the tactics
    that take its dtypes. `dtypes=` states them where the signature does not (a typedef or struct pointer): one
    dtype for every pointer parameter, or one entry per pointer parameter in the kernel's order (a dtype, a tuple
    of dtypes, or None for any); SpecError if it contradicts the declaration.

    TensorRT passes 64-bit pointers and 32-bit scalars only: int and float arguments travel as int32 (a float as
    its IEEE-754 bits); 64-bit scalar parameters are refused. `options` are extra NVRTC flags. Returns a
    `KernelSpec` (as a decorator: the spec). NVRTC (the `nvrtc` extra) is imported when the spec is compiled.

    Raises:
        SpecError: no source or kernel name, malformed `dtypes=` or `configs`, or a launch function that is not
            callable.
        BackendUnavailableError: when compiled without NVRTC (`pip install 'torch-tensorrt-annotation[nvrtc]'`).
        DtypeError: when compiled or called with dtypes the kernel's pointer parameters do not take.

    Example::

        SOURCE = '''
        extern "C" __global__ void add(const float* x, const float* y, float* out, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) out[i] = x[i] + y[i];
        }'''

        def launch(kernel, x, y, out, *, BLOCK):
            n = x.numel()
            kernel[tta.cdiv(n, BLOCK), BLOCK](x, y, out, n)

        spec = tta.cuda(SOURCE, "add", launch, configs=[{"BLOCK": 256}])
    """
    from .backends.cuda import CudaKernel

    handle = CudaKernel(source, kernel_name, options=options, dtypes=dtypes)
    if launch_fn is None:
        return lambda fn: _make_spec("cuda", fn, configs, name or kernel_name.split("<")[0], handle)
    return _make_spec("cuda", launch_fn, configs, name or kernel_name.split("<")[0], handle)


def ptx(ptx_text: str, kernel_name: str, launch_fn: Callable | None = None, *,
        configs: Sequence[Mapping] | None = None, name: str | None = None, dtypes=None):
    """A spec for PTX produced elsewhere. Its entry's parameter list is checked against the recorded launch (one
    pointer per tensor, int32 per extra), its `.version` against the target ISA, and its `.target` against the
    GPU; nothing is recompiled.

    PTX pointers (`.u64`) carry no element type. A name-mangled entry (`_Z...`) states them in its name; for an
    `extern "C"` entry pass `dtypes=` (one dtype for every pointer parameter, or one entry per pointer parameter in
    the kernel's order: a dtype, a tuple of dtypes, or None for any). Other dtypes then raise DtypeError. Without
    either, tta cannot refuse a wrong dtype and warns (TTAWarning) when the spec is made.

    The launch function is written as for `tta.cuda` (`kernel[grid, block(, shared_mem)](*args)`). Returns a
    `KernelSpec` (as a decorator: the spec).

    Raises:
        SpecError: no PTX or kernel name, malformed `dtypes=` or `configs`.
        CompileError: when compiled, for an entry missing from the PTX, parameters that do not match the launch,
            a `.version` newer than the target's `ptx_isa`, or a `.target` the GPU cannot run.
        DtypeError: when compiled or called with dtypes a mangled entry or `dtypes=` refuses.

    Example::

        spec = tta.ptx(PTX_TEXT, "add", launch, configs=[{"BLOCK": 256}], dtypes=torch.float32)
    """
    from .backends.cuda import CudaKernel
    from .kernel_types import demangle

    handle = CudaKernel(None, kernel_name, ptx=ptx_text, dtypes=dtypes)
    if handle.dtypes is None and "{" not in kernel_name and demangle(kernel_name) is None:
        import warnings

        from .errors import TTAWarning

        warnings.warn(
            f"tta.ptx kernel '{kernel_name}': its PTX pointer parameters (.u64) state no element type and the entry "
            "name is not mangled, so tta cannot refuse a tensor of the wrong dtype (the kernel would read it as "
            "its own type). Fix: pass dtypes=, e.g. dtypes=torch.float32 or one entry per pointer parameter.",
            TTAWarning, stacklevel=2)
    if launch_fn is None:
        return lambda fn: _make_spec("ptx", fn, configs, name or kernel_name, handle)
    return _make_spec("ptx", launch_fn, configs, name or kernel_name, handle)


def cutedsl(host_fn: Callable, launch_fn: Callable | None = None, *, configs: Sequence[Mapping] | None = None,
            name: str | None = None, dynamic_dims: Mapping[str, Sequence[int]] | None = None):
    """A CuTe DSL spec: `host_fn` is a @cute.jit function that launches one @cute.kernel.

    - cute.Pointer / cutlass.Int32 parameters: `launch_fn(kernel, *inputs, *outputs, *attrs, **config)` launches it
      as `kernel[grid, block(, shared_mem)](*args, **constexprs)`.
    - cute.Tensor parameters (compact row-major tensors, e.g. quack's kernels): launch it as
      `kernel(*tensors, **constexprs)`; grid, block and dynamic shared memory come from the compiled host code.
      Every dim is static (baked in and guarded) except `dynamic_dims`, keyed by the host function's cute.Tensor
      parameter names (e.g. {"x": [0], "out": [0]}), which become int32 extra args. A `cuda.CUstream` host
      parameter is filled by tta.

    Compiled on CPU with fake arguments; nvidia-cutlass-dsl is imported only when the spec is compiled. The PTX
    ISA is at most 8.8 (what the DSL emits), at least 8.7. Returns a `KernelSpec` (as a decorator: the spec).

    Raises:
        RecordingError: `dynamic_dims` names a parameter that is not a cute.Tensor.
        SpecError: malformed `configs` or a launch function that is not callable.
        BackendUnavailableError: when recorded or compiled without nvidia-cutlass-dsl (the `cutedsl` extra).
        CompileError: when compiled for a `ptx_isa` below 8.7, or for a kernel TensorRT cannot launch (a
            cluster launch, parameters passed by value).

    Example::

        @cute.jit
        def host(x: cute.Pointer, out: cute.Pointer, n: cutlass.Int32, BLOCK: cutlass.Constexpr): ...

        def launch(kernel, x, out, *, BLOCK):
            n = x.numel()
            kernel[tta.cdiv(n, BLOCK), BLOCK](x, out, n, BLOCK=BLOCK)

        spec = tta.cutedsl(host, launch, configs=[{"BLOCK": 128}])
    """
    from .backends.cutedsl import CuteKernel

    handle = CuteKernel(host_fn, dynamic_dims)
    if launch_fn is None:
        return lambda fn: _make_spec("cutedsl", fn, configs, name or handle.name, handle)
    return _make_spec("cutedsl", launch_fn, configs, name or handle.name, handle)


def cutile(kernel, launch_fn: Callable | None = None, *, configs: Sequence[Mapping] | None = None,
           name: str | None = None):
    """A cuTile spec: `kernel` is a @ct.kernel; `launch_fn(kernel, *inputs, *outputs, *attrs, **config)` launches
    it as `kernel[grid](*args, **constants)` (grid in tiles, ct.Constant parameters as keywords). Compiled with
    tileiras for sm_80/sm_100/sm_120-class GPUs; sm_90 is refused, as cuTile does not support it. The block
    size is the kernel's own (`.reqntid`); the PTX ISA is the tileiras version's. Returns a `KernelSpec` (as a
    decorator: the spec).

    Raises:
        SpecError: malformed `configs` or a launch function that is not callable.
        BackendUnavailableError: when recorded or compiled without cuda-tile (the `cutile` extra).
        CompileError: when compiled for sm_90, for a `ptx_isa` older than tileiras emits, or for loads lowered to
            TMA (pass allow_tma=False).

    Example::

        @ct.kernel
        def scale(x, out, TILE: ct.Constant[int]): ...

        def launch(kernel, x, out, *, TILE):
            kernel[(tta.cdiv(x.shape[0], TILE),)](x, out, TILE=TILE)

        spec = tta.cutile(scale, launch, configs=[{"TILE": 256}])
    """
    from .backends.cutile import TileKernel

    handle = TileKernel(kernel)
    if launch_fn is None:
        return lambda fn: _make_spec("cutile", fn, configs, name or handle.name, handle)
    return _make_spec("cutile", launch_fn, configs, name or handle.name, handle)


def cdiv(a, b):
    """Ceiling division, -(-a // b), that also works on symbolic dims while a launch is recorded (then the result
    is an expression of the dims, evaluated per launch as an int32).

    Raises:
        RecordingError: while recording, when a dim is divided by (or divides) something other than an int.
        ZeroDivisionError: for plain ints with b == 0.

    Example:

    >>> tta.cdiv(1000, 256)
    4
    """
    from .recording import sym_cdiv

    return sym_cdiv(a, b)


def next_power_of_2(n):
    """Smallest power of two >= n (1 for n <= 1); works on symbolic dims while a launch is recorded.

    Raises:
        AttributeError: for a value that is neither an int nor a recorded dim (a float, say).

    Example:

    >>> tta.next_power_of_2(100), tta.next_power_of_2(128)
    (128, 128)
    """
    from .recording import sym_next_power_of_2

    return sym_next_power_of_2(n)


def custom_plugin(specs=None, *, meta_impl: Callable | None = None, name: str | None = None,
                  zeroed_outputs: "Sequence[int | str] | int | str" = ()):
    """Combine specs into a plugin whose op name is `tta::<name>_<hash>`.

    `meta_impl(*inputs, *attrs)` returns empty tensors shaped like the outputs; its signature defines the schema
    (tensors first, then int/float/bool attributes). An output that meta_impl returns as an input object itself
    (`return x`) is in place: the schema marks the input mutated (`Tensor(a!)`), the launch function does not
    receive that output, and the op returns the (updated) input. Also usable as a decorator on meta_impl:
    `@tta.custom_plugin(spec)`.

    `zeroed_outputs`: outputs (indices, or their names in the launch function) that the kernel accumulates into
    with atomics, so they must start as zeros. The eager op fills them with zeros before each launch; TensorRT,
    which runs an AOT plugin as one kernel on uninitialized outputs, cannot, so TensorRT registration is refused.

    Without `meta_impl`, each Triton spec's function is an **op body** `f(*inputs, *attrs)` that allocates its
    outputs (torch.empty / empty_like / zeros / x.new_empty ...), launches one kernel and returns the outputs: the
    returned allocations are the outputs (zeros: zeroed), a returned input is in place, and config entries override
    the launch's keyword arguments of the same name (see body.py). A function that returns nothing is a launch
    function, and the call returns a decorator for its meta_impl. With a `meta_impl` and a body (same parameters),
    the plugin is the body's and meta_impl is checked against it (SpecError naming the disagreeing output).

    The plugin's `compile(*example_inputs, arch="sm_90", ptx_isa=(9, 0))` returns one TensorRT-ready `Artifact`
    per tactic (a `CompileResult`); example inputs may be meta tensors of any shape and dtype the kernels take.

    Raises:
        SpecError: no spec, a malformed meta_impl (not returning tensors, aliasing inputs inconsistently) or
            zeroed_outputs, launch functions that disagree on the number of outputs, or a body that allocates
            scratch memory, returns a view, or launches no or several kernels (naming the line).
        RecordingError: a launch function that cannot be recorded as one AOT launch (checked for every tactic).
        CompileError: when compiled, for tactics whose kernels write an input that is not in place, never write an
            output, or only accumulate into an output not in `zeroed_outputs` (and everything a toolchain refuses).

    Example::

        def add(x, y):                          # an op body: allocates its output, launches, returns it
            out = torch.empty_like(x)
            add_kernel[(triton.cdiv(x.numel(), 256),)](x, y, out, x.numel(), BLOCK=256)
            return out

        plugin = tta.custom_plugin(tta.triton(add, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]))
        # or a launch function and its meta_impl:
        # tta.custom_plugin(tta.triton(add_launch, configs=[...]), meta_impl=lambda x, y: torch.empty_like(x))
        artifacts = plugin.compile(torch.empty(4096, device="meta"), torch.empty(4096, device="meta"),
                                   arch="sm_90", ptx_isa=(9, 0))
        print(plugin.op_name, [a.kernel_name for a in artifacts])
    """
    from . import body as B
    from .plugin import CustomPlugin

    if specs is None:
        raise SpecError("custom_plugin needs at least one spec, e.g. tta.custom_plugin(tta.triton(launch, ...), ...).")
    if meta_impl is None:
        try:
            return CustomPlugin(specs, None, name, zeroed_outputs)  # op bodies: they return their outputs
        except (B.NotABody, B.BodyProbeFailed) as exc:  # a launch function: `@tta.custom_plugin(spec)` on meta_impl
            return _MetaImplDecorator(specs, name, zeroed_outputs, exc)
    if B.same_arity(specs, meta_impl):  # no output parameters: an op body, or an in-place launch function
        try:
            plugin = CustomPlugin(specs, None, name, zeroed_outputs)
        except (B.NotABody, B.BodyProbeFailed):
            pass  # a launch function
        else:
            B.check_outputs_agree(plugin, meta_impl, "meta_impl", f"plugin '{plugin.name}'", SpecError)
            return plugin
    return CustomPlugin(specs, meta_impl, name, zeroed_outputs)


class _MetaImplDecorator:
    """`tta.custom_plugin(spec)` whose function is a launch function, not an op body: decorates a meta_impl. Used
    as a plugin, it says why it is not one."""

    def __init__(self, specs, name, zeroed_outputs, reason: Exception):
        self._args, self._reason = (specs, name, zeroed_outputs), reason

    def __call__(self, meta_impl: Callable):
        from .plugin import CustomPlugin

        specs, name, zeroed_outputs = self._args
        return CustomPlugin(specs, meta_impl, name, zeroed_outputs)

    def __getattr__(self, item):
        if item.startswith("_"):
            raise AttributeError(item)
        raise SpecError(
            f"tta.custom_plugin(spec) without meta_impl is used as a plugin (.{item}), but its function is not an op "
            f"body: {getattr(self._reason, 'message', self._reason)} Fix: pass meta_impl=, or decorate the meta_impl "
            "with @tta.custom_plugin(spec)."
        )


def aot(fn: Callable | None = None, *, configs: Sequence[Mapping] | None = None, name: str | None = None):
    """The TensorRT AOT side of a torch op that already exists: `tta.custom_op("my::add_one",
    impl=tta.aot(configs=[{"BLOCK_SIZE": 256}, {"BLOCK_SIZE": 1024}]))` (or torch_tensorrt's
    `custom_op("my::add_one", impl=tta.aot(...))`).

    The op (from `torch.library.custom_op` or `torch.library.triton_op`) keeps its torch kernels and fake kernel;
    its body (the function it was defined with, or `fn`) is recorded as an op body: its allocations are the
    outputs, its one Triton launch the kernel, each config a tactic whose entries override the launch's keyword
    arguments of the same name (no configs: the body's own launch, or an autotuned kernel's configs). Registration
    checks the op's schema and its fake kernel against the body on example shapes (RegistrationError naming the
    disagreeing output) and registers the TensorRT plugin and converter under the op's name.

    Raises:
        SpecError: malformed `configs`.
        RegistrationError: from `tta.custom_op`, when the op's schema or fake kernel disagrees with the body on
            example shapes, or the op is not one torch knows.
        RecordingError: from `tta.custom_op`, for a body a plugin cannot run (no or several launches).

    Example::

        @torch.library.triton_op("my::add_one", mutates_args=())
        def add_one(x: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x)
            wrap_triton(add_one_kernel)[(triton.cdiv(x.numel(), 1024),)](x, out, x.numel(), BLOCK_SIZE=1024)
            return out

        tta.custom_op("my::add_one", impl=tta.aot(configs=[{"BLOCK_SIZE": 256}, {"BLOCK_SIZE": 1024}]))
    """
    from .body import Aot

    return Aot(configs=configs, fn=fn, name=name)


def triton_op(op_name: str, fn: Callable | None = None, *, configs: Sequence[Mapping] | None = None,
              tensorrt: "bool | str" = "auto", arch=None, ptx_isa=None, tactic: int | None = None):
    """Define torch op `op_name` and its TensorRT AOT plugin from one op body, in the spirit of
    `torch.library.triton_op`: `fn(*tensors, *attrs)` allocates its outputs (torch.empty / empty_like / zeros ...),
    launches one Triton kernel (`kernel[grid](...)` or `wrap_triton(kernel)[grid](...)`) and returns the outputs.

        @tta.triton_op("mylib::add", configs=[{"BLOCK": 256}, {"BLOCK": 1024}])
        def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x)
            add_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, y, out, x.numel(), BLOCK=256)
            return out

    The torch op's eager kernel runs tta's compiled artifacts (autotuned over the configs), its fake kernel is the
    body run on fake tensors, and TensorRT gets one tactic per config (`tensorrt`, `arch`, `ptx_isa`, `tactic` as
    for `tta.custom_op`). Tensors: CUDA tensors of any shape and dtype the kernel takes. Returns the torch op (as a
    decorator: the op, in place of the function).

    Raises:
        SpecError: a body a plugin cannot run (scratch allocations, a returned view, no or several launches),
            malformed `configs`, `arch` or `ptx_isa`.
        RecordingError: a launch that cannot be recorded as one AOT launch.
        RegistrationError / TensorRTUnavailableError: as for `tta.custom_op`.

    Example::

        @tta.triton_op("mylib::add", configs=[{"BLOCK": 256}, {"BLOCK": 1024}])
        def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x)
            add_kernel[lambda meta: (triton.cdiv(x.numel(), meta["BLOCK"]),)](x, y, out, x.numel(), BLOCK=256)
            return out

        z = add(x, y)    # torch.ops.mylib.add
    """
    from .plugin import CustomPlugin

    def define(body: Callable):
        short = op_name.split("::")[-1]
        plugin = CustomPlugin([triton(body, configs=configs, name=short)], None, short)
        return custom_op(op_name, impl=plugin, tensorrt=tensorrt, arch=arch, ptx_isa=ptx_isa, tactic=tactic)

    return define if fn is None else define(fn)


def custom_op(op_name: str | None = None, impl=None, capability_validator=None, priority=None,
              supports_dynamic_shapes: bool = False, requires_output_allocator: bool = False, *,
              tensorrt: "bool | str" = "auto", arch=None, ptx_isa=None, tactic: int | None = None):
    """Register `impl` (a plugin) as torch op `op_name` (default: the plugin's hashed name) and, where TensorRT is
    installed, as a TensorRT AOT plugin with Torch-TensorRT's converter. Returns the torch op.

    - The torch op runs on CUDA tensors and traces with FakeTensor, torch.export and torch.compile via meta_impl.
    - `tensorrt="auto"` registers with TensorRT when it is importable and otherwise only logs; `True` raises a
      RegistrationError saying what to install; `False` skips it. Passing any converter option implies `True`.
    - `arch` / `ptx_isa`: what the TensorRT build compiles for (default: the build GPU, its driver's PTX ISA).
    - `tactic`: pin the eager op to one tactic instead of autotuning (also: TTA_TACTIC=n).

    Idempotent and thread-safe. The op takes and returns CUDA tensors of the shapes and dtypes meta_impl states
    (any strides: inputs are made contiguous), then attribute values; it compiles per dtype/rank signature on
    first use and autotunes among the tactics that compile.

    Raises:
        SpecError: no `impl`, or a malformed `arch` / `ptx_isa`.
        RegistrationError: an op name torch or TensorRT refuses, a name taken by a different plugin, or TensorRT
            registration asked for a plugin with `zeroed_outputs`.
        TensorRTUnavailableError: `tensorrt=True` (or a converter option) without a TensorRT / Torch-TensorRT that
            can host AOT plugins.

    Example::

        op = tta.custom_op("mylib::add", impl=plugin)
        out = op(x, y)                          # eager: compiles once per dtype/rank signature, then launches
        model = torch.compile(model, fullgraph=True)   # traced through meta_impl
    """
    from .errors import TensorRTUnavailableError
    from .torch_op import register_torch_op

    if impl is None:
        raise SpecError("custom_op needs impl=<plugin made by tta.custom_plugin(...)>.")
    _check_target_args(arch, ptx_isa)  # before anything is registered
    from .body import Aot
    from .plugin import CustomPlugin

    if isinstance(impl, Aot):  # an existing torch op: only its TensorRT side
        return _register_existing(op_name, impl, capability_validator=capability_validator, priority=priority,
                                  supports_dynamic_shapes=supports_dynamic_shapes,
                                  requires_output_allocator=requires_output_allocator, tensorrt=tensorrt, arch=arch,
                                  ptx_isa=ptx_isa)

    if tensorrt is not False and isinstance(impl, CustomPlugin):
        from .torch_op import check_op_name
        from .trt import check_registrable

        check_op_name(op_name or impl.op_name)
        check_registrable(impl, op_name or impl.op_name)  # TensorRT's naming rules, without importing TensorRT
    op = register_torch_op(impl, op_name, tactic)
    name = op_name or impl.op_name
    explicit = _asks_for_tensorrt(tensorrt, capability_validator, priority, supports_dynamic_shapes,
                                  requires_output_allocator)
    if tensorrt is False:
        return op
    if impl.zeroed_outputs:  # one kernel on uninitialized outputs: TensorRT cannot run it (see trt.py)
        from .trt import zeroed_outputs_message

        if explicit:
            raise RegistrationError(zeroed_outputs_message(impl, name))
        import warnings

        from .errors import TTAWarning

        warnings.warn(f"{name}: registered as a torch op only. {zeroed_outputs_message(impl, name)}", TTAWarning,
                      stacklevel=2)
        return op
    from .integration import register_with_tensorrt

    try:
        register_with_tensorrt(impl, name, capability_validator=capability_validator, priority=priority,
                               supports_dynamic_shapes=supports_dynamic_shapes,
                               requires_output_allocator=requires_output_allocator, arch=arch, ptx_isa=ptx_isa,
                               require_converter=explicit)
    except TensorRTUnavailableError as exc:
        if explicit:
            raise
        import logging

        level = logging.INFO if "is not installed" in exc.message else logging.WARNING
        logging.getLogger(__name__).log(level, "%s: registered as a torch op only: %s", name, exc.message)
    return op


def _asks_for_tensorrt(tensorrt, capability_validator=None, priority=None, supports_dynamic_shapes: bool = False,
                       requires_output_allocator: bool = False, **_other_options) -> bool:
    """Whether custom_op asks for TensorRT explicitly (`tensorrt=True`, or a converter option), so that failing to
    register with TensorRT raises instead of being logged. `arch` / `ptx_isa` do not count."""
    return tensorrt is True or capability_validator is not None or priority is not None \
        or supports_dynamic_shapes or requires_output_allocator


def _register_existing(op_name, request, *, tensorrt, **options):
    """tta.custom_op(name, impl=tta.aot(...)) for a torch op defined elsewhere: the plugin of its body, registered
    with TensorRT (and Torch-TensorRT's converter) under the op's own name. Returns the plugin."""
    from .body import plugin_for_op
    from .torch_op import check_op_name

    if not op_name:
        raise SpecError("custom_op(impl=tta.aot(...)) needs the existing op's name, e.g. custom_op('my::add_one', "
                        "impl=tta.aot(configs=[...])).")
    check_op_name(op_name)
    plugin = plugin_for_op(op_name, request)
    if tensorrt is False:
        return plugin
    explicit = _asks_for_tensorrt(tensorrt, **options)
    if plugin.zeroed_outputs:
        from .trt import zeroed_outputs_message

        raise RegistrationError(zeroed_outputs_message(plugin, op_name))
    from .errors import TensorRTUnavailableError
    from .integration import register_with_tensorrt
    from .trt import check_registrable

    check_registrable(plugin, op_name)
    try:
        register_with_tensorrt(plugin, op_name, require_converter=explicit, **options)
    except TensorRTUnavailableError as exc:
        if explicit:
            raise
        import logging

        logging.getLogger(__name__).warning("%s: no TensorRT side registered: %s", op_name, exc.message)
    return plugin


def _check_target_args(arch, ptx_isa) -> None:
    """Validate `arch` / `ptx_isa` now (SpecError naming the accepted forms), not at the first engine build."""
    from .spec import Target, _parse_isa

    if arch is not None:
        Target.parse(arch, ptx_isa)
    else:
        _parse_isa(ptx_isa)
