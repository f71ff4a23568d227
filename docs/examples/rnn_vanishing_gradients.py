"""The vanishing-gradient picture of the lectures: how much of the gradient of the last hidden state
reaches the input k steps back, for a vanilla RNN, an LSTM and a GRU.

For a sequence x_1 .. x_T and the final state h_T, backpropagation through time gives

    dh_T/dx_{T-k} = (prod_{j=T-k+1}^{T} dh_j/dh_{j-1}) dh_{T-k}/dx_{T-k}

a product of k Jacobians. For tanh RNNs each factor is diag(1 - h_j^2) W_hh, whose norm is typically
below 1, so the product shrinks geometrically with k: the gradient vanishes. The LSTM's cell state
adds instead of multiplying (c_t = f * c_{t-1} + i * g): with forget gates near 1 the path through
c keeps the gradient alive; the GRU's update gate interpolates (h_t = (1 - z) n + z h_{t-1}) to the
same effect. We measure ||dh_T / dx_{T-k}|| with autograd, averaged over a few random sequences,
for freshly initialised layers (PyTorch's default init) — and plot it on a log scale.

Run:  python docs/examples/rnn_vanishing_gradients.py [--steps 100] [--out rnn_gradients.png]
"""
import argparse

import numpy as np

import gradus
from gradus import nn


def gradient_norms(layer, steps: int, input_size: int, trials: int = 4, seed: int = 0) -> np.ndarray:
    """||d sum(h_T) / d x_{T-k}|| for k = 0 .. steps-1, mean over ``trials`` random sequences."""
    rng = np.random.default_rng(seed)
    norms = np.zeros(steps)
    for _ in range(trials):
        x = gradus.tensor(rng.standard_normal((steps, 1, input_size)).astype(np.float32), requires_grad=True)
        out = layer(x)[0]                          # (T, 1, H)
        out[-1].sum().backward()                   # the last hidden state
        g = x.grad.numpy()[:, 0, :]                # (T, I): row t is dh_T / dx_t
        norms += np.linalg.norm(g, axis=1)[::-1]   # index k = T - 1 - t
    return norms / trials


def main(steps: int = 100, out: str | None = "rnn_gradients.png", verbose: bool = True) -> dict:
    gradus.manual_seed(0)
    layers = {"RNN (tanh)": nn.RNN(16, 64), "LSTM": nn.LSTM(16, 64), "GRU": nn.GRU(16, 64)}
    curves = {name: gradient_norms(layer, steps, 16) for name, layer in layers.items()}
    if verbose:
        ks = [k for k in (0, 5, 10, 20, 50, steps - 1) if k < steps]
        print("k steps back:   " + "".join(f"{k:>11d}" for k in ks))
        for name, c in curves.items():
            print(f"{name:<14} " + "".join(f"{c[k]:11.2e}" for k in ks))
    if out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for name, c in curves.items():
            ax.semilogy(np.arange(steps), c, label=name)
        ax.set_xlabel("k (steps back from the last one)")
        ax.set_ylabel("||dh_T / dx_{T-k}||")
        ax.set_title("gradient reaching k steps back (fresh layers, hidden 64)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out, dpi=110)
        plt.close(fig)
        if verbose:
            print(f"wrote {out}")
    return curves


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--out", default="rnn_gradients.png")
    a = ap.parse_args()
    main(a.steps, a.out)
