"""gradus.data: datasets, samplers, the DataLoader, transforms and dataset downloads.

Names and semantics follow ``torch.utils.data`` and ``torchvision``::

    from gradus.data import DataLoader, TensorDataset, datasets, transforms
    train = datasets.MNIST(train=True, transform=transforms.ToTensor())
    loader = DataLoader(train, batch_size=128, shuffle=True)

``stratified_split(labels, size, seed)`` gives the train / held-out indices of a seeded stratified
split (used by the digits and the recipes' test splits).

Text and sequences (recurrent networks, seq2seq): ``Vocab`` (token <-> id, ``<pad> <sos> <eos> <unk>``),
``char_tokenize`` / ``word_tokenize`` / ``normalize_string``, ``pad_sequences`` / ``PadCollate``
(padded ``(B, T)`` batches with lengths and mask), ``BucketBatchSampler`` (length bucketing),
``batchify`` / ``bptt_batches`` (truncated BPTT streams) and ``TranslationDataset``; the corpora
``datasets.TinyShakespeare``, ``datasets.Multi30k`` and ``datasets.TatoebaFraEng``.
"""

from . import datasets, download, errors, transforms
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .errors import ChecksumError, DatasetFormatError, DatasetNotFoundError, DownloadError, UnsafeArchiveError
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .sequence import (
    BucketBatchSampler,
    PadCollate,
    PaddedBatch,
    TranslationDataset,
    batchify,
    bptt_batches,
    pad_sequences,
)
from .split import stratified_split
from .tokenize import (
    char_tokenize,
    normalize_string,
    normalize_strings,
    train_bpe,
    train_wordpiece,
    unicode_to_ascii,
    word_tokenize,
)
from .vocab import DEFAULT_SPECIALS, Vocab, build_vocab_from_iterator

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "stratified_split",
    "DataLoader",
    "default_collate",
    "default_convert",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "BatchSampler",
    "Vocab",
    "DEFAULT_SPECIALS",
    "build_vocab_from_iterator",
    "char_tokenize",
    "word_tokenize",
    "unicode_to_ascii",
    "normalize_string",
    "normalize_strings",
    "train_bpe",
    "train_wordpiece",
    "PaddedBatch",
    "pad_sequences",
    "PadCollate",
    "BucketBatchSampler",
    "batchify",
    "bptt_batches",
    "TranslationDataset",
    "ChecksumError",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "DownloadError",
    "UnsafeArchiveError",
    "datasets",
    "transforms",
    "download",
    "errors",
]
