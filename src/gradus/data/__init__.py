"""gradus.data: datasets, samplers, the DataLoader, transforms and dataset downloads.

Names and semantics follow ``torch.utils.data`` and ``torchvision``::

    from gradus.data import DataLoader, TensorDataset, datasets, transforms
    train = datasets.MNIST(train=True, transform=transforms.ToTensor())
    loader = DataLoader(train, batch_size=128, shuffle=True)

``stratified_split(labels, size, seed)`` gives the train / held-out indices of a seeded stratified
split (used by the digits and the recipes' test splits).
"""

from . import datasets, download, errors, transforms
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .errors import ChecksumError, DatasetFormatError, DatasetNotFoundError, DownloadError, UnsafeArchiveError
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .split import stratified_split

__all__ = [
    "Dataset",
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
