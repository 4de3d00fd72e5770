"""On a GPU: launch exactly what TensorRT would embed (artifact PTX, TensorRT's argument order, evaluated launch
parameters) and compare with PyTorch. Also the eager torch op. Skipped without a GPU."""

import json
import os
import pickle

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import launcher
from torch_tensorrt_annotation.cuda_driver import driver_ptx_isa

from .gpu_cases import SHAPES, TOLERANCE, as_tuple, make_inputs, max_errors

pytestmark = pytest.mark.gpu
DTYPES = [torch.float32, torch.float16, torch.bfloat16]
REPORT = os.environ.get("TTA_GPU_REPORT")


def _record(row):
    if REPORT:
        with open(REPORT, "a") as f:
            f.write(json.dumps(row) + "\n")


@pytest.fixture(scope="module")
def examples():
    from torch_tensorrt_annotation.examples.triton_examples import plugins

    return plugins()


def check_artifacts(name, plugin, reference, artifacts, dtype, source):
    """Launch each artifact on every test shape of its rank (artifacts are recorded per rank signature)."""
    rtol, atol = TOLERANCE[dtype]
    for shapes in SHAPES[name]:
        if tuple(len(s) for s in shapes) != artifacts[0].input_ranks:
            continue
        tensors, attrs = make_inputs(name, shapes, dtype)
        expected = as_tuple(reference(*tensors, *attrs))
        for art in artifacts:
            outputs = [torch.full_like(e, float("nan")) for e in expected]
            launcher.launch(art, tensors, outputs, attrs=attrs)  # runtime scalar extras read the attributes
            torch.cuda.synchronize()
            abs_err, rel_err = max_errors(outputs, expected)
            _record({"source": source, "plugin": name, "dtype": str(dtype), "shapes": shapes, "tactic": art.tactic,
                     "config": dict(art.config), "kernel": art.kernel_name, "ptx": art.ptx_version,
                     "max_abs_err": abs_err, "max_rel_err": rel_err})
            where = f"{name} tactic {art.tactic} {shapes} {dtype}"
            for o, e in zip(outputs, expected):
                torch.testing.assert_close(o, e, rtol=rtol, atol=atol, msg=lambda m, where=where: f"{where}: {m}")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(SHAPES))
def test_every_tactic_artifact_matches_pytorch(examples, name, dtype):
    plugin, _, reference = examples[name]
    for shapes in {tuple(len(s) for s in case): case for case in SHAPES[name]}.values():  # one per rank signature
        tensors, attrs = make_inputs(name, shapes, dtype)
        artifacts = plugin.compile(*tensors, *attrs, arch="sm_90")  # the driver's newest PTX ISA by default
        assert len(artifacts) == len(plugin.tactics)
        assert all(a.ptx_version <= driver_ptx_isa() for a in artifacts)
        check_artifacts(name, plugin, reference, artifacts, dtype, "compiled-here")


@pytest.mark.skipif(not os.environ.get("TTA_CARRIED_ARTIFACTS"), reason="set TTA_CARRIED_ARTIFACTS to a directory "
                    "written by scripts/export_artifacts.py (artifacts compiled on a CPU machine)")
@pytest.mark.parametrize("name", list(SHAPES))
def test_artifacts_compiled_on_a_cpu_machine_run_here(examples, name):
    with open(os.path.join(os.environ["TTA_CARRIED_ARTIFACTS"], f"{name}.pkl"), "rb") as f:
        carried = pickle.load(f)
    plugin, _, reference = examples[name]
    for dtype_name, artifacts in carried["artifacts"].items():
        check_artifacts(name, plugin, reference, artifacts, getattr(torch, dtype_name),
                        f"carried ({carried['toolchain']})")


@pytest.mark.parametrize("name", list(SHAPES))
def test_eager_op_matches_pytorch(examples, name):
    plugin, _, reference = examples[name]
    op = tta.custom_op(f"ttagpu::{name}", impl=plugin)
    for shapes in SHAPES[name]:
        tensors, attrs = make_inputs(name, shapes, torch.float32)
        got = as_tuple(op(*tensors, *attrs))
        for o, e in zip(got, as_tuple(reference(*tensors, *attrs))):
            torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-5)


def test_empty_input_launches_nothing_and_succeeds(examples):
    plugin, _, _ = examples["add"]
    x = torch.empty(0, device="cuda")
    artifacts = plugin.compile(x, x, arch="sm_90")
    out = torch.empty(0, device="cuda")
    launcher.launch(artifacts[0], [x, x], [out])
    torch.cuda.synchronize()


@pytest.mark.skipif(not os.environ.get("TTA_CARRIED_ARTIFACTS"),
                    reason="needs artifacts from scripts/export_artifacts.py")
def test_artifact_with_newer_ptx_than_the_driver_is_refused_with_the_fix():
    with open(os.path.join(os.environ["TTA_CARRIED_ARTIFACTS"], "add.pkl"), "rb") as f:
        art = pickle.load(f)["toolchain_default"][0]  # compiled with the CPU toolchain's own default ISA
    if art.ptx_version <= driver_ptx_isa():
        pytest.skip(f"the toolchain default {art.ptx_version} loads on this driver; nothing to refuse")
    x = torch.randn(64, device="cuda")
    with pytest.raises(launcher.LaunchError, match=r"accepts at most .*compile with ptx_isa"):
        launcher.launch(art, [x, x], [torch.empty_like(x)])
