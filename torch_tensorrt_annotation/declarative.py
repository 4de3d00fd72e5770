"""Declarative launches for CUDA C++ kernels that follow TensorRT's own parameter order, so no host code is needed.

The kernel takes `(inputs..., extras..., outputs...)`, e.g.

    extern "C" __global__ void add(const float* x, const float* y, int n, float* out)

and the launch is described instead of written:

    tta.cuda(SOURCE, "add", tta.elementwise(inputs=2, outputs=1, block="BLOCK"), configs=[{"BLOCK": 256}])

- `elementwise(..., layout="flat")`: one thread per output element, grid = cdiv(numel(out0), BLOCK); extra: numel.
- `elementwise(..., layout="rows")`: grid = (rows, cdiv(cols, BLOCK)) over out0 viewed as (rows, last dim);
  extras: rows, cols.
- `reduction(..., dims=k)`: one block per output element, reducing the last k dims of input 0 (contiguous);
  grid = rows; extras: rows, cols (cols = product of the reduced dims).

`block` is a config key (its value per tactic) or an int. `shared_mem` likewise (bytes of dynamic shared memory).
`meta_like(...)` and `meta_reduced(...)` build the matching `meta_impl` (outputs shaped like an input, or like an
input with its last dims reduced).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from .errors import SpecError
from .recording import sym_cdiv


def _resolve(value, config: dict, what: str):
    if isinstance(value, str):
        if value not in config:
            raise SpecError(f"The {what} of a declarative launch names config key '{value}', missing from {config}.")
        return config[value]
    return value


def _declared(fn, inputs: int, outputs: int, description: str):
    fn.__tta_declarative__ = description  # type: ignore[attr-defined]  # stands for the launch source in fingerprints
    fn.__name__ = description.split("(")[0]
    return fn


def elementwise(*, inputs: int, outputs: int = 1, block="BLOCK", layout: str = "flat", shared_mem=0):
    """A launch function for a CUDA C++ kernel `(inputs..., extras..., outputs...)` with one thread per element of
    output 0 (any shape, any dtype the kernel takes).

    - `layout="flat"`: grid = cdiv(numel(out0), block) blocks of `block` threads; one int32 extra, numel.
    - `layout="rows"`: out0 viewed as (rows, last dim); grid = (rows, cdiv(cols, block)); extras rows, cols.

    `block` (threads per block) and `shared_mem` (dynamic shared memory, bytes) are a config key (its value per
    tactic) or an int.

    Raises:
        SpecError: `layout` is neither "flat" nor "rows"; when recorded, `block` or `shared_mem` names a key the
            config lacks.

    Example::

        spec = tta.cuda(SOURCE, "add", tta.elementwise(inputs=2, outputs=1, block="BLOCK"),
                        configs=[{"BLOCK": 256}, {"BLOCK": 1024}])
        plugin = tta.custom_plugin(spec, meta_impl=tta.meta_like("x", "y"))
    """
    if layout not in ("flat", "rows"):
        raise SpecError(f"elementwise layout must be 'flat' or 'rows', got {layout!r}.")

    def launch(kernel, *args, **config):
        tensors, outs = args[:inputs], args[inputs:inputs + outputs]
        threads = _resolve(block, config, "block")
        smem = _resolve(shared_mem, config, "shared_mem")
        if layout == "flat":
            n = outs[0].numel()
            kernel[sym_cdiv(n, threads), threads, smem](*tensors, n, *outs)
        else:
            cols = outs[0].shape[-1]
            rows = outs[0].numel() // cols
            kernel[(rows, sym_cdiv(cols, threads)), threads, smem](*tensors, rows, cols, *outs)

    return _declared(launch, inputs, outputs,
                     f"elementwise(inputs={inputs}, outputs={outputs}, block={block!r}, layout={layout!r}, "
                     f"shared_mem={shared_mem!r})")


def reduction(*, inputs: int, outputs: int = 1, dims: int = 1, block="BLOCK", shared_mem=0):
    """A launch function for a CUDA C++ kernel `(inputs..., rows, cols, outputs...)` that reduces the last `dims`
    dims of input 0 (contiguous): one block of `block` threads per output element, grid = rows; the int32 extras
    are rows (elements of output 0) and cols (the product of the reduced dims).

    `block` (threads per block) and `shared_mem` (dynamic shared memory, bytes) are a config key or an int.

    Raises:
        SpecError: `dims` < 1; when recorded, `block` or `shared_mem` names a key the config lacks.

    Example::

        spec = tta.cuda(SOURCE, "row_sum", tta.reduction(inputs=1, dims=1, block="BLOCK"),
                        configs=[{"BLOCK": 128}])
        plugin = tta.custom_plugin(spec, meta_impl=tta.meta_reduced("x", dims=1))
    """
    if dims < 1:
        raise SpecError(f"reduction reduces the last `dims` dims of input 0; dims must be >= 1, got {dims}.")

    def launch(kernel, *args, **config):
        tensors, outs = args[:inputs], args[inputs:inputs + outputs]
        x = tensors[0]
        cols = functools.reduce(lambda a, b: a * b, [x.shape[-k] for k in range(1, dims + 1)])
        rows = x.numel() // cols
        kernel[rows, _resolve(block, config, "block"), _resolve(shared_mem, config, "shared_mem")](
            *tensors, rows, cols, *outs)

    return _declared(launch, inputs, outputs,
                     f"reduction(inputs={inputs}, outputs={outputs}, dims={dims}, block={block!r}, "
                     f"shared_mem={shared_mem!r})")


def _meta(names, attrs: dict[str, Any] | None, body, description: str, outputs: int = 1):

    import torch

    attrs = attrs or {}
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    params += [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v, annotation=type(v))
               for k, v in attrs.items()]
    returns = torch.Tensor if outputs == 1 else tuple[(torch.Tensor,) * outputs]  # type: ignore[misc]
    signature = inspect.Signature(params, return_annotation=returns)

    def meta_impl(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        return body([bound.arguments[n] for n in names])

    meta_impl.__signature__ = signature  # type: ignore[attr-defined]
    meta_impl.__tta_declarative__ = description  # type: ignore[attr-defined]
    return meta_impl


def meta_like(*inputs: str, like: int = 0, outputs: int = 1, dtype=None, attrs: dict[str, Any] | None = None):
    """A meta_impl for an op with tensor inputs named `inputs` (and `attrs`, {name: default}, as int/float/bool
    attributes) whose `outputs` outputs have the shape of input `like` and its dtype (or `dtype`).

    Raises:
        TypeError: when the meta_impl is called with arguments that do not fit its signature.
        IndexError: when called, if `like` is not the index of an input.

    Example:

    >>> meta = tta.meta_like("x", "w", attrs={"eps": 1e-5})
    >>> meta(torch.empty(4, 8, device="meta"), torch.empty(8, device="meta")).shape
    torch.Size([4, 8])
    """
    def body(tensors):
        out = tuple(tensors[like].new_empty(tensors[like].shape, dtype=dtype or tensors[like].dtype)
                    for _ in range(outputs))
        return out if outputs > 1 else out[0]

    return _meta(inputs, attrs, body, f"meta_like({inputs}, like={like}, outputs={outputs}, dtype={dtype}, "
                                      f"attrs={attrs})", outputs)


def meta_reduced(*inputs: str, dims: int = 1, of: int = 0, dtype=None, attrs: dict[str, Any] | None = None):
    """A meta_impl whose one output is input `of` with its last `dims` dims reduced away, of its dtype (or `dtype`);
    `inputs` and `attrs` as for `meta_like`.

    Raises:
        TypeError: when the meta_impl is called with arguments that do not fit its signature.
        IndexError: when called, if `of` is not the index of an input.

    Example:

    >>> tta.meta_reduced("x", dims=1)(torch.empty(4, 8, device="meta")).shape
    torch.Size([4])
    """
    def body(tensors):
        x = tensors[of]
        return x.new_empty(x.shape[:-dims], dtype=dtype or x.dtype)

    return _meta(inputs, attrs, body, f"meta_reduced({inputs}, dims={dims}, of={of}, dtype={dtype}, attrs={attrs})")
