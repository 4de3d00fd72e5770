#!/usr/bin/env bash
# Set up (if needed), unpack the tested TensorRT / Torch-TensorRT versions, lint and type-check, then run the test
# suite on 2 processes. GPU tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_trt_versions.sh  # the TensorRT / Torch-TensorRT versions the version tests drive
export TTA_REQUIRE_TRT_VERSIONS=1
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -n 2 -q -rs tests "$@"
