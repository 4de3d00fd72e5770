"""On a GPU: in-place ops update their input (no output allocation) and zeroed outputs start at zero, matching
PyTorch, through the eager op, tta.check, and a launch exactly as TensorRT makes it. Skipped without a GPU."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import launcher, symbolic

from ..unit import in_place_kernels as K

pytestmark = pytest.mark.gpu

CONFIGS = [{"BLOCK": 256}, {"BLOCK": 1024}]


def inplace_op(name, backend="triton", tactic=None):
    spec = (tta.triton(K.inplace_launch, configs=CONFIGS) if backend == "triton" else
            tta.cuda(K.CUDA_SRC, "scale_inplace", K.cuda_inplace_launch, configs=[{"BLOCK": 128}, {"BLOCK": 512}]))
    return tta.custom_op(f"ttagpuinplace::{name}", impl=tta.custom_plugin(spec, meta_impl=lambda x: x),
                         tensorrt=False, tactic=tactic)


@pytest.mark.parametrize("backend", ["triton", "cuda"])
@pytest.mark.parametrize("tactic", [None, 1, 2])
def test_in_place_op_updates_its_input_and_returns_it(backend, tactic):
    op = inplace_op(f"scale_{backend}_{tactic or 'tuned'}", backend, tactic)
    for n in (1, 1000, 4097, 1 << 20):
        x = torch.randn(n, device="cuda")
        expected = x * 2 + 1
        ptr = x.data_ptr()
        out = op(x)
        torch.cuda.synchronize()
        assert out is x and x.data_ptr() == ptr  # the input's own buffer: no allocation, no copy
        torch.testing.assert_close(x, expected)
        out = op(x)  # a second call (autotuning happened at the first) applies the update exactly once more
        torch.testing.assert_close(x, expected * 2 + 1)


def test_in_place_on_a_non_contiguous_input_writes_back():
    op = inplace_op("scale_strided")
    base = torch.randn(64, 130, device="cuda")
    view = base[:, 1:129]  # not contiguous, not 16-byte aligned
    expected_base = base.clone()
    expected_base[:, 1:129] = base[:, 1:129] * 2 + 1
    out = op(view)
    assert out is view
    torch.testing.assert_close(base, expected_base)  # columns 0 and 129 untouched


def test_in_place_and_new_output_together():
    plugin = tta.custom_plugin(tta.triton(K.update_and_copy_launch, configs=CONFIGS),
                               meta_impl=K.update_and_copy_meta)
    op = tta.custom_op("ttagpuinplace::update_and_copy", impl=plugin, tensorrt=False)
    x = torch.randn(5000, device="cuda")
    old = x.clone()
    updated, copy = op(x)
    assert updated is x
    torch.testing.assert_close(copy, old)
    torch.testing.assert_close(x, old * 2 + 1)


@pytest.mark.parametrize("backend", ["triton", "cuda"])
def test_zeroed_output_accumulates_from_zero(backend):
    spec = (tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS) if backend == "triton" else
            tta.cuda(K.CUDA_SRC, "colsum", K.cuda_colsum_launch, configs=[{"BLOCK": 128}]))
    plugin = tta.custom_plugin(spec, meta_impl=K.colsum_meta, zeroed_outputs=("out",))
    op = tta.custom_op(f"ttagpuzero::colsum_{backend}", impl=plugin, tensorrt=False)
    for _ in range(3):  # fill the caching allocator with junk between calls
        junk = torch.full((300,), 1e6, device="cuda")
        del junk
        x = torch.randn(1000, 300, device="cuda")
        torch.testing.assert_close(op(x), x.sum(0), rtol=1e-4, atol=1e-3)


def test_check_handles_in_place_and_zeroed_ops():
    x = torch.randn(10000, device="cuda")
    before = x.clone()
    report = tta.check(inplace_op("scale_check"), x, reference=lambda t: t.mul_(2).add_(1))
    assert report.ok, str(report)
    torch.testing.assert_close(x, before)  # tta.check launched on copies
    zeroed = tta.custom_plugin(tta.triton(K.colsum_launch, configs=K.COLSUM_CONFIGS), meta_impl=K.colsum_meta,
                               zeroed_outputs=(0,))
    report = tta.check(zeroed, torch.randn(512, 300, device="cuda"), rtol=1e-4, atol=1e-3)
    assert report.ok, str(report)


def test_artifact_launched_as_tensorrt_does_with_the_output_pointer_equal_to_the_input():
    plugin = tta.custom_plugin(tta.triton(K.inplace_launch, configs=CONFIGS), meta_impl=lambda x: x)
    # compiled as for TensorRT: PTX ISA 9.0 (driver CUDA 13.0), no divisibility specialization
    for art in plugin.compile(torch.empty(4097, device="meta"), arch="sm_90", ptx_isa=(9, 0)):
        x = torch.randn(4097, device="cuda")
        expected = x * 2 + 1
        params = art.launch_params(symbolic.Shapes(((4097,),), ((4097,),)))
        launcher.launch_raw(art.kernel_name, art.ptx, params.grid, params.block, params.shared_mem,
                            params.extras, [x.data_ptr()], [x.data_ptr()], torch.cuda.current_stream().cuda_stream)
        torch.cuda.synchronize()
        torch.testing.assert_close(x, expected)


def test_in_place_op_under_torch_compile_updates_the_input():
    op = inplace_op("scale_compiled_gpu")
    fn = torch.compile(lambda t: op(t) * 2, fullgraph=True)
    x = torch.randn(5000, device="cuda")
    expected = x * 2 + 1
    out = fn(x)
    torch.testing.assert_close(x, expected)  # the mutation reaches the caller's tensor
    torch.testing.assert_close(out, expected * 2)


def test_second_pointer_to_an_in_place_input_is_the_aliased_output_slot():
    """x read through x_ptr and written through dx_ptr (both x): eager, and launched as TensorRT does (the aliased
    output's pointer, equal to the input's, in the output slot)."""
    plugin = tta.custom_plugin(tta.triton(K.read_then_write_launch, configs=CONFIGS), meta_impl=lambda x: x)
    x = torch.randn(4097, device="cuda")
    expected = x * 2 + 1
    op = tta.custom_op("ttagpuinplace::read_then_write", impl=plugin, tensorrt=False)
    y = op(x.clone())
    torch.testing.assert_close(y, expected)
    for art in plugin.compile(torch.empty(4097, device="meta"), arch="sm_90", ptx_isa=(9, 0)):
        assert art.describe_params() == "input0:x_ptr, extra0:n, output0:dx_ptr"
        x2 = x.clone()
        params = art.launch_params(symbolic.Shapes(((4097,),), ((4097,),)))
        launcher.launch_raw(art.kernel_name, art.ptx, params.grid, params.block, params.shared_mem,
                            params.extras, [x2.data_ptr()], [x2.data_ptr()], torch.cuda.current_stream().cuda_stream)
        torch.cuda.synchronize()
        torch.testing.assert_close(x2, expected)
