"""Shared helper of the wrong-use tables: run a case, check the exception type and its message."""

from __future__ import annotations

import re

import pytest


def check(fn, exc, pattern) -> None:
    """``fn()`` raises ``exc`` and its message matches ``pattern`` (a regex, searched)."""
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    assert re.search(pattern, message), f"message {message!r} does not match {pattern!r}"
    assert "Traceback" not in message
