#!/usr/bin/env bash
# Creates .venv (once) and installs the package with every backend's toolchain (Triton, NVRTC, CuTe DSL, cuTile)
# and the test tools, at the versions in constraints/ci.txt. torch==2.13.0 is the CPU build: nothing here needs a
# GPU; every toolchain compiles for an explicit arch on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# pip's own exit status decides (pipefail); the filter only hides a noisy warning of some package indexes
pip_install() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }
pip_install -c constraints/ci.txt torch==2.13.0
pip_install -c constraints/ci.txt -e ".[triton,nvrtc,cutedsl,cutile,dev]"
# quack-kernels (a cute.Tensor kernel library for tests and the benchmark): no-deps, as its torch-c-dlpack-ext
# dependency is not needed to import it
pip_install -c constraints/ci.txt --no-deps quack-kernels apache-tvm-ffi einops
.venv/bin/python -c "import torch_tensorrt_annotation, triton, torch; print('set up:', 'torch', torch.__version__, '| triton', triton.__version__)"
