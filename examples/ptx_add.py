"""Precompiled PTX: PTX made elsewhere (here by NVRTC) wrapped as a plugin; its parameters are checked against the
launch. Needs the nvrtc extra only to produce the PTX for this example.

    python examples/ptx_add.py
"""

import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.backends.cuda import nvrtc_compile
from torch_tensorrt_annotation.examples.cuda_examples import ADD_SOURCE, add_launch

if __name__ == "__main__":
    ptx_text, entry = nvrtc_compile(ADD_SOURCE, "add_f32", 90, {}, ())
    plugin = tta.custom_plugin(tta.ptx(ptx_text, entry, add_launch, configs=[{"BLOCK": 256}],
                                       dtypes=torch.float32),  # extern "C" PTX pointers state no element type
                               meta_impl=lambda x, y: torch.empty_like(x))
    meta = torch.empty(1000, device="meta")
    (art,) = plugin.compile(meta, meta, arch="sm_90", ptx_isa=(9, 0))
    print(art.kernel_name, art.describe_params())
    if torch.cuda.is_available():
        op = tta.custom_op("examples::ptx_add", impl=plugin)
        x, y = torch.randn(5000, device="cuda"), torch.randn(5000, device="cuda")
        torch.testing.assert_close(op(x, y), x + y)
        print("ok")
