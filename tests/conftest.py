import atexit
import logging
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
# hermetic artifact cache per test session (tests of the cache itself set their own). Created only when none is
# set (pytest-xdist workers inherit the controller's), and removed by the process that created it.
if "TTA_CACHE_DIR" not in os.environ:
    _cache_root = tempfile.mkdtemp(prefix="tta-test-cache-")
    os.environ["TTA_CACHE_DIR"] = _cache_root
    atexit.register(shutil.rmtree, _cache_root, ignore_errors=True)


def _gpu_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _gpu_available():
        return
    skip = pytest.mark.skip(reason="needs an NVIDIA GPU with a CUDA driver; none is visible to torch here")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def trt():
    """The real `tensorrt` Python (plugin module included) over the tests' stand-in for its C++ extension; skips
    where the tensorrt-cu13-bindings wheel is not installed. Test modules that sweep bindings versions define their
    own."""
    from .trt_harness import standin

    if standin.bindings_dir() is None:
        pytest.skip("needs the tensorrt-cu13-bindings wheel")
    module = standin.install()
    yield module
    standin.uninstall()


@pytest.fixture
def meta():
    import torch

    def make(*shape, dtype=torch.float32):
        return torch.empty(shape, dtype=dtype, device="meta")

    return make


@pytest.fixture(autouse=True)
def _quiet_triton():
    logging.getLogger("torch_tensorrt_annotation").setLevel(logging.DEBUG)
    yield
