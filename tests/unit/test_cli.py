"""The `tta` command line: every command's success and failure paths (GPU commands fail clearly without one)."""

import json
import subprocess
import sys

import pytest

from torch_tensorrt_annotation.__main__ import main

ADD = "torch_tensorrt_annotation.examples.triton_examples:ADD"
RMSNORM = "torch_tensorrt_annotation.examples.triton_examples:RMSNORM"


def test_info_lists_backends_gpu_and_tensorrt(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "triton" in out and "cutedsl" in out and "GPU:" in out and "TensorRT:" in out and "PTX ISA" in out


def test_compile_writes_ptx_and_manifest(tmp_path, capsys):
    assert main(["compile", RMSNORM, "--shapes", "4,8,1000", "1000", "--attr", "eps=1e-5", "--out",
                 str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["op_name"].startswith("tta::rmsnorm_launch_") and len(manifest["tactics"]) == 2
    for entry in manifest["tactics"]:
        ptx = (tmp_path / entry["ptx_file"]).read_text()
        assert f".entry {entry['kernel_name']}(" in ptx
        assert tuple(int(v) for v in entry["ptx_version"].split(".")) <= (9, 0)  # a ceiling (Triton 3.6 gives 8.7)
        assert [p["kind"] for p in entry["params"]] == ["input", "input", "extra", "extra", "output"]
        assert entry["extras"] == ["in0.shape[-1]", "fp32_bits(eps)"] and "eps" not in entry["constants"]


def test_compile_from_a_file_path(tmp_path):
    source = tmp_path / "my_ops.py"
    source.write_text("from torch_tensorrt_annotation.examples.triton_examples import ADD as MY_ADD\n")
    assert main(["compile", f"{source}:MY_ADD", "--shapes", "100", "100", "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "manifest.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["compile", "no_such_module_xyz:P", "--shapes", "1", "--out", "o"], "cannot import no_such_module_xyz"),
    (["compile", "torch_tensorrt_annotation.examples.triton_examples:NOPE", "--shapes", "1", "--out", "o"],
     "has no attribute 'NOPE'"),
    (["compile", ADD, "--shapes", "100", "--out", "o"], "takes 2 tensor(s)"),
    (["compile", ADD, "--shapes", "1x2", "1", "--out", "o"], "comma-separated ints"),
    (["compile", RMSNORM, "--shapes", "4,8", "8", "--attr", "bogus=1", "--out", "o"], "--attr takes NAME=VALUE"),
    (["compile", "torch_tensorrt_annotation.examples.triton_examples:ADD_CONFIGS", "--shapes", "1", "--out", "o"],
     "not a plugin"),
    (["compile", "justaname", "--shapes", "1", "--out", "o"], "expected MODULE:PLUGIN"),
])
def test_errors_exit_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tta: error:") and message in err and "\n" not in err


def test_gpu_commands_say_they_need_a_gpu(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    for command in ("check", "bench"):
        assert main([command, ADD, "--shapes", "100", "100"]) == 2
        assert "needs a CUDA GPU" in capsys.readouterr().err


def test_help_is_complete_and_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "torch_tensorrt_annotation", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("info", "demo", "compile", "check", "bench"):
        assert command in out
    out = subprocess.run([sys.executable, "-m", "torch_tensorrt_annotation", "compile", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--shapes" in out and "--attr" in out and "--out" in out and "--ptx-isa" in out


@pytest.mark.gpu
def test_check_and_bench_on_a_gpu(capsys):
    assert main(["check", RMSNORM, "--shapes", "64,4096", "4096", "--dtype", "float16"]) == 0
    out = capsys.readouterr().out
    assert "all tactics ok" in out
    assert main(["bench", ADD, "--shapes", "1048576", "1048576", "--reps", "10"]) == 0
    out = capsys.readouterr().out
    assert "median us" in out and out.count("triton") == 3


def test_progress_line_names_the_tactic_on_a_terminal(monkeypatch):
    import io

    from torch_tensorrt_annotation import plugin as plugin_module

    class FakeTerminal(io.StringIO):
        def isatty(self):
            return True

    fake = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", fake)
    from torch_tensorrt_annotation.examples.triton_examples import ADD as add

    progress = plugin_module._Progress(add, 2)
    progress.start -= 5  # pretend compiling has already taken longer than a second
    progress.step(add.tactics[0])
    progress.done()
    assert "compiled 1/2 tactics of tta::add_launch_" in fake.getvalue() and "BLOCK" in fake.getvalue()
