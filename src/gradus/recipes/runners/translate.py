"""Recipe runner for neural machine translation (``seq2seq-translate``, ``seq2seq-attention-translate``,
``transformer-translate``): Multi30k, subword vocabularies from ``tokenizers``, teacher forcing, corpus
BLEU with ``sacrebleu``. ``model.architecture`` picks the network: ``"seq2seq"`` (the default: the
recurrent :class:`~gradus.models.Seq2Seq`) or ``"transformer"``
(:class:`~gradus.models.transformer_translator.TransformerTranslator`); both decode greedily and by beam.

1. Subwords: one BPE tokenizer per language, trained on the training split only
   (``gradus.data.train_bpe(..., pre_tokenizer="metaspace")``, so ``decode`` gives back real text).
   Source = pieces + <eos>; target = <sos> + pieces + <eos>.
2. Training: length-bucketed batches (``BucketBatchSampler``), teacher forcing — the decoder reads
   the reference y_{t-1} and is scored on y_t — with the label-smoothed cross-entropy
   -sum_t [(1 - eps) log p(y_t) + eps/V sum_v log p(v)] averaged over real target tokens; gradient-norm
   clipping.  After every epoch: validation loss (no smoothing) and greedy BLEU on the validation split;
   the weights of the best validation BLEU are kept.
3. Test (the official 2016 split): greedy and beam search (``decode.beam_size``, length penalty
   ``decode.alpha``), corpus BLEU with sacrebleu on detokenised cased text (the standard form; its
   signature is reported) and lower-cased (``lowercase=True``, 13a tokenisation: the form tutorials
   report), BLEU per source-length bucket, attention heat-maps for a few sentences.

Writes into ``out_dir``: ``metrics.jsonl`` (per epoch), ``checkpoint.safetensors`` (best weights; the
config inside holds both tokenizers as JSON, so a checkpoint translates on its own),
``translations.txt`` (source / reference / beam output), ``bleu_by_length.json``, ``attention.png``
(recurrent attention: target x source maps of three sentences; Transformer: every head of the last
encoder self-, decoder self- and cross-attention layer for one sentence).

**Data-parallel** (``mpiexec -n N gradus train transformer-translate``): every rank iterates the same
length-bucketed global batches (one seed) and takes its row shard of each; its loss is the shard's
token sum divided by (the global batch's target tokens / N), so the average DDP takes over the ranks
is the global batch's token mean and N processes take one process' steps. The validation loss is
split by batches and all-reduced; the decoding (validation BLEU, the test set) is shared out over the
ranks and gathered (``translate_batch(..., shared=True)``), every rank keeps the same best weights,
and rank 0 alone writes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...autograd import no_grad
from ...data import BucketBatchSampler, DataLoader, Dataset, PadCollate
from ...data.datasets import Multi30k
from ...data.tokenize import train_bpe
from ...functional import cross_entropy
from ...models.seq2seq import Seq2Seq, Seq2SeqConfig
from ...models.transformer_translator import TransformerTranslator, TransformerTranslatorConfig
from ...nn.utils.swa_utils import AveragedModel, get_ema_multi_avg_fn
from ...tensor import Tensor
from ...train.checkpoint import atomic_write_text, save_checkpoint
from .. import RecipeError
from .build import build_optimizer, build_scheduler
from .common import all_gather_text, section, sum_over_ranks, update, world_and_rank

__all__ = ["run_translate", "EncodedPairs", "corpus_bleu", "bleu_by_length", "translate_batch",
           "build_translator", "LENGTH_BUCKETS"]

SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")
PAD, SOS, EOS = 0, 1, 2
# source-length buckets (words) for "where does the single context vector fail"
LENGTH_BUCKETS = ((1, 8), (9, 11), (12, 14), (15, 17), (18, 21), (22, 200))


class EncodedPairs(Dataset):
    """Pairs of id arrays: item i = (src pieces + <eos>, <sos> + tgt pieces + <eos>) (int64).

    ``lengths`` (N, 2) = [src_len, tgt_len], the key of :class:`~gradus.data.BucketBatchSampler`."""

    def __init__(self, src: list[str], tgt: list[str], src_tok: Any, tgt_tok: Any) -> None:
        self.src_text, self.tgt_text = list(src), list(tgt)
        self.src = [np.array(e.ids + [EOS], np.int64) for e in src_tok.encode_batch(self.src_text)]
        self.tgt = [np.array([SOS] + e.ids + [EOS], np.int64) for e in tgt_tok.encode_batch(self.tgt_text)]
        self.lengths = np.array([[len(s), len(t)] for s, t in zip(self.src, self.tgt)], np.int64)

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.src[i], self.tgt[i]


def corpus_bleu(hyps: list[str], refs: list[str], lowercase: bool = False) -> tuple[float, str]:
    """sacrebleu corpus BLEU of detokenised hypotheses against one reference each: (score, signature)."""
    try:
        from sacrebleu.metrics import BLEU
    except ImportError as e:
        raise ImportError("translation recipes score with sacrebleu, which is not installed: "
                          "pip install 'gradus[text]' (or: pip install sacrebleu)") from e
    bleu = BLEU(lowercase=lowercase)
    return float(bleu.corpus_score(hyps, [refs]).score), str(bleu.get_signature())


def bleu_by_length(src: list[str], hyps: list[str], refs: list[str],
                   buckets=LENGTH_BUCKETS) -> list[dict[str, Any]]:
    """Corpus BLEU of the sentences whose source has lo..hi words, for each bucket (lo, hi)."""
    n_words = np.array([len(s.split()) for s in src])
    rows = []
    for lo, hi in buckets:
        idx = np.nonzero((n_words >= lo) & (n_words <= hi))[0]
        if len(idx):
            score, _ = corpus_bleu([hyps[i] for i in idx], [refs[i] for i in idx])
            rows.append({"lo": int(lo), "hi": int(hi), "n": int(len(idx)), "bleu": round(score, 2)})
    return rows


def _loss(logits: Tensor, target: np.ndarray, smoothing: float, reduction: str = "mean") -> Tensor:
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), Tensor(target.reshape(-1)),
                         ignore_index=PAD, label_smoothing=smoothing, reduction=reduction)


def _batches(ds: EncodedPairs, batch_size: int, shuffle: bool, seed: Any = None):
    sampler = BucketBatchSampler(ds.lengths, batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(ds, batch_sampler=sampler, collate_fn=PadCollate(PAD, as_tensors=False))


def translate_batch(model: Seq2Seq, tgt_tok: Any, ds: EncodedPairs, batch_size: int = 200,
                    beam_size: int = 1, alpha: float = 0.6, shared: bool = False) -> list[str]:
    """Detokenised translations of every source of ``ds`` (in order): greedy when ``beam_size`` is 1,
    else beam search sentence by sentence.  Output length <= 1.5 * source + 10 pieces.

    ``shared``: under ``mpiexec`` the ranks share the work (greedy: batch k on rank k % N; beam:
    sentence p of the length order on rank p % N) and every rank returns all the translations
    (gathered as JSON) -- the same list as one process, in 1 / N of the time. Every rank must call it."""
    world, rank = world_and_rank() if shared else (1, 0)
    out: list[str] = [""] * len(ds)
    order = np.argsort(ds.lengths[:, 0], kind="stable")
    mine: dict[int, str] = {}
    for k, start in enumerate(range(0, len(ds), batch_size)):
        idx = order[start:start + batch_size]
        if beam_size == 1 and k % world != rank:
            continue
        S = int(ds.lengths[idx, 0].max())
        src = np.zeros((len(idx), S), np.int64)
        for r, i in enumerate(idx):
            src[r, :len(ds.src[i])] = ds.src[i]
        max_len = int(1.5 * S) + 10
        if beam_size == 1:
            hyps = dict(zip(idx, model.greedy(Tensor(src), max_len=max_len)))
        else:
            hyps = {i: model.beam(Tensor(src[r:r + 1, :len(ds.src[i])]), beam_size, max_len, alpha)
                    for r, i in enumerate(idx) if (start + r) % world == rank}
        for i, h in hyps.items():
            mine[int(i)] = tgt_tok.decode([t for t in h if t != EOS])
    if world > 1:
        for text in all_gather_text(json.dumps(mine)):
            mine.update({int(i): t for i, t in json.loads(text).items()})
    for i, t in mine.items():
        out[i] = t
    return out


def _val_loss(model: Seq2Seq, loader) -> float:
    """Mean next-token loss over the target tokens of ``loader``; under ``mpiexec`` each rank takes
    every N-th batch and the sums are all-reduced."""
    world, rank = world_and_rank()
    model.eval()
    total, n = 0.0, 0
    with no_grad():
        for j, ((src, _, _), (tgt, _, _)) in enumerate(loader):
            if j % world != rank:
                continue
            k = int((tgt[:, 1:] != PAD).sum())
            total += float(_loss(model(Tensor(src), Tensor(tgt[:, :-1])), tgt[:, 1:], 0.0).item()) * k
            n += k
    model.train()
    total, n = sum_over_ranks(total, n)
    return total / max(n, 1)


def _attention_figure(model: Seq2Seq, src_tok: Any, tgt_tok: Any, ds: EncodedPairs, rows: list[int],
                      path: Path) -> bool:
    """Heat-maps a_{t,j} (target piece t x source piece j) for a few test sentences; False without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, len(rows), figsize=(5.5 * len(rows), 5.5))
    for ax, i in zip(np.atleast_1d(axes), rows):
        src = Tensor(ds.src[i][None, :])
        hyp = model.greedy(src, max_len=int(1.5 * len(ds.src[i])) + 10)[0]
        a = model.attention_weights[0, :len(hyp)]                                  # (T, S)
        ax.imshow(a, cmap="gray_r", vmin=0, vmax=1, aspect="auto")
        pieces = lambda tok, ids: [tok.id_to_token(int(t)) or "?" for t in ids]   # noqa: E731
        ax.set_xticks(range(a.shape[1]), pieces(src_tok, ds.src[i][:-1]) + ["<eos>"], rotation=90)
        ax.set_yticks(range(a.shape[0]), [p for p in pieces(tgt_tok, hyp)], fontsize=8)
        ax.set_xlabel("source (German pieces)")
        ax.set_ylabel("output (English pieces)")
    fig.suptitle(f"Attention weights ({model.config.attention} score)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _transformer_attention_figure(model: TransformerTranslator, src_tok: Any, tgt_tok: Any, ds: EncodedPairs,
                                  row: int, path: Path) -> bool:
    """Every head of the last encoder self-attention, decoder self-attention and cross-attention layer
    for test sentence ``row`` and the model's own greedy translation; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    src_ids = ds.src[row][None, :]
    hyp = model.greedy(Tensor(src_ids), max_len=int(1.5 * src_ids.shape[1]) + 10)[0]
    tgt_in = np.array([[SOS] + hyp[:-1] if hyp and hyp[-1] == EOS else [SOS] + hyp], np.int64)
    maps = model.attention_maps(Tensor(src_ids), Tensor(tgt_in))
    pieces = lambda tok, ids: [tok.id_to_token(int(t)) or "?" for t in ids]   # noqa: E731
    src_p, in_p = pieces(src_tok, src_ids[0]), ["<sos>"] + pieces(tgt_tok, tgt_in[0, 1:])
    kinds = [("encoder_self", src_p, src_p, "encoder self-attention"),
             ("decoder_self", in_p, in_p, "decoder self-attention (causal)"),
             ("cross", in_p, src_p, "decoder-encoder (cross) attention")]
    H = maps["cross"][-1].shape[0]
    fig, axes = plt.subplots(3, H, figsize=(3.2 * H, 10), squeeze=False)
    for r, (key, rows_p, cols_p, title) in enumerate(kinds):
        for h in range(H):
            ax = axes[r, h]
            ax.imshow(maps[key][-1][h], cmap="gray_r", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(len(cols_p)), cols_p, rotation=90, fontsize=6)
            ax.set_yticks(range(len(rows_p)), rows_p, fontsize=6)
            ax.set_title(f"{title}\nhead {h + 1}" if h == 0 else f"head {h + 1}", fontsize=8)
    fig.suptitle(f"Transformer attention, last layer of each kind: {ds.src_text[row]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def build_translator(m: dict[str, Any]) -> Any:
    """The model of a translate recipe's ``[model]`` section (vocabulary sizes and ids filled in)."""
    kw = dict(m)
    arch = kw.pop("architecture", "seq2seq")
    if arch == "seq2seq":
        return Seq2Seq(Seq2SeqConfig(**kw))
    if arch == "transformer":
        return TransformerTranslator(TransformerTranslatorConfig(**kw))
    raise RecipeError(f"model.architecture: must be 'seq2seq' or 'transformer', got {arch!r}")


def _describe(model: Any) -> str:
    c = model.config
    if isinstance(model, TransformerTranslator):
        return (f"Transformer {c.num_encoder_layers}+{c.num_decoder_layers} layers, d_model {c.d_model}, "
                f"{c.nhead} heads, FFN {c.dim_feedforward}, {'pre' if c.norm_first else 'post'}-LN")
    return f"Seq2Seq attention={c.attention} hidden {c.hidden_size} bidirectional={c.bidirectional}"


def run_translate(config: dict, out_dir: Path, *, progress: bool = True) -> dict[str, Any]:
    """Train a :class:`~gradus.models.Seq2Seq` on Multi30k and score it with BLEU.  Keys: ``model.*``
    (``Seq2SeqConfig``; vocabulary sizes and special ids are filled in), ``data.root``,
    ``data.language_pair``, ``data.src_vocab_size``/``tgt_vocab_size`` (BPE), ``data.batch_size``,
    ``data.max_train_pairs`` (0 = all; a prefix for quick runs), ``data.max_eval_pairs`` (0 = all),
    ``optim.*``, ``scheduler.*``, ``train.epochs``/``seed``/``clip_grad_norm``/``label_smoothing``,
    ``train.ema_decay`` (0 = off: else validation, the kept best weights, the checkpoint and the test
    decode use an exponential moving average of the weights, updated after every step),
    ``decode.beam_size``/``alpha``.  Returns ``test_bleu`` (beam, sacrebleu standard), greedy and
    lower-cased forms, signatures and timing (BLEU by source length: ``bleu_by_length.json``)."""
    import gradus

    from ... import distributed as dist

    data, train, dec = section(config, "data"), section(config, "train"), section(config, "decode")
    seed = int(train.get("seed", 0))
    ema_decay = float(train.get("ema_decay") or 0.0)
    if not 0.0 <= ema_decay < 1.0:       # checked before the data and tokenizers are prepared
        raise RecipeError(f"train.ema_decay must be in [0, 1), got {ema_decay}")
    root, pair = data.get("root"), tuple(data.get("language_pair", ("de", "en")))
    world, rank = world_and_rank()
    primary = rank == 0
    progress = progress and primary
    say = print if progress else (lambda *a, **k: None)
    t_start = time.perf_counter()
    splits = {s: Multi30k(root, s, pair) for s in ("train", "val", "test2016")}
    tr = splits["train"]
    n_train = int(data.get("max_train_pairs") or 0) or len(tr)
    n_eval = int(data.get("max_eval_pairs") or 0)
    src_tok = train_bpe(tr.src[:n_train], int(data.get("src_vocab_size", 6000)), SPECIALS,
                        pre_tokenizer="metaspace")
    tgt_tok = train_bpe(tr.tgt[:n_train], int(data.get("tgt_vocab_size", 6000)), SPECIALS,
                        pre_tokenizer="metaspace")
    sets = {s: EncodedPairs(ds.src[:n_train if s == "train" else (n_eval or None)],
                            ds.tgt[:n_train if s == "train" else (n_eval or None)], src_tok, tgt_tok)
            for s, ds in splits.items()}

    config = json.loads(json.dumps(config))
    m = {k: v for k, v in section(config, "model").items() if k != "factory"}
    m.update(src_vocab=src_tok.get_vocab_size(), tgt_vocab=tgt_tok.get_vocab_size(),
             pad_id=PAD, sos_id=SOS, eos_id=EOS)
    config["model"] = m
    config["tokenizers"] = {"src": src_tok.to_str(), "tgt": tgt_tok.to_str()}
    gradus.manual_seed(seed)
    try:
        model = build_translator(m)
    except TypeError as e:                  # an option the chosen model does not have
        raise RecipeError(f"[model] {e}") from None
    optimizer = build_optimizer(config, model)
    scheduler, interval = build_scheduler(config, optimizer)
    # data-parallel: rank 0's weights everywhere, gradients averaged (the optimizer holds model's)
    net = dist.DistributedDataParallel(model) if world > 1 else model
    # the weights that are evaluated, kept and decoded: the model itself, or its running average
    # (the same on every rank: the ranks' weights are identical after every step)
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay)) if ema_decay else None
    evaluated = averaged.module if averaged is not None else model
    clip = float(train.get("clip_grad_norm") or 0.0)
    smoothing = float(train.get("label_smoothing", 0.0))
    epochs = int(train.get("epochs", 1))
    B = int(data.get("batch_size", 128))
    n_params = sum(p.numel() for p in model.parameters())
    say(f"  model  {_describe(model)} ({n_params:,} parameters)")
    say(f"  data   multi30k {pair[0]}->{pair[1]}: {len(sets['train']):,} train / {len(sets['val']):,} val / "
        f"{len(sets['test2016']):,} test pairs; BPE vocab {m['src_vocab']} / {m['tgt_vocab']}", flush=True)
    if averaged is not None:
        say(f"  ema    validation, the kept weights and decoding use a moving average of the weights "
            f"(decay {ema_decay} per step)")
    if world > 1:
        say(f"  dist   {world} processes (MPI): every global batch of {B} pairs split into {world} row "
            "shards; loss = shard token sum / (global tokens / N)", flush=True)

    train_loader = _batches(sets["train"], B, shuffle=True, seed=seed)   # the same batches on every rank
    val_loader = _batches(sets["val"], 256, shuffle=False)
    log_path = out_dir / "metrics.jsonl"
    if primary:
        out_dir.mkdir(parents=True, exist_ok=True)
        log_path.write_text("")
    best = {"bleu": -1.0}
    history: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        t_ep, running, tokens = time.perf_counter(), 0.0, 0
        for (src, _, _), (tgt, _, _) in train_loader:
            k = int((tgt[:, 1:] != PAD).sum())                        # the global batch's target tokens
            if world == 1:
                loss = _loss(model(Tensor(src), Tensor(tgt[:, :-1])), tgt[:, 1:], smoothing)
                shown = float(loss.item())
            else:
                if len(src) < world:                                  # too few rows to share: skip
                    continue
                rows = np.array_split(np.arange(len(src)), world)[rank]
                tg = tgt[rows]
                # this shard's token sum over (global tokens / N): DDP's mean over the ranks is then
                # the global batch's token mean, as in one process
                logits = net(Tensor(src[rows]), Tensor(tg[:, :-1]))
                loss = _loss(logits, tg[:, 1:], smoothing, "sum") * (world / k)
                shown = sum_over_ranks(float(loss.item()))[0] / world
            update(loss, optimizer, model.parameters(), clip, scheduler if interval == "step" else None)
            if averaged is not None:
                averaged.update_parameters(model)
            running, tokens, step = running + shown * k, tokens + k, step + 1
            if progress and step % 50 == 0:
                say(f"    epoch {epoch} step {step}: loss {running / tokens:.3f} "
                    f"({tokens / (time.perf_counter() - t_ep):,.0f} target tokens/s)", flush=True)
        if scheduler is not None and interval == "epoch":
            scheduler.step()
        val_loss = _val_loss(evaluated, val_loader)
        # every rank decodes its share and scores all of it, so every rank keeps the same best weights
        val_bleu, _ = corpus_bleu(translate_batch(evaluated, tgt_tok, sets["val"], shared=True),
                                  sets["val"].tgt_text)
        if val_bleu > best["bleu"]:
            best = {"bleu": val_bleu, "epoch": epoch,
                    "state": {k: v.detach().clone() for k, v in evaluated.state_dict().items()}}
            if primary:
                save_checkpoint(out_dir / "checkpoint.safetensors", evaluated,
                                meta={"config": config, "epoch": epoch, "val_bleu_greedy": val_bleu})
        if not primary:                   # rank 0 logs and writes
            continue
        logs = {"epoch": epoch, "step": step, "loss": running / max(tokens, 1), "val_loss": val_loss,
                "val_ppl": float(np.exp(val_loss)), "val_bleu_greedy": round(val_bleu, 2),
                "lr": float(optimizer.param_groups[0]["lr"]), "seconds": round(time.perf_counter() - t_ep, 1)}
        history.append(logs)
        with open(log_path, "a") as f:
            f.write(json.dumps(logs) + "\n")
        say(f"  epoch {epoch}/{epochs}: train loss {logs['loss']:.3f}, val loss {val_loss:.3f} "
            f"(ppl {logs['val_ppl']:.1f}), val BLEU (greedy) {val_bleu:.2f}, {logs['seconds']:.0f} s",
            flush=True)
    train_seconds = time.perf_counter() - t0
    model = evaluated                     # from here on: the weights that were validated
    model.load_state_dict(best["state"])
    model.eval()

    test = sets["test2016"]
    t_dec = time.perf_counter()
    greedy = translate_batch(model, tgt_tok, test, shared=True)
    beam_size, alpha = int(dec.get("beam_size", 5)), float(dec.get("alpha", 0.6))
    beam = translate_batch(model, tgt_tok, test, beam_size=beam_size, alpha=alpha, shared=True)
    decode_seconds = time.perf_counter() - t_dec
    if not primary:                       # rank 0 scores and writes
        return {"epochs": epochs, "train_seconds": round(train_seconds, 1), "world_size": world}
    refs = test.tgt_text
    bleu_beam, signature = corpus_bleu(beam, refs)
    bleu_beam_lc, signature_lc = corpus_bleu(beam, refs, lowercase=True)
    bleu_greedy, _ = corpus_bleu(greedy, refs)
    bleu_greedy_lc, _ = corpus_bleu(greedy, refs, lowercase=True)
    by_length = bleu_by_length(test.src_text, beam, refs)
    attention = "transformer" if isinstance(model, TransformerTranslator) else model.config.attention
    atomic_write_text(out_dir / "bleu_by_length.json", json.dumps(
        {"recipe": config["recipe"]["name"], "attention": attention, "buckets": by_length},
        indent=1) + "\n")
    atomic_write_text(out_dir / "translations.txt", "".join(
        f"SRC  {s}\nREF  {r}\nHYP  {h}\n\n" for s, r, h in zip(test.src_text, refs, beam)))
    if isinstance(model, TransformerTranslator):
        _transformer_attention_figure(model, src_tok, tgt_tok, test, 0, out_dir / "attention.png")
    elif model.config.attention is not None:
        _attention_figure(model, src_tok, tgt_tok, test, [0, 1, 2], out_dir / "attention.png")
    results = {
        "test_bleu": round(bleu_beam, 2), "test_bleu_greedy": round(bleu_greedy, 2),
        "test_bleu_lowercase": round(bleu_beam_lc, 2), "test_bleu_greedy_lowercase": round(bleu_greedy_lc, 2),
        "bleu_signature": signature, "bleu_signature_lowercase": signature_lc,
        "best_epoch": best.get("epoch"), "val_bleu_greedy": round(best["bleu"], 2),
        "val_loss": history[-1]["val_loss"], "epochs": epochs, "parameters": n_params,
        "beam_size": beam_size, "alpha": alpha,
        "train_seconds": round(train_seconds, 1), "decode_seconds": round(decode_seconds, 1),
        "total_seconds": round(time.perf_counter() - t_start, 1), "world_size": world,
    }
    say(f"test BLEU {bleu_beam:.2f} (beam {beam_size}), {bleu_greedy:.2f} (greedy); lower-cased "
        f"{bleu_beam_lc:.2f} / {bleu_greedy_lc:.2f}\n  {signature}\n  by source length: "
        + ", ".join(f"{r['lo']}-{r['hi']}: {r['bleu']:.1f} (n={r['n']})" for r in by_length)
        + f"\n  training {train_seconds:.0f} s, decoding {decode_seconds:.0f} s")
    return results


run_translate.data_parallel = True    # `mpiexec -n N gradus train` may run it (the docstring)
