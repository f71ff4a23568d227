"""Optimizers, learning-rate schedulers, gradient-free search and second-order methods.

    >>> import gradus
    >>> from gradus import optim
    >>> w = gradus.tensor([2.0, -1.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.5)
    >>> for _ in range(100):
    ...     opt.zero_grad()
    ...     loss = (w * w).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     sched.step()
    >>> bool(loss.item() < 1e-3)
    True

First-order (update rules identical to PyTorch's): ``SGD``, ``Adagrad``, ``RMSprop``, ``Adadelta``,
``Adam``, ``AdamW``. Second-order: ``Newton``, ``HessianFree``. Gradient-free: ``SimulatedAnnealing``,
``GeneticAlgorithm`` and the one-call ``simulated_annealing`` / ``genetic_algorithm``. Schedulers live
in ``optim.lr_scheduler``. ``flatten_state`` / ``unflatten_state`` turn any state dict into arrays +
JSON for safetensors checkpoints.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .newton import HessianFree, Newton
from .optimizer import Optimizer, flatten_state, required, unflatten_state
from .rmsprop import RMSprop
from .search import GeneticAlgorithm, SimulatedAnnealing, genetic_algorithm, simulated_annealing
from .sgd import SGD

__all__ = ["Optimizer", "required", "flatten_state", "unflatten_state", "SGD", "Adagrad", "RMSprop",
           "Adadelta", "Adam", "AdamW", "Newton", "HessianFree", "SimulatedAnnealing", "GeneticAlgorithm",
           "simulated_annealing", "genetic_algorithm", "lr_scheduler"]
