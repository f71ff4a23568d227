"""Keyword overrides for a model's config dataclass: ``GPT(cfg, n_layer=2)`` or ``GPT(n_layer=2)``.

Every model takes ``(config=None, **overrides)`` like Hugging Face's ``from_pretrained(..., **kwargs)``:
the overrides are applied to a *copy* of the config (the caller's object is never modified, so one
config can build several models), and a misspelt option is a TypeError that lists the valid ones
instead of being silently ignored.
"""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, TypeVar

C = TypeVar("C")


def configure(config_class: type[C], config: C | None, overrides: dict[str, Any], who: str) -> C:
    """A copy of ``config`` (default: ``config_class()``) with each ``overrides`` item set on it.

    ``who`` names the model in the error: ``GPT: unknown option 'n_layers' (options: [...])``."""
    cfg = replace(config) if config is not None else config_class()
    names = [f.name for f in fields(cfg)]
    for key, value in overrides.items():
        if key not in names:
            raise TypeError(f"{who}: unknown option {key!r} (options: {names})")
        setattr(cfg, key, value)
    return cfg
