"""The REAL Torch-TensorRT Python (published wheels 2.9 to 2.14, unpacked by scripts/install_trt_versions.sh; their
native libraries deleted) over the TensorRT stand-in: custom_op(name, impl=plugin) -> torch.export with a dynamic
batch dim -> the real DYNAMO_CONVERTERS lookup -> the registered converter with a real ConversionContext ->
network.add_plugin(..., aot=True) -> the emulated build of the plugin object the converter created.

One subprocess per (Torch-TensorRT, TensorRT) pair: tests/trt_harness/torch_tensorrt_run.py. Without the unpacked
versions these tests skip, unless TTA_REQUIRE_TRT_VERSIONS=1 (CI) makes that a failure.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERSIONS_DIR = os.environ.get("TTA_TRT_VERSIONS_DIR", os.path.join(ROOT, ".trt-versions"))
REQUIRED = os.environ.get("TTA_REQUIRE_TRT_VERSIONS") == "1"


def listed(name):
    """Versions of `name` in constraints/trt-versions.txt: what CI installs and tests."""
    with open(os.path.join(ROOT, "constraints", "trt-versions.txt")) as f:
        return [line.strip().split("==")[1] for line in f if line.startswith(name + "==")]


def folder(name, version):
    path = os.path.join(VERSIONS_DIR, f"{name}-{version}")
    if not os.path.isfile(os.path.join(path, ".complete")):
        message = f"{name} {version} is not unpacked under {VERSIONS_DIR}: run bash scripts/install_trt_versions.sh"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return path


def bindings(version):
    name = "tensorrt-cu12-bindings" if version.startswith("10.9.") else "tensorrt-cu13-bindings"
    return os.path.join(folder(name, version), "tensorrt_bindings")


def run(tt_version, trt_version, mode="alias"):
    cmd = [sys.executable, "-m", "tests.trt_harness.torch_tensorrt_run", folder("torch-tensorrt", tt_version),
           bindings(trt_version), os.path.join(VERSIONS_DIR, "deps"), mode]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, result.stdout + result.stderr
    report = json.loads(lines[-1])
    assert "error" not in report, report["error"] + result.stderr[-3000:]
    report["stderr"] = result.stderr
    return report


def check_gate(report):
    """tta's (Torch-TensorRT, TensorRT) gate says what this version's own _features.py says, for every TensorRT."""
    assert report["gate"] and all(upstream == ours for upstream, ours in report["gate"].values()), report["gate"]


EXPECTED_ATTRS = [  # (scale, repeat, square) as the plugin received them: defaults filled in, registration order
    {"scale": ["ndarray", 0.5, "float64"], "repeat": ["ndarray", 1, "int64"], "square": ["bool", False, ""]},
    {"scale": ["ndarray", 0.25, "float64"], "repeat": ["ndarray", 3, "int64"], "square": ["bool", True, ""]},
]


def check_conversion(report):
    nodes = report["nodes"]
    assert len(nodes) == 2  # defaults omitted, then every attribute given
    for node, attrs in zip(nodes, EXPECTED_ATTRS):
        assert node["converter"] == "tta_converter_ttareal_rowstats"
        assert node["layer_name"].startswith("[ttareal.rowstats.default]-[rowstats")
        assert node["attrs"] == attrs and list(node["attrs"]) == ["scale", "repeat", "square"]
        assert node["aot"] == "_TemplateAOTPlugin"  # add_plugin(..., aot=True) made the AOT plugin
        assert node["outputs"] == [[[-1], "FLOAT"], [[-1], "HALF"]]  # both outputs; dynamic batch dim is -1
        build = node["build"]
        assert build["out_types"] == ["FLOAT", "HALF"] and build["out_shapes"] == [[8], [8]]
        assert [t["tactic"] for t in build["tactics"]] == [1, 2]
        # exactly what tta compiles itself for these attribute values (kernel, PTX, grid, block, extras)
        assert build["tactics"] == node["expected"]
    assert nodes[0]["build"]["tactics"][0]["ptx_sha"] != nodes[1]["build"]["tactics"][0]["ptx_sha"]


SUPPORTED = [v for v in listed("torch-tensorrt") if not v.startswith("2.10.")]


@pytest.mark.parametrize("tt_version", SUPPORTED)
def test_real_converter_end_to_end(tt_version):
    report = run(tt_version, "11.4.0.106")
    assert report["torch_tensorrt"] == tt_version and report["tensorrt"] == "11.4.0.106"
    check_conversion(report)
    check_gate(report)


def test_import_torch_tensorrt_annotation_alone_installs_the_hook():
    report = run("2.14.0", "11.1.0.106", mode="plain")
    check_conversion(report)


@pytest.mark.parametrize("tt_version,trt_version,named", [
    ("2.10.0", "11.4.0.106", "Torch-TensorRT 2.10 disables Quick Deployable Plugins with every TensorRT version"),
    ("2.12.1", "10.15.1.29", "Torch-TensorRT 2.11/2.12 disable Quick Deployable Plugins on TensorRT 10.15.x"),
])
def test_pairs_upstream_disables_are_refused_at_registration(tt_version, trt_version, named):
    """2.10's custom_op is wrapped without functools.wraps: the hook still binds op_name (the message names it).
    tensorrt="auto" keeps the torch op and logs the refusal instead of raising."""
    report = run(tt_version, trt_version)
    assert report["refused"].startswith(f"Op 'ttareal::rowstats' cannot become a TensorRT plugin: Torch-TensorRT "
                                        f"{tt_version} with TensorRT {trt_version}: {named}")
    assert report["auto_kept_torch_op"] is True
    assert "ttareal::rowstats_auto: registered as a torch op only" in report["stderr"]
    check_gate(report)


def test_aot_plugin_examples_add_one_with_one_line():
    """The Torch-TensorRT AOT plugin example's my::add_one, unchanged, gets its TensorRT side from
    `trt_plugins.custom_op("my::add_one", impl=tta.aot(configs=[...]))`: export, converter, emulated build."""
    report = run("2.14.0", "11.4.0.106", mode="add_one")
    assert report["schema"] == "(Tensor X) -> Tensor"
    (node,) = report["nodes"]
    assert node["converter"] == "tta_converter_my_add_one" and node["aot"] == "_TemplateAOTPlugin"
    assert node["output"] == [[-1, 300], "FLOAT"]
    assert node["out_types"] == ["FLOAT"] and node["out_shapes"] == [[8, 300]]
    assert [t["grid"][0] for t in node["tactics"]] == [10, 3]  # cdiv(2400, 256), cdiv(2400, 1024)
    assert [t["extras"] for t in node["tactics"]] == [[2400], [2400]]
    assert node["tactics"] == node["expected"]  # what tta compiles itself for the build's profile
