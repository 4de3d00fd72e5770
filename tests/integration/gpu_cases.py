"""Inputs and references for the GPU checks of the bundled example plugins."""

import torch

# name -> list of input shape tuples (one tuple per tensor input); attributes appended by `make_inputs`
SHAPES = {
    "add": [((1,), (1,)), ((1000,), (1000,)), ((4097,), (4097,)), ((1 << 20,), (1 << 20,))],
    "scale2d": [((1, 1),), ((100, 300),), ((257, 129),)],
    "rmsnorm": [((1, 1, 8), (8,)), ((4, 8, 1000), (1000,)), ((2, 3, 4097), (4097,)), ((3, 4097), (4097,))],
    "sum_diff": [((1,), (1,)), ((777,), (777,)), ((65537,), (65537,))],
}
ATTRS = {"rmsnorm": (1e-5,)}
TOLERANCE = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3), torch.bfloat16: (2e-2, 2e-2)}


def make_inputs(name, shapes, dtype, seed=0):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    tensors = [torch.randn(s, device="cuda", dtype=torch.float32, generator=gen).to(dtype) for s in shapes]
    return tensors, ATTRS.get(name, ())


def as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def max_errors(outputs, expected):
    abs_err = max((o.float() - e.float()).abs().max().item() if o.numel() else 0.0 for o, e in zip(outputs, expected))
    rel = max(((o.float() - e.float()).abs() / e.float().abs().clamp_min(1e-3)).max().item() if o.numel() else 0.0
              for o, e in zip(outputs, expected))
    return abs_err, rel
