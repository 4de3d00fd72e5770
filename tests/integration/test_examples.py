"""The example scripts run (on a CPU machine they compile only; on a GPU they also run and check)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = sorted(f for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py"))
TOOLCHAIN = {"cuda_add.py": "cuda.bindings.nvrtc", "ptx_add.py": "cuda.bindings.nvrtc", "cutedsl_add.py": "cutlass",
             "cutile_add.py": "cuda.tile", "triton_add.py": "triton", "transformer_block.py": "triton",
             "existing_op.py": "triton"}


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs(name):
    if not _installed(TOOLCHAIN.get(name, "torch")):
        pytest.skip(f"{name} needs {TOOLCHAIN[name]}, which is not installed here")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.strip()
