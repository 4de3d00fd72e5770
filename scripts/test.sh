#!/usr/bin/env bash
# Set up (if needed), lint and type-check, then run the test suite on 2 processes. GPU tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -n 2 -q -rs tests "$@"
