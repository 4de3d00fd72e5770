#!/usr/bin/env bash
# Set up (if needed), then compile the bundled example plugins for sm_90 and print one row per tactic.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m torch_tensorrt_annotation demo "$@"
