"""Objects from a recipe's config: the model, the optimizer, the scheduler and the data."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import DATA_RUNNER_KEYS, RecipeError, import_object, optimizer_class, scheduler_factory
from ..datasets import DataBundle, build_dataset, split_validation
from .common import section

__all__ = ["build_model", "build_optimizer", "build_scheduler", "build_data", "supervised_parts"]


def _kwargs(cfg: Mapping[str, Any], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in cfg.items() if k not in drop}


def build_model(config: Mapping[str, Any]) -> Any:
    """``model.factory(**other model keys)``."""
    cfg = config["model"]
    factory = import_object(cfg["factory"], "model.factory")
    try:
        return factory(**_kwargs(cfg, "factory"))
    except (TypeError, ValueError) as e:
        raise RecipeError(f"model.factory {cfg['factory']!r} rejected its arguments: {e}") from None


def build_optimizer(config: Mapping[str, Any], model: Any) -> Any:
    """``gradus.optim.<optim.name>(model.parameters(), **other optim keys)``."""
    cfg = config["optim"]
    cls = optimizer_class(cfg["name"])
    kwargs = _kwargs(cfg, "name")
    # TOML has no tuples; PyTorch-style arguments such as betas=(0.9, 0.999) come as lists.
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    try:
        return cls(model.parameters(), **kwargs)
    except ValueError as e:  # a value out of range (types and unknown keys are checked by validate)
        raise RecipeError(f"[optim] {cfg['name']} rejected its arguments: {e}") from None


def build_scheduler(config: Mapping[str, Any], optimizer: Any) -> tuple[Any, str]:
    """The ``[scheduler]`` (or None) and its interval (``"epoch"`` or ``"step"``)."""
    cfg = config.get("scheduler") or {}
    if not cfg.get("name"):
        return None, "epoch"
    factory = scheduler_factory(cfg["name"])
    per_step = cfg["name"] in ("warmup_cosine", "noam", "OneCycleLR")
    interval = cfg.get("interval", "step" if per_step else "epoch")
    kwargs = {k: tuple(v) if isinstance(v, list) and k != "milestones" else v
              for k, v in _kwargs(cfg, "name", "interval").items()}
    try:
        return factory(optimizer, **kwargs), interval
    except ValueError as e:
        raise RecipeError(f"[scheduler] {cfg['name']} rejected its arguments: {e}") from None


def build_data(config: Mapping[str, Any], root: Any = None) -> DataBundle:
    """The recipe's :class:`DataBundle`, with a validation split when ``data.val_fraction > 0``."""
    cfg = dict(config["data"])
    root = root if root is not None else cfg.get("root")
    kwargs = _kwargs(cfg, *DATA_RUNNER_KEYS)
    bundle = build_dataset(cfg["dataset"], root=root, **kwargs)
    frac = float(cfg.get("val_fraction") or 0.0)
    if frac > 0 and bundle.val is None:
        seed = int((config.get("train") or {}).get("seed", 0) or 0)
        bundle.train, bundle.val = split_validation(bundle.train, frac, seed=seed)
    return bundle


def supervised_parts(config: Mapping[str, Any]) -> tuple[Any, DataBundle, Any, int]:
    """``(model, data bundle, optimizer, seed)`` built from the supervised sections of a recipe, as the
    supervised runner does: the global generator is seeded with ``train.seed`` first."""
    import gradus

    seed = int(section(config, "train").get("seed", 0))
    gradus.manual_seed(seed)  # before anything random: the initial weights
    bundle = build_data(config)
    model = build_model(config)
    return model, bundle, build_optimizer(config, model), seed
