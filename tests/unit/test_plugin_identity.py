"""Op names: deterministic across processes, sensitive to every source of the compiled kernel."""

import json
import subprocess
import sys
import textwrap

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as ex

MODULE = textwrap.dedent('''
    import torch, triton, triton.language as tl
    import torch_tensorrt_annotation as tta

    @triton.jit
    def k(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * SCALE, mask=offs < n)

    def launch(x, out, *, BLOCK):
        k[(triton.cdiv(x.numel(), BLOCK),)](x, out, x.numel(), BLOCK=BLOCK)

    PLUGIN = tta.custom_plugin(tta.triton(launch, configs=CONFIGS), meta_impl=lambda x: torch.empty_like(x))
''')


def op_name_in_subprocess(tmp_path, scale="2.0", configs='[{"BLOCK": 128}]', name="m1"):
    src = MODULE.replace("SCALE", scale).replace("CONFIGS", configs)
    (tmp_path / f"{name}.py").write_text(src)
    out = subprocess.run(
        [sys.executable, "-c", f"import {name}, json; print(json.dumps({name}.PLUGIN.op_name))"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "random",
                                                                       **_env()},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}


def test_op_name_is_equal_in_two_processes_and_changes_with_sources_and_configs(tmp_path):
    for sub in "abcd":
        (tmp_path / sub).mkdir()
    first = op_name_in_subprocess(tmp_path / "a")
    second = op_name_in_subprocess(tmp_path / "b")  # another directory, another process, another hash seed
    assert first == second and first.startswith("tta::launch_")
    assert op_name_in_subprocess(tmp_path / "c", scale="3.0") != first  # kernel source changed
    assert op_name_in_subprocess(tmp_path / "d", configs='[{"BLOCK": 256}]') != first  # config changed


def test_op_name_changes_with_meta_impl_and_name():
    spec = tta.triton(ex.add_launch, configs=ex.ADD_CONFIGS)
    a = tta.custom_plugin(spec, meta_impl=ex.add_meta)
    b = tta.custom_plugin(spec, meta_impl=lambda x, y: torch_empty_like(x))
    c = tta.custom_plugin(spec, meta_impl=ex.add_meta, name="my_add")
    assert a.op_name == tta.custom_plugin(spec, meta_impl=ex.add_meta).op_name
    assert len({a.op_name, b.op_name, c.op_name}) == 3
    assert c.op_name.startswith("tta::my_add_")


def torch_empty_like(x):  # referenced by a meta_impl above
    import torch

    return torch.empty_like(x)


def test_tactics_are_numbered_over_specs_then_configs():
    s1 = tta.triton(ex.add_launch, configs=ex.ADD_CONFIGS)
    s2 = tta.triton(ex.add_launch, configs=[{"BLOCK": 64}], name="small")
    plugin = tta.custom_plugin([s1, s2], meta_impl=ex.add_meta)
    assert [(t.number, t.spec.name, dict(t.config)) for t in plugin.tactics] == [
        (1, "add_launch", ex.ADD_CONFIGS[0]),
        (2, "add_launch", ex.ADD_CONFIGS[1]),
        (3, "add_launch", ex.ADD_CONFIGS[2]),
        (4, "small", {"BLOCK": 64}),
    ]


def test_decorator_forms_work_bare_and_called():
    @tta.triton
    def launch_default(x, y, out, *, BLOCK=256):
        ex.add_launch(x, y, out, BLOCK=BLOCK)

    @tta.triton(configs=[{"BLOCK": 512}])
    def launch_512(x, y, out, *, BLOCK):
        ex.add_launch(x, y, out, BLOCK=BLOCK)

    @tta.custom_plugin([launch_default, launch_512])
    def plugin(x, y):
        return torch_empty_like(x)

    assert [dict(t.config) for t in plugin.tactics] == [{}, {"BLOCK": 512}]


def test_op_names_do_not_depend_on_tritons_own_library_sources():
    """rmsnorm calls tl.sum (itself a @triton.jit function): its source must not enter the op name, or the name
    would change with the Triton version."""
    from torch_tensorrt_annotation.backends.triton import TritonBackend

    spec = tta.triton(ex.rmsnorm_launch, configs=ex.RMSNORM_CONFIGS)
    text = TritonBackend().fingerprint(spec)
    assert "def rmsnorm_kernel" in text and "def rmsnorm_launch" in text
    assert "def sum(" not in text and text.count("----") == 1
