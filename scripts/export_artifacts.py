"""Compile the bundled example plugins here (no GPU needed) and pickle the artifacts, so that a GPU machine can
launch exactly these bytes: `TTA_CARRIED_ARTIFACTS=DIR pytest -m gpu tests/integration`."""

import argparse
import os
import pickle

import torch

from torch_tensorrt_annotation.examples.triton_examples import plugins


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--ptx-isa", default="9.0")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import triton

    for name, (plugin, example_inputs, _ref) in plugins().items():
        per_dtype = {}
        for dtype in (torch.float32, torch.float16, torch.bfloat16):
            inputs = [t.to(dtype) if isinstance(t, torch.Tensor) else t for t in example_inputs]
            per_dtype[str(dtype).split(".")[1]] = plugin.compile(*inputs, arch=args.arch, ptx_isa=args.ptx_isa)
        # also what the toolchain emits by default: a GPU check shows whether a driver refuses it, and how
        default_isa = plugin.compile(*example_inputs, arch=args.arch, ptx_isa=None)
        with open(os.path.join(args.out, f"{name}.pkl"), "wb") as f:
            pickle.dump({"toolchain": f"triton {triton.__version__}", "artifacts": per_dtype,
                         "toolchain_default": default_isa}, f)
        print(f"{name}: {sum(len(v) for v in per_dtype.values())} artifacts")


if __name__ == "__main__":
    main()
