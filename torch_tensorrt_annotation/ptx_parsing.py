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
_HEADER = re.compile(r"[^{;]*")  # after an .entry's parameter list: its directives, up to the body (or a ';')
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
    reqntid: tuple[int, ...] | None  # the block size the kernel requires (.reqntid), e.g. cuTile's
    span: tuple[int, int]  # the parameter list's text span, between the parentheses
    header: str = ""  # the performance directives between the parameter list and the body
    maxntid: tuple[int, ...] | None = None  # the block size the kernel allows at most (__launch_bounds__)

    @property
    def needs_cluster(self) -> bool:
        """Whether the kernel declares a thread-block cluster (a launch TensorRT does not do)."""
        return re.search(r"\.(reqnctapercluster|explicitcluster|maxclusterrank)\b", self.header) is not None


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
        found = _HEADER.match(ptx, m.end())
        header = found.group(0) if found else ""
        entries.append(PtxEntry(m.group(1), tuple(params), _directive(header, "reqntid"), m.span(2), header,
                                _directive(header, "maxntid")))
    return PtxInfo((int(version.group(1)), int(version.group(2))), target.group(1).strip() if target else "",
                   tuple(entries))


def _directive(header: str, name: str) -> tuple[int, ...] | None:
    """The numbers of a `.reqntid x, y, z`-style directive in an entry header; None without one."""
    found = re.search(rf"\.{name}\s+([\d\s,]+)", header)
    return tuple(int(v) for v in re.findall(r"\d+", found.group(1))) if found else None


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


# --- which parameters a kernel writes through ---------------------------------------------------------------------
STORE, ACCUMULATE = "store", "accumulate"  # a plain write / a read-modify-write (atom, red, cp.reduce)

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/|^[ \t]*\.(?:loc|file)\b[^\n]*", re.S | re.M)  # no ';' after .loc
_REGISTER = re.compile(r"%[A-Za-z_$][\w$]*")
_IDENT = re.compile(r"(?<![%\w$.])[A-Za-z_$][\w$]*")
_LABEL = re.compile(r"^[A-Za-z_$][\w$]*:\s*")
# instructions through which a pointer value flows into another register (address arithmetic)
_ADDRESS_OPS = {"mov", "cvta", "add", "sub", "mad", "mul", "shl", "shr", "and", "or", "xor", "selp", "slct", "cvt",
                "min", "max", "neg", "prmt"}
_NOT_GLOBAL = {"shared", "local", "param", "const"}


@dataclass(frozen=True)
class MemoryWrite:
    kind: str  # STORE or ACCUMULATE
    instruction: str  # the PTX instruction, for messages


@dataclass(frozen=True)
class WriteReport:
    """Global-memory writes of one kernel, by the parameter their address derives from.

    `complete` is False when some write's address derives from no parameter (a pointer loaded from memory, say) or
    the kernel calls a function: then a parameter without writes may still be written.
    """

    writes: dict  # parameter name -> tuple[MemoryWrite, ...]
    unknown: tuple[str, ...]
    has_calls: bool

    @property
    def complete(self) -> bool:
        return not self.unknown and not self.has_calls

    def of(self, param: str) -> tuple[MemoryWrite, ...]:
        return self.writes.get(param, ())


def matching_bracket(text: str, start: int, opening: str = "(", closing: str = ")") -> int | None:
    """The index of the `closing` bracket that matches the `opening` one at `text[start]`; None if unbalanced."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == opening:
            depth += 1
        elif text[i] == closing:
            depth -= 1
            if depth == 0:
                return i
    return None


def _entry_body(ptx: str, entry: PtxEntry) -> str:
    start = ptx.find("{", entry.span[1])
    if start < 0:
        return ""
    end = matching_bracket(ptx, start, "{", "}")
    return ptx[start + 1: end]  # unbalanced (end None): the rest of the text


def _statements(body: str):
    """(opcode, operand text, instruction text) of each instruction, predicates and labels stripped."""
    for raw in _COMMENTS.sub("", body).split(";"):
        text = raw.strip()
        while True:  # block braces and labels in front of an instruction
            stripped = _LABEL.sub("", text.lstrip("{} \t\n"))
            if stripped == text:
                break
            text = stripped
        if not text or text.startswith("."):
            continue
        if text.startswith("@"):
            parts = text.split(None, 1)
            if len(parts) < 2:
                continue
            text = parts[1]
        parts = text.split(None, 1)
        yield parts[0], (parts[1] if len(parts) > 1 else ""), " ".join(raw.split())


def _first_bracket(operands: str) -> str | None:
    m = re.search(r"\[([^\]]*)\]", operands)
    return m.group(1) if m else None


def _write_kind(opcode: str) -> str | None:
    """STORE / ACCUMULATE for an instruction that writes global (or generic) memory, else None."""
    parts = opcode.split(".")
    name, spaces = parts[0], {p.split("::")[0] for p in parts[1:]}
    if name in ("st", "atom", "red"):
        if spaces & _NOT_GLOBAL:
            return None
        if name == "st":
            return STORE
        return STORE if name == "atom" and "exch" in parts else ACCUMULATE
    if name == "cp" and "bulk" in parts:  # cp{.reduce}.async.bulk.<dst>.<src>: only a global destination
        dst = next((p.split("::")[0] for p in parts[1:] if p.split("::")[0] in ("global", "shared")), None)
        if dst == "global":
            return ACCUMULATE if "reduce" in parts else STORE
    return None


def memory_writes(ptx: str, entry: PtxEntry) -> WriteReport:
    """Which of `entry`'s parameters each global store, atomic or reduction writes through.

    A small flow-insensitive dataflow: a register derives from the parameters named by the `ld.param` that loads
    it, and from the registers of any address arithmetic (`mov`, `cvta`, `add`, `mad`, ...) that defines it, until
    nothing changes. A write's address (its first `[...]` operand) then derives from a set of parameters.
    """
    params = {p.name for p in entry.params}
    statements = list(_statements(_entry_body(ptx, entry)))
    taint: dict[str, frozenset] = {}

    def sources(text: str) -> frozenset:
        found: set = set()
        for reg in _REGISTER.findall(text):
            found |= taint.get(reg, frozenset())
        found |= {name for name in _IDENT.findall(text) if name in params}
        return frozenset(found)

    flows = []
    for opcode, operands, _ in statements:
        name = opcode.split(".")[0]
        if name == "ld" and ".param" in opcode or name in _ADDRESS_OPS:
            dest, _, rest = _split_dest(operands)
            if dest:
                flows.append((_REGISTER.findall(dest), rest))
    changed = True
    while changed:
        changed = False
        for dests, rest in flows:
            new = sources(rest)
            if not new:
                continue
            for reg in dests:
                old = taint.get(reg, frozenset())
                if not new <= old:
                    taint[reg] = old | new
                    changed = True

    writes: dict[str, list[MemoryWrite]] = {}
    unknown: list[str] = []
    has_calls = False
    for opcode, operands, text in statements:
        if opcode.split(".")[0] == "call":
            has_calls = True
            continue
        kind = _write_kind(opcode)
        if kind is None:
            continue
        address = _first_bracket(operands)
        if address is None:
            continue
        derived = sources(address)
        if derived:
            for name in derived:
                writes.setdefault(name, []).append(MemoryWrite(kind, text))
        elif _REGISTER.search(address):  # a register of unknown origin (not a global variable's symbol)
            unknown.append(text)
    return WriteReport({k: tuple(v) for k, v in writes.items()}, tuple(unknown), has_calls)


def _split_dest(operands: str) -> tuple[str, str, str]:
    """(destination, ',', sources) at the first top-level comma."""
    depth = 0
    for i, ch in enumerate(operands):
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            return operands[:i], ",", operands[i + 1:]
    return operands, "", ""
