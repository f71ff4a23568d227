"""Datasets: real ones (MNIST, CIFAR-10, text) read from ``<root>/<name>/``, embedded 8x8 digits,
and synthetic toy sets.  See :mod:`gradus.data.download` for how ``root`` is resolved."""

from .cifar import CIFAR10, read_cifar_bin
from .digits import Digits, load_digits_arrays
from .mnist import MNIST, FashionMNIST, load_mnist_arrays, read_idx
from .synthetic import logic_gate, make_blobs, make_moons, make_spiral
from .text import SentimentSentences, SMSSpam, Vectorizer, tokenize

__all__ = [
    "MNIST",
    "FashionMNIST",
    "load_mnist_arrays",
    "read_idx",
    "CIFAR10",
    "read_cifar_bin",
    "Digits",
    "load_digits_arrays",
    "SMSSpam",
    "SentimentSentences",
    "Vectorizer",
    "tokenize",
    "logic_gate",
    "make_spiral",
    "make_moons",
    "make_blobs",
]
