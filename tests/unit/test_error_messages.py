"""Mistakes a new user makes: each error states the rule, what was observed and the fix, before anything runs."""

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import symbolic
from torch_tensorrt_annotation.examples.triton_examples import add_launch


def _add_plugin(configs):
    return tta.custom_plugin(tta.triton(add_launch, configs=configs), meta_impl=lambda x, y: torch.empty_like(x))


def test_a_config_without_a_required_key_names_the_key_and_the_fix():
    with pytest.raises(tta.RecordingError, match=r"lacks \['BLOCK'\].*without a default.*Fix: add \['BLOCK'\]"):
        _add_plugin([{}])


def test_an_absurd_arch_is_refused_up_front_and_a_newer_one_passes():
    with pytest.raises(tta.SpecError, match="sm_900 is not an NVIDIA GPU arch"):
        tta.Target.parse("sm_900")
    assert tta.Target.parse("sm_130").arch == 130  # newer than tta's table: left to the toolchain


def test_an_eager_extra_over_int32_names_the_tactic_and_the_fix():
    (artifact, *_) = _add_plugin([{"BLOCK": 1024}]).compile(
        torch.empty(8, device="meta"), torch.empty(8, device="meta"), arch="sm_90", ptx_isa=(9, 0))
    big = (2**31 + 64,)
    with pytest.raises(OverflowError, match=r"tactic 1, config \{'BLOCK': 1024\}.*Fix: keep every extra"):
        artifact.launch_params(symbolic.Shapes((big, big), (big,)))
    assert artifact.ptx not in repr(artifact)  # kilobytes of PTX stay out of the repr
