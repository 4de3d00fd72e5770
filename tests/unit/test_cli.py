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
    (["compile", ADD, "--shapes", "8", "8", "--dtype", "fp8", "--out", "o"], "such as float32, float16, bfloat16"),
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

    from torch_tensorrt_annotation import compile_pool

    class FakeTerminal(io.StringIO):
        def isatty(self):
            return True

    fake = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", fake)
    from torch_tensorrt_annotation.examples.triton_examples import ADD as add

    progress = compile_pool.Progress(add.op_name, 2)
    progress.start -= 5  # pretend compiling has already taken longer than a second
    progress.step(add.tactics[0])
    progress.done()
    assert "compiled 1/2 tactics of tta::add_launch_" in fake.getvalue() and "BLOCK" in fake.getvalue()


@pytest.mark.parametrize("argv, message", [
    (["compile", RMSNORM, "--shapes", "4,8", "8", "--attr", "eps=abc", "--out", "o"], "eps is a float"),
    (["compile", RMSNORM, "--shapes", "4,8", "8", "--attr", "eps", "--out", "o"], "--attr takes NAME=VALUE"),
    (["compile", ADD, "--shapes", "4,-1", "4", "--out", "o"], "dims are >= 0"),
    (["compile", ADD, "--shapes", "100", "100", "--arch", "9.0", "--out", "o"], "Accepted forms"),
    (["compile", ADD, "--shapes", "100", "100", "--ptx-isa", "90", "--out", "o"], "Accepted forms"),
    (["compile", ADD, "--shapes", "100", "100", "--ptx-isa", "7.0", "--out", "o"], "cannot target sm_90"),
    (["compile", ADD, "--shapes", "100", "100", "--dtype", "Tensor", "--out", "o"], "unknown dtype"),
    (["compile", "missing_file.py:P", "--shapes", "1", "--out", "o"], "no such file"),
    (["compile", ADD, "--shapes", "100", "100"], "the following arguments are required: --out"),
    (["frobnicate"], "invalid choice"),
    (["compile", ADD, "--shapes", "100", "100", "--out", "o", "--bogus"], "unrecognized arguments"),
])
def test_more_errors_exit_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with_status = _run(argv)
    err = capsys.readouterr().err.strip()
    assert with_status == 2, err
    assert err.startswith("tta: error:") and message in err and "\n" not in err, err


def _run(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors
        return exc.code


def test_a_bool_attribute_takes_only_true_or_false_words(tmp_path):
    from torch_tensorrt_annotation.__main__ import CliError, _attr_value
    from torch_tensorrt_annotation.schema import Attr

    flag = Attr("flag", bool, False)
    assert _attr_value(flag, "True") is True and _attr_value(flag, "0") is False and _attr_value(flag, "off") is False
    with pytest.raises(CliError, match="flag is a bool"):
        _attr_value(flag, "maybe")
    assert _attr_value(Attr("n", int), " 7 ") == 7


def test_an_unwritable_out_fails_before_compiling(tmp_path, capsys, monkeypatch):
    from torch_tensorrt_annotation.plugin import CustomPlugin

    compiled = []
    monkeypatch.setattr(CustomPlugin, "compile", lambda *a, **k: compiled.append(1) or [])
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for out in (blocker, blocker / "sub"):
        assert main(["compile", ADD, "--shapes", "100", "100", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("tta: error:") and "output folder" in err and "\n" not in err, err
    assert not compiled


def test_bad_compile_workers_environment_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TTA_COMPILE_WORKERS", "abc")
    monkeypatch.setenv("TTA_CACHE_DIR", "off")
    assert main(["compile", ADD, "--shapes", "100", "100", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tta: error: TTA_COMPILE_WORKERS='abc'") and "\n" not in err


def test_a_multi_line_error_keeps_every_line_on_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TTA_CACHE_DIR", "off")
    source = tmp_path / "broken_ops.py"
    source.write_text("import torch_tensorrt_annotation as tta\n"
                      "from torch_tensorrt_annotation.examples import triton_examples as ex\n"
                      "BROKEN = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{'BLOCK': 300}, {'BLOCK': 100}]),"
                      " meta_impl=ex.add_meta)\n")
    assert main(["compile", f"{source}:BROKEN", "--shapes", "100", "100", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tta: error: No tactic") and "'BLOCK': 300" in err and "'BLOCK': 100" in err
    assert "\n" not in err


def test_a_module_that_raises_on_import_is_one_line(tmp_path, capsys):
    source = tmp_path / "raises.py"
    source.write_text("raise RuntimeError('boom at import')\n")
    assert main(["compile", f"{source}:P", "--shapes", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tta: error:") and "boom at import" in err and "\n" not in err
