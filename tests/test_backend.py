"""backend: the xp idiom and devices (CPU here; CUDA paths only raise clear errors without CuPy)."""
import numpy as np
import pytest

import gradus
from gradus import backend
from gradus.errors import DeviceError


def test_get_array_module_is_numpy_for_cpu_data():
    assert backend.get_array_module(np.ones(2)) is np
    assert backend.get_array_module(gradus.ones(2), 3.0) is np
    assert gradus.get_array_module() is np


def test_device_parsing_and_equality():
    assert gradus.device("cpu") == "cpu" and gradus.Device("cpu").index is None
    d = gradus.Device("cuda")
    assert d.type == "cuda" and d.index == 0 and d == "cuda:0" and str(d) == "cuda:0"
    assert gradus.Device("cuda:1") != d and gradus.Device(d) == d
    assert repr(gradus.Device("cuda:1")) == "device(type='cuda', index=1)"
    assert len({gradus.Device("cpu"), gradus.Device("cpu")}) == 1
    assert gradus.Device("cpu") != "not a device"
    with pytest.raises(DeviceError, match="unknown device 'gpu'"):
        gradus.Device("gpu")


def test_cpu_transfers_are_no_ops():
    a = np.ones(3)
    assert backend.to_device(a, gradus.Device("cpu")) is a
    assert backend.as_numpy(a) is a
    assert backend.device_of(a) == "cpu"


def test_without_cupy_cuda_is_unavailable_with_a_clear_error():
    if gradus.cuda_is_available():
        pytest.skip("a GPU is available here")
    assert not backend.is_cupy_array(np.ones(2))
    with pytest.raises(DeviceError, match=r"CuPy is not usable.*pip install gradus\[gpu\]"):
        backend.require_cupy()
    with pytest.raises(DeviceError, match="CuPy"):
        _ = gradus.Device("cuda").xp
