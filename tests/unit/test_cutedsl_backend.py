"""CuTe DSL backend, compiled on CPU for sm_90: TensorRT's parameter order, ISA control, clear refusals."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing
from torch_tensorrt_annotation.spec import EXTRA, INPUT, OUTPUT

pytest.importorskip("cutlass.cute", reason="needs the cutedsl extra (nvidia-cutlass-dsl)")

from torch_tensorrt_annotation.examples import cutedsl_examples as ce  # noqa: E402

from . import cute_bad  # noqa: E402


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_rmsnorm_compiles_to_tensorrt_order_with_block_and_isa(dtype):
    plugin = ce.plugins()["cute_rmsnorm"]
    arts = plugin.compile(meta(4, 8, 100, dtype=dtype), meta(100, dtype=dtype), 1e-5, ptx_isa=(9, 0))
    assert [a.tactic for a in arts] == [1, 2] and len({a.kernel_name for a in arts}) == 2
    for art, block in zip(arts, (64, 128)):
        entry = ptx_parsing.parse(art.ptx).entry(art.kernel_name)
        assert [(p.kind, p.index) for p in art.params] == [(INPUT, 0), (INPUT, 1), (EXTRA, 0), (EXTRA, 1),
                                                           (OUTPUT, 0)]
        assert [p.ptx_type for p in entry.params] == [".u64", ".u64", ".u32", ".u32", ".u64"]
        assert entry.reqntid == (block, 1, 1) and art.ptx_version <= (8, 8)
        lp = art.launch_params(tta.symbolic.Shapes(((4, 8, 100), (100,)), ((4, 8, 100),)))
        assert lp.grid == (-(-32 // block), 1, 1) and lp.extras == (32, 100)


def test_eps_is_compiled_in_per_value():
    plugin = ce.plugins()["cute_rmsnorm"]
    a = plugin.compile(meta(2, 64), meta(64), 1e-5, ptx_isa=(9, 0))[0]
    b = plugin.compile(meta(2, 64), meta(64), 0.25, ptx_isa=(9, 0))[0]
    assert a.ptx != b.ptx


def test_cute_tensor_parameters_are_refused_with_the_pointer_fix():
    plugin = tta.custom_plugin(tta.cutedsl(cute_bad.tensor_host, cute_bad.tensor_launch, configs=[{}]),
                               meta_impl=lambda x: torch.empty_like(x))
    with pytest.raises(tta.CompileError, match=r"cute.Pointer|by value"):
        plugin.compile(meta(256), ptx_isa=(9, 0))


def test_block_mismatch_with_the_kernels_reqntid_is_refused():
    def launch(kernel, x, y, out, *, BLOCK):
        kernel[tta.cdiv(x.numel(), BLOCK), BLOCK * 2](x, y, x.numel(), out, BLOCK=BLOCK)

    plugin = tta.custom_plugin(tta.cutedsl(ce.add_host, launch, configs=[{"BLOCK": 128}]),
                               meta_impl=lambda x, y: torch.empty_like(x))
    with pytest.raises(tta.CompileError, match=r"\.reqntid"):
        plugin.compile(meta(1000), meta(1000), ptx_isa=(9, 0))


def test_missing_cutlass_gives_the_install_hint(monkeypatch):
    import sys

    from torch_tensorrt_annotation.backends.cutedsl import CuteDslBackend

    monkeypatch.setitem(sys.modules, "cutlass", None)
    with pytest.raises(tta.BackendUnavailableError, match=r"torch-tensorrt-annotation\[cutedsl\]"):
        CuteDslBackend().require()


def test_mixed_triton_cuda_cutedsl_plugin():
    from torch_tensorrt_annotation.examples import cuda_examples as cx
    from torch_tensorrt_annotation.examples import triton_examples as tx

    pytest.importorskip("cuda.bindings.nvrtc")
    specs = [tta.triton(tx.rmsnorm_launch, configs=tx.RMSNORM_CONFIGS[:1]),
             tta.cuda(cx.RMSNORM_SOURCE, "rmsnorm<{BLOCK}, TTA_IN0_T>", cx.rmsnorm_launch, configs=[{"BLOCK": 128}]),
             tta.cutedsl(ce.rmsnorm_host, ce.rmsnorm_launch, configs=[{"BLOCK": 64}])]
    plugin = tta.custom_plugin(specs, meta_impl=ce.rmsnorm_meta, name="rmsnorm_all")
    arts = plugin.compile(meta(8, 256), meta(256), 1e-5, ptx_isa=(9, 0))
    assert [(a.tactic, a.backend) for a in arts] == [(1, "triton"), (2, "cuda"), (3, "cutedsl")]


def test_elementwise_add_compiles_to_tensorrt_order():
    plugin = ce.plugins()["cute_add"]
    arts = plugin.compile(meta(5000), meta(5000), ptx_isa=(9, 0))
    for art, block in zip(arts, (128, 512)):
        entry = ptx_parsing.parse(art.ptx).entry(art.kernel_name)
        assert [p.ptx_type for p in entry.params] == [".u64", ".u64", ".u32", ".u64"]
        assert entry.reqntid == (block, 1, 1)
        assert art.launch_params(tta.symbolic.Shapes(((5000,), (5000,)), ((5000,),))).grid == (-(-5000 // block), 1, 1)


def test_op_name_is_the_same_before_and_after_a_compile(monkeypatch, tmp_path):
    """cute.compile re-creates the @cute.jit function from its AST (its unwrapped source then starts at `def`): a
    plugin made from the same sources after a compile must keep the op name (and its TensorRT registration)."""
    monkeypatch.setenv("TTA_CACHE_DIR", str(tmp_path))  # a cold cache: cute.compile really runs

    def make():
        return tta.custom_plugin(tta.cutedsl(ce.rmsnorm_host, ce.rmsnorm_launch, configs=[{"BLOCK": 32}]),
                                 meta_impl=ce.rmsnorm_meta, name="cute_identity")

    before = make()
    before.compile(meta(6, 300), meta(300), 1e-5, arch="sm_90", ptx_isa=(9, 0))
    assert make().op_name == before.op_name
