"""The disk cache never hands back a stale artifact: an edit of a module-level value that the launch function
reads (a grid divisor), of a `tl.constexpr` global that the kernel reads, or of a value that reaches the launch in a
way no source text shows, gives a new artifact in a fresh process that shares the cache directory."""

import json
import subprocess
import sys
import textwrap

MODULE = textwrap.dedent('''
    import types
    import torch, triton, triton.language as tl
    import torch_tensorrt_annotation as tta

    ROWS_PER_PROGRAM = __ROWS__
    SCALE: tl.constexpr = tl.constexpr(__SCALE__)
    SETTINGS = types.SimpleNamespace(num_warps=__WARPS__)   # an object: its attributes show in no source text

    @triton.jit
    def scale_kernel(x_ptr, out_ptr, n, ROWS: tl.constexpr, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * ROWS * BLOCK + tl.arange(0, BLOCK)
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * SCALE, mask=offs < n)

    def grid_rows(n, block):
        return triton.cdiv(n, block * ROWS_PER_PROGRAM)   # a helper the launch function calls

    def launch(x, out, *, BLOCK):
        n = x.numel()
        scale_kernel[(grid_rows(n, BLOCK),)](x, out, n, ROWS=ROWS_PER_PROGRAM, BLOCK=BLOCK,
                                             num_warps=SETTINGS.num_warps)

    PLUGIN = tta.custom_plugin(tta.triton(launch, configs=[{"BLOCK": 128}]), meta_impl=lambda x: torch.empty_like(x))
''')

SCRIPT = ("import json, torch, m; a = m.PLUGIN.compile(torch.empty(4096, device='meta'), arch='sm_90', "
          "ptx_isa=(9, 0), workers=1)[0]; print(json.dumps([m.PLUGIN.op_name, str(a.grid[0]), a.block[0].value, "
          "a.ptx]))")


def compile_in_fresh_process(tmp_path, cache, rows=2, scale="2.0", warps=4):
    work = tmp_path / f"r{rows}_s{scale}_w{warps}"
    work.mkdir()
    (work / "m.py").write_text(MODULE.replace("__ROWS__", str(rows)).replace("__SCALE__", scale)
                               .replace("__WARPS__", str(warps)))
    import os

    env = {**os.environ, "TTA_CACHE_DIR": str(cache), "TTA_COMPILE_WORKERS": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=work, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    op_name, grid, block, ptx = json.loads(out.stdout.strip().splitlines()[-1])
    return op_name, grid, block, ptx


def test_edited_module_values_never_come_back_from_the_disk_cache(tmp_path):
    cache = tmp_path / "cache"
    base = compile_in_fresh_process(tmp_path, cache)
    assert "256" in base[1]  # cdiv(numel, 128 * 2)

    rows = compile_in_fresh_process(tmp_path, cache, rows=4)  # the grid divisor, read through a helper
    assert "512" in rows[1] and rows[0] != base[0]

    scale = compile_in_fresh_process(tmp_path, cache, scale="3.0")  # a tl.constexpr global the kernel reads
    assert scale[0] != base[0] and scale[3] != base[3]
    assert "0f40400000" in scale[3].lower() and "0f40400000" not in base[3].lower()  # 3.0f baked into the PTX

    warps = compile_in_fresh_process(tmp_path, cache, warps=8)  # seen only by the recorded launch
    assert warps[2] == 256 and base[2] == 128


LIMIT = 64
TABLE = {"a": (1, 2.5), "b": None}


def _helper(n):
    return n // LIMIT


def test_global_values_follow_user_helpers_and_closures_but_not_libraries():
    import math

    from torch_tensorrt_annotation.sources import global_values

    factor = 3

    def launch(x):
        return _helper(x) * factor + len(TABLE) + math.floor(x)

    values = global_values(launch)
    name = __name__
    assert f"{name}.LIMIT=64" in values  # read by the helper
    assert f"{name}.factor=3" in values  # a closure cell
    assert any(v.startswith(f"{name}.TABLE={{") for v in values)
    assert not any("math" in v for v in values)  # a library module: not followed, not hashed


def test_plan_fingerprint_covers_grid_arguments_and_options(meta):
    import torch_tensorrt_annotation as tta
    from torch_tensorrt_annotation.examples import triton_examples as ex

    plugin = tta.custom_plugin(tta.triton(ex.add_launch, configs=ex.ADD_CONFIGS), meta_impl=ex.add_meta)
    plans = [plugin.plan(t, [meta(1).dtype] * 2, [1, 1], [meta(1).dtype], [1], ()) for t in plugin.tactics]
    texts = [p.fingerprint() for p in plans]
    assert texts[0] != texts[1] and all("numel" in t and "num_warps" in t for t in texts)
    assert texts[0] == plugin.plan(plugin.tactics[0], [meta(1).dtype] * 2, [1, 1], [meta(1).dtype], [1],
                                   ()).fingerprint()
