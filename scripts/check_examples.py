"""Run tta.check on the bundled example plugins (and one deliberately broken tactic) and print the reports.
Needs a GPU."""

import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as ex


def main():
    x, w = torch.randn(4, 8, 1000, device="cuda"), torch.randn(1000, device="cuda")
    rmsnorm = ex.plugins()["rmsnorm"][0]
    print(tta.check(rmsnorm, x, w, 1e-5, reference=ex.plugins()["rmsnorm"][2]))
    print()
    configs = [{"BLOCK": 1024}, {"BLOCK": 4096, "num_warps": 8}, {"BLOCK": 1024, "BROKEN": True}, {"BLOCK": 300}]
    axpb = tta.custom_plugin(tta.triton(ex.axpb_launch, configs=configs), meta_impl=ex.axpb_meta)
    print(tta.check(axpb, torch.randn(1 << 20, device="cuda")))


if __name__ == "__main__":
    main()
