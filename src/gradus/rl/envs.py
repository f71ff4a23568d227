"""Environments from ``gymnasium`` (the ``rl`` extra: ``pip install "gradus[rl]"``).

:func:`make_env` is ``gymnasium.make`` that tolerates the version renames of the toy-text
environments between gymnasium releases (``CliffWalking-v0`` became ``-v1`` in 1.0, ``Taxi-v3``
became ``-v4`` in 1.2 and the old id is refused): a recipe that names either version runs on the
installed gymnasium, and the id actually made is ``env.spec.id``. gymnasium is imported on first
use, so ``import gradus.rl`` works without it.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["make_env", "gymnasium_module", "grid_shape"]


def gymnasium_module() -> Any:
    """``import gymnasium``, with the install hint when it is missing."""
    try:
        import gymnasium
    except ImportError:
        raise ImportError('gradus.rl needs gymnasium for its environments: pip install "gymnasium>=0.29" '
                          '(or the extra: pip install "gradus[rl]")') from None
    return gymnasium


def make_env(env_id: str, **kwargs: Any) -> Any:
    """``gymnasium.make(env_id, **kwargs)``; when that exact version is not registered (renamed or
    deprecated), the registered version of the same name closest to the requested one."""
    gym = gymnasium_module()
    if env_id in gym.envs.registry:
        try:
            return gym.make(env_id, **kwargs)
        except gym.error.DeprecatedEnv:
            pass  # registered but refused (Taxi-v3 on gymnasium >= 1.2): take another version
    m = re.fullmatch(r"(.+)-v(\d+)", env_id)
    if not m:
        return gym.make(env_id, **kwargs)  # gymnasium's own error for an unknown id
    name, version = m.group(1), int(m.group(2))
    versions = sorted((int(k.rsplit("-v", 1)[1]) for k in gym.envs.registry
                       if re.fullmatch(re.escape(name) + r"-v\d+", k)), key=lambda v: (abs(v - version), -v))
    for v in versions:
        if v != version:
            try:
                return gym.make(f"{name}-v{v}", **kwargs)
            except gym.error.DeprecatedEnv:
                continue
    return gym.make(env_id, **kwargs)


def grid_shape(env: Any) -> tuple[int, int] | None:
    """``(rows, cols)`` of a grid world (FrozenLake's ``desc``, CliffWalking's ``shape``): state
    ``s`` is the cell ``divmod(s, cols)``; None for other environments."""
    base = getattr(env, "unwrapped", env)
    desc = getattr(base, "desc", None)
    if desc is not None:
        return tuple(desc.shape)
    shape = getattr(base, "shape", None)
    if shape is not None and len(shape) == 2:
        return tuple(int(x) for x in shape)
    return None
