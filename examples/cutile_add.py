"""cuTile: compile the add for sm_100 and sm_120 (cuTile does not support sm_90, so nothing is launched here).
Needs the cutile extra.

    python examples/cutile_add.py
"""

import torch

from torch_tensorrt_annotation.examples.cutile_examples import plugins

if __name__ == "__main__":
    add = plugins()["cutile_add"]
    meta = torch.empty(5000, device="meta")
    for arch in ("sm_100", "sm_120"):
        for art in add.compile(meta, meta, arch=arch, ptx_isa=(9, 4)):
            print(arch, art.tactic, art.kernel_name, art.ptx_version, art.describe_params())
