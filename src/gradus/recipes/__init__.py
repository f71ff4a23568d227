"""Recipes: one experiment per TOML file in this folder (``<name>.toml``, file name == recipe name).

    >>> from gradus import recipes
    >>> "digits-mlp" in recipes.list_recipes()
    True
    >>> cfg = recipes.load_recipe("digits-mlp", overrides=["train.epochs=3"])
    >>> cfg["train"]["epochs"]
    3

Schema (see the recipe contract in the docs): ``[recipe]`` name, description, runner, target;
``[model]`` factory + keyword arguments; ``[data]`` dataset + batch_size, val_fraction, root + the
builder's keyword arguments; ``[optim]`` name + keyword arguments; optional ``[scheduler]`` name (+
``interval = "epoch" | "step"``) + keyword arguments; ``[train]`` epochs, loss, seed, l2,
clip_grad_norm, early_stopping. ``--set a.b=value`` overrides any key; keys are checked against the
schema and against the signatures of the factory / optimizer / scheduler / dataset builder, and an
unknown key is refused with the closest valid one.

This module loads and checks recipes (it imports nothing heavy, so ``gradus list`` stays fast). What
runs them lives beside it: :mod:`gradus.recipes.datasets` (the ``data.dataset`` registry:
``DATASETS``, ``DataBundle``, ``build_dataset``, ``register_dataset``) and
:mod:`gradus.recipes.runners` (``run_recipe``, ``run_supervised``, the builders and every custom
runner); those names are also reachable here, loaded on first use (``from gradus.recipes import
run_recipe``).
"""
from __future__ import annotations

import copy
import difflib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from ..errors import GradusError

__all__ = [
    "RecipeError",
    "DEFAULT_RECIPE",
    "recipes_dir",
    "list_recipes",
    "recipe_path",
    "load_recipe",
    "parse_override",
    "apply_overrides",
    "validate",
    "import_object",
    "describe_target",
    "SUPERVISED",
    "optimizer_class",
    "scheduler_factory",
    "check_value",
    "VALUE_KINDS",
]

DEFAULT_RECIPE = "digits-mlp"
SUPERVISED = "supervised"


class RecipeError(GradusError, ValueError):
    """A recipe does not exist, does not parse, or has / is given an unknown key or value."""


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------- discovery


def recipes_dir() -> Path:
    """The folder holding the packaged ``*.toml`` recipes."""
    return Path(str(resources.files(__name__)))


def list_recipes() -> list[str]:
    """Names of every packaged recipe (every ``*.toml`` here), sorted."""
    return sorted(p.stem for p in recipes_dir().glob("*.toml"))


def recipe_path(name: str | Path) -> Path:
    """The TOML file of recipe ``name``; ``name`` may also be a path to a ``.toml`` file."""
    p = Path(name)
    if p.suffix == ".toml" and p.is_file():
        return p
    if p.suffix == ".toml" and (p.parent != Path(".") or p.is_absolute()):
        raise RecipeError(f"recipe file {p} does not exist")
    candidate = recipes_dir() / f"{p.stem if p.suffix == '.toml' else name}.toml"
    if candidate.is_file():
        return candidate
    raise RecipeError(f"unknown recipe {str(name)!r}{_suggest(str(name), list_recipes())} "
                      "(`gradus list` shows them all)")


# --------------------------------------------------------------------------- defaults and schema

# Keys the supervised runner itself reads, with their defaults.
TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "loss": "cross_entropy",
    "seed": 0,
    "l2": 0.0,
    "clip_grad_norm": 0.0,
    "early_stopping": {"patience": 0, "monitor": "val_loss", "mode": "auto", "min_delta": 0.0,
                       "restore_best_weights": True},
    "monitor": "val_loss",
    "checkpoint_every_n_steps": 0,
    "plots": True,
}
DATA_RUNNER_KEYS = {"dataset": None, "batch_size": 32, "eval_batch_size": 256, "val_fraction": 0.0,
                    "root": None}
RECIPE_KEYS = {"name", "description", "runner", "target"}
TARGET_KEYS = {"metric", "value", "mode"}


# Custom runners that lived in gradus.models until the recipes got their own runners package: recipe
# files written for the old locations keep working.
MOVED_RUNNERS = {
    f"gradus.models.{old}:{func}": f"gradus.recipes.runners.{new}:{func}"
    for old, new, func in (("perceptron", "perceptron", "run_perceptron_logic"),
                           ("perceptron", "perceptron", "run_adaline"),
                           ("mlp", "textbook", "run_textbook"),
                           ("mlp", "overfitting", "run_overfit_l2"),
                           ("mlp", "xor", "run_xor"),
                           ("mlp", "spam", "run_spam"),
                           ("experiments", "depth", "depth_plain_vs_residual"))
}


def import_object(spec: str, what: str = "object") -> Any:
    """``"package.module:attr"`` -> the attribute (clear errors for a bad module or name)."""
    if not isinstance(spec, str) or ":" not in spec:
        raise RecipeError(f"{what} must be 'package.module:name', got {spec!r}")
    spec = MOVED_RUNNERS.get(spec, spec)
    mod_name, _, attr = spec.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except (ImportError, ValueError, TypeError) as e:
        # ValueError: an empty module name (":x"); TypeError: a relative one (".x:y").
        raise RecipeError(f"{what} {spec!r}: cannot import module {mod_name!r} ({e})") from None
    obj = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(mod) if not n.startswith("_")]
            raise RecipeError(f"{what} {spec!r}: module {mod_name!r} has no {attr!r}{_suggest(attr, names)}")
        obj = getattr(obj, part)
    return obj


def _signature_keys(fn: Callable, skip: int = 0) -> tuple[set[str], bool]:
    """Keyword names ``fn`` accepts (after skipping ``skip`` leading positional parameters), and
    whether it takes ``**kwargs``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return set(), True
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return {p.name for p in named[skip:]}, var_kw


def optimizer_class(name: str) -> Any:
    """The optimizer class ``gradus.optim.<name>`` (a RecipeError naming the available ones if unknown)."""
    from .. import optim

    cls = getattr(optim, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, optim.Optimizer)):
        names = [n for n in dir(optim) if isinstance(getattr(optim, n), type)
                 and issubclass(getattr(optim, n), optim.Optimizer) and n != "Optimizer"]
        raise RecipeError(f"optim.name: unknown optimizer {name!r}{_suggest(str(name), names)} "
                          f"(available: {', '.join(sorted(names))})")
    return cls


def scheduler_factory(name: str) -> Any:
    """The scheduler ``gradus.optim.lr_scheduler.<name>``, or ``"warmup_cosine"`` / ``"noam"`` (the
    warm-up schedules, built on LambdaLR); RecipeError if unknown."""
    from ..optim import lr_scheduler

    if name in ("warmup_cosine", "noam"):
        return getattr(lr_scheduler, name)
    cls = getattr(lr_scheduler, str(name), None)
    if not isinstance(cls, type):
        names = [n for n in dir(lr_scheduler) if isinstance(getattr(lr_scheduler, n), type)
                 and n.endswith(("LR", "Plateau"))] + ["warmup_cosine", "noam"]
        raise RecipeError(f"scheduler.name: unknown scheduler {name!r}{_suggest(str(name), names)} "
                          f"(available: {', '.join(sorted(names))})")
    return cls


def _flatten_keys(d: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.append(key)
        if isinstance(v, Mapping):
            out.extend(_flatten_keys(v, key + "."))
    return out


def _valid_keys(config: Mapping[str, Any]) -> dict[str, set[str] | None]:
    """For a supervised recipe, per section, the allowed keys (None = anything: the callable takes
    ``**kwargs``)."""
    valid: dict[str, set[str] | None] = {"recipe": set(RECIPE_KEYS), "train": set(TRAIN_DEFAULTS)}
    model = config.get("model") or {}
    if "factory" in model:
        keys, var_kw = _signature_keys(import_object(model["factory"], "model.factory"))
        valid["model"] = None if var_kw else keys | {"factory"}
    else:
        valid["model"] = {"factory"}
    data = config.get("data") or {}
    valid["data"] = set(DATA_RUNNER_KEYS)
    if "dataset" in data:
        from .datasets import DATASETS, dataset_kwargs

        if data["dataset"] not in DATASETS:
            raise RecipeError(f"data.dataset: unknown dataset {data['dataset']!r}"
                              f"{_suggest(str(data['dataset']), DATASETS)} "
                              f"(available: {', '.join(sorted(DATASETS))})")
        valid["data"] |= set(dataset_kwargs(data["dataset"])) - {"root"}
    optim_cfg = config.get("optim") or {}
    valid["optim"] = {"name"}
    if "name" in optim_cfg:
        keys, var_kw = _signature_keys(optimizer_class(optim_cfg["name"]), skip=1)
        valid["optim"] = None if var_kw else keys | {"name"}
    sched = config.get("scheduler") or {}
    valid["scheduler"] = {"name", "interval"}
    if "name" in sched:
        keys, var_kw = _signature_keys(scheduler_factory(sched["name"]), skip=1)
        valid["scheduler"] = None if var_kw else keys | {"name", "interval"}
    return valid


# --------------------------------------------------------------------------- value types

# What a value must be, per kind: (test, description for the message).
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "pos_int": (lambda v: _is_int(v) and v > 0, "a positive integer (e.g. 3)"),
    "nonneg_int": (lambda v: _is_int(v) and v >= 0, "a non-negative integer (e.g. 0)"),
    "int": (_is_int, "an integer"),
    "pos_float": (lambda v: _is_num(v) and v > 0, "a positive number (e.g. 0.01)"),
    "nonneg_float": (lambda v: _is_num(v) and v >= 0, "a non-negative number (e.g. 0.0)"),
    "fraction": (lambda v: _is_num(v) and 0 <= v < 1, "a number in [0, 1) (e.g. 0.1)"),
    "unit": (lambda v: _is_num(v) and 0 <= v <= 1, "a number in [0, 1] (e.g. 0.5)"),
    "number": (_is_num, "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str) and v != "", "a non-empty string (e.g. \"name\")"),
    "betas": (lambda v: isinstance(v, (list, tuple)) and len(v) == 2
              and all(_is_num(b) and 0 <= b < 1 for b in v),
              "two numbers in [0, 1) (e.g. [0.9, 0.999])"),
    "int_list": (lambda v: isinstance(v, (list, tuple)) and all(_is_int(b) and b >= 0 for b in v),
                 "a list of non-negative integers (e.g. [30, 60])"),
    "pos_int_list": (lambda v: isinstance(v, (list, tuple)) and len(v) > 0
                     and all(_is_int(b) and b > 0 for b in v),
                     "a non-empty list of positive integers (e.g. [64, 32, 10])"),
}

# The types of the keys the supervised runner, the optimizers and the schedulers read. Values of
# keys listed here are checked whatever the runner, so runners get clean values.
VALUE_KINDS: dict[str, str] = {
    "train.epochs": "pos_int", "train.seed": "nonneg_int", "train.l2": "nonneg_float",
    "train.clip_grad_norm": "nonneg_float", "train.checkpoint_every_n_steps": "nonneg_int",
    "train.plots": "bool", "train.loss": "str", "train.monitor": "str", "train.label_smoothing": "fraction",
    "train.early_stopping.patience": "nonneg_int", "train.early_stopping.min_delta": "nonneg_float",
    "train.early_stopping.monitor": "str", "train.early_stopping.restore_best_weights": "bool",
    "data.batch_size": "pos_int", "data.eval_batch_size": "pos_int", "data.val_batch_size": "pos_int",
    "data.val_fraction": "fraction", "data.test_fraction": "fraction", "data.subset": "nonneg_int",
    "data.test_subset": "nonneg_int", "data.dataset": "str",
    "optim.name": "str", "optim.lr": "pos_float", "optim.momentum": "nonneg_float",
    "optim.dampening": "nonneg_float", "optim.weight_decay": "nonneg_float", "optim.eps": "pos_float",
    "optim.betas": "betas", "optim.alpha": "nonneg_float", "optim.rho": "unit",
    "optim.lr_decay": "nonneg_float",
    "optim.nesterov": "bool", "optim.amsgrad": "bool", "optim.maximize": "bool", "optim.centered": "bool",
    "scheduler.name": "str", "scheduler.step_size": "pos_int", "scheduler.gamma": "pos_float",
    "scheduler.T_max": "pos_int", "scheduler.eta_min": "nonneg_float", "scheduler.warmup_steps": "nonneg_int",
    "scheduler.total_steps": "pos_int", "scheduler.min_lr": "nonneg_float",
    "scheduler.milestones": "int_list",
    "scheduler.max_lr": "pos_float", "scheduler.epochs": "pos_int", "scheduler.steps_per_epoch": "pos_int",
    "scheduler.pct_start": "unit", "scheduler.factor": "nonneg_float",  # < 1 checked by ReduceLROnPlateau
    "scheduler.patience": "nonneg_int",
    "scheduler.total_iters": "pos_int", "scheduler.start_factor": "unit", "scheduler.end_factor": "unit",
    "model.sizes": "pos_int_list",
}
CHOICES: dict[str, tuple[str, ...]] = {
    "scheduler.interval": ("epoch", "step"),
    "train.early_stopping.mode": ("auto", "min", "max"),
}


def _show(v: Any) -> str:
    text = repr(v) if not isinstance(v, str) else f'"{v}"'
    return text if len(text) <= 40 else text[:37] + "..."


def check_value(key: str, value: Any) -> None:
    """Refuse a value of the wrong type for a known key (``train.epochs = 2.5``, ``optim.lr = "abc"``)
    with a RecipeError naming the key, the value and what it must be."""
    if key in CHOICES:
        if value not in CHOICES[key]:
            opts = " or ".join(repr(c) for c in CHOICES[key])
            raise RecipeError(f"{key} must be {opts}, got {_show(value)}{_suggest(str(value), CHOICES[key])}")
        return
    kind = VALUE_KINDS.get(key)
    if kind is None:
        return
    test, what = _KINDS[kind]
    if not test(value):
        hint = ""
        if isinstance(value, str) and kind not in ("str",):
            hint = " (a string: numbers are written without quotes)"
        elif isinstance(value, float) and "int" in kind and value.is_integer():  # False for inf, nan
            hint = f" (write {int(value)})"
        raise RecipeError(f"{key} must be {what}, got {_show(value)}{hint}")


def check_values(config: Mapping[str, Any], original: Mapping[str, Any] | None = None) -> None:
    """:func:`check_value` on every known key of ``config``; with ``original`` (the recipe file),
    a key not in the schema must keep the kind of value the file gives it (a number stays a number)."""
    def walk(node: Mapping[str, Any], orig: Any, prefix: str) -> None:
        for k, v in node.items():
            key = f"{prefix}{k}"
            o = orig.get(k) if isinstance(orig, Mapping) else None
            if isinstance(v, Mapping) and key.count(".") < 2:
                walk(v, o, key + ".")
                continue
            if "." in key:
                check_value(key, v)
                if key not in VALUE_KINDS and key not in CHOICES and o is not None:
                    _check_same_kind(key, v, o)

    walk(config, original or {}, "")


def _kind_of(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, Mapping):
        return "table"
    return type(v).__name__


def _check_same_kind(key: str, value: Any, original: Any) -> None:
    want, got = _kind_of(original), _kind_of(value)
    if want != got:
        hint = " (numbers are written without quotes)" if got == "string" and want == "number" else ""
        raise RecipeError(f"{key} must be a {want} like the recipe's {_show(original)}, got "
                          f"{_show(value)}{hint}")
    if want == "number" and _is_int(original) and not _is_int(value):
        raise RecipeError(f"{key} must be an integer like the recipe's {original}, got {_show(value)}")


def _required_keys(fn: Callable, skip: int = 0) -> list[str]:
    """Parameters of ``fn`` without a default (after ``skip`` leading positional ones)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return [p.name for p in named[skip:] if p.default is p.empty]


def _check_required(config: Mapping[str, Any]) -> None:
    """An incomplete ``[optim]`` / ``[scheduler]`` / ``[model]`` section: name what is missing."""
    for section, name_key, getter, skip in (("optim", "name", optimizer_class, 1),
                                            ("scheduler", "name", scheduler_factory, 1),
                                            ("model", "factory",
                                             lambda f: import_object(f, "model.factory"), 0)):
        body = config.get(section) or {}
        if not body.get(name_key):
            continue
        missing = [k for k in _required_keys(getter(body[name_key]), skip) if k not in body]
        if missing:
            example = " ".join(f"--set {section}.{k}=..." for k in missing)
            raise RecipeError(f"[{section}] {body[name_key]} needs "
                              f"{', '.join(f'{section}.{k}' for k in missing)} "
                              f"(missing from the recipe; e.g. {example})")


def _check_recipe_section(rec: Mapping[str, Any]) -> None:
    for key in rec:
        if key not in RECIPE_KEYS:
            raise RecipeError(f"unknown key 'recipe.{key}'{_suggest(key, RECIPE_KEYS)}")
    target = rec.get("target")
    if target is not None:
        if not isinstance(target, Mapping) or "metric" not in target or "value" not in target:
            raise RecipeError(f"recipe.target must be {{ metric = \"...\", value = ... }}, got {target!r}")
        bad = set(target) - TARGET_KEYS
        if bad:
            raise RecipeError(f"unknown key 'recipe.target.{sorted(bad)[0]}' (allowed: metric, value, mode)")


def validate(config: Mapping[str, Any]) -> None:
    """Refuse unknown sections and keys (naming the closest valid key) and malformed values.

    Supervised recipes are checked against the schema and the signatures of the model factory,
    the optimizer, the scheduler and the dataset builder. Custom runners define their own keys:
    only ``[recipe]`` is checked and the runner must import (their overrides are checked against
    the keys the recipe file lists, in :func:`load_recipe`).
    """
    rec = config.get("recipe") or {}
    _check_recipe_section(rec)
    runner = rec.get("runner", SUPERVISED)
    if runner != SUPERVISED:
        import_object(runner, "recipe.runner")
        check_values(config)
        return
    valid = _valid_keys(config)
    all_valid = [f"{s}.{k}" for s, ks in valid.items() if ks for k in ks]
    for section, body in config.items():
        if section not in valid:
            raise RecipeError(f"unknown section [{section}]{_suggest(section, valid)}")
        if not isinstance(body, Mapping):
            raise RecipeError(f"[{section}] must be a table, got {body!r}")
        allowed = valid[section]
        if allowed is None:
            continue
        for key in body:
            if key not in allowed:
                raise RecipeError(f"unknown key '{section}.{key}'{_suggest(f'{section}.{key}', all_valid)}")
    es = (config.get("train") or {}).get("early_stopping")
    if es is not None:
        if not isinstance(es, Mapping):
            raise RecipeError(f"train.early_stopping must be a table, got {es!r}")
        allowed_es = set(TRAIN_DEFAULTS["early_stopping"])
        for key in es:
            if key not in allowed_es:
                raise RecipeError(f"unknown key 'train.early_stopping.{key}'{_suggest(key, allowed_es)}")
    for section, need in (("model", "factory"), ("data", "dataset"), ("optim", "name")):
        if need not in (config.get(section) or {}):
            raise RecipeError(f"a supervised recipe needs {section}.{need}")
    check_values(config)
    _check_required(config)


# --------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"optim.lr=0.01"`` -> (["optim", "lr"], 0.01). The value is a TOML literal (numbers, bools,
    strings in quotes, arrays, inline tables); anything that does not parse is taken as a string,
    so ``optim.name=Adam`` works without quotes."""
    if "=" not in text:
        raise RecipeError(f"--set expects key=value (e.g. optim.lr=0.01), got {text!r}")
    key, _, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        raise RecipeError(f"--set key must be section.key (e.g. optim.lr), got {key!r}")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return parts, value


def apply_overrides(config: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``config`` with each ``section.key=value`` applied (keys checked by :func:`validate`)."""
    config = copy.deepcopy(config)
    for text in overrides:
        parts, value = parse_override(text)
        node = config
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise RecipeError(f"--set {text}: {'.'.join(parts[:-1])} is not a table")
            node = nxt
        node[parts[-1]] = value
    return config


# --------------------------------------------------------------------------- loading


def load_recipe(name: str | Path = DEFAULT_RECIPE, overrides: Iterable[str] = (), *,
                check: bool = True) -> dict[str, Any]:
    """Parse recipe ``name`` (or a path to a TOML file), apply ``overrides`` and validate.

    The returned dict always has ``recipe.name`` (the file name), ``recipe.runner`` (default
    ``"supervised"``) and, for supervised recipes, every ``[train]`` default filled in.
    """
    path = recipe_path(name)
    config = _parse_recipe_file(path)
    for section, body in config.items():
        if not isinstance(body, dict):
            raise RecipeError(f"{path}: [{section}] must be a table (a [{section}] header with keys under "
                              f"it), "
                              f"got {_show(body)}")
    rec = config.setdefault("recipe", {})
    rec.setdefault("name", path.stem)
    rec.setdefault("runner", SUPERVISED)
    rec.setdefault("description", "")
    overrides = list(overrides)
    if config["recipe"].get("runner", SUPERVISED) != SUPERVISED:
        # A custom runner reads the keys its recipe lists: an override must name one of them.
        known = set(_flatten_keys(config))
        for text in overrides:
            parts, _ = parse_override(text)
            key = ".".join(parts)
            if key not in known and check:
                raise RecipeError(f"unknown key {key!r} for recipe {path.stem!r}{_suggest(key, known)}")
    original = copy.deepcopy(config)
    config = apply_overrides(config, overrides)
    try:
        if check:
            check_values(config, original)
        if config["recipe"].get("runner", SUPERVISED) == SUPERVISED:
            train = config.setdefault("train", {})
            for k, v in TRAIN_DEFAULTS.items():
                if isinstance(v, dict):
                    given = train.get(k) or {}
                    if not isinstance(given, Mapping):
                        raise RecipeError(f"train.{k} must be a table, got {_show(given)}")
                    merged = dict(v)
                    merged.update(given)
                    train[k] = merged
                else:
                    train.setdefault(k, v)
            data = config.setdefault("data", {})
            for k, v in DATA_RUNNER_KEYS.items():
                if k != "dataset":
                    data.setdefault(k, v)
        if check:
            validate(config)
    except RecipeError as e:
        # An error in the file names the file, as the parse errors do; one that an override causes
        # names only the overridden key (the file is not at fault). With overrides, the file alone
        # is checked again to tell the two apart (on this error path only).
        if str(path) in str(e):
            raise
        in_file = RecipeError(f"{path}: {e}")
        if overrides:
            try:
                load_recipe(path, (), check=check)
            except RecipeError as alone:
                if str(alone) == str(in_file):
                    raise in_file from None
            raise
        raise in_file from None
    return config


# A recipe is a few kilobytes; anything far larger is not one (and is not read into memory).
MAX_RECIPE_BYTES = 1 << 20


def _parse_recipe_file(path: Path) -> dict[str, Any]:
    """Parse a recipe file; every failure is a RecipeError naming the file and what is wrong."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise RecipeError(f"recipe file {path} cannot be read: {e.strerror or e}") from None
    if size > MAX_RECIPE_BYTES:
        raise RecipeError(f"{path}: {size} bytes is not a recipe (recipes are TOML files under "
                          f"{MAX_RECIPE_BYTES} bytes)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise RecipeError(f"{path}: not UTF-8 text ({e})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as read_text() had
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RecipeError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:  # tomllib parses nested arrays / inline tables recursively
        raise RecipeError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None


def describe_target(config: Mapping[str, Any]) -> str:
    """``"test_accuracy >= 0.98"`` (or ``<=`` for loss-like metrics), ``""`` without a target."""
    target = (config.get("recipe") or {}).get("target")
    if not target:
        return ""
    op = ">=" if _target_mode(target) == "max" else "<="
    return f"{target['metric']} {op} {target['value']}"


def _target_mode(target: Mapping[str, Any]) -> str:
    mode = target.get("mode")
    if mode in ("min", "max"):
        return mode
    metric = str(target.get("metric", ""))
    return "min" if any(s in metric for s in ("loss", "error", "perplexity", "mse")) else "max"


def target_reached(config: Mapping[str, Any], metrics: Mapping[str, Any]) -> bool | None:
    """Whether ``metrics`` meet the recipe's target (None: no target or metric not reported)."""
    target = (config.get("recipe") or {}).get("target")
    if not target or target.get("metric") not in metrics:
        return None
    value = float(metrics[target["metric"]])
    goal = float(target["value"])
    return value >= goal if _target_mode(target) == "max" else value <= goal


def list_all(check: bool = False) -> list[tuple[str, str, str]]:
    """``(name, target, description)`` for every recipe (unparsable files are listed with the error)."""
    rows = []
    for name in list_recipes():
        try:
            cfg = load_recipe(name, check=check)
            rows.append((name, describe_target(cfg), str(cfg["recipe"].get("description", ""))))
        except RecipeError as e:
            rows.append((name, "", f"(broken recipe: {e})"))
    return rows


__all__ += ["target_reached", "list_all", "TRAIN_DEFAULTS"]


# Names of the submodules that run recipes, loaded on first use: importing them here would load the
# Trainer, the datasets and the model zoo for every `gradus list`.
_LAZY = {
    **{n: "datasets" for n in ("DATASETS", "DataBundle", "build_dataset", "register_dataset",
                               "dataset_kwargs")},
    **{n: "runners" for n in ("run_recipe", "run_supervised", "build_model", "build_optimizer",
                              "build_scheduler", "build_data")},
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
