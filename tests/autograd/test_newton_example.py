"""docs/examples/newton.py runs: Newton's method (autograd.functional jacobian + hessian) reaches the
Rosenbrock minimum to 1e-8 in a handful of steps, where gradient descent is still far away."""
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def test_newton_example(capsys):
    spec = importlib.util.spec_from_file_location("example_newton", ROOT / "docs" / "examples" / "newton.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    p = mod.main(max_gd_steps=100)
    np.testing.assert_allclose(p.numpy(), [1.0, 1.0], atol=1e-8)
    _, steps = mod.newton()
    assert steps <= 10
    p_gd, n, reached = mod.gradient_descent(max_steps=100)
    assert not reached and np.linalg.norm(p_gd.numpy() - 1.0) > 0.1
    out = capsys.readouterr().out
    assert "Newton:" in out and "gradient descent:" in out and "still above" in out
