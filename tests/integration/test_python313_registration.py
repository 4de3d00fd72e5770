"""Python 3.13: TensorRT <= 11.1's validator raises "issubclass() arg 1 must be a class" for generic-alias
attribute annotations (tta's int/float encoding); tta patches the validator as Torch-TensorRT does. Runs in the
Python 3.13 venv that scripts/install_trt_versions.sh makes (NumPy only: no torch build for it here, so the
plugin is given as its schema, which is all the QDP registration reads)."""

import json
import os
import subprocess

import pytest

from ..trt_harness import standin

PY313 = os.path.join(standin.versions_dir(), "py313", "bin", "python")


@pytest.mark.parametrize("version,pkg_dir", standin.bindings_versions(), ids=lambda v: str(v)[:12])
def test_registration_on_python_313(version, pkg_dir):
    if not os.path.isfile(PY313):
        message = f"no Python 3.13 venv at {PY313}: bash scripts/install_trt_versions.sh with python3.13 available"
        if os.environ.get("TTA_REQUIRE_TRT_VERSIONS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([PY313, "-W", "ignore::SyntaxWarning", os.path.join(root, "tests", "trt_harness",
                                                                               "py313_registration.py"), pkg_dir],
                            capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=root))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["python"].startswith("3.13.") and report["tensorrt"] == version
    fixed_upstream = tuple(int(v) for v in version.split(".")[:2]) >= (11, 2)
    assert report["plain_registration"] == ("ok" if fixed_upstream else "issubclass() arg 1 must be a class")
    assert report["attrs"] == ["scale", "repeat", "square"] and report["has_aot_impl"]
    assert report["decoded"] == {"scale": 0.1, "repeat": 3, "square": True}
