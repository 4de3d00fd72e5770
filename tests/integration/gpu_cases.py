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


def close(got, expected, dtype=torch.float32):
    """Every output matches the reference within the dtype's tolerance, on the reference's device."""
    rtol, atol = TOLERANCE[dtype]
    for g, e in zip(as_tuple(got), as_tuple(expected)):
        assert g.device == e.device
        torch.testing.assert_close(g, e, rtol=rtol, atol=atol)


def check_graph_replay(op, ref, device):
    """RMSNorm op captured in a CUDA graph on `device` (after a warm-up call), replayed on new data: matches `ref`."""
    x, w = torch.randn(4, 8, 1000, device=device), torch.randn(1000, device=device)
    op(x, w, 1e-5)  # warm up: compile and autotune outside capture
    torch.cuda.synchronize(device)
    graph = torch.cuda.CUDAGraph()
    # torch.cuda.graph's default capture stream is created once per process, on whichever device was current
    with torch.cuda.device(device), torch.cuda.graph(graph, stream=torch.cuda.Stream(device=device)):
        out = op(x, w, 1e-5)
    for _ in range(3):
        x.copy_(torch.randn_like(x))
        graph.replay()
        torch.cuda.synchronize(device)
        close(out, ref(x, w, 1e-5))


def check_compiled(op, device):
    """RMSNorm op inside torch.compile(fullgraph=True) on `device`, two shapes: matches the uncompiled function."""

    def f(x, w):
        return op(x, w, 1e-5) * 2 + 1

    compiled = torch.compile(f, fullgraph=True)
    for shape in ((4, 8, 1000), (2, 8, 1000)):
        x, w = torch.randn(shape, device=device), torch.randn(1000, device=device)
        close(compiled(x, w), f(x, w))
