"""The disk cache: hits across plugin objects, corruption detected and rebuilt, concurrent writers safe."""

import multiprocessing
import os
import sys

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation import cache
from torch_tensorrt_annotation.examples import triton_examples as ex


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TTA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def new_plugin():
    return tta.custom_plugin(tta.triton(ex.add_launch, configs=ex.ADD_CONFIGS), meta_impl=ex.add_meta)


def meta(n):
    return torch.empty(n, device="meta")


def entries(root):
    return sorted(p for p in root.rglob("*.artifact"))


def test_a_new_plugin_object_gets_its_artifacts_from_disk(cache_dir, monkeypatch):
    first = new_plugin().compile(meta(100), meta(100), ptx_isa=(9, 0), workers=1)
    assert len(entries(cache_dir)) == len(first)
    from torch_tensorrt_annotation.backends import triton as triton_backend

    def no_compile(*a, **k):
        raise AssertionError("compiled although every artifact is cached")

    monkeypatch.setattr(triton_backend.TritonBackend, "compile", no_compile)
    second = new_plugin().compile(meta(100), meta(100), ptx_isa=(9, 0), workers=1)
    assert [a.ptx for a in second] == [a.ptx for a in first]
    assert [a.kernel_name for a in second] == [a.kernel_name for a in first]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_corrupt_entry_warns_is_deleted_and_rebuilt(cache_dir, damage):
    (art, *_) = new_plugin().compile(meta(100), meta(100), ptx_isa=(9, 0), workers=1)
    path = entries(cache_dir)[0]
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "flip": data[:-10] + bytes(10),
                      "garbage": b"not an artifact"}[damage])
    with pytest.warns(tta.TTAWarning, match="unusable.*rebuilding"):
        again = new_plugin().compile(meta(100), meta(100), ptx_isa=(9, 0), workers=1)
    assert {a.ptx for a in again} >= {art.ptx}
    assert len(entries(cache_dir)) == 3  # rebuilt and written again


def _write_many(args):
    root, key, value, n = args
    os.environ["TTA_CACHE_DIR"] = root
    for _ in range(n):
        cache.store(key, value)
        got = cache.load(key)
        assert got is None or got == value
    return True


def test_concurrent_writers_never_leave_a_partial_entry(cache_dir):
    value = {"payload": "x" * 200_000}
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        assert all(pool.map(_write_many, [(str(cache_dir), "k" * 64, value, 25)] * 4))
    assert cache.load("k" * 64) == value
    assert not [p for p in cache_dir.rglob("*.tmp")]


def test_cache_can_be_disabled(monkeypatch, tmp_path):
    monkeypatch.setenv("TTA_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    cache.store("a" * 64, 1)
    assert cache.load("a" * 64) is None


def test_parallel_cold_compile_equals_serial(cache_dir, monkeypatch):
    monkeypatch.setenv("TTA_CACHE_DIR", str(cache_dir / "serial"))
    serial = new_plugin().compile(meta(300), meta(300), ptx_isa=(9, 0), workers=1)
    monkeypatch.setenv("TTA_CACHE_DIR", str(cache_dir / "parallel"))
    parallel = new_plugin().compile(meta(300), meta(300), ptx_isa=(9, 0), workers=3)
    assert [(a.tactic, a.kernel_name, a.ptx) for a in parallel] == [(a.tactic, a.kernel_name, a.ptx) for a in serial]


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG layout is Linux's")
def test_default_location_is_the_platforms_user_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("TTA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "torch_tensorrt_annotation"


def test_an_unwritable_cache_warns_once_and_compiling_goes_on(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("TTA_CACHE_DIR", str(blocker))
    monkeypatch.setattr(cache, "_unwritable", set())
    with pytest.warns(tta.TTAWarning, match="could not write") as record:
        artifacts = new_plugin().compile(meta(200), meta(200), ptx_isa=(9, 0), workers=1)
    assert len(artifacts) == len(new_plugin().tactics)
    assert len([w for w in record if issubclass(w.category, tta.TTAWarning)]) == 1  # once per directory
