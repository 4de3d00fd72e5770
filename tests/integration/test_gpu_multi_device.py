"""On a host with two or more GPUs: ops launch on the tensors' device whatever the current device is, from several
threads at once, under CUDA graph capture and under torch.compile. Skipped with fewer than two GPUs."""

import threading

import pytest
import torch

import torch_tensorrt_annotation as tta
from torch_tensorrt_annotation.examples import triton_examples as ex
from torch_tensorrt_annotation.torch_op import eager_runner

from .gpu_cases import check_compiled, check_graph_replay, close

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available() or torch.cuda.device_count() < 2,
                       reason="needs two or more CUDA GPUs"),
]


@pytest.fixture(scope="module")
def ops():
    plugins = ex.plugins()
    return {name: (tta.custom_op(f"ttamd::{name}", impl=p), ref) for name, (p, _, ref) in plugins.items()}


@pytest.fixture(autouse=True)
def current_device_zero():
    previous = torch.cuda.current_device()
    torch.cuda.set_device(0)
    yield
    torch.cuda.set_device(previous)


def test_op_on_the_second_gpu_while_the_first_is_current(ops):
    dev = torch.device("cuda:1")
    for dtype in (torch.float32, torch.float16):
        op, ref = ops["add"]  # several tactics: the first call autotunes on cuda:1
        for n in (1, 4097, 1 << 20):
            x, y = torch.randn(n, device=dev, dtype=dtype), torch.randn(n, device=dev, dtype=dtype)
            close(op(x, y), ref(x, y), dtype)
    op, ref = ops["rmsnorm"]
    x, w = torch.randn(4, 8, 1000, device=dev), torch.randn(1000, device=dev)
    close(op(x, w, 1e-5), ref(x, w, 1e-5))
    op, ref = ops["sum_diff"]
    a, b = torch.randn(3001, device=dev), torch.randn(3001, device=dev)
    close(op(a, b), ref(a, b))
    torch.cuda.synchronize(dev)
    assert torch.cuda.current_device() == 0  # the op left the current device alone
    # the same op, same shapes, now on cuda:0: its own module and prepared launch
    x0, y0 = torch.randn(4097, device="cuda:0"), torch.randn(4097, device="cuda:0")
    close(ops["add"][0](x0, y0), x0 + y0)


def test_a_cuda_cpp_kernel_on_the_second_gpu():
    pytest.importorskip("cuda.bindings.nvrtc", reason="needs the nvrtc extra")
    from torch_tensorrt_annotation.examples import cuda_examples

    plugin = cuda_examples.plugins()["cuda_add"]
    op = tta.custom_op("ttamd::cuda_add", impl=plugin)
    x, y = torch.randn(5000, device="cuda:1"), torch.randn(5000, device="cuda:1")
    close(op(x, y), x + y)
    report = tta.check(plugin, x, y)  # the backend's own launcher (the reference) also runs on cuda:1
    assert report.ok, str(report)


def test_two_gpus_at_once_from_two_threads(ops):
    op, ref = ops["rmsnorm"]
    errors, done = [], []
    start = threading.Barrier(2)

    def work(index):
        try:
            dev = torch.device("cuda", index)  # thread 1's current device stays cuda:0
            gen = torch.Generator(device=dev).manual_seed(index)
            x = torch.randn(8, 4097, device=dev, generator=gen)
            w = torch.randn(4097, device=dev, generator=gen)
            expected = ref(x, w, 1e-5)
            start.wait()
            for _ in range(300):
                out = op(x, w, 1e-5)
            torch.cuda.synchronize(dev)
            close(out, expected)
            done.append(index)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append((index, exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(done) == [0, 1]


def test_cuda_graph_capture_and_replay_on_the_second_gpu(ops):
    check_graph_replay(*ops["rmsnorm"], torch.device("cuda:1"))  # captured on cuda:1, replayed with cuda:0 current


def test_torch_compile_fullgraph_on_the_second_gpu(ops):
    check_compiled(ops["rmsnorm"][0], torch.device("cuda:1"))


def test_each_device_keeps_its_own_tactic_choice(ops):
    op, _ = ops["add"]
    x1 = torch.randn(1 << 16, device="cuda:1")
    op(x1, x1)
    runner = eager_runner("ttamd::add")
    assert runner.chosen_tactic(x1, x1) is not None
    x0 = x1.to("cuda:0")
    assert runner.chosen_tactic(x0, x0) is None  # not prepared on cuda:0 yet: prepared launches are per device
    torch.testing.assert_close(op(x0, x0).cpu(), (x1 + x1).cpu())


def test_inputs_on_two_devices_are_a_clear_error(ops):
    op, ref = ops["add"]
    x, y = torch.ones(64, device="cuda:0"), torch.ones(64, device="cuda:1")
    with pytest.raises(RuntimeError, match=r"inputs on different devices \(cuda:0 and cuda:1\).*Fix: move"):
        op(x, y)
    torch.testing.assert_close(op(x, y.to("cuda:0")), ref(x, y.to("cuda:0")))  # the process and the op still work
