"""AOT compilation on CPU for sm_90: TensorRT's ABI read back from the PTX itself."""

import re
import warnings

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import ptx_parsing, symbolic
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.spec import EXTRA, INPUT, OUTPUT

from . import bad_launches as bad

EXAMPLES = ex.plugins()


@pytest.fixture(scope="module")
def compiled():
    return {name: (plugin, plugin.compile(*inputs, arch="sm_90", ptx_isa=(9, 0)))
            for name, (plugin, inputs, _ref) in EXAMPLES.items()}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_ptx_entry_has_inputs_then_extras_then_outputs_and_no_scratch(compiled, name):
    plugin, artifacts = compiled[name]
    n_in, n_out = len(plugin.schema.inputs), plugin.schema.num_outputs
    assert [a.tactic for a in artifacts] == list(range(1, len(plugin.tactics) + 1))
    for art in artifacts:
        info = ptx_parsing.parse(art.ptx)
        assert [e.name for e in info.entries] == [art.kernel_name]
        entry = info.entries[0]
        n_extra = len(art.extras)
        assert len(entry.params) == n_in + n_extra + n_out
        kinds = [p.kind for p in art.params]
        assert kinds == [INPUT] * n_in + [EXTRA] * n_extra + [OUTPUT] * n_out
        assert [p.index for p in art.params] == list(range(n_in)) + list(range(n_extra)) + list(range(n_out))
        types = [p.ptx_type for p in entry.params]
        # an int32 extra is .u32; a float attribute stays an fp32 runtime scalar (.f32, also 4 bytes)
        extra_types = [".f32" if isinstance(e, symbolic.Scalar) and e.type == "fp32" else ".u32" for e in art.extras]
        assert types == [".u64"] * n_in + extra_types + [".u64"] * n_out
        assert "scratch" not in " ".join(p.decl for p in entry.params)
        # every declared parameter is one the body reads, or an explicitly unused pointer
        for p in entry.params:
            assert ptx_parsing.is_referenced(art.ptx, entry, p)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_version_block_and_names(compiled, name):
    plugin, artifacts = compiled[name]
    for art in artifacts:
        info = ptx_parsing.parse(art.ptx)
        assert info.version <= (9, 0) and art.ptx_version == info.version
        assert info.target.startswith("sm_90")
        num_warps = dict(art.metadata)["num_warps"]
        assert info.entries[0].reqntid == (num_warps * 32,)
        assert art.block == (symbolic.Const(num_warps * 32), symbolic.Const(1), symbolic.Const(1))
    assert len({a.kernel_name for a in artifacts}) == len(artifacts)


def test_artifact_launch_params_evaluate_for_shapes_not_divisible_by_block(compiled):
    plugin, artifacts = compiled["add"]
    for art, block in zip(artifacts, (256, 1024, 4096)):
        for n in (1, 1000, 4097, 1 << 20):
            lp = art.launch_params(symbolic.Shapes(((n,), (n,)), ((n,),)))
            assert lp.grid == (-(-n // block), 1, 1)
            assert lp.extras == (n,)
    plugin, artifacts = compiled["rmsnorm"]
    lp = artifacts[0].launch_params(symbolic.Shapes(((3, 5, 777), (777,)), ((3, 5, 777),), (-2.5,)))
    assert lp.grid == (15, 1, 1) and lp.shared_mem == artifacts[0].shared_mem.value
    assert lp.extras == (777, -1071644672)  # N, then eps's IEEE-754 fp32 bits (0xc0200000) as int32
    with pytest.raises(ValueError, match="needs the value of attribute 0 .'eps'"):
        artifacts[0].launch_params(symbolic.Shapes(((3, 5, 777), (777,)), ((3, 5, 777),)))


def test_ptx_isa_is_chosen_when_compiling_never_relabelled(meta):
    plugin = EXAMPLES["add"][0]
    default = plugin.compile(meta(64), meta(64), arch="sm_90", ptx_isa=None)
    pinned = plugin.compile(meta(64), meta(64), arch="sm_90", ptx_isa=(9, 0))
    older = plugin.compile(meta(64), meta(64), arch="sm_90", ptx_isa="8.7")
    # the requested ISA is a ceiling: the toolchain's newest ISA below it, never a relabelled .version line
    assert pinned[0].ptx_version == min((9, 0), default[0].ptx_version)
    assert older[0].ptx_version == (8, 7)
    assert ptx_parsing.parse(older[0].ptx).version == (8, 7)


def test_a_config_that_fails_to_compile_is_dropped_with_a_warning(meta):
    configs = [{"BLOCK": 256}, {"BLOCK": 300}]  # tl.arange needs a power of two
    plugin = tta.custom_plugin(tta.triton(ex.add_launch, configs=configs), meta_impl=ex.add_meta)
    with pytest.warns(tta.TTAWarning, match=r"1 of 2 tactic\(s\) did not compile") as record:
        artifacts = plugin.compile(meta(1000), meta(1000), ptx_isa=(9, 0))
    assert [a.tactic for a in artifacts] == [1] and isinstance(artifacts, list)
    assert list(artifacts.dropped) == [2] and "Triton failed to compile" in artifacts.dropped[2]
    (warning,) = [w for w in record if issubclass(w.category, tta.TTAWarning)]
    assert "tactic 2" in str(warning.message) and "'BLOCK': 300" in str(warning.message)
    assert warning.filename == __file__  # points at the user's compile() call

    clean = tta.custom_plugin(tta.triton(ex.add_launch, configs=configs[:1]), meta_impl=ex.add_meta)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tta.TTAWarning)
        assert clean.compile(meta(1000), meta(1000), ptx_isa=(9, 0)).dropped == {}


def test_no_config_compiles_raises_naming_each_failure(meta):
    configs = [{"BLOCK": 300}, {"BLOCK": 100}]
    plugin = tta.custom_plugin(tta.triton(ex.add_launch, configs=configs), meta_impl=ex.add_meta)
    with pytest.raises(tta.CompileError) as info:
        plugin.compile(meta(1000), meta(1000), ptx_isa=(9, 0))
    message = str(info.value)
    assert "No tactic of op" in message and "'BLOCK': 300" in message and "'BLOCK': 100" in message


def test_kernel_that_ignores_an_input_gets_an_unused_pointer_in_its_slot(meta):
    plugin = tta.custom_plugin(tta.triton(bad.ignores_input, configs=[{"BLOCK": 256}]), meta_impl=ex.add_meta)
    (art,) = plugin.compile(meta(10), meta(10), ptx_isa=(9, 0))
    entry = ptx_parsing.parse(art.ptx).entries[0]
    assert [(p.kind, p.index) for p in art.params] == [(INPUT, 0), (INPUT, 1), (EXTRA, 0), (OUTPUT, 0)]
    assert entry.params[1].name.endswith("unused_input1")
    assert not ptx_parsing.is_referenced(art.ptx, entry, entry.params[1])


def test_dtypes_follow_the_example_inputs(meta):
    plugin = EXAMPLES["add"][0]
    for dtype, ptx_load in ((torch.float16, "b16"), (torch.bfloat16, "b16"), (torch.float32, "b32")):
        art = plugin.compile(meta(4096, dtype=dtype), meta(4096, dtype=dtype), ptx_isa=(9, 0))[1]
        assert art.input_dtypes == (str(dtype).split(".")[1],) * 2
        assert re.search(rf"ld\.global\S*\.{ptx_load}|ld\.global\.v\d\.{ptx_load}", art.ptx)


def test_artifacts_are_cached_per_signature(meta):
    plugin = EXAMPLES["add"][0]
    a = plugin.compile(meta(100), meta(100), ptx_isa=(9, 0))
    b = plugin.compile(meta(5000), meta(5000), ptx_isa=(9, 0))  # other shapes, same signature: same artifacts
    assert [x is y for x, y in zip(a, b)] == [True] * len(a)


def test_shape_dependent_constexpr_is_baked_in_and_guarded(meta):
    from tests.unit.shape_constexpr import launch, meta_impl

    plugin = tta.custom_plugin(tta.triton(launch, configs=[{}]), meta_impl=meta_impl)
    (art,) = plugin.compile(meta(8, 1000), ptx_isa=(9, 0))
    assert dict(art.constants)["BLOCK"] == 1024
    assert art.launch_params(symbolic.Shapes(((8, 1000),), ((8, 1000),))).grid == (8, 1, 1)
    with pytest.raises(ValueError, match=r"compiled under the guard `next_power_of_2\(in0.shape\[-1\]\) == 1024`"):
        art.launch_params(symbolic.Shapes(((8, 3000),), ((8, 3000),)))


def test_artifacts_are_per_rank_signature_and_refuse_other_ranks(meta):
    plugin = EXAMPLES["rmsnorm"][0]
    (rank3, *_) = plugin.compile(meta(2, 4, 64), meta(64), 1e-5, ptx_isa=(9, 0))
    (rank2, *_) = plugin.compile(meta(8, 64), meta(64), 1e-5, ptx_isa=(9, 0))
    assert rank3.input_ranks == (3, 1) and rank2.input_ranks == (2, 1) and rank3 is not rank2
    with pytest.raises(ValueError, match=r"recorded for inputs of rank \(3, 1\)"):
        rank3.launch_params(symbolic.Shapes(((8, 64), (64,)), ((8, 64),)))


def test_divisibility_specialization_vectorizes_and_is_guarded(meta):
    plugin = EXAMPLES["add"][0]
    target = tta.Target.parse("sm_90", (9, 0))
    common = dict(in_dtypes=[torch.float32] * 2, out_dtypes=[torch.float32], in_ranks=[1, 1], out_ranks=[1],
                  attrs=[])
    shapes = symbolic.Shapes(((4096,), (4096,)), ((4096,),))
    plain = plugin.compile_tactic(plugin.tactics[1], target, shapes=shapes, **common)
    special = plugin.compile_tactic(plugin.tactics[1], target, shapes=shapes, specialize_divisibility=True, **common)
    assert special.kernel_name != plain.kernel_name
    assert re.search(r"ld\.global\.v4", special.ptx) and not re.search(r"ld\.global\.v4", plain.ptx)
    special.launch_params(shapes)
    with pytest.raises(ValueError, match="guard"):
        special.launch_params(symbolic.Shapes(((4097,), (4097,)), ((4097,),)))
    odd = symbolic.Shapes(((4097,), (4097,)), ((4097,),))
    assert plugin.compile_tactic(plugin.tactics[1], target, shapes=odd, specialize_divisibility=True,
                                 **common).kernel_name == plain.kernel_name  # nothing to specialize: same artifact


def test_kernel_names_come_from_tta_not_from_tritons_cache(meta):
    """Two plugins with the same kernel and config: each artifact carries the name tta asked for, even when Triton's
    own cache already holds the same kernel under the other name."""
    a = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 512}]), meta_impl=ex.add_meta, name="one")
    b = tta.custom_plugin(tta.triton(ex.add_launch, configs=[{"BLOCK": 512}]), meta_impl=ex.add_meta, name="two")
    (art_a,) = a.compile(meta(64), meta(64), ptx_isa=(9, 0), workers=1)
    (art_b,) = b.compile(meta(64), meta(64), ptx_isa=(9, 0), workers=1)
    assert art_a.kernel_name.startswith("tta_one_t1_") and art_b.kernel_name.startswith("tta_two_t1_")
    assert f".entry {art_b.kernel_name}(" in art_b.ptx
