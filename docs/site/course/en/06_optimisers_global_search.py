r"""
Optimisers and global search
============================

Training is **optimisation**: find the weights :math:`\theta` that make the loss :math:`L(\theta)`
small, knowing :math:`L` only through its values and its gradient
:math:`\mathbf g = \nabla L(\theta)` at the points we visit. **Gradient descent** steps downhill,
:math:`\theta \leftarrow \theta - \eta\,\mathbf g`, and every optimiser of deep learning is a refinement
of that step. Here they are with the update rules PyTorch uses (squares, square roots and divisions
act per coordinate; :math:`t` counts the steps):

.. list-table::
   :header-rows: 1

   * - optimiser
     - update
     - idea
   * - SGD
     - :math:`\theta \leftarrow \theta - \eta\,\mathbf g`
     - follow the slope
   * - momentum
     - :math:`\mathbf v \leftarrow \mu\mathbf v + \mathbf g`,
       :math:`\theta \leftarrow \theta - \eta\,\mathbf v`
     - a heavy ball: keep going where the gradients agree, cancel where they oscillate
   * - Nesterov
     - :math:`\mathbf v \leftarrow \mu\mathbf v + \mathbf g`,
       :math:`\theta \leftarrow \theta - \eta\,(\mathbf g + \mu\mathbf v)`
     - momentum that looks one step ahead
   * - Adagrad
     - :math:`\mathbf s \leftarrow \mathbf s + \mathbf g^2`,
       :math:`\theta \leftarrow \theta - \eta\,\mathbf g / (\sqrt{\mathbf s} + \epsilon)`
     - a step per coordinate, smaller where gradients have been large; it only ever shrinks
   * - RMSprop
     - :math:`\mathbf s \leftarrow \alpha\mathbf s + (1-\alpha)\mathbf g^2`,
       :math:`\theta \leftarrow \theta - \eta\,\mathbf g / (\sqrt{\mathbf s} + \epsilon)`
     - Adagrad with a moving average: it forgets old gradients
   * - Adam
     - :math:`\mathbf m \leftarrow \beta_1\mathbf m + (1-\beta_1)\mathbf g`,
       :math:`\mathbf v \leftarrow \beta_2\mathbf v + (1-\beta_2)\mathbf g^2`,
       :math:`\theta \leftarrow \theta - \eta\,\hat{\mathbf m} / (\sqrt{\hat{\mathbf v}} + \epsilon)`,
       :math:`\hat{\mathbf m} = \mathbf m / (1-\beta_1^t),\ \hat{\mathbf v} = \mathbf v / (1-\beta_2^t)`
     - momentum + RMSprop, with the bias of the zero start corrected
   * - Newton
     - :math:`\theta \leftarrow \theta - H^{-1}\mathbf g`, :math:`H = \nabla^2 L(\theta)`
     - jump to the minimum of the local quadratic model

The first-order optimisers are ``gradus.optim.SGD`` (momentum and ``nesterov=True`` included),
``Adagrad``, ``RMSprop`` and ``Adam``: :source:`src/gradus/optim/sgd.py`,
:source:`src/gradus/optim/adagrad.py`, :source:`src/gradus/optim/rmsprop.py`,
:source:`src/gradus/optim/adam.py`, on the common ``Optimizer`` base of
:source:`src/gradus/optim/optimizer.py`. Newton's method needs the **Hessian** :math:`H`, the matrix of
second derivatives, which gradus gets by differentiating the gradient once more (double backward);
``optim.Newton`` is in :source:`src/gradus/optim/newton.py`. All of them only ever look *downhill* from
where they are, so they find a **local minimum**. The second half of this page meets a loss with many
of them, and two methods that search globally, simulated annealing and a genetic algorithm
(:source:`src/gradus/optim/search.py`).
"""

# %%
# One loss surface
# ----------------
# The **Rosenbrock function** :math:`L(x, y) = (1 - x)^2 + 100\,(y - x^2)^2` is the classic test: its
# minimum :math:`(1, 1)` lies at the bottom of a long, curved, narrow valley. The walls are steep (the
# factor 100) and the floor is almost flat, which is the situation that makes training deep networks
# slow: a step size small enough for the steep direction crawls along the flat one. It is written
# with gradus operations, so autograd differentiates it like any network's loss.
import math
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
from gradus import optim

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
steps = 120 if FAST else 1500                      # first-order steps on the Rosenbrock valley
n_seeds = 2 if FAST else 20                        # runs of each global search


def rosenbrock(w):
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


start = [-1.2, 1.0]                                # the classic starting point


def descend(make_optimizer, steps=steps):
    """Run a gradus optimiser from `start`; return the path (steps + 1, 2) and the losses."""
    w = gradus.tensor(start, dtype=gradus.float64, requires_grad=True)
    opt = make_optimizer([w])
    path, losses = [w.detach().numpy().copy()], []
    for _ in range(steps):
        loss = rosenbrock(w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.detach().numpy().copy())
        losses.append(loss.item())
    losses.append(rosenbrock(w).item())
    return np.array(path), np.array(losses)


optimisers = {                                     # learning rates picked by hand, a few tries each
    "SGD": lambda p: optim.SGD(p, lr=2e-3),
    "momentum": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=1.0),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01),
    "Adam": lambda p: optim.Adam(p, lr=0.1),
}
runs = {name: descend(make) for name, make in optimisers.items()}

# %%
# Newton's method and the Hessian
# -------------------------------
# Newton's step needs :math:`H`. ``gradus.autograd.grad(loss, w, create_graph=True)`` returns the
# gradient as a tensor that is itself part of a graph, so differentiating each of its components
# once more gives one row of the Hessian. Here it is at the starting point, next to the Hessian
# worked out by hand (and, at the minimum, its eigenvalues: the curvatures along the two principal
# directions), :math:`H = \begin{pmatrix} 2 - 400y + 1200x^2 & -400x \\ -400x & 200\end{pmatrix}`:


def gradient_and_hessian(point):
    w = gradus.tensor(point, dtype=gradus.float64, requires_grad=True)
    (g,) = gradus.autograd.grad(rosenbrock(w), w, create_graph=True)       # g is differentiable
    H = np.stack([gradus.autograd.grad(g[i], w, retain_graph=True)[0].numpy() for i in range(2)])
    return g.detach().numpy(), H


g, H = gradient_and_hessian(start)
x0, y0 = start
H_by_hand = np.array([[2 - 400 * y0 + 1200 * x0 ** 2, -400 * x0], [-400 * x0, 200.0]])
print("gradient at the start:", g)
print("Hessian by double backward:\n", H)
print("max |H - H_by_hand| =", np.abs(H - H_by_hand).max())
curvatures = np.linalg.eigvalsh(gradient_and_hessian([1.0, 1.0])[1])
print(f"at the minimum (1, 1): curvatures (eigenvalues of H) {curvatures[0]:.2f} and {curvatures[1]:.1f}, "
      f"ratio {curvatures[1] / curvatures[0]:.0f}")

# %%
# ``optim.Newton`` does exactly this inside ``step(closure)`` (the closure returns the loss; the
# optimiser differentiates it twice itself) and then solves :math:`H\mathbf d = \mathbf g`:

w = gradus.tensor(start, dtype=gradus.float64, requires_grad=True)
newton = optim.Newton([w])
newton_path, newton_losses = [w.detach().numpy().copy()], []
for _ in range(8):
    newton_losses.append(newton.step(lambda: rosenbrock(w)).item())
    newton_path.append(w.detach().numpy().copy())
newton_losses.append(rosenbrock(w).item())
runs["Newton"] = (np.array(newton_path), np.array(newton_losses))

for name, (path, losses) in runs.items():
    reached = np.flatnonzero(losses < 1e-6)
    when = f"loss < 1e-6 after {reached[0]} steps" if len(reached) else "loss never < 1e-6"
    print(f"{name:<9} {len(losses) - 1:>5} steps: end ({path[-1, 0]:+.4f}, {path[-1, 1]:+.4f}), "
          f"loss {losses[-1]:.2e}, {when}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
gx, gy = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-3.5, 3.2, 300))
with gradus.no_grad():
    surface = rosenbrock(gradus.tensor(np.stack([gx, gy]))).numpy()
axes[0].contour(gx, gy, surface, levels=np.logspace(-1, 3.5, 14), colors="gray", linewidths=0.6)
for name, (path, losses) in runs.items():
    style = dict(marker="o", markersize=4, linewidth=1.5) if name == "Newton" else dict(linewidth=1.2)
    axes[0].plot(path[:, 0], path[:, 1], label=name, **style)
    axes[1].plot(np.arange(1, len(losses) + 1), losses, label=name, **style)
axes[0].plot(*start, "ks", markersize=6)
axes[0].plot(1, 1, "k*", markersize=12)
axes[0].set_xlim(-2, 2)
axes[0].set_ylim(-3.5, 3.2)
axes[0].set_title("paths on the Rosenbrock surface (start: square, minimum: star)")
axes[0].legend(fontsize=8, loc="lower right")
axes[1].set_xscale("log")
axes[1].set_yscale("log")
axes[1].set_ylim(1e-10, 1e4)
axes[1].set_xlabel("step + 1")
axes[1].set_ylabel("loss")
axes[1].set_title("loss per step")
fig.subplots_adjust(left=0.06, right=0.98, bottom=0.11, top=0.93, wspace=0.2)   # cheaper than tight_layout

# %%
# What the paths show. **SGD** first drops into the valley (the steep direction has a large
# gradient) and then crawls along its floor, where the gradient is tiny: its step is
# :math:`\eta\,\mathbf g`, small where :math:`\mathbf g` is. The printed curvatures say why a larger
# :math:`\eta` does not help: across the valley the loss curves thousands of times more sharply than
# along it, and gradient descent on a quadratic with curvature :math:`\lambda` overshoots once
# :math:`\eta > 2/\lambda`, so the steep direction caps the step that the flat one would need
# (try ``lr=3e-3``: the result gets worse, not better). **Momentum** and **Nesterov** add up the
# small, consistent gradients along the floor (up to :math:`1/(1-\mu) = 10` of them) and travel much
# faster, with half of SGD's :math:`\eta`. **Adagrad** and **RMSprop** divide each coordinate by its
# own gradient size, so they move along the flat floor at a speed set by :math:`\eta`, not by the
# gradient; Adagrad's steps keep shrinking (its sum :math:`\mathbf s` only grows), RMSprop's do not,
# and at a fixed :math:`\eta` RMSprop keeps jittering at about that scale. **Adam** combines momentum with the
# per-coordinate scale. **Newton** uses the curvature: each step jumps to the minimum of the local
# quadratic model, overshoots once far out of the valley (the model is poor there), and then lands
# on :math:`(1, 1)` in a handful of steps (printed above), each costing a Hessian and a linear
# solve. For :math:`n` weights :math:`H` has :math:`n^2` entries, which is why deep learning uses the
# first-order methods and keeps Newton for small problems (``optim.HessianFree`` needs only
# Hessian-vector products, one double backward each).
#
# Local minima and global search
# ------------------------------
# The Rosenbrock function has one minimum. The **Rastrigin function**
# :math:`L(\mathbf w) = 10n + \sum_{i=1}^{n} \big(w_i^2 - 10\cos 2\pi w_i\big)` has a bowl with a
# ripple: a **local minimum** near every integer point, and the **global minimum** 0 only at
# :math:`\mathbf w = 0`. Gradient descent goes to the bottom of whatever basin it starts in. One
# tensor of shape ``(200, 2)`` holds 200 random starting points; the loss is the sum over them, so
# each row gets the gradient of its own point and one optimiser runs 200 independent descents at
# once.


def rastrigin(w):
    """Rastrigin's function of each row of w (shape (..., n)): one loss per point."""
    return (w * w - 10 * gradus.cos(2 * math.pi * w)).sum(dim=-1) + 10 * w.shape[-1]


def in_global_basin(points):
    return np.all(np.abs(points) < 0.5, axis=-1)


starts = np.random.default_rng(1).uniform(-4.5, 4.5, (200, 2))
w = gradus.tensor(starts, requires_grad=True, dtype=gradus.float64)
gd = optim.SGD([w], lr=2e-3)
for _ in range(100):
    loss = rastrigin(w).sum()
    gd.zero_grad()
    loss.backward()
    gd.step()
gd_ends = w.detach().numpy()
gd_losses = rastrigin(w).detach().numpy()
print(f"gradient descent from 200 random starts: {in_global_basin(gd_ends).mean():.1%} end in the "
      f"global basin; final loss median {np.median(gd_losses):.2f}, best {gd_losses.min():.2f}")

# %%
# Only the few starts that already lay in the global basin end there. The rest stop at a local
# minimum, where the gradient is 0 and gradient descent has nothing more to say.
#
# **Simulated annealing** (Kirkpatrick et al. 1983) borrows from metallurgy: a metal cooled slowly
# settles into a low-energy crystal. From the current point :math:`\mathbf w` it proposes a random
# move :math:`\mathbf w' = \mathbf w + \sigma\,\boldsymbol\varepsilon`, and with
# :math:`\Delta = L(\mathbf w') - L(\mathbf w)` it accepts
#
# .. math::
#
#     P(\text{accept}) = \begin{cases} 1 & \Delta \le 0 \\ e^{-\Delta / T} & \Delta > 0 \end{cases},
#     \qquad T \leftarrow c\,T \ \text{after every proposal} \ (c < 1)
#
# At a high **temperature** :math:`T` it accepts uphill moves often and wanders from basin to basin;
# as :math:`T` falls it accepts fewer and settles in a deep basin (below: :math:`\sigma = 0.6`, and
# :math:`T` cools from 10 with :math:`c = 0.994`). A **genetic algorithm** keeps a population of
# points instead, and each generation breeds a new one: the fitter points (lower loss: the
# **fitness**) are selected as parents by tournaments, children mix their parents' coordinates
# (crossover) and get a random nudge (mutation), and the best few pass unchanged (elitism). Neither
# uses a gradient: both only evaluate the loss. In gradus they are optimisers like the others,
# ``optim.SimulatedAnnealing`` and ``optim.GeneticAlgorithm``, whose ``step(closure)`` is one proposal
# or one generation. Both start from the same point far from the global minimum, and both are run
# with several random seeds (one run could be luck); the figures show the first seed.

far_start = np.array([3.6, -3.3])


def run_annealing(seed, proposals=1000):
    w = gradus.tensor(far_start, dtype=gradus.float64)
    sa = optim.SimulatedAnnealing([w], T0=10.0, cooling=0.994, step_size=0.6,
                                  generator=np.random.default_rng(seed))
    trace, temperatures, losses = [], [], []
    for _ in range(proposals):
        losses.append(sa.step(lambda: rastrigin(w)))
        trace.append(w.numpy().copy())
        temperatures.append(sa.state[w]["temperature"])
    sa.load_best()
    return w.numpy().copy(), sa.best_loss, np.array(trace), np.array(temperatures), np.array(losses)


def run_genetic(seed, generations=30):
    w = gradus.tensor(far_start, dtype=gradus.float64)
    ga = optim.GeneticAlgorithm([w], population=40, mutation_std=0.3, init_std=3.0, elite=4,
                                generator=np.random.default_rng(seed))
    populations, best_losses = [], []
    for _ in range(generations):
        best_losses.append(ga.step(lambda: rastrigin(w)))
        populations.append(ga.state[w]["population"].numpy().copy())
    return w.numpy().copy(), ga.best_loss, np.array(populations), np.array(best_losses)


annealing_runs = [run_annealing(seed) for seed in range(n_seeds)]
genetic_runs = [run_genetic(seed) for seed in range(n_seeds)]
sa_best, sa_loss, sa_trace, sa_temperature, sa_losses = annealing_runs[0]     # seed 0, drawn below
ga_best, ga_loss, ga_populations, ga_best_losses = genetic_runs[0]
print(f"simulated annealing, {len(sa_trace)} proposals: best point ({sa_best[0]:+.3f}, {sa_best[1]:+.3f}), "
      f"loss {sa_loss:.3f}")
print(f"genetic algorithm, {len(ga_populations)} generations of 40: best point "
      f"({ga_best[0]:+.3f}, {ga_best[1]:+.3f}), loss {ga_loss:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(13, 4.3))
grid = np.linspace(-4.5, 4.5, 301)
rx, ry = np.meshgrid(grid, grid)
with gradus.no_grad():
    landscape = rastrigin(gradus.tensor(np.stack([rx, ry], axis=-1))).numpy()
for ax in axes:
    ax.contourf(rx, ry, landscape, levels=30, cmap="viridis", alpha=0.8)
    ax.plot(0, 0, "w*", markersize=14)
    ax.set_aspect("equal")
    ax.set_xlim(-4.5, 4.5)
    ax.set_ylim(-4.5, 4.5)
    ax.set_xticks([-4, -2, 0, 2, 4])
    ax.set_yticks([-4, -2, 0, 2, 4])
axes[0].scatter(starts[:, 0], starts[:, 1], s=6, c="white", label="starts")
axes[0].scatter(gd_ends[:, 0], gd_ends[:, 1], s=14, c="red", label="ends")
axes[0].set_title(f"gradient descent: {in_global_basin(gd_ends).mean():.1%} reach the global basin")
axes[0].legend(fontsize=8, loc="lower left")
axes[1].plot(sa_trace[:, 0], sa_trace[:, 1], color="white", linewidth=0.6)
axes[1].plot(*far_start, "rs")
axes[1].plot(*sa_best, "r*", markersize=10)
axes[1].set_title("simulated annealing: the accepted points")
for generation, color in zip([0, 5, len(ga_populations) - 1], ["white", "orange", "red"]):
    pop = ga_populations[generation]
    axes[2].scatter(pop[:, 0], pop[:, 1], s=12, c=color, label=f"generation {generation + 1}")
axes[2].set_title("genetic algorithm: the population")
axes[2].legend(fontsize=8, loc="lower left")
fig.subplots_adjust(left=0.03, right=0.99, bottom=0.07, top=0.93, wspace=0.12)

# %%
# Annealing starts by roaming (middle panel: the white trace crosses many basins) and ends in the
# central one; the genetic algorithm's population starts spread around the start (white), and
# selection pulls it towards the deepest basins within a few generations (orange, red). The
# temperature schedule shows in the annealing run's loss: the current loss jumps up and down while
# :math:`T` is high, and settles as it cools.

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
axes[0].plot(sa_losses, linewidth=0.7, label="loss of the current point")
axes[0].plot(sa_temperature, "k--", label="temperature T")
axes[0].set_yscale("log")
axes[0].set_xlabel("proposal")
axes[0].set_title("simulated annealing")
axes[0].legend(fontsize=8)
axes[1].plot(np.arange(1, len(ga_best_losses) + 1), ga_best_losses, "o-", markersize=3)
axes[1].set_xlabel("generation")
axes[1].set_ylabel("best loss so far")
axes[1].set_title("genetic algorithm")
fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.91, wspace=0.25)

# %%
# How often does each search end in the global basin, over all its seeds? Both stop near 0 but not
# exactly at it (a random move of size 0.6 rarely lands on the bottom), so the last step is the
# division of labour used in practice: the global search finds the basin, and a few gradient steps
# from its best point reach the bottom.


def polish(point, steps=30):
    w = gradus.tensor(point, dtype=gradus.float64, requires_grad=True)
    opt = optim.SGD([w], lr=2e-3)
    for _ in range(steps):
        loss = rastrigin(w)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy(), rastrigin(w).item()


sa_hits = np.mean([in_global_basin(run[0]) for run in annealing_runs])
ga_hits = np.mean([in_global_basin(run[0]) for run in genetic_runs])
print(f"over {n_seeds} seeds from ({far_start[0]}, {far_start[1]}): simulated annealing ends in the global "
      f"basin {sa_hits:.0%} of the time, the genetic algorithm {ga_hits:.0%} "
      f"(gradient descent from random starts: {in_global_basin(gd_ends).mean():.1%})")
for name, point in [("annealing", sa_best), ("genetic", ga_best)]:
    end, loss = polish(point)
    print(f"{name:<9} best point polished by 30 gradient steps: ({end[0]:+.5f}, {end[1]:+.5f}), "
          f"loss {loss:.2e}")

# %%
# The price is evaluations: about a thousand for one annealing run and as many for 30 generations
# of 40, in two dimensions, and the number needed grows quickly with the dimension. Networks have
# millions of weights, far beyond what such searches can cover, and gradient methods serve them well
# anyway: in high dimensions most critical points of a network's loss are saddle points rather than
# bad local minima (Dauphin et al. 2014), and SGD with momentum or Adam gets past saddles. Global
# search lives on where the parameters are few or the loss has no gradient: hyperparameters,
# architectures, discrete choices.
