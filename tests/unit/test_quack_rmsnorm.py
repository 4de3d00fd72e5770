"""quack-kernels' RMSNorm forward, imported unchanged and wrapped as a user would, compiled on CPU for sm_90 with M
dynamic: TensorRT's order (x, w, M extras, out), launch dims from quack's host code, N guarded."""

import pytest
import torch

from torch_tensorrt_annotation import symbolic
from torch_tensorrt_annotation.spec import EXTRA, INPUT, OUTPUT

pytest.importorskip("cutlass.cute", reason="needs the cutedsl extra (nvidia-cutlass-dsl)")
pytest.importorskip("quack.rmsnorm", reason="needs quack-kernels")

from torch_tensorrt_annotation.examples import quack_rmsnorm as q  # noqa: E402


@pytest.mark.parametrize("n", [1024, 4096, 8192])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_quack_rmsnorm_compiles_with_dynamic_rows(n, dtype):
    (art,) = q.plugin().compile(torch.empty(64, n, dtype=dtype, device="meta"),
                                torch.empty(n, dtype=dtype, device="meta"), 1e-6, ptx_isa=(9, 0))
    assert [(p.kind, p.index) for p in art.params] == [(INPUT, 0), (INPUT, 1), (EXTRA, 0), (EXTRA, 1), (OUTPUT, 0)]
    assert [p.source for p in art.params if p.kind != EXTRA] == ["x", "w", "out"]
    assert art.ptx_version <= (8, 8) and art.block == (symbolic.Const(128), symbolic.Const(1), symbolic.Const(1))
    for m in (1, 37, 4096):
        lp = art.launch_params(symbolic.Shapes(((m, n), (n,)), ((m, n),)))
        assert lp.extras == (m, m) and lp.grid[0] >= 1 and lp.grid[1:] == (1, 1)
        assert 0 < lp.shared_mem <= 48 * 1024
    with pytest.raises(ValueError, match="baked in"):
        art.launch_params(symbolic.Shapes(((8, n + 8), (n + 8,)), ((8, n + 8),)))
