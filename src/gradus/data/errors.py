"""Error classes of the data layer.

Each subclasses the built-in exception a caller would already catch, so
``except ValueError`` / ``except FileNotFoundError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "DownloadError",
    "UnsafeArchiveError",
]


class ChecksumError(ValueError):
    """A file's digest differs from the published one (corrupt, truncated or a different version)."""


class DatasetFormatError(ValueError):
    """A dataset file is readable but its structure is wrong (bad magic number, truncated payload...)."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is missing and could not be downloaded; the message says where to put it."""


class DownloadError(DatasetNotFoundError):
    """Every mirror failed for a file; the message lists each URL with its error."""


class UnsafeArchiveError(DatasetFormatError):
    """An archive member would escape the extraction directory (or is a device file)."""
