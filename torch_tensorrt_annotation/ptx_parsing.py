"""Reading PTX, and the one structural edit we make: the kernel's parameter list.

TensorRT launches an AOT kernel with its input pointers, then the extra int32 args, then the output pointers, and
nothing else. A compiler lays parameters out in the kernel's own argument order (and Triton appends two hidden
scratch pointers), so the declarations of the `.entry` parameter list are permuted, dropped or added here. The body
refers to parameters by name, so permuting declarations does not change what the code reads. A parameter is only
dropped when the body never reads it.

The `.version` line is never rewritten: the ISA is chosen when compiling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENTRY = re.compile(r"\.entry\s+([A-Za-z_$][\w$]*)\s*\((.*?)\)", re.S)
_VERSION = re.compile(r"^\s*\.version\s+(\d+)\.(\d+)", re.M)
_TARGET = re.compile(r"^\s*\.target\s+([\w, ]+)", re.M)
_TYPE = re.compile(r"\.(u64|u32|s32|s64|b64|b32|b8|f32|f64|u16|s16|b16|u8|s8)\b")


@dataclass(frozen=True)
class PtxParam:
    name: str
    decl: str

    @property
    def ptx_type(self) -> str:
        m = _TYPE.search(self.decl.replace(".param", "", 1))
        return "." + m.group(1) if m else "?"


@dataclass(frozen=True)
class PtxEntry:
    name: str
    params: tuple[PtxParam, ...]
    reqntid: tuple[int, ...] | None
    span: tuple[int, int]  # the parameter list's text span, between the parentheses


@dataclass(frozen=True)
class PtxInfo:
    version: tuple[int, int]
    target: str
    entries: tuple[PtxEntry, ...]

    def entry(self, name: str) -> PtxEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(f"PTX has no .entry named {name!r}; entries: {[e.name for e in self.entries]}")


def parse(ptx: str) -> PtxInfo:
    version = _VERSION.search(ptx)
    target = _TARGET.search(ptx)
    if not version:
        raise ValueError("text is not PTX: no .version directive")
    entries = []
    for m in _ENTRY.finditer(ptx):
        params = []
        for decl in (d.strip() for d in m.group(2).split(",")):
            if decl:
                name = re.sub(r"\[\d*\]$", "", decl.split()[-1])
                params.append(PtxParam(name, decl))
        tail = ptx[m.end(): m.end() + 400]
        body_start = tail.find("{")
        header = tail if body_start < 0 else tail[:body_start]
        req = re.search(r"\.reqntid\s+([\d\s,]+)", header)
        reqntid = tuple(int(v) for v in re.findall(r"\d+", req.group(1))) if req else None
        entries.append(PtxEntry(m.group(1), tuple(params), reqntid, m.span(2)))
    return PtxInfo((int(version.group(1)), int(version.group(2))), target.group(1).strip() if target else "",
                   tuple(entries))


def is_referenced(ptx: str, entry: PtxEntry, param: PtxParam) -> bool:
    """Whether anything outside the parameter list names `param`."""
    body = ptx[: entry.span[0]] + ptx[entry.span[1]:]
    return re.search(rf"\b{re.escape(param.name)}\b", body) is not None


def unused_pointer_param(entry_name: str, label: str) -> PtxParam:
    """A pointer parameter the kernel never reads, for a tensor TensorRT passes but the kernel ignores."""
    name = f"{entry_name}_{label}"
    return PtxParam(name, f".param .u64 .ptr .global .align 1 {name}")


def rewrite_params(ptx: str, entry: PtxEntry, params: list[PtxParam]) -> str:
    """Replace entry's parameter list with `params`, one declaration a line."""
    text = "\n" + ",\n".join(f"\t{p.decl}" for p in params) + "\n" if params else ""
    return ptx[: entry.span[0]] + text + ptx[entry.span[1]:]


def rename_entry(ptx: str, old: str, new: str) -> str:
    """Rename kernel `old` to `new`: its `.entry`/`.globl` name and its `<name>_param_<i>` parameters. Matches whole
    symbols only. Used to give every tactic a unique kernel name when the compiler names the entry itself."""
    if old == new:
        return ptx
    pattern = re.compile(rf"(?<![\w$]){re.escape(old)}(?=_param_\d+\b|(?![\w$]))")
    return pattern.sub(new, ptx)
