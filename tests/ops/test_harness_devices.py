"""The harness's device check (``OpCase.check_cuda``) tested where no GPU is: CPU against CPU it must
pass, and it must catch an op whose result or gradient depends on the device it runs on."""
from __future__ import annotations

import numpy as np
import pytest

import gradus

from .harness import OpCase, normal
from .test_elementwise import CASES


@pytest.mark.parametrize("case", CASES[::25], ids=[str(c) for c in CASES[::25]])
def test_device_check_passes_cpu_against_cpu(case):
    case.check_cuda("cpu")


def test_device_check_catches_a_device_dependent_result():
    calls = []

    def fn(x):                      # the second run (the "device" run) is off by a little
        calls.append(1)
        return x * (1.0 if len(calls) == 1 else 1.0 + 1e-6)

    case = OpCase("drifting", fn, lambda x: x, ((3,),), (normal,))
    with pytest.raises(AssertionError, match="drifting"):
        case.check_cuda("cpu")
    assert isinstance(gradus.tensor(np.ones(2)).data, np.ndarray)
