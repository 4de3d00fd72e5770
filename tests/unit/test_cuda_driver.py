"""The driver wrapper and the launch path, on CPU: parameter storage in TensorRT's order, and the choice of CUDA
context. The CUDA driver is replaced at its seam (`cuda_driver.api()`, the cuda-bindings driver module) by a model
that keeps a per-thread context stack and answers cuLaunchKernel as the driver does: CUDA_ERROR_INVALID_CONTEXT
with no current context, CUDA_ERROR_INVALID_HANDLE for a function of another context."""

import ctypes
import struct
import threading
import types

import pytest

from torch_tensorrt_annotation import cuda_driver, launcher, symbolic
from torch_tensorrt_annotation.examples import triton_examples as ex

driver_types = pytest.importorskip("cuda.bindings.driver", reason="needs cuda-bindings (the driver's types)")
CUresult = driver_types.CUresult


class FakeDriver:
    """cuda.bindings.driver as far as tta uses it: devices 0 and 1, their primary contexts 100 + i, functions
    loaded into a context (handle = context * 1000 + n), a per-thread stack of current contexts."""

    def __init__(self):
        self.local = threading.local()
        self.launches = []
        self.CUstream = driver_types.CUstream
        self.CUresult = CUresult

    def stack(self):
        if not hasattr(self.local, "stack"):
            self.local.stack = []
        return self.local.stack

    def cuDeviceGet(self, ordinal):
        return (CUresult.CUDA_SUCCESS, ordinal)

    def cuDevicePrimaryCtxRetain(self, device):
        return (CUresult.CUDA_SUCCESS, 100 + device)

    def cuCtxPushCurrent(self, ctx):
        self.stack().append(ctx)
        return (CUresult.CUDA_SUCCESS,)

    def cuCtxPopCurrent(self):
        return (CUresult.CUDA_SUCCESS, self.stack().pop())

    def cuCtxSetCurrent(self, ctx):
        stack = self.stack()
        if stack:
            stack[-1] = ctx
        else:
            stack.append(ctx)
        return (CUresult.CUDA_SUCCESS,)

    def cuLaunchKernel(self, f, gx, gy, gz, bx, by, bz, shared, stream, params, extra):
        # cuda-bindings takes the `void**` arrays as integer addresses: None is a TypeError there, as here
        if not isinstance(params, int) or not isinstance(extra, int):
            raise TypeError("an integer is required")
        stack = self.stack()
        if not stack:
            return (CUresult.CUDA_ERROR_INVALID_CONTEXT,)
        if f // 1000 != stack[-1]:
            return (CUresult.CUDA_ERROR_INVALID_HANDLE,)
        assert isinstance(params, int) and extra == 0  # the address of a prebuilt void** array; no extra
        self.launches.append((f, (gx, gy, gz), (bx, by, bz), shared, int(stream), params))
        return (CUresult.CUDA_SUCCESS,)


@pytest.fixture
def fake(monkeypatch):
    drv = FakeDriver()
    monkeypatch.setattr(cuda_driver, "_api", drv)
    monkeypatch.setattr(cuda_driver, "_contexts", {})
    monkeypatch.setattr(launcher, "load", lambda artifact, device: (100 + device) * 1000 + 1)
    current = types.SimpleNamespace(device=0)
    monkeypatch.setattr(launcher, "_current_device_getter", lambda: (lambda: current.device))
    drv.current = current
    return drv


def read_params(address, formats):
    """What the kernel would receive: follow each pointer of the void** array and read the value it points to."""
    pointers = (ctypes.c_uint64 * len(formats)).from_address(address)
    return [struct.unpack("<" + f, ctypes.string_at(p, struct.calcsize(f)))[0] for p, f in zip(pointers, formats)]


def test_kernel_params_follow_the_slot_order_and_check_ranges():
    params = cuda_driver.KernelParams("QQif", order=[0, 2, 3, 1])
    params.write(0, [0x7F0000001000, 0xABC, -5, 1.5])
    assert read_params(params.address, "QifQ") == [0x7F0000001000, -5, 1.5, 0xABC]
    with pytest.raises(cuda_driver.LaunchError, match=r"parameter 2 = 4294967296 does not fit an int32"):
        params.write(2, [2**32])


def test_prepared_launch_packs_inputs_extras_outputs_in_tensorrt_order(fake, meta):
    plugin = ex.plugins()["scale2d"][0]
    (art, _) = plugin.compile(meta(100, 300), ptx_isa=(9, 0))
    prepared = launcher.PreparedLaunch(art, symbolic.Shapes(((100, 300),), ((100, 300),)), 0)
    assert prepared.grid == (4, 10, 1) and prepared.block == (128, 1, 1)
    prepared([0x1000], [0x2000], 77)
    (launch,) = fake.launches
    assert launch[:5] == (100_001, (4, 10, 1), (128, 1, 1), 0, 77)
    # x, M, N, stride_xm, stride_om, out: what the kernel reads, through the void** array
    assert read_params(launch[5], "QiiiiQ") == [0x1000, 100, 300, 300, 300, 0x2000]
    prepared([0x3000], [0x4000], 77)  # a second call rewrites only the pointers
    assert read_params(fake.launches[1][5], "QiiiiQ") == [0x3000, 100, 300, 300, 300, 0x4000]
    assert fake.stack() == [100]  # the thread had no context: the current device's primary one was made current


def test_tensors_on_another_device_than_the_current_launch_in_their_context(fake, meta):
    plugin = ex.plugins()["add"][0]
    art = plugin.compile(meta(8), meta(8), ptx_isa=(9, 0))[0]
    prepared = launcher.PreparedLaunch(art, symbolic.Shapes(((8,), (8,)), ((8,),)), 1)
    fake.cuCtxSetCurrent(100)  # current device: 0
    prepared([1, 2], [3], 5)
    assert fake.launches[-1][0] == 101_001 and fake.stack() == [100]  # launched in cuda:1's context, then restored
    fake.current.device = 1
    fake.cuCtxSetCurrent(101)
    prepared([1, 2], [3], 5)
    assert len(fake.launches) == 2 and fake.stack() == [101]


def test_a_foreign_context_current_on_the_same_device_is_worked_around(fake, meta):
    plugin = ex.plugins()["add"][0]
    art = plugin.compile(meta(8), meta(8), ptx_isa=(9, 0))[0]
    prepared = launcher.PreparedLaunch(art, symbolic.Shapes(((8,), (8,)), ((8,),)), 0)
    fake.cuCtxSetCurrent(555)  # e.g. a context another library created on device 0
    prepared([1, 2], [3], 5)
    assert len(fake.launches) == 1 and fake.stack() == [555]


def test_launch_errors_name_the_kernel_device_and_error(fake, meta, monkeypatch):
    plugin = ex.plugins()["add"][0]
    art = plugin.compile(meta(8), meta(8), ptx_isa=(9, 0))[0]
    monkeypatch.setattr(fake, "cuLaunchKernel", lambda *a: (CUresult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES,))
    prepared = launcher.PreparedLaunch(art, symbolic.Shapes(((8,), (8,)), ((8,),)), 0)
    with pytest.raises(cuda_driver.LaunchError, match=rf"cuLaunchKernel\({art.kernel_name}.*cuda:0 failed: "
                                                      r"CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES") as info:
        prepared([1, 2], [3], 5)
    assert info.value.code == 701


def test_two_threads_two_devices(fake, meta):
    plugin = ex.plugins()["add"][0]
    art = plugin.compile(meta(8), meta(8), ptx_isa=(9, 0))[0]
    prepared = [launcher.PreparedLaunch(art, symbolic.Shapes(((8,), (8,)), ((8,),)), i) for i in (0, 1)]
    errors = []

    def work(i):
        try:
            for _ in range(200):
                prepared[i]([1 + i, 2], [3], 0)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(fake.launches) == 400
    assert {launch[0] for launch in fake.launches} == {100_001, 101_001}


def test_empty_grid_launches_nothing_and_needs_no_driver(meta, monkeypatch):
    monkeypatch.setattr(cuda_driver, "api", lambda: pytest.fail("the driver was touched"))
    plugin = ex.plugins()["add"][0]
    art = plugin.compile(meta(8), meta(8), ptx_isa=(9, 0))[0]
    prepared = launcher.PreparedLaunch(art, symbolic.Shapes(((0,), (0,)), ((0,),)), 0)
    assert prepared.empty
    prepared([1, 2], [3], 0)


def test_no_driver_library_is_a_launch_error_and_no_version(monkeypatch):
    monkeypatch.setattr(cuda_driver, "_api", None)
    try:
        driver_types.cuDriverGetVersion()
        pytest.skip("a CUDA driver is present here")
    except RuntimeError:
        pass
    with pytest.raises(cuda_driver.LaunchError, match="No CUDA driver library"):
        cuda_driver.api()
    cuda_driver.driver_version.cache_clear()
    assert cuda_driver.driver_version() is None and cuda_driver.driver_ptx_isa() is None


def test_ptx_isa_table():
    assert cuda_driver.ptx_isa_for_cuda(13000) == (9, 0)
    assert cuda_driver.ptx_isa_for_cuda(12080) == (8, 7)
    assert cuda_driver.ptx_isa_for_cuda(12090) == (8, 8)
