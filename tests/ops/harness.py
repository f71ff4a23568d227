"""Op-test harness in the style of Chainer's ``FunctionTestCase``.

An op case declares its inputs (a shape and a value generator per input), the gradus function and
the expected NumPy forward. ``op_tests(CASES)`` turns a list of cases into four tests:

- ``test_forward``: float32 and float64 outputs against NumPy (values, exact shape, dtype, and
  ``.data`` an ndarray, never a NumPy scalar);
- ``test_backward``: float64 ``gradus.autograd.gradcheck`` (central differences), plus a float32
  backward whose gradients must have each input's shape and dtype;
- ``test_double_backward``: ``gradgradcheck``, unless the case is marked ``order=1``
  (once-differentiable) or ``order=0`` (not differentiable: forward only);
- ``test_cuda``: every case again on the GPU (CuPy arrays, float64), outputs and input gradients
  against the CPU run of the same case; one test per module, skipped with the reason where no CUDA
  GPU is usable (CuPy missing, or no device).

Generators keep random inputs away from non-differentiable points (|x| near 0 for abs, ties for
max, bounds for clamp), since central differences with eps = 1e-6 must not straddle a kink.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import gradus
from gradus.autograd import gradcheck, gradgradcheck


# -- value generators: (rng, shape) -> float64 array ------------------------------------------
def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    """In [0.5, 2]: domain of log, sqrt, fractional powers."""
    return rng.uniform(0.5, 2.0, shape)


def nonzero(rng, shape):
    """|x| in [0.3, 1.5] with a random sign: away from the kink of abs/relu/sign and from 1/0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 1.5, shape)


def distinct(rng, shape):
    """All values at least 0.2 apart: no ties for max/min/argmax, whatever the reduction."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.25 - 0.125 * n + rng.uniform(-0.02, 0.02, n)).reshape(shape)


def with_zeros(rng, shape):
    """Nonzero values with about a third of them exactly 0 (prod's special case)."""
    x = nonzero(rng, shape)
    x[rng.random(shape) < 0.35] = 0.0
    return x


def unit(rng, shape):
    """In (-0.5, 2): domain of log1p."""
    return rng.uniform(-0.5, 2.0, shape)


# -- the case ------------------------------------------------------------------------------
@dataclass
class OpCase:
    name: str
    fn: Callable           # gradus: fn(*tensors) -> Tensor | tuple
    ref: Callable          # NumPy:  ref(*float64 arrays) -> array | tuple
    shapes: tuple          # one shape per input
    gens: tuple            # one generator per input
    order: int = 2         # 2: check double backward, 1: once differentiable, 0: not differentiable
    rtol32: float = 2e-5
    atol32: float = 1e-6
    seed: int = 0
    diff: tuple = field(default=None)  # which inputs require grad (default: all)

    def __str__(self) -> str:
        return f"{self.name}[{','.join('x'.join(map(str, s)) or '0d' for s in self.shapes)}]"

    def arrays(self) -> list:
        rng = np.random.default_rng(self.seed)
        return [g(rng, s) for g, s in zip(self.gens, self.shapes)]

    def tensors(self, dtype, requires_grad: bool) -> list:
        diff = self.diff or (True,) * len(self.shapes)
        return [gradus.tensor(a.astype(dtype), requires_grad=requires_grad and d)
                for a, d in zip(self.arrays(), diff)]

    # -- the three checks ---------------------------------------------------------------------
    def check_forward(self) -> None:
        for dtype in (np.float64, np.float32):
            arrays = [a.astype(dtype).astype(np.float64) for a in self.arrays()]  # same values as fed
            expected = _as_list(self.ref(*arrays))
            with gradus.no_grad():
                got = _as_list(self.fn(*self.tensors(dtype, False)))
            assert len(got) == len(expected), f"{self}: {len(got)} outputs, expected {len(expected)}"
            for k, (y, e) in enumerate(zip(got, expected)):
                e = np.asarray(e)
                assert isinstance(y, gradus.Tensor), f"{self}: output {k} is {type(y).__name__}"
                assert isinstance(y.data, np.ndarray), f"{self}: output {k} data is {type(y.data).__name__}"
                assert y.shape == e.shape, f"{self}: output {k} shape {y.shape}, expected {e.shape}"
                if e.dtype.kind == "f":
                    assert y.dtype == dtype, f"{self}: output {k} dtype {y.dtype} for {np.dtype(dtype)}"
                    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (self.rtol32, self.atol32)
                    np.testing.assert_allclose(y.numpy(), e, rtol=rtol, atol=atol,
                                               err_msg=f"{self} output {k}")
                else:
                    np.testing.assert_array_equal(y.numpy(), e, err_msg=f"{self} output {k}")

    def check_backward(self) -> None:
        xs = self.tensors(np.float64, True)
        assert gradcheck(self.fn, xs, eps=1e-6, atol=1e-6, rtol=1e-4)
        # the engine's invariants in float32: each gradient has its input's shape and dtype
        xs = self.tensors(np.float32, True)
        outs = [y for y in _as_list(self.fn(*xs)) if y.requires_grad]
        if not outs:
            return
        loss = sum((y * gradus.tensor(np.cos(np.arange(y.numel())).reshape(y.shape), dtype=y.dtype)).sum()
                   for y in outs)
        loss.backward()
        for k, x in enumerate(xs):
            if x.requires_grad and x.grad is not None:
                assert x.grad.shape == x.shape, f"{self}: grad {k} shape {x.grad.shape} != {x.shape}"
                assert x.grad.dtype == x.dtype, f"{self}: grad {k} dtype {x.grad.dtype} != {x.dtype}"

    def check_double_backward(self) -> None:
        assert gradgradcheck(self.fn, self.tensors(np.float64, True), eps=1e-6, atol=1e-6, rtol=1e-4)

    def check_cuda(self, device: str = "cuda") -> None:
        """The case on CuPy arrays: outputs stay on the GPU and equal the CPU's, so do the gradients.
        (``device="cpu"`` runs the same comparison CPU against CPU: the check's own test.)"""
        def run(device):
            xs = [t.to(device) for t in self.tensors(np.float64, False)]
            diff = self.diff or (True,) * len(xs)
            for x, d in zip(xs, diff):
                x.requires_grad = bool(d) and self.order >= 1
            outs = _as_list(self.fn(*xs))
            grads = []
            graded = [y for y in outs if y.requires_grad]
            if graded:
                sum((y * y.detach()).sum() for y in graded).backward()
                grads = [x.grad for x in xs]
            return outs, grads

        cpu_outs, cpu_grads = run("cpu")
        gpu_outs, gpu_grads = run(device)
        for k, (a, b) in enumerate(zip(cpu_outs, gpu_outs)):
            assert str(b.device).startswith(device), f"{self}: output {k} is on {b.device}"
            np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{self} output {k} on {device}")
        for k, (a, b) in enumerate(zip(cpu_grads, gpu_grads)):
            assert (a is None) == (b is None), f"{self}: gradient {k} exists on one device only"
            if a is not None:
                np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), rtol=1e-10, atol=1e-12,
                                           err_msg=f"{self} gradient {k} on {device}")


def _as_list(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def op(name, fn, ref, shapes, gen=normal, order: int = 2, **kw) -> list:
    """Cases of one op over several input-shape combinations.

    ``shapes``: a list whose entries are one shape (unary ops) or a tuple of shapes (one per input).
    ``gen``: a generator, or a tuple with one generator per input.
    """
    cases = []
    for s in shapes:
        s = (s,) if (len(s) == 0 or isinstance(s[0], int)) else tuple(s)
        gens = gen if isinstance(gen, tuple) else (gen,) * len(s)
        cases.append(OpCase(name, fn, ref, s, gens, order=order, **kw))
    return cases


def op_tests(cases):
    """The four tests for ``cases`` (assign them to module-level ``test_*`` names)."""
    ids = [str(c) for c in cases]
    assert len(set(ids)) == len(ids), "duplicate case ids: " + str(sorted(i for i in ids if ids.count(i) > 1))
    diff = [c for c in cases if c.order >= 1]
    twice = [c for c in cases if c.order >= 2]

    @pytest.mark.parametrize("case", cases, ids=ids)
    def test_forward(case):
        case.check_forward()

    @pytest.mark.parametrize("case", diff, ids=[str(c) for c in diff])
    def test_backward(case):
        case.check_backward()

    @pytest.mark.parametrize("case", twice, ids=[str(c) for c in twice])
    def test_double_backward(case):
        case.check_double_backward()

    def test_cuda():
        if not gradus.cuda_is_available():
            pytest.skip("no CUDA GPU usable here (CuPy not installed, or no device): the "
                        f"{len(cases)} cases of this module ran on the CPU only")
        failures = []
        for case in cases:
            try:
                case.check_cuda()
            except Exception as e:  # collect them all: one test per module, every case reported
                failures.append(f"{case}: {type(e).__name__}: {e}")
        assert not failures, f"{len(failures)} of {len(cases)} cases fail on cuda:\n" + "\n".join(failures)

    return test_forward, test_backward, test_double_backward, test_cuda


# shape sets shared by the families
UNARY = [(), (1,), (4,), (2, 3), (2, 1, 3)]
BINARY = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)),
          ((), (2, 3)), ((2, 3), ()), ((1,), (3,)), ((2, 1, 3), (4, 1))]
