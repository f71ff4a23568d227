"""Newton's method vs gradient descent on the Rosenbrock function, with gradus's autograd.

    f(x, y) = (1 - x)^2 + 100 (y - x^2)^2,   minimum f(1, 1) = 0

The valley is long, curved and narrow: the Hessian's eigenvalues differ by a factor of about 2500
near the minimum, so gradient descent must take tiny steps (lr below 2 / 1002) and crawls along the
valley floor. Newton's method rescales every step by the inverse Hessian,

    p <- p - H(p)^-1 grad f(p),

(gradient from ``autograd.functional.jacobian``, Hessian from ``autograd.functional.hessian``, i.e.
autograd applied twice) and converges quadratically once close.

Run:  python docs/examples/newton.py   (--gd-steps N: the gradient-descent budget, default 20000)
"""
import numpy as np

import gradus
from gradus.autograd.functional import hessian, jacobian

START = (-1.2, 1.0)
OPTIMUM = np.array([1.0, 1.0])
TOL = 1e-8


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def newton(start=START, tol: float = TOL, max_steps: int = 50):
    """Pure Newton steps; returns (final point as a float64 Tensor, steps taken)."""
    p = gradus.tensor(start, dtype=gradus.float64)
    for step in range(1, max_steps + 1):
        g, H = jacobian(rosenbrock, p), hessian(rosenbrock, p)   # (2,), (2, 2)
        p = p - gradus.tensor(np.linalg.solve(H.numpy(), g.numpy()))
        if np.linalg.norm(p.numpy() - OPTIMUM) < tol:
            return p, step
    return p, max_steps


def gradient_descent(start=START, lr: float = 1e-3, tol: float = TOL, max_steps: int = 20000):
    """Plain gradient descent with backward(); returns (final point, steps taken, reached tol?)."""
    p = gradus.tensor(start, dtype=gradus.float64, requires_grad=True)
    for step in range(1, max_steps + 1):
        p.grad = None
        rosenbrock(p).backward()
        with gradus.no_grad():
            p.sub_(lr * p.grad)
        if np.linalg.norm(p.detach().numpy() - OPTIMUM) < tol:
            return p.detach(), step, True
    return p.detach(), max_steps, False


def main(max_gd_steps: int = 20000, verbose: bool = True):
    """Run both methods from (-1.2, 1); print how many iterations each needs; return Newton's point."""
    p_newton, n_newton = newton()
    p_gd, n_gd, reached = gradient_descent(max_steps=max_gd_steps)
    if verbose:
        err_n = np.linalg.norm(p_newton.numpy() - OPTIMUM)
        err_gd = np.linalg.norm(p_gd.numpy() - OPTIMUM)
        print(f"Newton:           |p - (1, 1)| = {err_n:.2e} after {n_newton} iterations")
        if reached:
            print(f"gradient descent: |p - (1, 1)| = {err_gd:.2e} after {n_gd} iterations")
        else:
            print(f"gradient descent: |p - (1, 1)| = {err_gd:.2e} after {n_gd} iterations "
                  f"(still above {TOL:g})")
    return p_newton


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Newton's method vs gradient descent on Rosenbrock.")
    parser.add_argument("--gd-steps", type=int, default=20000,
                        help="iteration budget of gradient descent (default 20000)")
    main(max_gd_steps=parser.parse_args().gd_steps)
