"""cuTile example plugins (compile-only on this project's GPUs: cuTile does not run on sm_90): an elementwise add
and an RMSNorm-like row reduction, tile sizes from the config, eps as a constant."""

from __future__ import annotations

import cuda.tile as ct
import torch

import torch_tensorrt_annotation as tta


@ct.kernel
def add_kernel(x, y, out, TILE: ct.Constant[int]):
    bid = ct.bid(0)
    a = ct.load(x, index=(bid,), shape=(TILE,), allow_tma=False)
    b = ct.load(y, index=(bid,), shape=(TILE,), allow_tma=False)
    ct.store(out, index=(bid,), tile=a + b, allow_tma=False)


@ct.kernel
def rmsnorm_kernel(x, w, out, COLS: ct.Constant[int], EPS: ct.Constant[float]):
    row = ct.bid(0)
    v = ct.load(x, index=(row, 0), shape=(1, COLS), allow_tma=False).astype(ct.float32)
    g = ct.load(w, index=(0,), shape=(COLS,), allow_tma=False).astype(ct.float32)
    rstd = ct.rsqrt(ct.sum(v * v, axis=1, keepdims=True) / COLS + EPS)
    ct.store(out, index=(row, 0), tile=(v * rstd * g).astype(out.dtype), allow_tma=False)


def add_launch(kernel, x, y, out, *, TILE):
    kernel[tta.cdiv(x.numel(), TILE)](x, y, out, TILE=TILE)


def rmsnorm_launch(kernel, x, w, out, eps, *, COLS):
    kernel[x.shape[0]](x, w, out, COLS=COLS, EPS=eps)


def rmsnorm_meta(x, w, eps: float = 1e-6) -> torch.Tensor:
    return torch.empty_like(x)


def plugins():
    return {
        "cutile_add": tta.custom_plugin(tta.cutile(add_kernel, add_launch, configs=[{"TILE": 256}, {"TILE": 1024}]),
                                        meta_impl=lambda x, y: torch.empty_like(x)),
        # rows of exactly COLS elements (a power of two): the tile covers a whole row
        "cutile_rmsnorm": tta.custom_plugin(tta.cutile(rmsnorm_kernel, rmsnorm_launch, configs=[{"COLS": 1024}]),
                                            meta_impl=rmsnorm_meta),
    }
