"""Op names and registration across processes: `pytest -n 4` where every worker registers the same plugins."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.skipif(os.environ.get("PYTEST_XDIST_WORKER_COUNT") == "4", reason="already inside the -n 4 run")
def test_four_xdist_workers_register_the_same_plugins_with_equal_names(tmp_path):
    root = os.path.dirname(os.path.dirname(HERE))
    env = {**os.environ, "TTA_XDIST_OUT": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "4", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         os.path.join("tests", "integration", "xdist_worker_check.py")],
        cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    reports = [json.loads((tmp_path / f).read_text()) for f in sorted(os.listdir(tmp_path))]
    workers = {f.split("-")[0] for f in os.listdir(tmp_path)}
    assert len(reports) == 8 and len(workers) >= 2
    assert all(r == reports[0] for r in reports)
    from torch_tensorrt_annotation.examples.triton_examples import plugins

    assert reports[0] == {name: p.op_name for name, (p, _, _) in plugins().items()}
