"""Import-time behaviour: no toolchain or torch at start-up; the torch_tensorrt.annotation alias."""

import os
import subprocess
import sys


def run(code, tmp_path, extra_path=None):
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_package_imports_without_torch_or_any_toolchain(tmp_path):
    code = (
        "import sys\n"
        "assert 'torch' not in sys.modules, 'torch imported at interpreter start-up'\n"
        "import torch_tensorrt_annotation as tta\n"
        "heavy = [m for m in ('torch', 'triton', 'tensorrt', 'cutlass', 'cuda') if m in sys.modules]\n"
        "print('heavy:', heavy, tta.__version__)\n"
    )
    result = run(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stdout


def _installed():
    import importlib.metadata

    import pytest

    try:
        importlib.metadata.distribution("torch-tensorrt-annotation")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the alias is installed by the package's .pth file: pip install -e . first")


def test_torch_tensorrt_annotation_alias_is_the_same_module(tmp_path):
    _installed()
    fake = tmp_path / "site"
    (fake / "torch_tensorrt").mkdir(parents=True)
    (fake / "torch_tensorrt" / "__init__.py").write_text("LOADED = True\n")  # stands in for the real package
    code = (
        "import sys\n"
        "assert 'torch' not in sys.modules\n"
        "import torch_tensorrt.annotation as tta\n"
        "import torch_tensorrt, torch_tensorrt_annotation\n"
        "assert tta is torch_tensorrt_annotation and torch_tensorrt.annotation is tta\n"
        "from torch_tensorrt.annotation import custom_plugin\n"
        "print('ok', torch_tensorrt.LOADED)\n"
    )
    result = run(code, tmp_path, extra_path=fake)
    assert result.returncode == 0, result.stderr
    assert "ok True" in result.stdout


def test_alias_answers_only_its_own_name(tmp_path):
    fake = tmp_path / "site"
    (fake / "torch_tensorrt").mkdir(parents=True)
    (fake / "torch_tensorrt" / "__init__.py").write_text("")
    result = run("import torch_tensorrt.nothing_here", tmp_path, extra_path=fake)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_missing_backend_gives_an_install_hint(monkeypatch):
    import pytest

    from torch_tensorrt_annotation.backends.base import Backend
    from torch_tensorrt_annotation.errors import BackendUnavailableError

    class Missing(Backend):
        name, extra, module = "missing", "missing-extra", "no_such_toolchain_module"

        def toolchain_version(self):
            return ""

        def fingerprint(self, spec):
            return ""

        def record(self, *a):
            raise AssertionError

        def compile(self, *a, **k):
            raise AssertionError

    with pytest.raises(BackendUnavailableError, match=r"pip install 'torch-tensorrt-annotation\[missing-extra\]'"):
        Missing().require()


def test_start_up_hook_imports_no_other_module(tmp_path):
    """The .pth hook runs at every interpreter start: it must not pull in importlib.abc & co (~30 ms). Its cost is
    measured by benchmarks/bench_startup.py; here, that it imports nothing is checked, which cannot be flaky."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = (
        "import sys\n"
        "sys.modules.pop('_torch_tensorrt_annotation_alias', None)\n"
        "before = set(sys.modules)\n"
        f"sys.path.insert(0, {root!r})\n"
        "import _torch_tensorrt_annotation_alias as alias\n"
        "print(sorted(set(sys.modules) - before - {'_torch_tensorrt_annotation_alias'}))\n"
        "spec = alias.AliasFinder.find_spec('torch_tensorrt.annotation')\n"
        "print(spec.name, type(spec).__name__, alias.AliasFinder.find_spec('torch_tensorrt.other'))\n"
    )
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "torch_tensorrt.annotation ModuleSpec None"]
