"""Gradient-free search: simulated annealing and a genetic algorithm.

The lecture's remedies for local minima. Gradient descent follows the slope, so it stops in the
first basin it falls into; these methods evaluate the loss only (no gradients, everything runs
under ``no_grad``) and can jump between basins:

- **simulated annealing** proposes a random move and accepts a worse point with probability
  ``exp(-increase / T)``, the temperature ``T`` cooling geometrically, so it roams early and settles
  late;
- a **genetic algorithm** keeps a population of parameter vectors and breeds the fitter ones
  (tournament selection, crossover, Gaussian mutation, elitism).

Both optimise any model's parameters (a Module: its ``parameters()`` requiring grad; or a list of
Tensors) given a closure that computes the loss from them, and leave the best parameters found
loaded in the model.

    >>> import gradus
    >>> x = gradus.tensor([3.0])
    >>> rastrigin = lambda: (x * x - 10 * gradus.cos(2 * 3.141592653589793 * x) + 10).sum()
    >>> best = simulated_annealing([x], rastrigin, steps=2000, T0=10.0, cooling=0.997, step_size=0.5,
    ...                            generator=__import__("numpy").random.default_rng(0))
    >>> abs(x.item()) < 0.5 and best < 1.0    # left the local minimum at 3 for the global one at 0
    True
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..random import default_generator
from ..tensor import Tensor
from .optimizer import Optimizer, _assign_flat, _check_single_group, _flat_params

__all__ = ["SimulatedAnnealing", "GeneticAlgorithm", "simulated_annealing", "genetic_algorithm"]


def _as_params(model_or_params) -> list:
    """A Module's trainable parameters, a single Tensor, or the given iterable of Tensors, as a list."""
    if callable(getattr(model_or_params, "parameters", None)) and not isinstance(model_or_params, Tensor):
        return [p for p in model_or_params.parameters() if p.requires_grad]
    if isinstance(model_or_params, Tensor):
        return [model_or_params]
    return list(model_or_params)


def _loss_value(closure) -> float:
    """Evaluate the closure (already under no_grad) as a float; NaN counts as +inf (never accepted)."""
    v = float(closure())
    return v if not math.isnan(v) else math.inf


class SimulatedAnnealing(Optimizer):
    r"""Simulated annealing (Kirkpatrick et al., 1983) over all parameters as one vector.

    Each ``step(closure)``: propose ``x' = x + step_size * N(0, I)``; with ``d = f(x') - f(x)``
    accept it if ``d <= 0`` or with probability ``exp(-d / T)``; then ``T <- cooling * T``
    (starting from ``T0``). ``T0`` should be of the order of the loss differences between basins.

    After ``step`` the parameters hold the current (accepted) point; ``load_best()`` loads the best
    point seen, whose loss is ``best_loss``. ``step`` returns the current loss. The first ``step``
    also evaluates the starting point. Random draws come from ``generator`` (a NumPy Generator;
    default: gradus' global generator, so ``gradus.manual_seed`` makes runs reproducible).

    State (kept on the first parameter, like PyTorch's L-BFGS): ``step``, ``temperature``, ``loss``,
    ``best_loss``; per parameter: ``best`` (a Tensor).
    """

    def __init__(self, params, T0: float = 1.0, cooling: float = 0.995, step_size: float = 0.1,  # noqa: N803
                 generator: np.random.Generator | None = None):
        if not T0 > 0:
            raise ValueError(f"Invalid initial temperature T0: {T0} (must be > 0)")
        if not 0 < cooling <= 1:
            raise ValueError(f"Invalid cooling factor: {cooling} (must be in (0, 1])")
        if not step_size > 0:
            raise ValueError(f"Invalid step_size: {step_size} (must be > 0)")
        super().__init__(params, dict(T0=T0, cooling=cooling, step_size=step_size))
        _check_single_group(self, "SimulatedAnnealing")
        self.generator = generator

    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    @property
    def _global(self) -> dict:
        return self.state[self._params[0]]

    @property
    def best_loss(self) -> float:
        """The lowest loss seen so far (``inf`` before the first step)."""
        return self._global.get("best_loss", math.inf)

    def _save_best(self) -> None:
        for p in self._params:
            self.state[p]["best"] = Tensor._make(p.data.copy())

    def load_best(self) -> None:
        """Copy the best parameters seen into the parameters."""
        for p in self._params:
            best = self.state[p].get("best")
            if best is not None:
                p.data[...] = best.data

    def step(self, closure):
        """One proposal, accepted or rejected; returns the current loss (a float)."""
        if closure is None:
            raise ValueError("SimulatedAnnealing.step needs a closure that returns the loss")
        group, st = self.param_groups[0], self._global
        rng = self.generator or default_generator()
        if "temperature" not in st:  # first call: evaluate the starting point
            loss = _loss_value(closure)
            st.update(step=0, temperature=float(group["T0"]), loss=loss, best_loss=loss)
            self._save_best()
        params, temperature = self._params, st["temperature"]
        saved = [p.data.copy() for p in params]
        for p in params:
            noise = (rng.standard_normal(p.shape) * group["step_size"]).astype(p.dtype)
            p.data += backend.to_device(noise, p.device) if p.is_cuda else noise
        new = _loss_value(closure)
        increase = new - st["loss"]
        accept = increase <= 0 or (temperature > 0 and math.isfinite(new)
                                   and rng.random() < math.exp(-increase / temperature))
        if accept:
            st["loss"] = new
            if new < st["best_loss"]:
                st["best_loss"] = new
                self._save_best()
        else:
            for p, old in zip(params, saved):
                p.data[...] = old
        st["temperature"] = temperature * group["cooling"]
        st["step"] += 1
        return st["loss"]


class GeneticAlgorithm(Optimizer):
    r"""A real-coded genetic algorithm over all parameters as one vector of length D.

    The first ``step`` creates ``population`` individuals: the current parameters and
    ``population - 1`` copies perturbed by ``init_std * N(0, I)``, and evaluates them. Each ``step``
    (one generation) then keeps the ``elite`` best unchanged and fills the rest with children:
    two parents chosen by tournaments of ``tournament_size``, combined by ``crossover``
    ("uniform": each gene from either parent; "one_point": a prefix from one, the rest from the
    other; "blend": ``w * a + (1 - w) * b`` with ``w ~ U(0, 1)``; "none": copy the first parent),
    then each gene mutated with probability ``mutation_rate`` by ``mutation_std * N(0, 1)``.

    The loss is the fitness (lower is better; each individual is evaluated once, so the closure
    should be deterministic). After each step the best individual seen is loaded into the
    parameters and its loss returned (also ``best_loss``).

    State (on the first parameter): ``generation``, ``population`` (P, D), ``fitness`` (P,),
    ``best`` (D,), ``best_loss``.
    """

    _CROSSOVERS = ("uniform", "one_point", "blend", "none")

    def __init__(self, params, population: int = 50, mutation_std: float = 0.1, crossover: str = "uniform",
                 elite: int = 2, tournament_size: int = 3, mutation_rate: float = 1.0, init_std: float = 1.0,
                 generator: np.random.Generator | None = None):
        if population < 2:
            raise ValueError(f"Invalid population size: {population} (need at least 2)")
        if not 0 <= elite < population:
            raise ValueError(f"Invalid elite count: {elite} (need 0 <= elite < population={population})")
        if crossover not in self._CROSSOVERS:
            raise ValueError(f"Unknown crossover {crossover!r}: use one of {self._CROSSOVERS}")
        if tournament_size < 1:
            raise ValueError(f"Invalid tournament_size: {tournament_size}")
        if not 0 <= mutation_rate <= 1:
            raise ValueError(f"Invalid mutation_rate: {mutation_rate} (a probability)")
        if mutation_std < 0 or init_std < 0:
            raise ValueError("mutation_std and init_std must be >= 0")
        defaults = dict(population=population, mutation_std=mutation_std, crossover=crossover, elite=elite,
                        tournament_size=tournament_size, mutation_rate=mutation_rate, init_std=init_std)
        super().__init__(params, defaults)
        _check_single_group(self, "GeneticAlgorithm")
        self.generator = generator

    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    @property
    def _global(self) -> dict:
        return self.state[self._params[0]]

    @property
    def best_loss(self) -> float:
        return self._global.get("best_loss", math.inf)

    def _evaluate(self, closure, individuals: np.ndarray) -> np.ndarray:
        fitness = np.empty(len(individuals))
        for i, x in enumerate(individuals):
            _assign_flat(self._params, x)
            fitness[i] = _loss_value(closure)
        return fitness

    def _record_best(self, population: np.ndarray, fitness: np.ndarray) -> None:
        st = self._global
        i = int(np.argmin(fitness))
        if fitness[i] < st.get("best_loss", math.inf) or "best" not in st:
            st["best"] = Tensor._make(population[i].copy())
            st["best_loss"] = float(fitness[i])

    def _tournament(self, rng, fitness: np.ndarray, n: int, k: int) -> np.ndarray:
        contenders = rng.integers(0, len(fitness), size=(n, k))
        return contenders[np.arange(n), np.argmin(fitness[contenders], axis=1)]

    def step(self, closure):
        """One generation; returns the best loss seen so far (the best individual is loaded)."""
        if closure is None:
            raise ValueError("GeneticAlgorithm.step needs a closure that returns the loss")
        g, st = self.param_groups[0], self._global
        rng = self.generator or default_generator()
        P, elite = int(g["population"]), int(g["elite"])
        if "population" not in st:  # generation 0: the current point and perturbed copies of it
            x0 = _flat_params(self._params)
            pop = x0 + g["init_std"] * rng.standard_normal((P, x0.size))
            pop[0] = x0
            fit = self._evaluate(closure, pop)
            st.update(generation=0, population=Tensor._make(pop), fitness=Tensor._make(fit))
            self._record_best(pop, fit)
        pop, fit = st["population"].data, st["fitness"].data
        n, D = P - elite, pop.shape[1]

        a = pop[self._tournament(rng, fit, n, int(g["tournament_size"]))]
        b = pop[self._tournament(rng, fit, n, int(g["tournament_size"]))]
        if g["crossover"] == "uniform":
            children = np.where(rng.random((n, D)) < 0.5, a, b)
        elif g["crossover"] == "one_point":
            cut = rng.integers(1, D, size=(n, 1)) if D > 1 else np.ones((n, 1), dtype=np.int64)
            children = np.where(np.arange(D) < cut, a, b)
        elif g["crossover"] == "blend":
            w = rng.random((n, 1))
            children = w * a + (1 - w) * b
        else:
            children = a.copy()
        mutate = rng.random((n, D)) < g["mutation_rate"]
        children += mutate * (g["mutation_std"] * rng.standard_normal((n, D)))

        order = np.argsort(fit, kind="stable")[:elite]
        pop = np.concatenate([pop[order], children])
        fit = np.concatenate([fit[order], self._evaluate(closure, children)])
        st["population"], st["fitness"] = Tensor._make(pop), Tensor._make(fit)
        st["generation"] += 1
        self._record_best(pop, fit)
        self.load_best()
        return st["best_loss"]

    def load_best(self) -> None:
        """Load the best individual seen into the parameters."""
        best = self._global.get("best")
        if best is not None:
            _assign_flat(self._params, best.data)


def simulated_annealing(model_or_params, loss_closure, steps: int = 1000, T0: float = 1.0,  # noqa: N803
                        cooling: float = 0.995, step_size: float = 0.1,
                        generator: np.random.Generator | None = None) -> float:
    """Run :class:`SimulatedAnnealing` for ``steps`` proposals on a Module's parameters (or a list of
    Tensors); leave the best parameters loaded and return their loss."""
    opt = SimulatedAnnealing(_as_params(model_or_params), T0=T0, cooling=cooling, step_size=step_size,
                             generator=generator)
    for _ in range(steps):
        opt.step(loss_closure)
    opt.load_best()
    return opt.best_loss


def genetic_algorithm(model_or_params, loss_closure, population: int = 50, generations: int = 100,
                      mutation_std: float = 0.1, crossover: str = "uniform", elite: int = 2,
                      tournament_size: int = 3, mutation_rate: float = 1.0, init_std: float = 1.0,
                      generator: np.random.Generator | None = None,
                      target_loss: float | None = None) -> float:
    """Run :class:`GeneticAlgorithm` for ``generations`` generations (stopping early once the best
    loss is <= ``target_loss``, if given); leave the best parameters loaded and return their loss."""
    opt = GeneticAlgorithm(_as_params(model_or_params), population=population, mutation_std=mutation_std,
                           crossover=crossover, elite=elite, tournament_size=tournament_size,
                           mutation_rate=mutation_rate, init_std=init_std, generator=generator)
    for _ in range(generations):
        best = opt.step(loss_closure)
        if target_loss is not None and best <= target_loss:
            break
    opt.load_best()
    return opt.best_loss
