"""Run by test_xdist_registration.py under `pytest -n 4`: every worker registers the same plugins (torch op and,
with the stand-in, TensorRT QDP) in every test, and writes down the op names it got."""

import json
import os

import pytest

import torch_tensorrt_annotation as tta

from ..trt_harness import standin


@pytest.fixture(scope="module", autouse=True)
def trt():
    if standin.bindings_dir() is not None:
        standin.install()
    yield
    standin.uninstall()


@pytest.mark.parametrize("round_", range(8))
def test_register_examples(round_):
    from torch_tensorrt_annotation.examples.triton_examples import plugins

    names = {}
    for name, (plugin, _, _) in plugins().items():
        tta.custom_op(impl=plugin, arch="sm_90", ptx_isa=(9, 0))
        tta.custom_op(f"ttaxdist::{name}", impl=plugin, arch="sm_90", ptx_isa=(9, 0))
        names[name] = plugin.op_name
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join(os.environ["TTA_XDIST_OUT"], f"{worker}-{round_}.json"), "w") as f:
        json.dump(names, f)
