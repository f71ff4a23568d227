"""Datasets: real ones (MNIST, CIFAR-10, text classification, Tiny Shakespeare, Multi30k, Tatoeba
fra-eng) read from ``<root>/<name>/``, embedded 8x8 digits,
and synthetic toy sets.  See :mod:`gradus.data.download` for how ``root`` is resolved."""

from .cifar import CIFAR10, read_cifar_bin
from .digits import Digits, load_digits_arrays
from .mnist import MNIST, FashionMNIST, load_mnist_arrays, read_idx
from .multi30k import Multi30k, read_lines_gz
from .synthetic import logic_gate, make_blobs, make_moons, make_spiral
from .tatoeba import ENG_PREFIXES, TatoebaFraEng
from .text import SentimentSentences, SMSSpam, Vectorizer, tokenize
from .tinyshakespeare import TinyShakespeare, encode_chars

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
    "TinyShakespeare",
    "encode_chars",
    "Multi30k",
    "read_lines_gz",
    "TatoebaFraEng",
    "ENG_PREFIXES",
    "logic_gate",
    "make_spiral",
    "make_moons",
    "make_blobs",
]
