"""Run any recipe: ``run_recipe(config, out_dir)`` dispatches on ``[recipe].runner``.

``"supervised"`` runs :func:`~.supervised.run_supervised` (the generic Trainer loop);
``"pkg.mod:func"`` imports ``func`` and calls ``func(config, out_dir, progress=...)`` (the perceptron
rule, Algorithm 4-1 by hand, the depth experiment, ...; see the other modules of this package). Both
return the final metrics (``{"test_accuracy": ..., ...}``); a custom runner's are written to
``results.json`` with the recipe's target.
"""
from __future__ import annotations

import datetime as _dt
import inspect
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...train.callbacks import Callback
from ...train.checkpoint import atomic_write_text
from .. import SUPERVISED, RecipeError, describe_target, import_object, target_reached
from .common import jsonable, world_and_rank
from .supervised import run_supervised

__all__ = ["run_recipe", "default_out_dir"]


def default_out_dir(name: str) -> Path:
    """``runs/<recipe>-<YYYYmmdd-HHMMSS>`` under the current directory."""
    return Path("runs") / f"{name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run_recipe(config: Mapping[str, Any], out_dir: str | Path, *, progress: bool = True,
               resume: str | Path | None = None, data_root: Any = None,
               extra_callbacks: Sequence[Callback] = ()) -> dict[str, Any]:
    """Run any recipe: the supervised loop or its custom ``runner``; returns the final metrics."""
    runner = config["recipe"].get("runner", SUPERVISED)
    if runner == SUPERVISED:
        return run_supervised(config, out_dir, progress=progress, resume=resume, data_root=data_root,
                              extra_callbacks=extra_callbacks)
    fn = import_object(runner, "recipe.runner")
    config = json.loads(json.dumps(config))
    if data_root is not None:
        config.setdefault("data", {})["root"] = str(data_root)
    kwargs: dict[str, Any] = {"progress": progress}
    if resume is not None:
        if "resume" not in inspect.signature(fn).parameters:
            raise RecipeError(f"recipe {config['recipe']['name']!r} uses the custom runner {runner!r}, "
                              "which cannot resume from a checkpoint")
        kwargs["resume"] = resume
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    results = fn(config, Path(out_dir), **kwargs)
    if not isinstance(results, Mapping):
        raise TypeError(f"runner {runner!r} returned {type(results).__name__}, expected a dict of metrics")
    results = dict(results)
    if world_and_rank()[1] != 0:
        return results                   # data-parallel: rank 0 writes (every rank has the same results)
    atomic_write_text(Path(out_dir) / "results.json", json.dumps(
        {"recipe": config["recipe"]["name"], "results": jsonable(results),
         "target": describe_target(config) or None, "target_reached": target_reached(config, results)},
        indent=1) + "\n")
    return results
