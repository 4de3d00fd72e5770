"""CuTe DSL kernels that take `cute.Tensor` parameters, fitted to TensorRT's flat calling convention.

A `cute.Tensor` kernel parameter reaches the PTX as one by-value struct, `.param .align 8 .b8 P[n]`: the 64-bit data
pointer at offset 0, then the layout's *dynamic* shape values in mode order, then its dynamic stride values (each
i32 or i64 as the layout type says, naturally aligned; static modes take no bytes). TensorRT passes only pointers and
int32 values, so each struct is flattened: a pointer parameter for the tensor plus one int32 parameter per distinct
dynamic value, and every `ld.param` of the struct is rewritten to read those (vector loads split, 64-bit fields
loaded sign-extended from the int32 parameter, constants and fp32 scalars as immediates).

Where each field comes from is read from the DSL's own host IR (the `cuda.launch_ex` of the compiled host function,
after canonicalize/cse), through the DSL's MLIR bindings: a host argument's pointer, shape or stride, a constant, or
a value the host computed. Host arithmetic on dims is translated into tta's symbolic expressions (TensorRT's
SymInt32 extras); anything else is refused by name, as are clusters, cooperative launches, TMA descriptors and any
use of a struct parameter other than a constant-offset `ld.param`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import ptx_parsing, symbolic
from ..errors import CompileError

POINTER, INT, FLOAT = "pointer", "int", "float"


@dataclass(frozen=True)
class Field:
    """One value a kernel parameter carries: `offset`/`size` in bytes inside the parameter."""

    offset: int
    size: int
    kind: str  # POINTER (role set), INT (expr set; a Const is an immediate) or FLOAT (value set)
    role: tuple[str, int] | None = None
    expr: symbolic.Expr | None = None
    value: float | None = None


@dataclass(frozen=True)
class KernelParam:
    """A PTX parameter of the DSL's kernel: a by-value struct (`size` > 0) or a scalar (`size` == 0)."""

    what: str
    fields: tuple[Field, ...]
    size: int = 0


@dataclass(frozen=True)
class HostLaunch:
    """What the host function's single launch does, in symbolic terms."""

    grid: tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]
    block: tuple[symbolic.Expr, symbolic.Expr, symbolic.Expr]
    shared_mem: symbolic.Expr
    params: tuple[KernelParam, ...]


@dataclass(frozen=True)
class HostArg:
    """What tta passes for one host-function block argument."""

    kind: str  # "tensor", "pointer", "int", "stream"
    role: tuple[str, int] | None = None
    expr: symbolic.Expr | None = None
    rank: int = 0


class Refused(Exception):
    """A construct tta cannot express in TensorRT's calling convention (message says which and why)."""


# --- the layout syntax of CuTe types: "(?,4096):(4096,1)", "(?{i64},64):(?{i64 div=8},1)" -------------------------
_LEAF = re.compile(r"\?(\{[^}]*\})?|-?\d+")


@dataclass(frozen=True)
class Dyn:
    """A dynamic leaf of a CuTe int tuple: its value and width in bits."""

    expr: symbolic.Expr
    width: int


def _quoted(type_str: str) -> str:
    parts = type_str.split('"')
    if len(parts) < 3:
        return ""
    return parts[-2]


def _leaf_specs(text: str) -> list:
    """Leaves of a CuTe int-tuple text in order: ints for static leaves, widths (32/64) for dynamic ones."""
    out: list = []
    for m in _LEAF.finditer(text):
        tok = m.group(0)
        if tok.startswith("?"):
            out.append(64 if "i64" in (m.group(1) or "") else 32)
        else:
            out.append(("static", int(tok)))
    return out


def _split_layout(type_str: str) -> tuple[str, str]:
    text = _quoted(type_str)
    if any(c in text for c in "SEo[;") or text.count(":") != 1:
        raise Refused(f"a layout this version of tta cannot read ({text or type_str})")
    shape, stride = text.split(":")
    return shape, stride


def _dynamic_count(text: str) -> int:
    return sum(1 for leaf in _leaf_specs(text) if not isinstance(leaf, tuple))


# --- the host IR ----------------------------------------------------------------------------------------------------
class _Interp:
    """Evaluates the values that reach the launch, op by op, from the host function's arguments."""

    def __init__(self, ir, host_args: list[HostArg], smem: int | None):
        self.ir = ir
        self.host_args = host_args
        self.smem = smem
        self.memo: dict[Any, Any] = {}
        self.alive: list[Any] = []

    def raw(self, v):
        while not isinstance(v, self.ir.Value):
            v = v.value
        return self.ir.Value(v) if type(v) is not self.ir.Value else v

    def value(self, v) -> Any:
        v = self.raw(v)
        owner = v.owner
        if isinstance(owner, self.ir.Block):
            key: Any = ("arg", self.ir.BlockArgument(v).arg_number)
        else:
            op = owner.operation if hasattr(owner, "operation") else owner
            self.alive.append(op)  # the bindings return one Python object per live operation
            key = (id(op), self.ir.OpResult(v).result_number)
        if key not in self.memo:
            self.memo[key] = self._compute(v)
        return self.memo[key]

    def _compute(self, v):
        ir = self.ir
        owner = v.owner
        if isinstance(owner, ir.Block):
            number = ir.BlockArgument(v).arg_number
            parent = owner.owner
            parent = getattr(parent, "operation", parent)
            if parent is None or parent.name != "func.func" or number >= len(self.host_args):
                raise Refused(f"a value defined inside a region ({v.get_name()})")
            return self._host_arg(self.host_args[number], str(v.type))
        number = ir.OpResult(v).result_number
        op = owner.operation if hasattr(owner, "operation") else owner
        name = op.name
        type_str = str(v.type)
        if '"' in type_str and "?" not in _quoted(type_str) and name != "cute.make_view":
            return ("static", type_str)  # everything about it is in its type
        ops = list(op.operands)
        if name == "arith.constant":
            attr = op.attributes["value"]
            if type_str in ("f32", "f16", "f64", "bf16"):
                return ("float", ir.FloatAttr(attr).value)
            return ("int", symbolic.Const(int(ir.IntegerAttr(attr).value)))
        if name in _ARITH:
            a = self._int(ops[0], name)
            if name in _UNARY:
                return ("int", a)
            return ("int", symbolic.binop(_ARITH[name], a, self._int(ops[1], name)))
        if name == "cute.kernel_smem_size":
            if self.smem is None:
                raise Refused("a dynamic shared memory size the compiled host code does not fix")
            return ("int", symbolic.Const(self.smem))
        if name == "cute.get_iter":
            m = self.value(ops[0])
            if m[0] != "memref":
                raise Refused(f"{name} of a {m[0]}")
            return ("ptr", m[1])
        if name == "cute.get_layout":
            m = self.value(ops[0])
            if m[0] != "memref":
                raise Refused(f"{name} of a {m[0]}")
            return ("tuple", m[2] + m[3], len(m[2]))
        if name in ("cute.get_shape", "cute.get_stride"):
            lay = self.value(ops[0])
            shape, stride = self._layout_dyns(ops[0], lay)
            return ("tuple", shape if name == "cute.get_shape" else stride, None)
        if name in ("cute.get_leaves", "cute.to_int_tuple", "cute.make_int_tuple", "cute.make_shape",
                    "cute.make_stride", "cute.get_scalars"):
            dyns: list[Dyn] = []
            for o in ops:
                dyns += self._dyns(o)
            if name in ("cute.get_leaves", "cute.get_scalars"):
                start = 0
                for i, r in enumerate(op.results):
                    count = 1 if name == "cute.get_scalars" else _dynamic_count(_quoted(str(r.type)))
                    if i == number:
                        part = dyns[start:start + count]
                        if name == "cute.get_scalars":
                            return ("int", part[0].expr)
                        return ("tuple", part, None)
                    start += count
            want = _dynamic_count(_quoted(type_str))
            if want != len(dyns):
                raise Refused(f"{name} producing {type_str} from {len(dyns)} dynamic values")
            return ("tuple", dyns, None)
        if name == "cute.make_layout":
            if len(ops) != 2:
                raise Refused(f"{name} without an explicit stride ({type_str})")
            shape, stride = self._dyns(ops[0]), self._dyns(ops[1])
            return ("tuple", shape + stride, len(shape))
        if name == "cute.make_view":
            ptr = self.value(ops[0])
            if ptr[0] != "ptr":
                raise Refused(f"{name} of a {ptr[0]} iterator")
            shape, stride = self._layout_dyns(ops[1], self.value(ops[1]))
            return ("memref", ptr[1], shape, stride)
        if name == "cute.ceil_div":
            dyns = self._dyns(ops[0])
            tile = _quoted(str(self.raw(ops[1]).type))
            sizes = [leaf[1] for leaf in _leaf_specs(tile.split(":")[0]) if isinstance(leaf, tuple)]
            spec = _leaf_specs(_quoted(str(self.raw(ops[0]).type)))
            if len(spec) != 1 or len(sizes) != 1 or len(dyns) != 1:
                raise Refused(f"{name} of {_quoted(str(self.raw(ops[0]).type))} by tile {tile}")
            return ("tuple", [Dyn(symbolic.binop("cdiv", dyns[0].expr, sizes[0]), dyns[0].width)], None)
        raise Refused(f"host operation '{name}' (result {type_str}), which tta cannot turn into an expression "
                      "of the input dims")

    def _host_arg(self, arg: HostArg, type_str: str):
        if arg.kind == "tensor":
            assert arg.role is not None
            shape_text, stride_text = _split_layout(type_str)
            shape, stride = [], []
            for j, leaf in enumerate(_leaf_specs(shape_text)):
                if not isinstance(leaf, tuple):
                    shape.append(Dyn(symbolic.Dim(arg.role[0], arg.role[1], j), leaf))
            for j, leaf in enumerate(_leaf_specs(stride_text)):
                if not isinstance(leaf, tuple):
                    stride.append(Dyn(symbolic.Stride(arg.role[0], arg.role[1], j), leaf))
            return ("memref", arg.role, shape, stride)
        if arg.kind == "pointer":
            return ("ptr", arg.role)
        if arg.kind == "int":
            return ("int", arg.expr)
        return (arg.kind,)

    def _int(self, v, what) -> symbolic.Expr:
        got = self.value(v)
        if got[0] != "int":
            raise Refused(f"'{what}' on a {got[0]} value")
        return got[1]

    def _dyns(self, v) -> list[Dyn]:
        got = self.value(v)
        if got[0] == "static":
            return []
        if got[0] == "int":
            return [Dyn(got[1], 64 if str(self.raw(v).type) == "i64" else 32)]
        if got[0] == "tuple":
            return list(got[1])
        raise Refused(f"a {got[0]} where an int tuple was expected")

    def _layout_dyns(self, v, lay) -> tuple[list[Dyn], list[Dyn]]:
        if lay[0] == "static":
            return [], []
        if lay[0] != "tuple" or lay[2] is None:
            raise Refused(f"a {lay[0]} where a layout was expected")
        shape_text, _ = _split_layout(str(self.raw(v).type))
        n_shape = _dynamic_count(shape_text)
        if n_shape != lay[2]:
            raise Refused("a layout whose dynamic shape values cannot be told apart from its strides")
        return list(lay[1][:n_shape]), list(lay[1][n_shape:])


_ARITH = {"arith.addi": "add", "arith.subi": "sub", "arith.muli": "mul", "arith.divsi": "floordiv",
          "arith.divui": "floordiv", "arith.floordivsi": "floordiv", "arith.ceildivsi": "cdiv",
          "arith.ceildivui": "cdiv", "arith.remsi": "mod", "arith.remui": "mod", "arith.maxsi": "max",
          "arith.minsi": "min", "arith.maxui": "max", "arith.minui": "min", "arith.extsi": "", "arith.extui": "",
          "arith.trunci": "", "arith.index_cast": "", "arith.index_castui": ""}
_UNARY = {k for k, v in _ARITH.items() if not v}
_ALLOWED_CFG = {"cuda.launch_cfg.create", "cuda.launch_cfg.cluster_dim", "cuda.launch_cfg.cooperative",
                "cuda.launch_cfg.programmatic_stream_serialization_allowed"}


def analyze_host(ir_text: str, host_args: list[HostArg], smem: int | None, kernel: str) -> HostLaunch:
    """Read the launch of the host function's IR (canonicalized) into grid, block, shared memory and the origin
    of every kernel parameter field. Raises Refused naming what cannot be expressed."""
    import cutlass._mlir.ir as ir

    ctx = ir.Context()  # type: ignore[attr-defined]
    module = ir.Module.parse(ir_text, ctx)  # type: ignore[attr-defined]
    # the DSL's value wrappers create helper ops when values are read: they go to the end of this module
    with ctx, ir.Location.unknown(), ir.InsertionPoint(module.body):  # type: ignore[attr-defined]
        funcs = [op for op in module.body.operations if op.operation.name == "func.func"]
        if len(funcs) != 1:
            raise Refused(f"{len(funcs)} host functions in the compiled module")
        body = funcs[0].regions[0].blocks[0]
        launches, cfg_ops = [], []
        for op in body.operations:
            name = op.operation.name
            if name == "cuda.launch_ex":
                launches.append(op.operation)
            elif name.startswith("cuda.launch_cfg."):
                cfg_ops.append(op.operation)
            elif name in ("scf.for", "scf.while"):
                raise Refused("a loop in the host function (it may launch more than once)")
        if len(launches) != 1:
            raise Refused(f"{len(launches)} kernel launches in the host function; a tactic launches exactly one")
        interp = _Interp(ir, host_args, smem)
        grid = block = None
        shared: symbolic.Expr = symbolic.Const(0)
        for op in cfg_ops:
            name = op.name
            if name not in _ALLOWED_CFG:
                raise Refused(f"launch attribute '{name}', which TensorRT does not set")
            if name == "cuda.launch_cfg.create":
                grid, block, shared = _create_operands(op, interp)
                continue
            values = [interp.value(o) for o in op.operands
                      if not str(interp.raw(o).type).startswith("!cuda.launch_cfg")]
            exprs = [v[1] if v[0] == "int" else None for v in values]
            if any(e is None for e in exprs):
                raise Refused(f"launch attribute '{name}' with a non-integer value")
            if name == "cuda.launch_cfg.cluster_dim" and any(e != symbolic.Const(1) for e in exprs):
                raise Refused(f"a thread-block cluster launch (cluster dims {', '.join(map(str, exprs))}); "
                              "TensorRT launches AOT kernels without clusters")
            if name != "cuda.launch_cfg.cluster_dim" and any(e != symbolic.Const(0) for e in exprs):
                what = "a cooperative launch" if "cooperative" in name else "programmatic dependent launch"
                raise Refused(f"{what} ({name}), which TensorRT does not do for AOT kernels")
        if grid is None or block is None:
            raise Refused("a launch without cuda.launch_cfg.create")
        launch = launches[0]
        params = []
        for i, operand in enumerate(list(launch.operands)[1:]):
            param = _kernel_param(interp, operand, i)
            if param is not None:
                params.append(param)
        return HostLaunch(grid, block, shared, tuple(params))


def _create_operands(op, interp) -> tuple:
    """(grid, block, dynamic shared memory) of a cuda.launch_cfg.create, through its named operands."""
    view = op.opview
    exprs = {}
    for name in ("gridDimX", "gridDimY", "gridDimZ", "blockDimX", "blockDimY", "blockDimZ", "dynamicSmemBytes"):
        got = interp.value(getattr(view, name))
        if got[0] != "int":
            raise Refused(f"launch dimension {name} that is a {got[0]}")
        exprs[name] = got[1]
    grid = (exprs["gridDimX"], exprs["gridDimY"], exprs["gridDimZ"])
    block = (exprs["blockDimX"], exprs["blockDimY"], exprs["blockDimZ"])
    return grid, block, exprs["dynamicSmemBytes"]


def _kernel_param(interp: _Interp, operand, position: int) -> KernelParam | None:
    type_str = str(interp.raw(operand).type)
    if "tma" in type_str.lower() or "tensormap" in type_str.lower():
        raise Refused(f"a TMA descriptor kernel argument ({type_str[:80]}), which host code builds and TensorRT "
                      "cannot pass")
    got = interp.value(operand)
    what = f"kernel argument {position} ({type_str[:80]})"
    if type_str.startswith("!cute.memref"):
        if got[0] == "static":
            raise Refused(f"{what}: a tensor with no iterator tta can trace")
        _, role, shape, stride = got
        if role is None:
            raise Refused(f"{what}: a tensor whose data pointer is not one of the op's tensors")
        fields = [Field(0, 8, POINTER, role=role)]
        offset = 8
        for dyn in [*shape, *stride]:
            size = dyn.width // 8
            offset = -(-offset // size) * size
            fields.append(Field(offset, size, INT, expr=dyn.expr))
            offset += size
        return KernelParam(what, tuple(fields), size=-(-offset // 8) * 8)
    if type_str.startswith("!cute.ptr"):
        if got[0] != "ptr" or got[1] is None:
            raise Refused(f"{what}: a pointer that is not one of the op's tensors")
        return KernelParam(what, (Field(0, 8, POINTER, role=got[1]),))
    if type_str in ("i32", "i64"):
        return KernelParam(what, (Field(0, int(type_str[1:]) // 8, INT, expr=got[1]),))
    if type_str == "f32":
        if got[0] != "float":
            raise Refused(f"{what}: an fp32 value computed at run time; TensorRT passes no floats. Fix: make it a "
                          "cutlass.Constexpr keyword (e.g. an op attribute) and build Float32(value) in the host "
                          "function")
        return KernelParam(what, (Field(0, 4, FLOAT, value=got[1]),))
    if "?" in _quoted(type_str) or got[0] not in ("static",):
        raise Refused(f"{what}: a kind of kernel argument tta cannot pass")
    return None  # a purely static value (copy atoms, static layouts): no PTX parameter


# --- the PTX rewrite ------------------------------------------------------------------------------------------------
_LD = re.compile(r"^(\s*)ld\.param((?:\.v[24])?)\.([bsuf])(32|64)\s+(\{[^}]*\}|%[\w$]+)\s*,\s*\[\s*([\w$]+)"
                 r"\s*(?:\+\s*(\d+))?\s*\]\s*;[ \t]*$", re.M)


def flatten(ptx: str, entry, params: tuple[KernelParam, ...], kernel: str):
    """Rewrite `entry`'s by-value parameters into pointer and int32 parameters. Returns (ptx, [(name, decl, kind,
    role-or-expr)]) with the new parameter list in order: one per distinct tensor, then one per distinct int."""
    if len(entry.params) != len(params):
        raise Refused(f"the PTX entry has {len(entry.params)} parameters but the host launch passes "
                      f"{len(params)} values tta understands")
    by_name = {p.name: (p, kp) for p, kp in zip(entry.params, params)}
    base = entry.name
    counter = [len(entry.params)]
    pointers: dict[tuple[str, int], str] = {}
    ints: dict[str, tuple[str, symbolic.Expr]] = {}
    decls: list[tuple[str, str, str, Any]] = []

    def pointer_param(role):
        if role not in pointers:
            name = f"{base}_param_{counter[0]}"
            counter[0] += 1
            pointers[role] = name
            decls.append((name, f".param .u64 .ptr .global .align 16 {name}", "pointer", role))
        return pointers[role]

    def int_param(expr):
        key = repr(expr)
        if key not in ints:
            name = f"{base}_param_{counter[0]}"
            counter[0] += 1
            ints[key] = (name, expr)
            decls.append((name, f".param .u32 {name}", "int", expr))
        return ints[key][0]

    for ptx_param, kp in zip(entry.params, params):
        ptype = ptx_param.ptx_type
        if kp.size:
            m = re.search(r"\.align\s+(\d+)\s+\.b8\s+[\w$]+\[(\d+)\]", ptx_param.decl)
            if not m or int(m.group(2)) != kp.size:
                raise Refused(f"{kp.what}: PTX declares '{ptx_param.decl}', but its layout gives a "
                              f"{kp.size}-byte struct")
        elif kp.fields[0].kind == POINTER and ptype not in (".u64", ".b64", ".s64"):
            raise Refused(f"{kp.what}: PTX declares {ptype} for a pointer")
        elif kp.fields[0].kind == INT and ptype not in ((".u32", ".b32", ".s32") if kp.fields[0].size == 4
                                                       else (".u64", ".b64", ".s64")):
            raise Refused(f"{kp.what}: PTX declares {ptype} for an integer")
        elif kp.fields[0].kind == FLOAT and ptype not in (".f32", ".b32"):
            raise Refused(f"{kp.what}: PTX declares {ptype} for an fp32 value")
        for f in kp.fields:  # parameters in a stable order: first appearance in the kernel's own order
            if f.kind == POINTER:
                pointer_param(f.role)
            elif f.kind == INT and not isinstance(f.expr, symbolic.Const):
                int_param(f.expr)

    body_start = ptx.index("{", entry.span[1])
    head, body = ptx[:body_start], ptx[body_start:]

    def replace(m):
        indent, vec, kind, bits, dst, name, off = m.groups()
        if name not in by_name:
            return m.group(0)
        _, kp = by_name[name]
        size = int(bits) // 8
        dsts = [d.strip() for d in dst.strip("{}").split(",")] if dst.startswith("{") else [dst]
        out = []
        for k, d in enumerate(dsts):
            at = int(off or 0) + k * size
            if d == "_":
                continue
            field = next((f for f in kp.fields if f.offset == at), None)
            if field is None or field.size != size:
                raise Refused(f"{kp.what}: the kernel reads {size} bytes at offset {at}, which is not one field")
            if field.kind == POINTER:
                out.append(f"{indent}ld.param.u64 \t{d}, [{pointer_param(field.role)}];")
            elif field.kind == FLOAT:
                bits_hex = symbolic.float32_bits(field.value) & 0xFFFFFFFF  # the unsigned pattern, for a hex literal
                out.append(f"{indent}mov.b32 \t{d}, 0f{bits_hex:08X};")
            elif isinstance(field.expr, symbolic.Const):
                out.append(f"{indent}mov.b{bits} \t{d}, {field.expr.value};")
            elif size == 4:
                out.append(f"{indent}ld.param.u32 \t{d}, [{int_param(field.expr)}];")
            else:
                out.append(f"{indent}ld.param.s32 \t{d}, [{int_param(field.expr)}];")
        return "\n".join(out)

    body = _LD.sub(replace, body)
    for name, (_, kp) in by_name.items():
        m = re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", body)
        if m:
            line = body[body.rfind("\n", 0, m.start()) + 1: body.find("\n", m.end())].strip()
            raise Refused(f"{kp.what} is used other than by a constant-offset ld.param (`{line}`); TensorRT "
                          "cannot pass it by value")
    new_list = "\n" + ",\n".join(f"\t{decl}" for _, decl, _, _ in decls) + "\n"
    text = head[: entry.span[0]] + new_list + head[entry.span[1]:] + body
    return text, decls


def check_header(entry: ptx_parsing.PtxEntry) -> None:
    """Refuse cluster directives and grid-constant parameters in the entry header."""
    if entry.needs_cluster:
        raise Refused("a kernel that declares a thread-block cluster; TensorRT launches AOT kernels without one")
    declarations = " ".join([entry.header, *(p.decl for p in entry.params)])
    if ".ptr .param" in declarations or "grid_constant" in declarations.lower():
        raise Refused("a grid-constant parameter (a TMA descriptor or similar) whose address the kernel takes")


__all__ = ["Field", "KernelParam", "HostLaunch", "HostArg", "Refused", "analyze_host", "flatten", "check_header",
           "CompileError"]


def shared_mem_from_lowered(module) -> int | None:
    """The dynamic shared memory bytes the lowered host code stores into its launch config (an i64 constant), or
    None if it is not a constant."""
    import cutlass._mlir.ir as ir

    found: list[int | None] = []
    with module.context, ir.Location.unknown():  # type: ignore[attr-defined]
        for func in module.body.operations:
            op = func.operation
            if op.name != "llvm.func" or "_mlir_ciface_" in str(op.attributes["sym_name"]):
                continue
            geps = set()
            stores = []
            for block in op.regions[0].blocks:
                for inner in block.operations:
                    o = inner.operation
                    if o.name == "llvm.getelementptr" and "elem_type" in o.attributes:
                        elem = str(o.attributes["elem_type"])
                        idx = str(o.attributes["rawConstantIndices"])
                        if elem.startswith("!llvm.struct<(array<3 x i32>, array<3 x i32>, i64") and \
                                idx.replace(" ", "") == "array<i32:0,2>":
                            geps.add(o.results[0].get_name())
                    elif o.name == "llvm.store":
                        stores.append(o)
            for o in stores:
                value, addr = list(o.operands)[:2]
                if addr.get_name() in geps:
                    owner = value.owner
                    owner = owner.operation if hasattr(owner, "operation") else owner
                    if getattr(owner, "name", "") == "llvm.mlir.constant":
                        found.append(int(ir.IntegerAttr(owner.attributes["value"]).value))  # type: ignore[attr-defined]
                    else:
                        found.append(None)
    if len(found) != 1:
        return None
    return found[0]
