"""The global random generator. ``gradus.manual_seed(s)`` makes a whole run reproducible:
initialisation, dropout, data shuffling and augmentation all draw from this one generator.
"""
import numpy as np

_generator = np.random.default_rng()
_seed = None


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator (also NumPy's legacy global state, for third-party code)."""
    global _generator, _seed
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    np.random.seed(_seed % 2**32)
    return _generator


seed = manual_seed


def default_generator() -> np.random.Generator:
    return _generator


def initial_seed():
    return _seed


def get_rng_state() -> dict:
    """The generator's state as a JSON-serialisable dict (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    bg = getattr(np.random, state["bit_generator"])()
    bg.state = state
    global _generator
    _generator = np.random.Generator(bg)
