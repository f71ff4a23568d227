"""Checkpoints: tensors in a ``safetensors`` file, everything else as JSON. No pickle anywhere.

A checkpoint ``run/checkpoint.safetensors`` holds

* the model's ``state_dict()`` under ``model.<key>`` (``model.fc1.weight``, ...),
* the optimizer's and scheduler's ``state_dict()`` tensors under ``optim.<path>`` /
  ``scheduler.<path>`` (``optim.state.0.exp_avg``), and arrays found in ``meta`` under ``meta.<path>``,

and a JSON document describing the rest: the non-tensor parts of those state dicts (with
placeholders pointing at the tensors), the caller's ``meta`` (recipe config, epoch, step, RNG
states, metrics history), the gradus version and a SHA-256 of the tensor contents. That document is
written twice: embedded in the safetensors header (so the one file is self-contained and written
atomically: a kill between two renames can never pair new tensors with old metadata) and as a
readable sidecar ``run/checkpoint.json``.

Both files are written to a temporary file in the same directory and renamed with ``os.replace``
(atomic on POSIX and Windows), so a crash leaves either the old or the new checkpoint, never half
of one. Loading checks the tensor hash, the keys and the shapes, and refuses with a list of what
differs.

    >>> # save_checkpoint("run/ckpt.safetensors", model, optimizer, meta={"epoch": 3})
    >>> # meta = load_checkpoint("run/ckpt.safetensors", model, optimizer)
"""
from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import json
import math
import os
import struct
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradusError

__all__ = [
    "CheckpointError",
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "sidecar_path",
    "flatten_state",
    "unflatten_state",
    "atomic_write_bytes",
    "atomic_write_text",
]

FORMAT = "gradus-checkpoint"
FORMAT_VERSION = 1
_META_KEY = "gradus"  # key of the JSON document inside the safetensors header's __metadata__
# Key of the SHA-256 of that document's exact text. The tensors have their own digest; this one
# makes a corrupted document (a changed epoch, a lost key) an error instead of silent garbage.
# Checkpoints written before it existed have no such key and load unverified, as before.
_META_SHA_KEY = "gradus_sha256"
# safetensors' own limit on the JSON header (its MAX_HEADER_SIZE); checked before parsing anything.
_MAX_HEADER_BYTES = 100_000_000


class CheckpointError(GradusError, ValueError):
    """A checkpoint is missing, truncated, corrupt, or does not fit the model/optimizer given."""


class CheckpointMismatchError(CheckpointError):
    """A valid checkpoint of another model or optimizer: its keys, shapes or state do not fit the
    objects it is loaded into (the command line reports it as a usage error)."""


# --------------------------------------------------------------------------- atomic writes


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: temp file in the same directory, fsync, ``os.replace``.

    After a successful replace, temp files of ``path`` left by an earlier write that was killed
    (``.<name>.*.tmp`` last modified before this write began) are removed, so a crash leaves no
    orphan behind once the next write succeeds.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    # Same directory: os.replace is only atomic within one file system.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _remove_stale_temps(path, before=started, keep=Path(tmp).name)
    return path


def _remove_stale_temps(path: Path, before: float, keep: str) -> None:
    # Only files older than this write: a (stalled) writer that is still running touches its file,
    # and deleting a live temp file would make that writer's os.replace fail.
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if stale.name == keep:
            continue
        try:
            if stale.stat().st_mtime < before:
                stale.unlink()
        except OSError:
            pass  # already gone (another process cleaned it) or not ours to remove


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- state <-> JSON + tensors


def _is_tensor(x: Any) -> bool:
    from ..tensor import Tensor

    return isinstance(x, Tensor)


def _host(a: Any) -> np.ndarray:
    """A Tensor's / array's data as a contiguous host ndarray (CuPy arrays are copied over)."""
    if _is_tensor(a):
        a = a.data
    get = getattr(a, "get", None)
    if not isinstance(a, np.ndarray) and callable(get):
        a = get()
    return _contiguous(np.asarray(a))


def _contiguous(a: np.ndarray) -> np.ndarray:
    # Not np.ascontiguousarray: it turns 0-d arrays (optimizer step counters) into shape (1,).
    return a if a.flags.c_contiguous else np.array(a, order="C")


def flatten_state(obj: Any, prefix: str) -> tuple[Any, dict[str, np.ndarray]]:
    """Split a nested state (dicts, lists, tuples, scalars, Tensors, ndarrays) into a JSON-able
    skeleton and a flat ``{name: ndarray}`` dict for safetensors.

    Tensors become ``{"__tensor__": name, "kind": "tensor"|"ndarray"|"scalar"}`` in the skeleton,
    with ``name = prefix.path.to.value``. NumPy scalars are kept as 0-d arrays so that their dtype
    survives (a float32 step counter must not come back as a Python float64). Dicts whose keys are
    not all strings (an optimizer's ``state`` is keyed by int) become
    ``{"__items__": [[key, value], ...]}``; tuples become ``{"__tuple__": [...]}``; NaN and
    infinities become ``{"__float__": "nan"}`` (the JSON is strict: ``allow_nan=False``).
    """
    tensors: dict[str, np.ndarray] = {}

    def add(path: str, a: np.ndarray) -> None:
        if path in tensors:  # e.g. {"a.b": x} next to {"a": {"b": y}}
            raise ValueError(f"flatten_state: two values would both be stored as tensor {path!r}")
        tensors[path] = a

    def enc(x: Any, path: str) -> Any:
        if _is_tensor(x) or isinstance(x, np.ndarray) or (hasattr(x, "__cuda_array_interface__")):
            kind = "tensor" if _is_tensor(x) else "ndarray"
            add(path, _host(x))
            return {"__tensor__": path, "kind": kind}
        if isinstance(x, np.generic):
            add(path, np.array(x))  # 0-d
            return {"__tensor__": path, "kind": "scalar"}
        if isinstance(x, float) and not math.isfinite(x):
            return {"__float__": repr(x)}  # strict JSON has no NaN / Infinity literals
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, Mapping):
            keys = list(x.keys())
            plain = all(isinstance(k, str) and not k.startswith("__") for k in keys)
            if plain:
                return {k: enc(v, f"{path}.{k}") for k, v in x.items()}
            items = []
            for k, v in x.items():
                if not isinstance(k, (str, int, float, bool)) and k is not None:
                    raise TypeError(f"cannot checkpoint a dict key of type {type(k).__name__} at {path!r}")
                items.append([k, enc(v, f"{path}.{k}")])
            return {"__items__": items}
        if isinstance(x, tuple):
            return {"__tuple__": [enc(v, f"{path}.{i}") for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [enc(v, f"{path}.{i}") for i, v in enumerate(x)]
        if isinstance(x, Path):
            return str(x)
        raise TypeError(
            f"cannot checkpoint a value of type {type(x).__name__} at {path!r}: only dicts, lists, tuples, "
            "numbers, strings, None, Tensors and ndarrays are stored (no pickle)"
        )

    return enc(obj, prefix), tensors


def unflatten_state(skeleton: Any, tensors: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`flatten_state`: rebuild the nested state, Tensors as gradus Tensors.

    A skeleton that :func:`flatten_state` cannot have written (a tensor reference that is not a
    string, ``__items__`` that are not ``[key, value]`` pairs, a ``__float__`` that is not a float
    literal...) raises :class:`CheckpointError` saying where, never a raw ``TypeError``."""

    def bad(where: str, what: str) -> CheckpointError:
        return CheckpointError(f"malformed checkpoint metadata at {where}: {what}")

    def dec(x: Any, where: str) -> Any:
        if isinstance(x, dict):
            if "__tensor__" in x:
                name = x["__tensor__"]
                if not isinstance(name, str):
                    raise bad(where, f"tensor reference {name!r} is not a string")
                if name not in tensors:
                    raise CheckpointError(f"checkpoint is missing tensor {name!r} referenced by its metadata")
                a = tensors[name]
                kind = x.get("kind", "ndarray")
                if kind == "tensor":
                    from ..tensor import Tensor

                    return Tensor._make(np.array(a))  # own, writable copy
                if kind == "scalar":
                    if np.asarray(a).ndim != 0:
                        raise bad(where, f"scalar {name!r} has shape {tuple(np.shape(a))}")
                    return a[()]
                if kind != "ndarray":
                    raise bad(where, f"unknown tensor kind {kind!r}")
                return np.array(a)
            if "__float__" in x:
                text = x["__float__"]
                if text not in ("nan", "inf", "-inf"):
                    raise bad(where, f"__float__ must be 'nan', 'inf' or '-inf', got {text!r}")
                return float(text)
            if "__items__" in x:
                items = x["__items__"]
                if not isinstance(items, list) or not all(isinstance(i, list) and len(i) == 2 for i in items):
                    raise bad(where, "__items__ must be a list of [key, value] pairs")
                out = {}
                for k, v in items:
                    if not (k is None or isinstance(k, (str, int, float, bool))):
                        raise bad(where, f"dict key {k!r} is not a string or a number")
                    out[k] = dec(v, f"{where}.{k}")
                return out
            if "__tuple__" in x:
                if not isinstance(x["__tuple__"], list):
                    raise bad(where, "__tuple__ must be a list")
                return tuple(dec(v, f"{where}.{i}") for i, v in enumerate(x["__tuple__"]))
            return {k: dec(v, f"{where}.{k}") for k, v in x.items()}
        if isinstance(x, list):
            return [dec(v, f"{where}.{i}") for i, v in enumerate(x)]
        return x

    try:
        return dec(skeleton, "state")
    except RecursionError:
        raise CheckpointError("malformed checkpoint metadata: nested too deeply") from None


def _tensors_digest(tensors: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes, in sorted key order."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        a = _contiguous(np.asarray(tensors[k]))
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(memoryview(a).cast("B") if a.size else b"")
    return h.hexdigest()


def sidecar_path(path: str | os.PathLike) -> Path:
    """``run/checkpoint.safetensors`` -> ``run/checkpoint.json``."""
    path = Path(path)
    return path.with_suffix(".json")


def _gradus_version() -> str:
    try:
        from .. import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


# --------------------------------------------------------------------------- save


def save_checkpoint(
    path: str | os.PathLike,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``/``optimizer``/``scheduler`` state and ``meta`` to ``path`` (+ JSON sidecar).

    Args:
        path: the ``.safetensors`` file; the sidecar is the same name with ``.json``.
        model: anything with ``state_dict()`` (a ``gradus.nn.Module``); ``None`` to skip.
        optimizer, scheduler: anything with ``state_dict()``; ``None`` to skip.
        meta: JSON-able dict (recipe config, epoch, step, RNG states, history, ...). Arrays and
            Tensors inside it are stored as tensors (``meta.<path>``), so callback states holding
            weights (early stopping's best weights) fit too.

    Returns:
        ``path`` as a ``Path``.
    """
    from safetensors.numpy import save as st_save

    path = Path(path)
    tensors: dict[str, np.ndarray] = {}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gradus_version": _gradus_version(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if model is not None:
        sd = model.state_dict()
        keys = []
        for k, v in sd.items():
            tensors[f"model.{k}"] = _host(v)
            keys.append(k)
        doc["model"] = {"class": type(model).__name__, "keys": keys}
    for name, obj, prefix in (("optimizer", optimizer, "optim"), ("scheduler", scheduler, "scheduler")):
        if obj is not None:
            skeleton, ts = flatten_state(obj.state_dict(), prefix)
            doc[name] = {"class": type(obj).__name__, "state": skeleton}
            tensors.update(ts)
    skeleton, ts = flatten_state(dict(meta or {}), "meta")
    tensors.update(ts)
    doc["meta"] = skeleton
    doc["tensors_sha256"] = _tensors_digest(tensors)
    text = json.dumps(doc, indent=1, allow_nan=False)
    embedded = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    data = st_save(tensors, metadata={_META_KEY: embedded, _META_SHA_KEY: _text_digest(embedded)})
    # The safetensors file is the source of truth (it embeds the document); the sidecar is for
    # people and tools. Tensors first: a crash in between leaves a stale but valid sidecar only.
    atomic_write_bytes(path, data)
    atomic_write_text(sidecar_path(path), text + "\n")
    return path


# --------------------------------------------------------------------------- load


@dataclass
class Checkpoint:
    """A checkpoint read from disk: ``tensors`` (flat name -> ndarray) and the JSON ``doc``."""

    path: Path
    tensors: dict[str, np.ndarray]
    doc: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    def model_state(self) -> dict[str, np.ndarray]:
        """The model's state dict as ``{key: ndarray}`` (prefix ``model.`` removed)."""
        return {k[6:]: v for k, v in self.tensors.items() if k.startswith("model.")}

    def state_of(self, part: str) -> Any:
        """The optimizer's (``"optimizer"``) or scheduler's (``"scheduler"``) state dict, or None."""
        entry = self.doc.get(part)
        if entry is None:
            return None
        try:
            return unflatten_state(entry["state"], self.tensors)
        except CheckpointError as e:
            raise CheckpointError(f"{self.path}: {part} state: {e}") from None


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parse_json(text: str | bytes, where: str) -> Any:
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{where} is not valid JSON ({e})") from None
    except RecursionError:
        raise CheckpointError(f"{where} is not valid JSON (nested too deeply)") from None


def _read_header(data: bytes, path: Path) -> dict:
    """The safetensors header: an 8-byte little-endian length ``n``, then ``n`` bytes of a JSON object.

    ``n`` is checked against the file size (and safetensors' 100 MB limit) before the JSON is
    touched, so a corrupt length can neither read past the data nor make a huge allocation."""
    if len(data) < 8:
        raise CheckpointError(f"{path} is truncated or not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise CheckpointError(
            f"{path} is truncated or corrupt: its header announces {n} bytes but the file has {len(data)}"
        )
    if n > _MAX_HEADER_BYTES:
        raise CheckpointError(
            f"{path} is corrupt: its header announces {n} bytes, over safetensors' "
            f"{_MAX_HEADER_BYTES}-byte limit"
        )
    header = _parse_json(data[8 : 8 + n], f"{path} is corrupt: its safetensors header")
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is corrupt: its safetensors header is not a JSON object")
    return header


def _check_doc(doc: Any, where: str) -> dict:
    """The checkpoint document's structure, as :func:`save_checkpoint` writes it; a CheckpointError
    naming ``where`` and the bad field otherwise (the loaders index into it without further checks)."""
    if not isinstance(doc, dict):
        raise CheckpointError(f"{where}: the checkpoint document is not a JSON object")
    if "format" in doc and doc["format"] != FORMAT:
        raise CheckpointError(f"{where}: format {doc['format']!r} is not {FORMAT!r}")
    version = doc.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{where}: format_version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{where}: format_version {version} was written by a newer gradus "
            f"(this one reads {FORMAT_VERSION})"
        )
    if not isinstance(doc.get("tensors_sha256", ""), str):
        raise CheckpointError(f"{where}: tensors_sha256 is not a string")
    model = doc.get("model")
    if model is not None:
        if not isinstance(model, dict):
            raise CheckpointError(f"{where}: 'model' is not a JSON object")
        keys = model.get("keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise CheckpointError(f"{where}: model.keys is not a list of strings")
        if not isinstance(model.get("class", ""), str):
            raise CheckpointError(f"{where}: model.class is not a string")
    for part in ("optimizer", "scheduler"):
        entry = doc.get(part)
        if entry is None:
            continue
        if not isinstance(entry, dict) or "state" not in entry:
            raise CheckpointError(f"{where}: '{part}' is not a JSON object with a 'state'")
        if not isinstance(entry.get("class", ""), str):
            raise CheckpointError(f"{where}: {part}.class is not a string")
    if not isinstance(doc.get("meta") or {}, dict):
        raise CheckpointError(f"{where}: 'meta' is not a JSON object")
    return doc


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and verify a checkpoint (tensors + metadata) without applying it to anything.

    Format: a safetensors file (8-byte little-endian header length, JSON header, tensor bytes)
    whose header ``__metadata__`` holds the JSON document under ``"gradus"`` and its SHA-256 under
    ``"gradus_sha256"``; a plain safetensors file uses the ``.json`` sidecar if there is one.

    Raises:
        CheckpointError: missing file, truncated/corrupt file (bad header length, invalid JSON,
            a document of the wrong structure, a document or tensors that do not match the SHA-256
            recorded when the checkpoint was written). The message names the file.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

    path = Path(path)
    if not path.is_file():
        hint = ""
        if path.suffix != ".safetensors" and path.with_suffix(".safetensors").is_file():
            hint = f" (did you mean {path.with_suffix('.safetensors')}?)"
        elif path.is_dir() and (path / "checkpoint.safetensors").is_file():
            hint = f" (did you mean {path / 'checkpoint.safetensors'}?)"
        raise CheckpointError(f"checkpoint {path} does not exist{hint}")
    data = path.read_bytes()
    header = _read_header(data, path)
    try:
        tensors = st_load(data)
    except SafetensorError as e:
        raise CheckpointError(f"{path} is truncated or corrupt: {e}") from None
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):  # pragma: no cover - safetensors refuses it first
        raise CheckpointError(f"{path} is corrupt: its __metadata__ is not a JSON object")
    embedded, recorded = metadata.get(_META_KEY), metadata.get(_META_SHA_KEY)
    if embedded is not None:
        if recorded is not None and _text_digest(embedded) != recorded:
            raise CheckpointError(
                f"{path} is corrupt: its metadata document does not match the SHA-256 recorded when it "
                "was written"
            )
        doc = _check_doc(_parse_json(embedded, f"{path} is corrupt: its metadata document"), str(path))
    elif recorded is not None:
        raise CheckpointError(
            f"{path} is corrupt: its metadata document is missing (only its SHA-256 is there)"
        )
    else:  # a plain safetensors file (e.g. exported weights): use the sidecar if there is one
        side = sidecar_path(path)
        if side.is_file():
            try:
                text = side.read_bytes().decode("utf-8")
            except UnicodeDecodeError as e:
                raise CheckpointError(f"{side} is corrupt: not UTF-8 ({e})") from None
            doc = _check_doc(_parse_json(text, f"{side} is corrupt: it"), str(side))
        else:
            doc = {"model": {"keys": [k[6:] for k in tensors if k.startswith("model.")]}, "meta": {}}
    want = doc.get("tensors_sha256")
    if want is not None and _tensors_digest(tensors) != want:
        raise CheckpointError(
            f"{path} is corrupt: its tensors do not match the SHA-256 recorded when it was written"
        )
    try:
        meta = unflatten_state(doc.get("meta") or {}, tensors)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: meta: {e}") from None
    return Checkpoint(path=path, tensors=tensors, doc=doc, meta=meta)


def _shape_report(model_sd: Mapping[str, Any], ckpt_sd: Mapping[str, np.ndarray]) -> tuple[list, list, list]:
    missing = [k for k in model_sd if k not in ckpt_sd]
    unexpected = [k for k in ckpt_sd if k not in model_sd]
    mismatched = [
        (k, tuple(ckpt_sd[k].shape), tuple(model_sd[k].shape))
        for k in model_sd
        if k in ckpt_sd and tuple(ckpt_sd[k].shape) != tuple(model_sd[k].shape)
    ]
    return missing, unexpected, mismatched


def _fmt_list(items: list, limit: int = 20) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def load_checkpoint(
    path: str | os.PathLike,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Load a checkpoint into ``model`` / ``optimizer`` / ``scheduler`` and return its ``meta``.

    Keys and shapes are checked before anything is changed: with ``strict=True`` any missing or
    unexpected key refuses the load; a shape mismatch always does. The error lists every
    offending key. With ``strict=False`` the keys both sides have are loaded.

    Raises:
        CheckpointError: see :func:`read_checkpoint`, plus key/shape mismatches and optimizer or
            scheduler state that does not fit (e.g. a different number of parameter groups).
    """
    ckpt = read_checkpoint(path)
    if model is not None:
        ckpt_sd = ckpt.model_state()
        model_sd = model.state_dict()
        missing, unexpected, mismatched = _shape_report(model_sd, ckpt_sd)
        problems = []
        if mismatched:
            problems.append(
                "shape mismatch: "
                + _fmt_list([f"{k} (checkpoint {a}, model {b})" for k, a, b in mismatched])
            )
        if strict and missing:
            problems.append("missing in checkpoint: " + _fmt_list(missing))
        if strict and unexpected:
            problems.append("unexpected in checkpoint: " + _fmt_list(unexpected))
        if problems:
            cls = (ckpt.doc.get("model") or {}).get("class", "?")
            raise CheckpointMismatchError(
                f"cannot load {path} into {type(model).__name__} (checkpoint was saved from {cls}):\n  "
                + "\n  ".join(problems)
                + ("\n(pass strict=False to load the matching keys only)" if not mismatched else "")
            )
        from ..tensor import Tensor

        keep = {k: Tensor._make(np.array(v)) for k, v in ckpt_sd.items() if k in model_sd}
        model.load_state_dict(keep, strict=strict)
    for part, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        state = ckpt.state_of(part)
        if state is None:
            if strict:
                raise CheckpointError(f"{path} holds no {part} state (it was saved without one)")
            continue
        try:
            obj.load_state_dict(state)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            saved = (ckpt.doc.get(part) or {}).get("class", "?")
            raise CheckpointMismatchError(
                f"cannot load the {part} state of {path} (saved from {saved}) into {type(obj).__name__}: {e}"
            ) from e
    return ckpt.meta
