"""Minimal pure-Python stand-in for the TensorRT C++ extension (`tensorrt_bindings/tensorrt.so`).

Purpose: let the REAL pure-Python QDP package (`tensorrt_bindings/plugin/` from a tensorrt-cu1x-bindings
wheel, 10.9 to 11.4) be imported as `tensorrt.plugin` and driven the way TensorRT's builder drives it, with no
libnvinfer available; and let the REAL Torch-TensorRT Python (2.9 to 2.14) import over it and run a converter
against `Network` (a double of INetworkDefinition whose `add_plugin` follows pyGraph.cpp).

    import standin; standin.install()          # puts a fake `tensorrt` module in sys.modules
    import tensorrt.plugin as trtp             # loads the REAL tensorrt_bindings/plugin/*.py

How: the fake `tensorrt` module gets `__path__ = [<wheel>/tensorrt_bindings]`, so the import
system resolves `tensorrt.plugin` to the real directory (`tensorrt.so` there is never imported).

Only names the plugin package and Torch-TensorRT's import touch are provided (TORCH_TENSORRT_NAMES says which
are there for Torch-TensorRT alone).  Expressions are concrete: every IDimensionExpr carries an int `.value`
(at the profile's opt dims) and `.bounds` (at its min / max); `constant=False` imitates a dynamic dimension.
Callbacks are called through `trampoline`, which catches and prints as TensorRT's C++ does.
Behaviour copied from python/src/infer/pyPlugin.cpp (NVIDIA/TensorRT) where it matters:
PluginField stores (buffer, element count) and `.data` re-reads it as a 1-D numpy array whose
dtype is chosen by the field type (INT8/UNKNOWN/CHAR -> int8, FLOAT16 -> AttributeError, ...).
"""
import enum
import math
import os
import sys
import types

import numpy as np


def bindings_dir():
    """The installed tensorrt-cu13-bindings package directory (its __init__ is never run: it needs libnvinfer)."""
    import importlib.util

    spec = importlib.util.find_spec("tensorrt_bindings")
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def versions_dir():
    """Where scripts/install_trt_versions.sh unpacks the tested versions (TTA_TRT_VERSIONS_DIR overrides)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.environ.get("TTA_TRT_VERSIONS_DIR", os.path.join(root, ".trt-versions"))


def listed_versions(name):
    """Versions of `name` in constraints/trt-versions.txt (what CI unpacks and tests)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "constraints", "trt-versions.txt")) as f:
        return [line.strip().split("==")[1] for line in f if line.startswith(name + "==")]


def bindings_versions():
    """[(version, tensorrt_bindings dir)] of every bindings version listed for tests and unpacked; the installed
    wheel's alone when none is unpacked. With TTA_REQUIRE_TRT_VERSIONS=1 (CI) a listed version missing raises."""
    found, missing = [], []
    for name in ("tensorrt-cu12-bindings", "tensorrt-cu13-bindings"):
        for version in listed_versions(name):
            path = os.path.join(versions_dir(), f"{name}-{version}")
            if os.path.isfile(os.path.join(path, ".complete")):
                found.append((version, os.path.join(path, "tensorrt_bindings")))
            else:
                missing.append(f"{name}=={version}")
    if missing and os.environ.get("TTA_REQUIRE_TRT_VERSIONS") == "1":
        raise FileNotFoundError(f"{missing} not unpacked under {versions_dir()}: bash scripts/install_trt_versions.sh")
    if not found and bindings_dir() is not None:
        found.append((installed_version(bindings_dir()) or "installed", bindings_dir()))
    return sorted(found, key=lambda vp: tuple(int(x) for x in vp[0].split(".")[:3] if x.isdigit()))


# ----------------------------------------------------------------------------- enums
def _enum(name, members, doc=None):
    """An enum.Enum named `name` whose members (`members`, space-separated) are numbered 0, 1, 2, ... in order."""
    made = enum.Enum(name, [(member, value) for value, member in enumerate(members.split())], module=__name__)
    made.__doc__ = doc
    return made


DataType = _enum("DataType", "FLOAT HALF INT8 INT32 BOOL UINT8 FP8 BF16 INT64 INT4 FP4 E8M0",
                 "nvinfer1::DataType (trt.DataType).")
TensorFormat = _enum("TensorFormat",
                     "LINEAR CHW2 HWC8 CHW4 CHW16 CHW32 DHWC8 CDHW32 HWC DLA_LINEAR DLA_HWC4 HWC16 DHWC",
                     "nvinfer1::TensorFormat (trt.TensorFormat).")
PluginFieldType = _enum("PluginFieldType",
                        "FLOAT16 FLOAT32 FLOAT64 INT8 INT16 INT32 CHAR DIMS UNKNOWN BF16 INT64 FP8 INT4 FP4",
                        "nvinfer1::PluginFieldType (trt.PluginFieldType).")
DimensionOperation = _enum("DimensionOperation", "SUM PROD MAX MIN SUB EQUAL LESS FLOOR_DIV CEIL_DIV",
                           "nvinfer1::DimensionOperation (trt.DimensionOperation).")
TensorRTPhase = _enum("TensorRTPhase", "BUILD RUNTIME", "nvinfer1::TensorRTPhase (trt.TensorRTPhase).")
QuickPluginCreationRequest = _enum("QuickPluginCreationRequest", "UNKNOWN PREFER_JIT PREFER_AOT STRICT_JIT STRICT_AOT",
                                   "nvinfer1::QuickPluginCreationRequest; its mere presence sets trtp IS_AOT_ENABLED.")
PluginArgType = _enum("PluginArgType", "INT", "nvinfer1::PluginArgType (trt.PluginArgType).")
PluginArgDataType = _enum("PluginArgDataType", "INT8 INT16 INT32",
                          "nvinfer1::PluginArgDataType (trt.PluginArgDataType).")


# ----------------------------------------------------------------------------- misc
class Logger:
    """nvinfer1::ILogger / trt.Logger (plugin/__init__.py logs one 'experimental' warning)."""
    class Severity(enum.IntEnum):
        INTERNAL_ERROR = 0
        ERROR = 1
        WARNING = 2
        INFO = 3
        VERBOSE = 4
    WARNING = Severity.WARNING

    def __init__(self, min_severity=Severity.WARNING):
        self.min_severity = min_severity
        self.messages = []

    def log(self, severity, msg):
        self.messages.append((severity, msg))


class ITensor:
    """trt.ITensor (network tensor); trtp.op.<ns>.<name>(*args) only isinstance-checks it."""


class Dims(list):
    """nvinfer1::Dims (trt.Dims): list of ints; MAX_DIMS class attribute."""
    MAX_DIMS = 8

    def __init__(self, shape=()):
        # NOTE: the real binding has no Dims(int) ctor; Shape() in _tensor.py calls Dims(0) -> we accept it.
        super().__init__([0] * shape if isinstance(shape, int) else shape)


class PluginTensorDesc:
    """nvinfer1::PluginTensorDesc (trt.PluginTensorDesc): dims, type, format, scale."""

    def __init__(self, dims=(), type=DataType.FLOAT, format=TensorFormat.LINEAR, scale=1.0):
        self.dims, self.type, self.format, self.scale = Dims(dims), type, format, scale


class DynamicPluginTensorDesc:
    """nvinfer1::DynamicPluginTensorDesc (trt.DynamicPluginTensorDesc): desc, min, opt, max."""

    def __init__(self, desc=None, min=None, opt=None, max=None):
        self.desc = desc or PluginTensorDesc()
        self.min = Dims(min if min is not None else self.desc.dims)
        self.opt = Dims(opt if opt is not None else self.desc.dims)
        self.max = Dims(max if max is not None else self.desc.dims)


# ----------------------------------------------------------------------------- shape expressions
_OPS = {
    DimensionOperation.SUM: lambda a, b: a + b,
    DimensionOperation.PROD: lambda a, b: a * b,
    DimensionOperation.MAX: max,
    DimensionOperation.MIN: min,
    DimensionOperation.SUB: lambda a, b: a - b,
    DimensionOperation.EQUAL: lambda a, b: int(a == b),
    DimensionOperation.LESS: lambda a, b: int(a < b),
    DimensionOperation.FLOOR_DIV: lambda a, b: a // b,
    DimensionOperation.CEIL_DIV: lambda a, b: -(-a // b),
}


class IDimensionExpr:
    """nvinfer1::IDimensionExpr (trt.IDimensionExpr); here always evaluable: `.value` at the profile's opt dims,
    `.bounds` = (value at the min dims, value at the max dims), which is how TensorRT bounds an output dim."""

    def __init__(self, value, constant=True, size_tensor=False, bounds=None):
        self.value, self._constant, self._size_tensor = int(value), constant, size_tensor
        self.bounds = tuple(int(b) for b in bounds) if bounds is not None else (self.value, self.value)

    def is_constant(self):
        return self._constant

    def get_constant_value(self):
        return self.value  # real TRT: only meaningful when is_constant()

    def is_size_tensor(self):
        return self._size_tensor

    def __repr__(self):
        return f"DimExpr({self.value}{'' if self._constant else f', dynamic {self.bounds}'})"


class IExprBuilder:
    """nvinfer1::IExprBuilder (trt.IExprBuilder): constant / operation / declare_size_tensor, evaluated eagerly."""

    def constant(self, value):
        return IDimensionExpr(value)

    def symbolic(self, value, lo=None, hi=None):
        """Stand-in only: a dynamic dimension, `value` at opt, `lo` / `hi` at the profile's min / max."""
        return IDimensionExpr(value, constant=False, bounds=(value if lo is None else lo, value if hi is None else hi))

    def operation(self, op, first, second):
        fn = _OPS[op]
        return IDimensionExpr(fn(first.value, second.value), first.is_constant() and second.is_constant(),
                              bounds=[fn(a, b) for a, b in zip(first.bounds, second.bounds)])

    def declare_size_tensor(self, output_index, opt, upper):
        return IDimensionExpr(opt.value, constant=False, size_tensor=True, bounds=(0, upper.value))


class DimsExprs(list):
    """nvinfer1::DimsExprs (trt.DimsExprs): fixed-length list of IDimensionExpr; DimsExprs(n) or DimsExprs(seq)."""

    def __init__(self, arg=0):
        super().__init__([None] * arg if isinstance(arg, int) else arg)


# ----------------------------------------------------------------------------- plugin fields / registry
_FIELD_DTYPE = {
    PluginFieldType.INT32: np.int32, PluginFieldType.UNKNOWN: np.int8, PluginFieldType.INT8: np.int8,
    PluginFieldType.INT16: np.int16, PluginFieldType.FLOAT32: np.float32, PluginFieldType.FLOAT64: np.float64,
    PluginFieldType.INT64: np.int64, PluginFieldType.CHAR: np.int8,  # pybind py::array<char> -> int8
}


class PluginField:
    """nvinfer1::PluginField (trt.PluginField): keeps raw buffer + element count; `.data` -> 1-D ndarray by `type`."""

    def __init__(self, name="", data=None, type=PluginFieldType.UNKNOWN):
        self.name, self.type = name, type
        if data is None:
            self._raw, self.size = b"", 0
        else:
            mv = memoryview(data)  # py::buffer::request(): info.ptr + info.size (element count, not bytes)
            self._raw, self.size = mv.tobytes(), math.prod(mv.shape) if mv.ndim else 1

    @property
    def data(self):
        if self.type not in _FIELD_DTYPE:
            raise AttributeError("No known conversion for returning data from PluginField")
        dt = np.dtype(_FIELD_DTYPE[self.type])
        # Real binding reinterprets the stored pointer as `size` elements of dt.
        buf = self._raw.ljust(self.size * dt.itemsize, b"\0")[: self.size * dt.itemsize]
        return np.frombuffer(buf, dtype=dt, count=self.size).copy()


class PluginFieldCollection(list):
    """trt.PluginFieldCollection (bind_vector<PluginField>, implicitly converts to nvinfer1::PluginFieldCollection)."""


class IPluginV3:
    """nvinfer1::IPluginV3 (base of _TemplatePluginBase)."""


class IPluginV3QuickCore:
    """nvinfer1::IPluginV3QuickCore (plugin_name / plugin_version / plugin_namespace holder)."""


class IPluginV3QuickBuild:
    """nvinfer1::IPluginV3QuickBuild (build-phase capability; C++ calls get_output_* / formats / tactics)."""


class IPluginV3QuickAOTBuild(IPluginV3QuickBuild):
    """nvinfer1::IPluginV3QuickAOTBuild (adds get_kernel / get_launch_params / set_tactic)."""


class IPluginV3QuickRuntime:
    """nvinfer1::IPluginV3QuickRuntime (JIT: enqueue / set_tactic / get_fields_to_serialize)."""


class IPluginCreatorV3Quick:
    """nvinfer1::IPluginCreatorV3Quick (name / plugin_version / plugin_namespace / field_names / create_plugin)."""


class IPluginRegistry:
    """nvinfer1::IPluginRegistry: register_creator(creator, ns) / get_creator(name, version, ns); records creators."""

    def __init__(self):
        self.creators = {}

    def register_creator(self, creator, plugin_namespace=""):
        key = (creator.name, creator.plugin_version, plugin_namespace)
        if key in self.creators:
            return False
        self.creators[key] = creator
        return True

    def get_creator(self, type, version, plugin_namespace=""):
        return self.creators.get((type, version, plugin_namespace))

    def deregister_creator(self, creator):
        """IPluginRegistry::deregisterCreator: True when the creator was registered (by identity)."""
        for key, registered in list(self.creators.items()):
            if registered is creator:
                del self.creators[key]
                return True
        return False

    @property
    def all_creators(self):
        return list(self.creators.values())


_REGISTRY = IPluginRegistry()


def get_plugin_registry():
    """trt.get_plugin_registry() -> the process-wide IPluginRegistry."""
    return _REGISTRY


# ----------------------------------------------------------------------------- AOT launch plumbing
class KernelLaunchParams:
    """nvinfer1::IKernelLaunchParams (C++ trt.KernelLaunchParams): grid/block/shared_mem, each set to an ISymExpr."""
    _FIELDS = ("grid_x", "grid_y", "grid_z", "block_x", "block_y", "block_z", "shared_mem")

    def __init__(self):
        for f in self._FIELDS:
            setattr(self, f, None)


class ISymExpr:
    """nvinfer1::ISymExpr (trt.ISymExpr): type / dtype / expr (write-only in the real binding)."""

    def __init__(self):
        self.type = self.dtype = self.expr = None


class ISymExprs:
    """nvinfer1::ISymExprs (trt.ISymExprs): nbSymExprs property + indexable ISymExpr slots (extra kernel args)."""

    def __init__(self):
        self._items = []

    @property
    def nbSymExprs(self):
        return len(self._items)

    @nbSymExprs.setter
    def nbSymExprs(self, n):
        self._items = (self._items + [None] * n)[:n]

    def __len__(self):
        return len(self._items)

    def __getitem__(self, i):
        return self._items[i]

    def __setitem__(self, i, v):
        self._items[i] = v


def nptype(trt_type):
    """tensorrt.nptype (pure Python in tensorrt/__init__.py): the numpy dtype of a DataType (JIT Tensor uses it)."""
    return {DataType.FLOAT: np.float32, DataType.HALF: np.float16, DataType.INT8: np.int8,
            DataType.INT32: np.int32, DataType.INT64: np.int64, DataType.BOOL: np.bool_,
            DataType.UINT8: np.uint8}[trt_type]


def value_of(x):
    """Stand-in helper: concrete int from an ISymExpr / IDimensionExpr (None if the expr is missing)."""
    if isinstance(x, ISymExpr):
        x = x.expr
    return None if x is None else x.value



# ----------------------------------------------------------------------------- names Torch-TensorRT needs
# Torch-TensorRT's Python (2.9-2.14) touches these at import: as base classes, in annotations, and a few enum
# members in module-level tables. Nothing in them is behaviour; the conversion path below uses Network only.
class ILogger:
    """nvinfer1::ILogger (trt.ILogger); Severity as in the real binding."""
    Severity = Logger.Severity


class _Interface:
    """Base of the interface names below: Torch-TensorRT subclasses some (IProgressMonitor, IOutputAllocator)."""

    def __init__(self, *args, **kwargs):
        pass


def _interface(name):
    return type(name, (_Interface,), {"__doc__": f"trt.{name}: a name only (base class / annotation)."})


_INTERFACES = [_interface(n) for n in (
    "IAlgorithmSelector", "IAttention", "IBuilderConfig", "ICudaEngine", "ILayer", "IOutputAllocator", "IPluginV2",
    "IProgressMonitor", "Weights")]


ActivationType = _enum("ActivationType", "RELU SIGMOID TANH")
ElementWiseOperation = _enum("ElementWiseOperation", "SUM PROD")
UnaryOperation = _enum("UnaryOperation", "EXP LOG")
TopKOperation = _enum("TopKOperation", "MAX MIN")
MatrixOperation = _enum("MatrixOperation", "NONE TRANSPOSE")
InterpolationMode = _enum("InterpolationMode", "NEAREST LINEAR CUBIC")
SampleMode = _enum("SampleMode", "STRICT_BOUNDS WRAP CLAMP FILL REFLECT")
SerializationFlag = _enum("SerializationFlag", "EXCLUDE_WEIGHTS EXCLUDE_LEAN_RUNTIME INCLUDE_REFIT")


def init_libnvinfer_plugins(logger, namespace):
    """trt.init_libnvinfer_plugins: no built-in plugin library here."""
    return True


# (INetworkDefinition is appended below, with the network double)
TORCH_TENSORRT_NAMES = [ILogger, *_INTERFACES, ActivationType, ElementWiseOperation, UnaryOperation,
                        TopKOperation, MatrixOperation, InterpolationMode, SampleMode, SerializationFlag,
                        init_libnvinfer_plugins]


# ----------------------------------------------------------------------------- network double
class NetworkTensor(ITensor):
    """A network tensor with what converters read: name, shape (trt.Dims, -1 for a dynamic dim), dtype."""

    def __init__(self, name, shape, dtype):
        self.name, self.shape, self.dtype = name, Dims(shape), dtype

    def __repr__(self):
        return f"NetworkTensor({self.name}, {tuple(self.shape)}, {self.dtype.name})"


class PluginV3Layer:
    """nvinfer1::IPluginV3Layer: the plugin object TensorRT keeps, its inputs, and its outputs."""

    def __init__(self, plugin, inputs, shape_inputs, outputs):
        self.plugin, self.inputs, self.shape_inputs = plugin, inputs, shape_inputs
        self._outputs = outputs
        self.name = ""
        self.num_outputs = len(outputs)

    def get_output(self, index):
        return self._outputs[index]


class INetworkDefinition:
    """trt.INetworkDefinition (Torch-TensorRT's TRTNetwork annotation); Network below is the working double."""


class Network(INetworkDefinition):
    """INetworkDefinition double: add_input and the three `add_plugin` overloads of python/src/infer/pyGraph.cpp.

    `add_plugin(func, aot)` calls `func(STRICT_AOT if aot else STRICT_JIT)`; `add_plugin(func)` calls it with
    PREFER_AOT / PREFER_JIT from the network's flags (UNKNOWN without either); `add_plugin(tuple)` adds
    (inputs, shape_inputs, plugin) as a plugin V3 layer. The layer's output dtypes and shapes come from the plugin
    through the trampolines, as TensorRT's addPluginV3 asks for them; a dynamic output dim is -1.
    """

    def __init__(self, prefer_aot=False, prefer_jit=False, log=None):
        self.prefer_aot, self.prefer_jit = prefer_aot, prefer_jit
        self.layers, self.inputs = [], []
        self.log = log if log is not None else TrampolineLog()

    def add_input(self, name, dtype, shape):
        tensor = NetworkTensor(name, shape, dtype)
        self.inputs.append(tensor)
        return tensor

    def add_plugin(self, func_or_tuple, aot=None):
        if isinstance(func_or_tuple, tuple):
            return self._add_plugin_tuple(func_or_tuple)
        if aot is None:
            if self.prefer_aot and self.prefer_jit:
                raise ValueError("Both NetworkDefinitionCreationFlag.PREFER_AOT_PYTHON_PLUGINS and "
                                 "NetworkDefinitionCreationFlag.PREFER_JIT_PYTHON_PLUGINS cannot be specified at "
                                 "the same time.")
            request = (QuickPluginCreationRequest.PREFER_JIT if self.prefer_jit else
                       QuickPluginCreationRequest.PREFER_AOT if self.prefer_aot else
                       QuickPluginCreationRequest.UNKNOWN)
        else:
            request = QuickPluginCreationRequest.STRICT_AOT if aot else QuickPluginCreationRequest.STRICT_JIT
        result = func_or_tuple(request)  # an exception here reaches the caller (pybind re-raises it)
        if not isinstance(result, tuple) or len(result) != 3:
            raise TypeError(f"add_plugin: the creation function returned {type(result).__name__}, expected "
                            "(inputs, shape_inputs, IPluginV3)")
        return self._add_plugin_tuple(result)

    def _add_plugin_tuple(self, result):
        inputs, shape_inputs, plugin = result
        if not all(isinstance(t, ITensor) for t in list(inputs) + list(shape_inputs)):
            raise TypeError("add_plugin: inputs must be ITensors")
        n_out = trampoline(self.log, "get_num_outputs", plugin.get_num_outputs)
        types = trampoline(self.log, "get_output_data_types", plugin.get_output_data_types,
                           [t.dtype for t in inputs], [len(t.shape) for t in inputs])
        builder = IExprBuilder()
        exprs = [DimsExprs([builder.constant(d) if d >= 0 else builder.symbolic(1) for d in t.shape])
                 for t in inputs]
        shapes = trampoline(self.log, "get_output_shapes", plugin.get_output_shapes, exprs, [], builder)
        if n_out is FAILED or types is FAILED or shapes is FAILED:
            return None  # TensorRT: the layer cannot be added (the error was printed)
        outputs = [NetworkTensor(f"plugin_output_{len(self.layers)}_{i}",
                                 [e.value if e.is_constant() else -1 for e in de], dt)
                   for i, (de, dt) in enumerate(zip(shapes, types))]
        layer = PluginV3Layer(plugin, list(inputs), list(shape_inputs), outputs)
        self.layers.append(layer)
        return layer


TORCH_TENSORRT_NAMES.append(INetworkDefinition)


# ----------------------------------------------------------------------------- callback trampolines
FAILED = object()


class TrampolineLog:
    """What TensorRT's C++ trampolines (python/src/infer/pyPlugin.cpp) print when a Python callback raises."""

    def __init__(self):
        self.lines = []

    def error(self, callback, exc):
        line = f"[ERROR] Exception thrown from {callback}() {type(exc).__name__}: {exc}"
        self.lines.append(line)
        print(line, file=sys.stderr)


def trampoline(log, callback, fn, *args):
    """Call a plugin callback as TensorRT's C++ does: an exception is printed and becomes an error code (FAILED)."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the C++ trampoline catches everything
        log.error(callback, exc)
        return FAILED


def installed_version(pkg_dir):
    """The version of the bindings wheel whose package dir is `pkg_dir` (from its .dist-info), or None."""
    import importlib.metadata

    site = os.path.dirname(os.path.abspath(pkg_dir))
    for dist in importlib.metadata.distributions(path=[site]):
        if (dist.metadata["Name"] or "").lower().replace("_", "-").startswith("tensorrt-cu"):
            return dist.version
    return None

# ----------------------------------------------------------------------------- install
_EXPORTS = [
    DataType, TensorFormat, PluginFieldType, DimensionOperation, TensorRTPhase, QuickPluginCreationRequest,
    PluginArgType, PluginArgDataType, Logger, ITensor, Dims, PluginTensorDesc, DynamicPluginTensorDesc,
    IDimensionExpr, IExprBuilder, DimsExprs, PluginField, PluginFieldCollection, IPluginV3, IPluginV3QuickCore,
    IPluginV3QuickBuild, IPluginV3QuickAOTBuild, IPluginV3QuickRuntime, IPluginCreatorV3Quick, IPluginRegistry,
    get_plugin_registry, KernelLaunchParams, ISymExpr, ISymExprs,
]


def install(pkg_dir=None, version=None):
    """Create the fake `tensorrt` module whose __path__ points at the real tensorrt_bindings/ dir.

    `version` defaults to the version of the wheel that dir belongs to (what `tensorrt.__version__` reports)."""
    pkg_dir = pkg_dir or bindings_dir()
    if not pkg_dir or not os.path.isfile(os.path.join(pkg_dir, "plugin", "_lib.py")):
        raise FileNotFoundError(f"real QDP package not found under {pkg_dir}/plugin")
    import importlib.machinery

    _REGISTRY.creators.clear()  # like a new process: no creator of a previously installed version survives
    version = version or installed_version(pkg_dir)
    if version is None:
        raise FileNotFoundError(f"no tensorrt-cu1x-bindings .dist-info next to {pkg_dir}: pass version=")
    m = types.ModuleType("tensorrt")
    m.__path__ = [pkg_dir]
    m.__file__ = os.path.join(pkg_dir, "__init__.py")  # Torch-TensorRT's proxy module copies it
    m.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None, is_package=True)  # find_spec() must work
    m.__spec__.submodule_search_locations = [pkg_dir]
    m.__version__ = version
    m.tensorrt = m  # the real package re-exports its extension module as tensorrt.tensorrt
    for obj in _EXPORTS + TORCH_TENSORRT_NAMES:
        setattr(m, obj.__name__, obj)
    for alias, dt in dict(float32="FLOAT", float16="HALF", bfloat16="BF16", int8="INT8", int32="INT32",
                          int64="INT64", bool="BOOL", uint8="UINT8", fp8="FP8", int4="INT4", fp4="FP4").items():
        setattr(m, alias, DataType[dt])  # trt.float32 etc. (module-level aliases in the real binding)
    m.value_of = value_of
    m.nptype = nptype
    sys.modules["tensorrt"] = m
    return m


def uninstall():
    """Forget the fake module and the real QDP package loaded on top of it."""
    for name in [n for n in sys.modules if n == "tensorrt" or n.startswith("tensorrt.")]:
        del sys.modules[name]
