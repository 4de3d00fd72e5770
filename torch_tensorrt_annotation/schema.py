"""The op schema, read from `meta_impl`'s signature: tensors first, then int / float / bool attributes.

    def meta_impl(x, weight, eps: float = 1e-6): return torch.empty_like(x)

gives inputs (x, weight), attribute eps: float (default 1e-6) and, from the launch functions' arity or the return
annotation, the number of outputs.

In-place outputs: an output that `meta_impl` returns as the input object itself (`return x`) aliases that input. The
schema marks the input mutated and the output aliased (`(Tensor(a!) x) -> Tensor(a!)`); the launch function does not
receive such an output (the kernel writes the input), and TensorRT gets an aliased output descriptor.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

ATTR_TYPES = {int: "int", float: "float", bool: "bool"}
_EMPTY = inspect.Parameter.empty


@dataclass(frozen=True)
class Attr:
    name: str
    type: type
    default: Any = _EMPTY

    @property
    def has_default(self) -> bool:
        return self.default is not _EMPTY

    def check(self, value, op: str) -> Any:
        """Validate (and normalize: an int for a float attribute is fine) a concrete attribute value."""
        ok = isinstance(value, self.type) and not (self.type is not bool and isinstance(value, bool))
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            raise SpecError(
                f"Attribute '{self.name}' of op '{op}' is declared {self.type.__name__} by meta_impl, got "
                f"{type(value).__name__} {value!r}. Fix: pass a {self.type.__name__}."
            )
        return value

    def placeholder(self):
        """A value to record with before any real value is known (at spec creation)."""
        if self.has_default:
            return self.default
        return {int: 1, float: 0.5, bool: False}[self.type]


@dataclass(frozen=True)
class OpSchema:
    inputs: tuple[str, ...]
    attrs: tuple[Attr, ...]
    num_outputs: int
    aliases: tuple[int | None, ...] = ()  # per output: the index of the input it aliases (in-place), or None

    def alias_of(self, output: int) -> int | None:
        """The input that output `output` aliases (an in-place output), or None for a freshly allocated one."""
        return self.aliases[output] if output < len(self.aliases) else None

    @property
    def launch_outputs(self) -> tuple[int, ...]:
        """The outputs the launch function receives: every output that does not alias an input, in order."""
        return tuple(j for j in range(self.num_outputs) if self.alias_of(j) is None)

    def torch_schema(self) -> str:
        """The torch.library schema string, e.g. '(Tensor x, Tensor w, float eps=1e-06) -> Tensor'; an in-place
        output and its input share an alias set: '(Tensor(a!) x) -> Tensor(a!)'."""
        letters = {i: "abcdefghijklmnopqrstuvwxyz"[k] for k, i in
                   enumerate(sorted({i for i in self.aliases if i is not None}))}
        params = [f"Tensor({letters[i]}!) {n}" if i in letters else f"Tensor {n}" for i, n in enumerate(self.inputs)]
        for a in self.attrs:
            default = "" if not a.has_default else f"={_schema_default(a.default)}"
            params.append(f"{ATTR_TYPES[a.type]} {a.name}{default}")
        returns = [f"Tensor({letters[i]}!)" if (i := self.alias_of(j)) is not None else "Tensor"
                   for j in range(self.num_outputs)]
        out = returns[0] if self.num_outputs == 1 else "(" + ", ".join(returns) + ")"
        return f"({', '.join(params)}) -> {out}"

    def complete(self, args: tuple, kwargs: dict | None, op: str) -> tuple:
        """Every argument of a call, positionally (tensors, then each attribute), with the schema's defaults filled
        in for omitted attributes. No type checks: this is the normalization every entry point applies, since
        torch's dispatcher hands a kernel only the arguments that differ from their defaults (trailing ones are
        dropped, keyword-only ones come as keywords). Raises SpecError for a missing or unknown argument."""
        if len(args) == len(self.inputs) + len(self.attrs) and not kwargs:
            return tuple(args)
        values = self._bind(args, kwargs, op)
        return tuple(values[n] for n in self.inputs) + self._attribute_values(values, op, check=False)

    def split(self, args: tuple, kwargs: dict, op: str) -> tuple[tuple, tuple]:
        """Bind a call's arguments to (tensors, attribute values), filling defaults and checking types."""
        values = self._bind(args, kwargs, op)
        return tuple(values[n] for n in self.inputs), self._attribute_values(values, op, check=True)

    def _bind(self, args: tuple, kwargs: dict | None, op: str) -> dict:
        """{parameter name: value} for a call; SpecError for too many, unknown, repeated or missing tensors."""
        names = list(self.inputs) + [a.name for a in self.attrs]
        if len(args) > len(names):
            raise SpecError(f"Op '{op}' takes {len(names)} arguments ({', '.join(names)}), got {len(args)}.")
        values = dict(zip(names, args))
        for key, value in (kwargs or {}).items():
            if key not in names or key in values:
                raise SpecError(f"Op '{op}' got an unexpected or repeated argument '{key}'; it takes {names}.")
            values[key] = value
        missing = [n for n in self.inputs if n not in values]
        if missing:
            raise SpecError(f"Op '{op}' is missing tensor input(s) {missing}; it takes {names}.")
        return values

    def _attribute_values(self, values: dict, op: str, check: bool) -> tuple:
        """Each attribute's value from `values` (type-checked if `check`), else its default; SpecError if neither."""
        attrs = []
        for a in self.attrs:
            if a.name in values:
                attrs.append(a.check(values[a.name], op) if check else values[a.name])
            elif a.has_default:
                attrs.append(a.default)
            else:
                raise SpecError(f"Op '{op}' is missing attribute '{a.name}' ({a.type.__name__}).")
        return tuple(attrs)


def _schema_default(value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return repr(value)


def _is_tensor_annotation(annotation) -> bool:
    if annotation is _EMPTY:
        return True
    if isinstance(annotation, str):
        return annotation.split(".")[-1] == "Tensor"
    return getattr(annotation, "__name__", "") == "Tensor"


def _attr_type(param: inspect.Parameter, hints: dict):
    annotation = hints.get(param.name, param.annotation)
    if isinstance(annotation, str):
        annotation = {"int": int, "float": float, "bool": bool}.get(annotation, annotation)
    if annotation in ATTR_TYPES:
        return annotation
    if annotation is _EMPTY and param.default is not _EMPTY and type(param.default) in ATTR_TYPES:
        return type(param.default)
    return None


def outputs_from_annotation(meta_impl: Callable) -> int | None:
    try:
        hints = typing.get_type_hints(meta_impl)
    except Exception:
        hints = {}
    ret = hints.get("return", inspect.signature(meta_impl).return_annotation)
    if ret is _EMPTY or ret is None:
        return None
    args = typing.get_args(ret)
    if typing.get_origin(ret) in (tuple, tuple) and args and Ellipsis not in args:
        return len(args)
    if _is_tensor_annotation(ret):
        return 1
    return None


def parse_params(meta_impl: Callable, where: str) -> tuple[tuple[str, ...], tuple[Attr, ...]]:
    """(tensor input names, attributes) from meta_impl's signature."""
    if not callable(meta_impl):
        raise SpecError(f"meta_impl of {where} must be a function, got {type(meta_impl).__name__}.")
    try:
        sig = inspect.signature(meta_impl)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"Cannot read the signature of meta_impl of {where}: {exc}.") from exc
    try:
        hints = typing.get_type_hints(meta_impl)
    except Exception:
        hints = {}
    inputs: list[str] = []
    attrs: list[Attr] = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise SpecError(
                f"meta_impl of {where} takes *{p.name}; the op schema needs named parameters. Fix: list each "
                "tensor and attribute as its own parameter."
            )
        attr_type = _attr_type(p, hints)
        if attr_type is None and _is_tensor_annotation(hints.get(p.name, p.annotation)) and p.default is _EMPTY:
            if attrs:
                raise SpecError(
                    f"meta_impl of {where} declares tensor '{p.name}' after attribute '{attrs[-1].name}'. The op "
                    "schema puts tensors first, then int/float/bool attributes. Fix: reorder the parameters."
                )
            inputs.append(p.name)
        elif attr_type is not None:
            attrs.append(Attr(p.name, attr_type, p.default))
        else:
            raise SpecError(
                f"Parameter '{p.name}' of meta_impl of {where} is neither a tensor (unannotated or torch.Tensor, no "
                f"default) nor an int/float/bool attribute (annotation {p.annotation!r}, default {p.default!r}). "
                "Fix: annotate attributes as int, float or bool."
            )
    if not inputs:
        raise SpecError(f"meta_impl of {where} declares no tensor inputs; a plugin needs at least one.")
    return tuple(inputs), tuple(attrs)


def from_meta_impl(meta_impl: Callable, num_outputs: int | None, where: str,
                   aliases: tuple[int | None, ...] | None = None) -> OpSchema:
    """The schema. `num_outputs`: the outputs the launch functions take (None: unknown); `aliases`: per output
    returned by a probe call of meta_impl, the input it returned itself (None: not probed). In-place outputs are
    not passed to the launch function, so the op has `num_outputs` plus the aliased outputs."""
    inputs, attrs = parse_params(meta_impl, where)
    aliased = sum(1 for a in aliases or () if a is not None)
    seen = [a for a in aliases or () if a is not None]
    if len(seen) != len(set(seen)):
        twice = sorted({inputs[a] for a in seen if seen.count(a) > 1})
        raise SpecError(
            f"meta_impl of {where} returns input(s) {twice} as more than one output. An in-place output is the input "
            "itself, so each input can be returned once. Fix: return it once (or return x.clone()-like new tensors)."
        )
    total = None if num_outputs is None else num_outputs + aliased
    if total is None and aliases is not None and aliased:
        total = len(aliases)
    annotated = outputs_from_annotation(meta_impl)
    if annotated is not None and total is not None and annotated != total:
        in_place = f" plus {aliased} in-place output(s) that meta_impl returns as inputs" if aliased else ""
        raise SpecError(
            f"meta_impl of {where} is annotated to return {annotated} tensor(s), but the launch functions take "
            f"{num_outputs} output(s){in_place}. Fix: make them agree."
        )
    count = annotated if annotated is not None else total
    if count == 0:
        raise SpecError(
            f"{where} has no outputs, but every op (and every TensorRT plugin) returns at least one tensor. Fix: "
            "for an in-place kernel, have meta_impl return the input it updates (`def meta_impl(x): return x`); "
            "tta then marks it mutated (Tensor(a!)) and does not pass an output to the launch function."
        )
    if count is None or count < 1:
        raise SpecError(
            f"Cannot tell how many outputs {where} has. Fix: annotate meta_impl's return type (-> torch.Tensor or "
            "-> tuple[torch.Tensor, torch.Tensor])."
        )
    # a probe that returned too many or too few values is reported by the plugin's return-value check
    alias_tuple = (tuple(aliases or ()) + (None,) * count)[:count]
    return OpSchema(inputs, attrs, count, alias_tuple if any(a is not None for a in alias_tuple) else ())
