"""The ``xp`` idiom: every op body calls ``xp = get_array_module(x)`` and uses ``xp.exp``,
``xp.matmul``... so the same code runs on NumPy (CPU) and CuPy (GPU).

CuPy is imported lazily: nothing here touches it until a CUDA device is asked for.
"""
from __future__ import annotations

import numpy as np

from .errors import DeviceError

loaded_cupy = None    # the cupy module once imported, else None (read on the hot path of every op)
_cupy_error = None    # why importing it failed, for the error message


def _import_cupy():
    """Import CuPy on first use; remember the failure so the error can explain it."""
    global loaded_cupy, _cupy_error
    if loaded_cupy is None and _cupy_error is None:
        try:
            import cupy  # noqa: PLC0415 (lazy on purpose)

            cupy.cuda.runtime.getDeviceCount()  # raises when there is no usable GPU
            loaded_cupy = cupy
        except Exception as e:  # ImportError, CUDARuntimeError, ...
            _cupy_error = e
    return loaded_cupy


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return _import_cupy() is not None


def get_array_module(*xs):
    """Return ``cupy`` if any argument is a CuPy array (or a Tensor holding one), else ``numpy``."""
    if loaded_cupy is not None:
        for x in xs:
            data = getattr(x, "data", x)
            if isinstance(data, loaded_cupy.ndarray):
                return loaded_cupy
    return np


def is_cupy_array(a) -> bool:
    return loaded_cupy is not None and isinstance(a, loaded_cupy.ndarray)


class Device:
    """A device name: ``Device("cpu")``, ``Device("cuda")`` or ``Device("cuda:1")``.

    Compares equal to its string form, so ``t.device == "cpu"`` works.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: str | Device = "cpu", index: int | None = None):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        spec = str(spec)
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise DeviceError(f"unknown device {spec!r}: use 'cpu', 'cuda' or 'cuda:N'")
        self.type = kind
        self.index = int(idx) if idx else index
        if kind == "cuda" and self.index is None:
            self.index = 0
        if kind == "cpu":
            self.index = None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type={self.type!r}" + (f", index={self.index})" if self.index is not None else ")")

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except DeviceError:
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    @property
    def xp(self):
        """The array module for this device."""
        return np if self.type == "cpu" else require_cupy()


CPU = Device("cpu")


def require_cupy():
    """Return cupy or raise a clear error saying why CUDA is unavailable and how to fix it."""
    cp = _import_cupy()
    if cp is None:
        raise DeviceError(
            "CUDA device requested but CuPy is not usable "
            f"({type(_cupy_error).__name__}: {_cupy_error}). "
            "Install the GPU extra (`pip install gradus[gpu]`, i.e. a cupy wheel matching your CUDA) "
            "on a machine with an NVIDIA GPU, or use device='cpu'."
        )
    return cp


def device_of(a) -> Device:
    """The device an array lives on."""
    if is_cupy_array(a):
        return Device("cuda", int(a.device.id))
    return CPU


def to_device(a, device: Device):
    """Move an array to ``device`` (no copy when it is already there)."""
    if device.type == "cpu":
        return a.get() if is_cupy_array(a) else a
    cp = require_cupy()
    with cp.cuda.Device(device.index):
        return cp.asarray(a)


def as_numpy(a) -> np.ndarray:
    """Host (NumPy) copy of an array from any device."""
    return a.get() if is_cupy_array(a) else np.asarray(a)
