"""benchmarks/breakdown.py: py-spy samples sorted into GEMM, copies, elementwise, ... by their stacks."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import breakdown  # noqa: E402

STEP = "<module> (<string>:2);_train_step.<locals>.step (workloads.py:221)"


@pytest.mark.parametrize("leaf, expected", [
    ("F.linear (gradus/functional/linear.py:38);array_matmul (_multiarray_umath.so);"
     "sgemm_kernel_HASWELL (libopenblas.so)", "GEMM"),
    ("im2col_array (gradus/functional/window.py:223);PyArray_AssignArray (_multiarray_umath.so);"
     "raw_array_assign_array (_multiarray_umath.so)", "copies"),
    ("relu (gradus/ops/elementwise.py:588);ufunc_generic_fastcall (_umath.so);FLOAT_maximum_AVX2 (_umath.so)",
     "elementwise"),
    ("sum (gradus/ops/reduce.py:10);PyUFunc_Reduce (_umath.so);FLOAT_add (_umath.so)", "reductions"),
    ("zeros (gradus/creation.py:80);PyDataMem_UserNEW (_multiarray_umath.so);malloc (libc.so.6)",
     "allocation"),
    ("Function.apply (gradus/autograd/function.py:221)", "Python overhead"),
    ("Function.apply (gradus/autograd/function.py:221);gc_collect_main (libpython3.11.so.1.0)",
     "Python overhead"),
    ("x (gradus/tensor.py:1);PyArray_DescrFromType (_multiarray_umath.so)", "other"),
])
def test_classify(leaf, expected):
    assert breakdown.classify(f"{STEP};{leaf}".split(";")) == expected


def test_parse_raw_counts_only_samples_inside_the_step():
    raw = "\n".join([
        f"{STEP};a (x.py:1);sgemm_kernel (libopenblas.so) 30",
        f"{STEP};b (x.py:2) 10",
        "<module> (<string>:1);_find_and_load (<frozen importlib._bootstrap>:1) 99",      # the imports
    ])
    assert breakdown.parse_raw(raw) == {"GEMM": 30, "Python overhead": 10}
