"""CuTe DSL: the add and an RMSNorm-like kernel (see torch_tensorrt_annotation/examples/cutedsl_examples.py).
Needs the cutedsl extra.

    python examples/cutedsl_add.py
"""

import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples.cutedsl_examples import plugins

if __name__ == "__main__":
    add = plugins()["cute_add"]
    meta = torch.empty(1000, device="meta")
    for art in add.compile(meta, meta, arch="sm_90", ptx_isa=(9, 0)):
        print(art.tactic, art.kernel_name, art.ptx_version, art.describe_params())
    if torch.cuda.is_available():
        x, y = torch.randn(5000, device="cuda"), torch.randn(5000, device="cuda")
        print(tta.check(add, x, y))
