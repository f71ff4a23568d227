"""Dtype names as in PyTorch (``gradus.float32``, ``gradus.int64``, ``gradus.bool``...).

They are plain NumPy dtypes, so NumPy dtypes and strings are accepted wherever a dtype is.
"""
import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")  # noqa: A001 (PyTorch name)
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")  # noqa: A001
int64 = long = np.dtype("int64")
bool = np.dtype("bool")  # noqa: A001
complex64 = np.dtype("complex64")
complex128 = cdouble = np.dtype("complex128")

_default_float = np.dtype("float32")

__all__ = ["float16", "half", "float32", "float", "float64", "double", "int8", "uint8", "int16", "short",
           "int32", "int", "int64", "long", "bool", "complex64", "complex128", "cdouble"]


def get_default_dtype():
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the dtype Python floats become (float32 unless changed; gradchecks use float64)."""
    global _default_float
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float = d


def to_dtype(dtype):
    """Normalise a dtype given as gradus/NumPy dtype, type or string (``"float32"``, ``"long"``)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        aliases = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                   "int": "int32", "short": "int16", "bool": "bool"}
        dtype = aliases.get(dtype.removeprefix("gradus.").removeprefix("torch."), dtype)
    return np.dtype(dtype)


def is_floating(dtype) -> "bool":
    return np.dtype(dtype).kind == "f"


def dtype_name(dtype) -> str:
    return f"gradus.{np.dtype(dtype).name}"
