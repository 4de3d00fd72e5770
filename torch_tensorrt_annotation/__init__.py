"""torch-tensorrt-annotation: custom GPU kernels as ahead-of-time TensorRT plugins, one tactic per config.

    import torch_tensorrt_annotation as tta
    plugin = tta.custom_plugin(tta.triton(launch, configs=[{"BLOCK": 256}, {"BLOCK": 1024}]),
                               meta_impl=lambda x, y: torch.empty_like(x))
    artifacts = plugin.compile(x, y, arch="sm_90", ptx_isa=(9, 0))
    op = tta.custom_op("mylib::add", impl=plugin)

Importing this package imports neither torch nor any kernel toolchain; each is imported when first needed.
"""

from __future__ import annotations

import logging

from . import aot as _aot_module  # noqa: F401 - loaded first, so that `tta.aot` stays the function imported below
from . import integration  # noqa: F401 - the torch_tensorrt hook lives here
from ._version import __version__  # noqa: F401 - the package version
from .api import aot, cdiv, cuda, custom_op, custom_plugin, cutedsl, cutile, next_power_of_2, ptx, triton, triton_op
from .check import CheckReport, TacticResult, check
from .declarative import elementwise, meta_like, meta_reduced, reduction
from .errors import (
    BackendUnavailableError,
    CompileError,
    CompileResult,
    DtypeError,
    RecordingError,
    RegistrationError,
    ResourceLimitError,
    SpecError,
    TensorRTUnavailableError,
    TTAError,
    TTAWarning,
)
from .spec import Artifact, Config, KernelSpec, LaunchParams, Param, Tactic, Target

logging.getLogger(__name__).addHandler(logging.NullHandler())
integration.install_hook_when_loaded()  # torch_tensorrt's custom_op(name, impl=plugin), now or when it is imported

__all__ = [
    "Artifact",
    "aot",
    "triton_op",
    "CheckReport",
    "TacticResult",
    "check",
    "BackendUnavailableError",
    "CompileError",
    "CompileResult",
    "DtypeError",
    "Config",
    "KernelSpec",
    "LaunchParams",
    "Param",
    "RecordingError",
    "ResourceLimitError",
    "RegistrationError",
    "SpecError",
    "TTAError",
    "TTAWarning",
    "TensorRTUnavailableError",
    "Tactic",
    "Target",
    "cdiv",
    "cuda",
    "custom_op",
    "cutedsl",
    "cutile",
    "elementwise",
    "meta_like",
    "meta_reduced",
    "next_power_of_2",
    "ptx",
    "reduction",
    "custom_plugin",
    "triton",
]
