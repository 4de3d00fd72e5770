"""The one table of element types: a torch dtype's name and what each toolchain and TensorRT call it.

Keyed by the torch dtype's name (`"float16"` for `torch.float16`), each row gives the TensorRT `DataType` member,
the C/C++ type that tta defines as `TTA_IN0_T` / `TTA_OUT0_T` for CUDA C++ kernels, the CuTe DSL (`cutlass`)
numeric type and the cuTile (`cuda.tile`) dtype; None where that side has none. Triton names element types itself
(`triton.runtime.jit.mangle_type`). Which C types a kernel's pointer parameter accepts (aliases such as `half`,
`uint32_t`, vector types) is a different question, answered in `kernel_types.py`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class ElementType(NamedTuple):
    trt: str | None  # tensorrt.DataType member
    c: str | None  # C/C++ spelling (CUDA's headers for the half types)
    cutlass: str | None  # CuTe DSL numeric type, an attribute of the `cutlass` module
    cutile: str | None  # cuTile dtype, an attribute of the `cuda.tile` module


DTYPES: dict[str, ElementType] = {
    "float32": ElementType("FLOAT", "float", "Float32", "float32"),
    "float16": ElementType("HALF", "__half", "Float16", "float16"),
    "bfloat16": ElementType("BF16", "__nv_bfloat16", "BFloat16", "bfloat16"),
    "float64": ElementType(None, None, None, None),
    "int8": ElementType("INT8", "signed char", "Int8", "int8"),
    "uint8": ElementType("UINT8", "unsigned char", "Uint8", None),
    "int16": ElementType(None, None, None, None),
    "int32": ElementType("INT32", "int", "Int32", "int32"),
    "int64": ElementType("INT64", "long long", "Int64", "int64"),
    "bool": ElementType("BOOL", "bool", None, None),
    "float8_e4m3fn": ElementType("FP8", None, None, None),
    "float8_e5m2": ElementType(None, None, None, None),
}
DTYPE_NAMES = tuple(DTYPES)  # every dtype name tta accepts where a user names dtypes (dtypes=)


def dtype_name(dtype: Any) -> str:
    """The name of a torch dtype (`torch.float16` -> "float16"); a name is returned as it is."""
    return str(dtype).replace("torch.", "")


def element_type(dtype: Any, column: str) -> str | None:
    """What `column` ("trt", "c", "cutlass" or "cutile") calls `dtype` (a torch dtype or its name); None where it
    has no such type."""
    row = DTYPES.get(dtype_name(dtype))
    return getattr(row, column) if row is not None else None


def torch_name_of_trt(trt_name: str) -> str | None:
    """The torch dtype name of a TensorRT `DataType` member name ("HALF" -> "float16"); None if there is none."""
    return next((name for name, row in DTYPES.items() if row.trt == trt_name), None)
