"""Gradient-free search: simulated annealing and the genetic algorithm escape the local minimum
where gradient descent stops (Rastrigin), and a GA trains an XOR network to 100% accuracy."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import gradus
from gradus import optim

START = [3.0, -2.0]  # next to a local minimum of Rastrigin at about (2.98, -1.99); global minimum at 0


def rastrigin(x):
    """f(x) = 10 n + sum(x_i^2 - 10 cos(2 pi x_i)): a bowl covered in local minima near the integers."""
    return (x * x - 10 * gradus.cos(2 * math.pi * x)).sum() + 10 * x.shape[0]


def _start():
    return gradus.tensor(START, dtype=gradus.float64, requires_grad=True)


def test_gradient_descent_gets_stuck():
    x = _start()
    opt = optim.SGD([x], lr=0.002)
    for _ in range(300):
        opt.zero_grad()
        loss = rastrigin(x)
        loss.backward()
        opt.step()
    assert loss.item() > 12  # stuck in the local minimum, f ~ 12.9
    np.testing.assert_allclose(x.numpy(), [2.985, -1.990], atol=0.01)


def test_simulated_annealing_finds_the_global_minimum():
    x = _start()
    best = optim.simulated_annealing([x], lambda: rastrigin(x), steps=2000, T0=10.0, cooling=0.997,
                                     step_size=0.5, generator=np.random.default_rng(0))
    assert best < 0.5 and best == pytest.approx(rastrigin(x).item())  # the best point is loaded
    assert np.abs(x.numpy()).max() < 0.05
    # the remedy in practice: anneal out of the local minimum, then let gradients finish the job
    opt = optim.SGD([x], lr=0.002)
    for _ in range(200):
        opt.zero_grad()
        rastrigin(x).backward()
        opt.step()
    np.testing.assert_allclose(x.numpy(), [0.0, 0.0], atol=1e-6)


def test_genetic_algorithm_finds_the_global_minimum():
    x = _start()
    best = optim.genetic_algorithm([x], lambda: rastrigin(x), population=60, generations=60, mutation_std=0.3,
                                   init_std=3.0, mutation_rate=0.5, generator=np.random.default_rng(0))
    assert best < 0.5 and best == pytest.approx(rastrigin(x).item())
    assert np.abs(x.numpy()).max() < 0.05


XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [0.0, 1.0, 1.0, 0.0]


def test_genetic_algorithm_learns_xor_with_plain_tensors():
    X, y = gradus.tensor(XOR_X), gradus.tensor(XOR_Y)
    W1, b1 = gradus.randn(2, 4, requires_grad=True), gradus.zeros(4, requires_grad=True)
    W2, b2 = gradus.randn(4, requires_grad=True), gradus.zeros(1, requires_grad=True)

    def predict():
        return gradus.sigmoid(gradus.tanh(X @ W1 + b1) @ W2 + b2)

    def loss():
        assert not gradus.is_grad_enabled()  # gradient-free: no graph is recorded
        return ((predict() - y) ** 2).mean()

    best = optim.genetic_algorithm([W1, b1, W2, b2], loss, population=40, generations=100, mutation_std=0.5,
                                   init_std=2.0, mutation_rate=0.5, target_loss=0.02,
                                   generator=np.random.default_rng(0))
    assert best <= 0.02
    assert np.array_equal(predict().numpy() > 0.5, np.array(XOR_Y) > 0.5)  # 100% accuracy
    assert all(p.grad is None for p in (W1, b1, W2, b2))


def test_genetic_algorithm_learns_xor_with_a_module():
    nn = pytest.importorskip("gradus.nn")
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    X, y = gradus.tensor(XOR_X), gradus.tensor(XOR_Y).reshape(4, 1)
    best = optim.genetic_algorithm(net, lambda: ((net(X) - y) ** 2).mean(), population=40, generations=150,
                                   mutation_std=0.5, init_std=2.0, mutation_rate=0.5, target_loss=0.02,
                                   generator=np.random.default_rng(1))
    assert best <= 0.02
    assert np.array_equal(net(X).numpy() > 0.5, np.array(y.numpy()) > 0.5)


def test_simulated_annealing_class_accepts_and_rejects():
    x = gradus.tensor([1.0], dtype=gradus.float64)
    opt = optim.SimulatedAnnealing([x], T0=1e-12, cooling=0.5, step_size=0.3,
                                   generator=np.random.default_rng(0))
    losses = [opt.step(lambda: (x * x).sum()) for _ in range(200)]
    # at T ~ 0 only improvements are accepted: the current loss never increases
    assert all(b <= a for a, b in zip(losses, losses[1:])) and losses[-1] < 1e-3
    assert opt.best_loss == losses[-1] and x.item() ** 2 == pytest.approx(losses[-1])
    st = opt.state_dict()["state"][0]
    assert st["step"] == 200 and st["temperature"] == pytest.approx(1e-12 * 0.5 ** 200)
    arrays, meta = optim.flatten_state(opt.state_dict())  # checkpointable
    json.dumps(meta, allow_nan=False)
    assert "state.0.best" in arrays


def test_simulated_annealing_reproducible_from_the_global_seed():
    def run():
        gradus.manual_seed(5)
        x = _start()
        optim.simulated_annealing([x], lambda: rastrigin(x), steps=100, T0=10.0, step_size=0.5)
        return x.numpy().copy()

    np.testing.assert_array_equal(run(), run())


def test_simulated_annealing_high_temperature_accepts_worse_points():
    x = gradus.tensor([0.0], dtype=gradus.float64)
    opt = optim.SimulatedAnnealing([x], T0=1e6, cooling=1.0, step_size=1.0,
                                   generator=np.random.default_rng(0))
    losses = [opt.step(lambda: (x * x).sum()) for _ in range(50)]
    assert any(b > a for a, b in zip(losses, losses[1:]))  # a hot system wanders uphill
    assert opt.best_loss == 0.0
    opt.load_best()
    assert x.item() == 0.0


@pytest.mark.parametrize("crossover", ["uniform", "one_point", "blend", "none"])
def test_genetic_algorithm_elitism_and_crossovers(crossover):
    target = np.linspace(-1, 1, 6)
    w = gradus.zeros(6, dtype=gradus.float64)

    def loss():
        return ((w - gradus.tensor(target)) ** 2).sum()

    opt = optim.GeneticAlgorithm([w], population=20, mutation_std=0.1, crossover=crossover, elite=2,
                                 init_std=1.0, generator=np.random.default_rng(0))
    bests = [opt.step(loss) for _ in range(40)]
    assert all(b <= a for a, b in zip(bests, bests[1:]))  # elitism: the best never gets worse
    assert bests[-1] < 0.1 * float((target ** 2).sum())  # a tenth of the loss at the start (w = 0)
    assert loss().item() == pytest.approx(bests[-1])  # the best individual is loaded
    st = opt.state_dict()["state"][0]
    assert st["population"].shape == (20, 6) and st["fitness"].shape == (20,) and st["generation"] == 40


def test_search_runs_without_gradients_and_validates():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    optim.simulated_annealing(x, lambda: (x * x).sum(), steps=5)
    assert x.grad is None
    with pytest.raises(ValueError, match="closure"):
        optim.SimulatedAnnealing([x]).step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.GeneticAlgorithm([{"params": [x]}, {"params": [gradus.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="crossover"):
        optim.GeneticAlgorithm([x], crossover="two_point")
    with pytest.raises(ValueError, match="elite"):
        optim.GeneticAlgorithm([x], population=4, elite=4)
    with pytest.raises(ValueError, match="cooling"):
        optim.SimulatedAnnealing([x], cooling=1.5)


@pytest.mark.parametrize("cls,kwargs", [(optim.GeneticAlgorithm, dict(population=12, init_std=2.0)),
                                        (optim.SimulatedAnnealing, dict(T0=5.0, step_size=0.5))])
def test_search_state_resumes_exactly(cls, kwargs):
    """Checkpoint after 5 steps (arrays + JSON, plus the generator's state), resume, 5 more steps ==
    10 uninterrupted steps. float32 parameters: the float64 population must survive the reload."""
    def make(gen):
        x = gradus.tensor(START)
        return x, cls([x], generator=gen, **kwargs)

    x_ref, ref = make(np.random.default_rng(0))
    for _ in range(10):
        ref.step(lambda: rastrigin(x_ref))

    gen = np.random.default_rng(0)
    x, opt = make(gen)
    for _ in range(5):
        opt.step(lambda: rastrigin(x))
    arrays, meta = optim.flatten_state(opt.state_dict())
    saved = optim.unflatten_state(arrays, json.loads(json.dumps(meta, allow_nan=False)))
    gen2 = np.random.default_rng()
    gen2.bit_generator.state = gen.bit_generator.state
    x2, opt2 = make(gen2)
    x2.data[...] = x.data
    opt2.load_state_dict(saved)
    for _ in range(5):
        opt2.step(lambda: rastrigin(x2))
    np.testing.assert_array_equal(x2.numpy(), x_ref.numpy())
    assert opt2.best_loss == ref.best_loss
