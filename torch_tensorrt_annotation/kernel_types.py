"""Element types of a CUDA kernel's pointer parameters, read from where the source states them.

A CUDA C++ or PTX kernel reads its buffers with the element type it was written for: a `const float*` kernel
launched on float16 tensors reads garbage and writes out of bounds. TensorRT passes only raw pointers, so tta must
know which dtypes each pointer takes:

- a name-mangled kernel (C++ linkage, templates): the mangled name NVRTC reports (`nvrtcGetLoweredName`), or the
  PTX entry name, demangled by the C++ runtime's own demangler (`__cxa_demangle`): `_Z3addPKfS0_Pfi` is
  `add(float const*, float const*, float*, int)`, a template's parameters come out instantiated;
- an `extern "C"` kernel: its declaration in the CUDA C++ source (before preprocessing, so a `TTA_IN0_T` type is
  recognised as generic: tta defines it as each call's dtype);
- PTX of an `extern "C"` kernel says nothing (`.u64`): the spec's `dtypes=` argument does.

A pointer's accepted dtypes are a frozenset of dtype names (`"float32"`...), or ANY (None) for generic pointers
(`void*`, `TTA_IN0_T*`, raw 16-byte vectors such as `int4`); UNKNOWN is a type name tta cannot map (a struct, an
unresolved typedef), which accepts any dtype unless `dtypes=` says otherwise.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
from collections.abc import Sequence

from .dtypes import DTYPE_NAMES, dtype_name
from .errors import SpecError
from .ptx_parsing import matching_bracket

ANY = None
UNKNOWN = frozenset({"?"})  # a type the source states but tta cannot map to a dtype


# C/C++ element type (as the demangler spells it, qualifiers removed) -> dtypes a pointer to it may point at
C_TYPE_DTYPES: dict[str, frozenset[str] | None] = {
    "float": frozenset({"float32"}), "float2": frozenset({"float32"}), "float4": frozenset({"float32"}),
    "double": frozenset({"float64"}), "double2": frozenset({"float64"}),
    "__half": frozenset({"float16"}), "half": frozenset({"float16"}), "__half2": frozenset({"float16"}),
    "half2": frozenset({"float16"}),
    "__nv_bfloat16": frozenset({"bfloat16"}), "nv_bfloat16": frozenset({"bfloat16"}),
    "__nv_bfloat162": frozenset({"bfloat16"}), "nv_bfloat162": frozenset({"bfloat16"}),
    "__nv_fp8_e4m3": frozenset({"float8_e4m3fn"}), "__nv_fp8_e5m2": frozenset({"float8_e5m2"}),
    "int": frozenset({"int32"}), "unsigned int": frozenset({"int32"}), "int32_t": frozenset({"int32"}),
    "uint32_t": frozenset({"int32"}), "unsigned": frozenset({"int32"}),
    "long long": frozenset({"int64"}), "unsigned long long": frozenset({"int64"}), "long": frozenset({"int64"}),
    "unsigned long": frozenset({"int64"}), "int64_t": frozenset({"int64"}), "uint64_t": frozenset({"int64"}),
    "short": frozenset({"int16"}), "unsigned short": frozenset({"int16"}), "int16_t": frozenset({"int16"}),
    "signed char": frozenset({"int8"}), "char": frozenset({"int8"}), "int8_t": frozenset({"int8"}),
    "unsigned char": frozenset({"uint8", "bool"}), "uint8_t": frozenset({"uint8", "bool"}),
    "bool": frozenset({"bool"}),
    # generic: raw bytes or 16-byte vectors used to copy any element type
    "void": ANY, "int4": ANY, "uint4": ANY, "int2": ANY, "uint2": ANY, "char4": ANY, "uchar4": ANY,
}
_QUALIFIERS = re.compile(r"\b(const|volatile|__restrict__|__restrict|restrict|struct|class|__grid_constant__)\b")


def describe(accepted: frozenset[str] | None) -> str:
    if accepted is ANY:
        return "any dtype"
    if accepted == UNKNOWN:
        return "an unknown element type"
    return " or ".join(sorted(accepted))


# --- what the source states ------------------------------------------------------------------------------------
def pointer_element(param: str) -> tuple[bool, frozenset[str] | None]:
    """(is a pointer, accepted dtypes) for one C++ parameter declaration or demangled parameter type."""
    text = re.sub(r"^(.*?)\s*[A-Za-z_]\w*\s*\[\s*\]$", r"\1*", param.strip())  # float x[] is float* x
    text = re.sub(r"\b__align__\s*\(\s*\d+\s*\)", "", text)
    if "*" not in text:
        return False, ANY
    base = text[: text.index("*")]
    base = " ".join(_QUALIFIERS.sub(" ", base).split())
    base = re.sub(r"^(?:::)?(?:std::|cuda::std::)", "", base)
    if re.fullmatch(r"TTA_(IN|OUT)\d+_T", base):
        return True, ANY  # tta defines it as each call's dtype
    if base in C_TYPE_DTYPES:
        return True, C_TYPE_DTYPES[base]
    return True, UNKNOWN


@functools.lru_cache(maxsize=1)
def _cxa_demangle():
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("stdc++") or "libstdc++.so.6")
        fn = lib.__cxa_demangle
        libc = ctypes.CDLL(None)
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_int)]
    libc.free.argtypes = [ctypes.c_void_p]
    return fn, libc.free


@functools.lru_cache(maxsize=1024)
def demangle(name: str) -> str | None:
    """The C++ signature of an Itanium-mangled name (`_Z...`), via the C++ runtime's `__cxa_demangle`; None for an
    unmangled (`extern "C"`) name or where no demangler is available."""
    if not name.startswith("_Z"):
        return None
    found = _cxa_demangle()
    if found is None:
        return None
    fn, free = found
    status = ctypes.c_int()
    pointer = fn(name.encode(), None, None, ctypes.byref(status))
    if not pointer or status.value != 0:
        return None
    try:
        return ctypes.string_at(pointer).decode()
    finally:
        free(pointer)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return [p.strip() for p in parts]


def _param_list_at(text: str, open_paren: int) -> str | None:
    end = matching_bracket(text, open_paren)
    return None if end is None else text[open_paren + 1: end]


def params_of_demangled(signature: str) -> list[str] | None:
    """Parameter types of a demangled function signature: the last top-level parenthesised list."""
    if not signature.endswith(")"):
        return None
    depth = 0
    for i in range(len(signature) - 1, -1, -1):
        if signature[i] == ")":
            depth += 1
        elif signature[i] == "(":
            depth -= 1
            if depth == 0:
                inner = signature[i + 1: -1].strip()
                return [] if inner in ("", "void") else _split_top_level(inner)
    return None


def _strip_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    return re.sub(r"//[^\n]*", " ", source)


def params_of_source(source: str, name: str) -> list[str] | None:
    """Parameter declarations of `__global__` function `name` in CUDA C++ source (None if not found once)."""
    text = _strip_comments(source)
    found = []
    for m in re.finditer(rf"(?<![\w:]){re.escape(name)}\s*\(", text):
        start = max(text.rfind(";", 0, m.start()), text.rfind("}", 0, m.start()), text.rfind("{", 0, m.start()))
        if "__global__" not in text[start + 1: m.start()]:
            continue
        params = _param_list_at(text, m.end() - 1)
        if params is not None:
            found.append(params)
    if len(found) != 1:
        return None
    inner = found[0].strip()
    return [] if inner in ("", "void") else _split_top_level(inner)


def pointer_types(*, entry: str, source: str | None) -> tuple[list[str], str] | None:
    """(parameter types, where they were read) of kernel `entry`: demangled from a mangled name, else its
    declaration in `source`; None where neither states them."""
    signature = demangle(entry)
    if signature is not None:
        params = params_of_demangled(signature)
        if params is not None:
            return params, f"its mangled name ({signature})"
    if source is not None:
        params = params_of_source(source, entry)
        if params is not None:
            return params, "its declaration in the source"
    return None


# --- the spec's dtypes= argument -----------------------------------------------------------------------------------
def _one(value, where: str) -> frozenset[str] | None:
    if value is None:
        return ANY
    if isinstance(value, (tuple, list, set, frozenset)):
        names = frozenset(dtype_name(v) for v in value)
    else:
        names = frozenset({dtype_name(value)})
    bad = sorted(n for n in names if n not in DTYPE_NAMES)
    if bad:
        raise SpecError(f"{where}: unknown dtype(s) {bad}. Use torch dtypes or their names: {list(DTYPE_NAMES)}.")
    return names


def normalize_dtypes(dtypes, where: str) -> "frozenset[str] | tuple[frozenset[str] | None, ...] | None":
    """`dtypes=` of tta.cuda / tta.ptx: None; one dtype (every pointer parameter takes it); or a sequence with one
    entry per pointer parameter in the kernel's parameter order, each a dtype, a tuple of dtypes (any of them), or
    None (any dtype)."""
    if dtypes is None:
        return None
    if isinstance(dtypes, str) or not isinstance(dtypes, Sequence):
        one = _one(dtypes, where)
        return one
    return tuple(_one(v, f"{where}, pointer parameter {i}") for i, v in enumerate(dtypes))
