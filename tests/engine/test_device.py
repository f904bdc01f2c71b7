"""engine.device: where torch runs, CUDA's presence, the editor's CPU threads, dtypes."""

from __future__ import annotations

import pytest

from engine import device as devices
from engine.api import EngineError
from engine.config import EngineConfig


def test_cpu_thread_count_leaves_a_core_unless_the_user_chose():
    cpu_thread_count = devices.cpu_thread_count
    assert cpu_thread_count(8, {}) == 7
    assert cpu_thread_count(1, {}) == 1 and cpu_thread_count(None, {}) >= 1
    assert cpu_thread_count(8, {"OMP_NUM_THREADS": "4"}) is None  # the user's choice stands
    assert cpu_thread_count(8, {"BRUSHEDIT_THREADS": "3", "OMP_NUM_THREADS": "4"}) == 3
    assert cpu_thread_count(8, {"BRUSHEDIT_THREADS": "many"}) == 7


@pytest.mark.parametrize("cuda", [False, True])
def test_the_device_follows_the_configuration_and_the_card(monkeypatch, cuda):
    monkeypatch.setattr(devices, "cuda_available", lambda: cuda)
    auto, cpu = EngineConfig(device="auto"), EngineConfig(device="cpu")
    assert devices.resolve_device(auto) == devices.pick_device(auto) == ("cuda" if cuda else "cpu")
    assert devices.resolve_device(cpu) == devices.pick_device(cpu) == "cpu"
    assert devices.wants_cuda(auto) is cuda and devices.wants_cuda(cpu) is False
    assert devices.has_usable_device(cpu) and devices.has_usable_device(auto) is cuda
    if cuda:
        assert devices.pick_device(EngineConfig(device="cuda")) == "cuda"
    else:
        with pytest.raises(EngineError) as err:
            devices.pick_device(EngineConfig(device="cuda"))
        assert err.value.kind == "no-device"


def test_no_driver_means_no_cuda_without_importing_torch(monkeypatch):
    import sys

    monkeypatch.setattr(devices, "_no_nvidia_driver", lambda: True)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert devices.cuda_available() is False
    assert "torch" not in sys.modules


def test_dtypes_by_name():
    torch = pytest.importorskip("torch")
    assert devices.torch_dtype(None) is None
    assert devices.torch_dtype("float16") is torch.float16
    assert devices.torch_dtype("bfloat16") is torch.bfloat16 and devices.torch_dtype("float32") is torch.float32
    with pytest.raises(KeyError):
        devices.torch_dtype("int8")


def test_the_old_homes_still_answer():
    from engine import dispatch
    from engine.server import workers

    assert dispatch.cuda_available is devices.cuda_available and dispatch.cpu_thread_count is devices.cpu_thread_count
    assert workers.resolve_device is devices.resolve_device
    assert dispatch.EngineConfig is EngineConfig
