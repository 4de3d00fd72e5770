import logging
import os
import tempfile

import pytest

os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
# hermetic artifact cache per test process (tests of the cache itself set their own)
os.environ.setdefault("TTA_CACHE_DIR", tempfile.mkdtemp(prefix="tta-test-cache-"))


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
