"""On a GPU: launch code written as libraries write it runs through tta exactly as through Triton's own launcher.

- Runtime scalars: the emulated TensorRT build's launch (kernel + PTX from get_kernel, the attribute's 32 bits as an
  int32 extra) and the eager op match the kernel's own Triton launch bit for bit, for negative, denormal, huge and
  non-finite float values and int32 extremes; one artifact per tactic serves every value.
- Views, triton.reinterpret, @triton.autotune and @triton.heuristics: the op matches the launch function run by
  Triton's own launcher.
"""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import launcher, symbolic

from ..trt_harness import builder
from ..unit import launch_kinds as K

pytestmark = pytest.mark.gpu

# (scale, shift): negative, denormal, huge, +-inf, nan; int32 extremes (1 is left out: Triton's own launcher
# specializes an int 1 into a constant, on which the kernel's `shift.to(...)` does not compile)
SCALARS = [(-3.25, -7), (1e-40, 2), (-1e-45, 0), (3e38, 123456), (float("inf"), 5), (float("-inf"), -(2**31)),
           (float("nan"), 2**31 - 1), (0.1, -3)]



def probe_input():
    x = torch.randn(5000, device="cuda", generator=torch.Generator(device="cuda").manual_seed(0))
    x[:6] = torch.tensor([0.0, -0.0, 1e-30, -2.0, 1e30, 1.0])
    return x


def triton_reference(x, scale, shift):
    out = torch.empty_like(x)
    K.affine_launch(x, out, scale, shift)  # the kernel's own Triton launch (its launcher packs the scalars)
    torch.cuda.synchronize()
    return out


def test_emulated_tensorrt_launch_of_runtime_scalars_matches_the_triton_launch(trt):
    import tensorrt.plugin as trtp

    plugin = K.affine_plugin()
    op_name = "ttagpuscalar::affine"
    tta.custom_op(op_name, impl=plugin)
    x = probe_input()
    stream = torch.cuda.current_stream().cuda_stream
    kernels = set()
    for scale, shift in SCALARS:
        expected = triton_reference(x, scale, shift)
        created = builder.create(trt, trtp, op_name, {"scale": scale, "shift": shift}, 1)
        _, out_shapes, results = builder.build(trt, created, [tuple(x.shape)], [trt.float32])
        assert [r.tactic for r in results] == [t.number for t in plugin.tactics]
        for r in results:
            assert r.extras_are_int32 and r.extras == (x.numel(), symbolic.float32_bits(scale), shift)
            out = torch.full_like(x, 7.0)
            launcher.launch_raw(r.kernel, r.ptx, r.grid, r.block, r.shared_mem, r.extras, [x.data_ptr()],
                                [out.data_ptr()], stream)
            torch.cuda.synchronize()
            torch.testing.assert_close(out, expected, rtol=0, atol=0, equal_nan=True,
                                       msg=lambda m, s=scale, t=r.tactic: f"scale={s!r}, tactic {t}: {m}")
            kernels.add((r.tactic, r.kernel, r.ptx))
    assert len(kernels) == len(plugin.tactics)  # one artifact per tactic for every attribute value


def test_eager_op_passes_the_same_bits():
    plugin = K.affine_plugin()
    op = tta.custom_op("ttagpuscalar::affine_eager", impl=plugin, tensorrt=False)
    x = probe_input()
    for scale, shift in SCALARS:
        for tactic in (1, 2):
            eager = tta.custom_op(f"ttagpuscalar::affine_t{tactic}", impl=plugin, tensorrt=False, tactic=tactic)
            torch.testing.assert_close(eager(x, scale, shift), triton_reference(x, scale, shift), rtol=0, atol=0,
                                       equal_nan=True)
        torch.testing.assert_close(op(x, scale, shift), triton_reference(x, scale, shift), rtol=0, atol=0,
                                   equal_nan=True)


def _own_launch(launch_fn, *inputs, outputs):
    launch_fn(*inputs, *outputs)
    torch.cuda.synchronize()
    return outputs


@pytest.mark.parametrize("case", ["view", "flatten", "reinterpret", "autotune", "heuristic_block", "pruned"])
def test_views_autotune_and_heuristics_match_the_triton_launch(case):
    gen = torch.Generator(device="cuda").manual_seed(1)
    launches = {
        "view": (K.view_launch, [torch.randn(2, 3, 1000, device="cuda", generator=gen)]),
        "flatten": (K.flatten_launch, [torch.randn(4, 50, device="cuda", generator=gen)]),
        "reinterpret": (K.reinterpret_launch, [torch.randn(4097, device="cuda", generator=gen).to(torch.bfloat16)]),
        "autotune": (K.tuned_launch, [torch.randn(5001, device="cuda", generator=gen)]),
        "heuristic_block": (K.heuristic_block_launch, [torch.randn(6, 300, device="cuda", generator=gen)]),
        "pruned": (K.pruned_launch, [torch.randn(3000, device="cuda", generator=gen)]),
    }
    launch_fn, inputs = launches[case]
    configs = [{}] if case == "reinterpret" else None
    plugin = tta.custom_plugin(tta.triton(launch_fn, configs=configs), meta_impl=K.like)
    (expected,) = _own_launch(launch_fn, *inputs, outputs=[torch.empty_like(inputs[0])])
    for tactic in plugin.tactics:
        op = tta.custom_op(f"ttagpukinds::{case}_t{tactic.number}", impl=plugin, tensorrt=False,
                           tactic=tactic.number)
        if case == "pruned" and tactic.number == 2:
            with pytest.raises(tta.CompileError, match="pruned"):
                op(*inputs)
            continue
        torch.testing.assert_close(op(*inputs), expected, rtol=0, atol=0)
