"""Recipes ``bert-pretrain`` and ``bert-finetune``: a small BERT pre-trained with its two objectives
(masked LM + next sentence) on a small corpus, then fine-tuned to classify SMS messages (spam or
ham) with few labels, against the same network from random weights.

**Data.** The SMS Spam Collection is split once, stratified and seeded (``data.test_fraction``,
``data.split_seed``): the test messages are never read before the final evaluation, neither by the
WordPiece trainer nor by pre-training. The pre-training corpus (``data.corpus``) is made of
*documents*, lists of sentences:

* ``"sms"``: every message of the non-test part (its label is never read) whose text is not also a
  test message (the collection has exact repeats), cut into sentences at ``. ! ?`` followed by a
  space (about half the messages have two or more);
* ``"tinyshakespeare"``: every speech (the lines after the speaker's name; a line is a sentence), of
  the first ``data.shakespeare_max_chars`` characters (0: all).

A share ``data.heldout_fraction`` of the documents is held out to measure the pre-training: the
masked-LM accuracy at the selected positions (all of them: [MASK], random and unchanged) of
``pretrain.eval_pairs`` fixed held-out pairs against the *unigram baseline* (always predicting the
most frequent non-special token of the training documents), and the next-sentence accuracy against
50% (chance).

**Tokenizer.** A lower-cased WordPiece vocabulary of ``tokenizer.vocab_size`` pieces trained with
Hugging Face ``tokenizers`` (:func:`~gradus.data.train_wordpiece`) on the training documents, with
BERT's specials first: ``[PAD]`` 0, ``[UNK]`` 1, ``[CLS]`` 2, ``[SEP]`` 3, ``[MASK]`` 4.

**Pre-training** (:func:`pretrain`). Each step draws ``pretrain.batch_size`` sentence pairs
(:func:`~gradus.data.mlm.next_sentence_pairs`: 50% IsNext), corrupts them with
:func:`~gradus.data.mlm.mask_tokens` (15% selected, 80/10/10; fresh masks every time, as RoBERTa's
dynamic masking) and minimises ``mlm_loss + nsp_loss`` with AdamW (weight decay on the matrices
only), linear warm-up then cosine decay, gradient clipping. The MLM head runs only at the selected
positions (:func:`pretraining_losses`, as the original BERT code gathers ``masked_lm_positions``):
the same loss as ``BertForPreTraining``'s full (B, T, V) logits, ~7x less head work.

**Fine-tuning** (``bert-finetune``). From ``finetune.checkpoint`` (a ``bert-pretrain``
``checkpoint.safetensors``; when empty, a pre-training of the recipe's ``[pretrain]`` runs first),
for each seed: ``finetune.labels_per_class`` labelled messages per class are drawn (seeded) from the
non-test part; a :class:`~gradus.models.bert.BertForSequenceClassification` whose ``bert`` is the
pre-trained encoder and one from random weights (the same seed, architecture, optimizer, epochs and
batches) are trained on ``[CLS] message [SEP]``, then tested on the whole test split. Reported:
test accuracy and spam F1, mean ± std over the seeds for both starts, and the gain (the target).

**Under mpiexec** (``mpiexec -n N gradus train bert-pretrain``): rank 0 trains the tokenizer and
broadcasts it; every rank draws the same global batch of pairs and masks and trains on its rows in
``DistributedDataParallel`` (its losses summed over its rows and divided by the global counts / N: one
process' steps when dropout is off); the fine-tunings are shared out over the ranks. Rank 0 writes.
"""
from __future__ import annotations

import copy
import json
import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ... import distributed as dist
from ... import manual_seed, no_grad, tensor
from ...data.datasets import SMSSpam, TinyShakespeare
from ...data.mlm import IGNORE_INDEX, NextSentencePairs, mask_tokens
from ...data.sequence import pad_sequences
from ...data.split import stratified_split
from ...data.tokenize import train_wordpiece
from ...functional import cross_entropy
from ...models.bert import BertConfig, BertForPreTraining, BertForSequenceClassification
from ...train.checkpoint import read_checkpoint, save_checkpoint
from ...train.metrics import confusion_matrix, precision_recall_f1
from .. import RecipeError, optimizer_class, scheduler_factory
from .common import (
    MethodModule,
    batch_rows,
    broadcast_text,
    say,
    section,
    share_out,
    sum_over_ranks,
    update,
    world_and_rank,
)
from .selfsup import few_labels

__all__ = ["run_bert_pretrain", "run_bert_finetune", "SPECIALS", "split_sentences", "sms_split",
           "pretraining_documents", "pretraining_losses", "pretrain", "encode_single", "bert_config"]

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")        # ids 0..4, BERT's names
PAD, UNK, CLS, SEP, MASK = range(5)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """``"Ok lar... Joking wif u oni..."`` -> ``["Ok lar...", "Joking wif u oni..."]``: cut after
    ``. ! ?`` followed by whitespace; empty pieces dropped."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def sms_split(data: dict) -> tuple[SMSSpam, np.ndarray, np.ndarray]:
    """The SMS collection and its seeded stratified ``(pool, test)`` indices (``data.test_fraction``,
    ``data.split_seed``): the same for ``bert-pretrain`` and ``bert-finetune``."""
    ds = SMSSpam(root=data.get("root"))
    pool, test = stratified_split(ds.labels, float(data.get("test_fraction", 0.3)),
                                  seed=int(data.get("split_seed", 0)))
    return ds, pool, test


def pretraining_documents(data: dict, sms: SMSSpam, pool: np.ndarray, test: np.ndarray) -> list[list[str]]:
    """The pre-training corpus of ``data.corpus`` as documents (lists of sentence strings). The SMS
    part holds the ``pool`` messages only, less those whose text is also a ``test`` message up to case
    and spacing (the collection repeats some: "Sorry, I'll call later" 30 times), so no test text is
    ever read."""
    docs: list[list[str]] = []
    corpus = list(data.get("corpus", ["sms", "tinyshakespeare"]))
    unknown = sorted(set(corpus) - {"sms", "tinyshakespeare"})
    if unknown or not corpus:
        raise RecipeError(f"data.corpus must be a non-empty list of 'sms' and 'tinyshakespeare', got "
                          f"{corpus!r}")
    if "sms" in corpus:
        test_texts = {_text_key(sms.texts[i]) for i in test}
        docs += [split_sentences(sms.texts[i]) for i in pool if _text_key(sms.texts[i]) not in test_texts]
    if "tinyshakespeare" in corpus:
        text = TinyShakespeare(root=data.get("root"), split="all").text
        n = int(data.get("shakespeare_max_chars", 0) or 0)
        if n:
            text = text[:n]
        for speech in text.split("\n\n"):
            lines = [ln.strip() for ln in speech.split("\n")[1:]]   # line 0 is the speaker ("ROMEO:")
            docs.append([ln for ln in lines if ln])
    return [d for d in docs if d]


def _text_key(text: str) -> str:
    """What the lower-casing tokenizer sees of a text: case and runs of whitespace do not count."""
    return " ".join(text.lower().split())


def bert_config(model: dict, vocab_size: int) -> BertConfig:
    """A :class:`BertConfig` from ``[model]`` (BertConfig's keys) and the tokenizer's vocabulary."""
    m = {k: v for k, v in model.items() if k != "factory"}
    try:
        return BertConfig(**{**m, "vocab_size": int(vocab_size), "pad_token_id": PAD})
    except TypeError as e:
        raise RecipeError(f"[model]: {e} (the keys are BertConfig's fields)") from None


def _encode_docs(tok, docs: list[list[str]]) -> list[list[list[int]]]:
    flat = [s for d in docs for s in d]
    ids = [e.ids for e in tok.encode_batch(flat, add_special_tokens=False)]
    out, k = [], 0
    for d in docs:
        out.append(ids[k:k + len(d)])
        k += len(d)
    return out


def encode_single(tok, texts: list[str], max_length: int) -> list[list[int]]:
    """``[CLS] text [SEP]`` ids per text, the text cut to ``max_length - 2`` pieces."""
    enc = tok.encode_batch(list(texts), add_special_tokens=False)
    return [[CLS, *e.ids[:max_length - 2], SEP] for e in enc]


def _pair_batch(sampler: NextSentencePairs, B: int, vocab_size: int, p: float, rng):
    pairs = sampler.sample(B, rng)
    x, labels = mask_tokens(pairs.input_ids, pairs.special_tokens_mask, vocab_size, MASK, p, generator=rng)
    return x, pairs.token_type_ids, pairs.attention_mask, labels, pairs.next_sentence_label


def pretraining_losses(model: BertForPreTraining, x, token_type_ids, attention_mask, labels,
                       next_sentence_label, mlm_count: float | None = None, nsp_count: float | None = None):
    """``(loss, mlm_loss, nsp_loss, mlm_correct, nsp_correct)`` of one batch (NumPy arrays in).

    Equal to ``model(x, attention_mask, token_type_ids, labels, next_sentence_label)``'s losses, but
    the MLM head (H -> H -> V) runs only on the N selected positions: h_L (B, T, H) -> (N, H) rows ->
    (N, V) logits. ``mlm_correct`` / ``nsp_correct``: how many argmax predictions are right.
    ``mlm_count`` / ``nsp_count``: divide the summed losses by these instead of this batch's own N and
    B (a rank's rows of a global batch: the global counts / the number of ranks).
    """
    h, pooled = model.bert(tensor(x), tensor(attention_mask), tensor(token_type_ids))
    H = h.shape[-1]
    flat = np.flatnonzero(labels.ravel() != IGNORE_INDEX)                   # the N selected positions
    target = labels.ravel()[flat]
    logits = model.cls.predictions(h.reshape(-1, H)[tensor(flat)])        # (N, V)
    nsp_logits = model.cls.seq_relationship(pooled)                       # (B, 2)
    if mlm_count is None:
        mlm = cross_entropy(logits, tensor(target))
        nsp = cross_entropy(nsp_logits, tensor(next_sentence_label))
    else:
        mlm = cross_entropy(logits, tensor(target), reduction="sum") / mlm_count
        nsp = cross_entropy(nsp_logits, tensor(next_sentence_label), reduction="sum") / nsp_count
    mlm_correct = int((logits.data.argmax(-1) == target).sum())
    nsp_correct = int((nsp_logits.data.argmax(-1) == next_sentence_label).sum())
    return mlm + nsp, mlm, nsp, mlm_correct, nsp_correct


def _adamw(model, cfg: dict):
    """AdamW with weight decay on the matrices (Linear weights, embeddings) only, as BERT."""
    name = cfg.get("name", "AdamW")
    wd = float(cfg.get("weight_decay", 0.01))
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return optimizer_class(name)([{"params": decay, "weight_decay": wd},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=float(cfg.get("lr", 1e-3)))


def _evaluate_pretraining(model, eval_batches) -> tuple[float, float, float]:
    """(MLM accuracy, NSP accuracy, mean loss) over the fixed held-out batches."""
    model.eval()
    mc = nc = m = n = 0
    loss = 0.0
    with no_grad():
        for b in eval_batches:
            total, _, _, c1, c2 = pretraining_losses(model, *b)
            mc, nc, m, n = mc + c1, nc + c2, m + int((b[3] != IGNORE_INDEX).sum()), n + len(b[0])
            loss += float(total.item()) * len(b[0])
    model.train()
    return mc / max(m, 1), nc / max(n, 1), loss / max(n, 1)


def _wordpiece(tcfg: dict, train_docs: list[list[str]]) -> Any:
    """The WordPiece tokenizer of a pre-training: ``tokenizer.file`` (a saved ``tokenizer.json``)
    when given, else trained on the training documents. Under mpiexec rank 0's on every rank: the
    trainer is not reproducible across processes (:func:`~gradus.data.train_wordpiece`)."""
    from tokenizers import Tokenizer

    path = str(tcfg.get("file", "") or "")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise RecipeError(f"tokenizer.file: cannot read {path!r} ({e.strerror}): give a tokenizer.json "
                              "saved by a bert-pretrain run, or leave it empty to train one") from None
        return Tokenizer.from_str(text)
    world, rank = world_and_rank()
    tok = None
    if rank == 0:
        tok = train_wordpiece((s for d in train_docs for s in d),
                              vocab_size=int(tcfg.get("vocab_size", 6000)), specials=SPECIALS,
                              min_frequency=int(tcfg.get("min_frequency", 2)), lowercase=True)
    if world == 1:
        return tok
    return Tokenizer.from_str(broadcast_text(tok.to_str() if tok is not None else None))


def pretrain(config: dict, out_dir: Path, progress: bool = True) -> tuple[BertForPreTraining, Any, dict]:
    """Pre-train a BERT on the recipe's corpus (see the module docstring): ``(model, tokenizer,
    results)``; writes ``metrics.jsonl`` (stage ``pretrain``), ``tokenizer.json`` and
    ``checkpoint.safetensors`` (the model, with the config, tokenizer and data split in its meta)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data, tcfg, pre = section(config, "data"), section(config, "tokenizer"), section(config, "pretrain")
    seed = int(section(config, "train").get("seed", 0))
    sms, pool, test = sms_split(data)
    docs = pretraining_documents(data, sms, pool, test)
    rng = np.random.default_rng(seed)
    held = rng.random(len(docs)) < float(data.get("heldout_fraction", 0.05))
    train_docs = [d for d, h in zip(docs, held) if not h]
    held_docs = [d for d, h in zip(docs, held) if h]
    world, rank = world_and_rank()
    progress = progress and rank == 0
    t0 = time.perf_counter()
    tok = _wordpiece(tcfg, train_docs)
    V = tok.get_vocab_size()
    train_ids, held_ids = _encode_docs(tok, train_docs), _encode_docs(tok, held_docs)
    counts = np.bincount(np.concatenate([np.asarray(s, np.int64) for d in train_ids for s in d]), minlength=V)
    counts[:len(SPECIALS)] = 0
    most_frequent = int(counts.argmax())
    tok_seconds = time.perf_counter() - t0

    L = int(pre.get("max_length", 64))
    p = float(pre.get("mlm_probability", 0.15))
    B, steps = int(pre.get("batch_size", 32)), int(pre.get("steps", 1000))
    erng = np.random.default_rng(seed + 1)                 # the fixed held-out pairs and their masks
    n_eval = int(pre.get("eval_pairs", 1000))
    held_pairs = NextSentencePairs(held_ids, L, CLS, SEP, PAD)
    eval_batches = [_pair_batch(held_pairs, min(128, n_eval - i), V, p, erng) for i in range(0, n_eval, 128)]
    sel = np.concatenate([b[3][b[3] != IGNORE_INDEX] for b in eval_batches])
    unigram = float((sel == most_frequent).mean())

    manual_seed(seed)
    cfg = bert_config(section(config, "model"), V)
    if L > cfg.max_position_embeddings:
        raise RecipeError(f"pretrain.max_length ({L}) exceeds model.max_position_embeddings "
                          f"({cfg.max_position_embeddings})")
    model = BertForPreTraining(cfg)
    warmup = int(pre.get("warmup_steps", 100))
    if not 0 <= warmup <= steps:
        raise RecipeError(f"pretrain.warmup_steps ({warmup}) must be in 0..pretrain.steps ({steps})")
    opt = _adamw(model, pre)
    sched = scheduler_factory("warmup_cosine")(opt, warmup_steps=warmup,
                                               total_steps=steps, min_lr=float(pre.get("min_lr", 0.0)))
    clip = float(pre.get("clip_grad_norm", 1.0) or 0.0)
    n_params = sum(q.numel() for q in model.parameters())
    say(progress, f"  model  BERT {cfg.num_hidden_layers} layers, H {cfg.hidden_size}, "
        f"{cfg.num_attention_heads} heads, I {cfg.intermediate_size} ({n_params:,} parameters), "
        f"WordPiece vocabulary {V:,}")
    say(progress, f"  data   {len(train_docs):,} training / {len(held_docs):,} held-out documents "
        f"({sum(map(len, train_docs)):,} sentences); SMS test split of {len(test):,} messages never read; "
        f"{steps} steps of {B} pairs of <= {L} tokens")
    if world > 1:
        if B < world:
            raise RecipeError(f"pretrain.batch_size={B} is the global batch, split over {world} processes: "
                              f"give at least {world} (one pair per process)")
        say(progress, f"  dist   {world} processes (MPI): global batch {B} pairs, split over the ranks")
    train_pairs = NextSentencePairs(train_ids, L, CLS, SEP, PAD)
    every = int(pre.get("eval_interval", 250))
    # under mpiexec: every rank draws the same global batch (one seed) and trains on its rows of it,
    # its losses summed over its rows / (the global counts / N), so DDP's average is the global mean
    net = dist.DistributedDataParallel(MethodModule(model, pretraining_losses)) if world > 1 else None
    t1, t_log, run = time.perf_counter(), time.perf_counter(), []
    model.train()
    for step in range(1, steps + 1):
        batch = _pair_batch(train_pairs, B, V, p, rng)
        if net is None:
            loss, mlm, nsp, _, _ = pretraining_losses(model, *batch)
        else:
            lo, hi, _ = batch_rows(len(batch[0]))
            n_sel = int((batch[3] != IGNORE_INDEX).sum())
            loss, mlm, nsp, _, _ = net(*(a[lo:hi] for a in batch), mlm_count=max(n_sel, 1) / world,
                                       nsp_count=len(batch[0]) / world)
        update(loss, opt, model.parameters(), clip, sched)
        run.append((float(mlm.item()), float(nsp.item())))
        if step % every == 0 or step == steps:
            r = np.mean(run, axis=0)
            if world > 1:   # each rank holds its share x N of the global means
                r = np.array(sum_over_ranks(*r)) / world
            if rank:
                run = []
                continue   # rank 0 evaluates and logs
            mlm_acc, nsp_acc, held_loss = _evaluate_pretraining(model, eval_batches)
            logs = {"stage": "pretrain", "step": step, "mlm_loss": float(r[0]), "nsp_loss": float(r[1]),
                    "heldout_loss": held_loss, "heldout_mlm_accuracy": mlm_acc,
                    "heldout_nsp_accuracy": nsp_acc,
                    "lr": float(opt.param_groups[0]["lr"]), "seconds": round(time.perf_counter() - t1, 1)}
            run = []
            with open(out_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(logs) + "\n")
            say(progress, f"  step {step}/{steps}: mlm loss {r[0]:.3f}, nsp loss {r[1]:.3f}; held-out MLM "
                f"accuracy {mlm_acc:.4f} (unigram {unigram:.4f}), NSP {nsp_acc:.4f}; "
                f"{(time.perf_counter() - t_log) / every:.3f} s/step")
            t_log = time.perf_counter()
    seconds = time.perf_counter() - t1
    if rank:   # rank 0 evaluates and writes; every rank returns the trained model
        return model, tok, {"steps": steps, "pretrain_seconds": round(seconds, 1), "world_size": world}
    mlm_acc, nsp_acc, held_loss = _evaluate_pretraining(model, eval_batches)
    meta = {"config": config, "bert_config": asdict(cfg), "tokenizer": tok.to_str(),
            "split": {"test_fraction": float(data.get("test_fraction", 0.3)),
                      "split_seed": int(data.get("split_seed", 0)), "test_size": int(len(test))}}
    save_checkpoint(out_dir / "checkpoint.safetensors", model, meta=meta)
    (out_dir / "tokenizer.json").write_text(tok.to_str())
    results = {"heldout_mlm_accuracy": mlm_acc, "unigram_mlm_accuracy": unigram,
               "mlm_gain_over_unigram": mlm_acc - unigram, "heldout_nsp_accuracy": nsp_acc,
               "heldout_loss": held_loss, "vocab_size": V, "parameters": int(n_params), "steps": steps,
               "train_documents": len(train_docs), "heldout_documents": len(held_docs),
               "tokenizer_seconds": round(tok_seconds, 1), "pretrain_seconds": round(seconds, 1),
               "seconds_per_step": round(seconds / steps, 4), "world_size": world}
    say(progress, f"held-out MLM accuracy {mlm_acc:.4f} vs unigram baseline {unigram:.4f} (always "
        f"{tok.id_to_token(most_frequent)!r}); NSP accuracy {nsp_acc:.4f} vs chance 0.5; {seconds:.0f} s")
    return model, tok, results


def run_bert_pretrain(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``bert-pretrain``: :func:`pretrain`, its results."""
    return pretrain(config, out_dir, progress)[2]


# ------------------------------------------------------------------------------------------ fine-tuning
def _batches(seqs: list[list[int]], idx: np.ndarray, bs: int):
    for i in range(0, len(idx), bs):
        j = idx[i:i + bs]
        pb = pad_sequences([seqs[k] for k in j], batch_first=True, padding_value=PAD)
        yield j, pb.ids, pb.mask.astype(np.int64)


def _finetune(model, seqs, y, idx, cfg: dict, seed: int) -> None:
    rng = np.random.default_rng(seed)
    opt = _adamw(model, cfg)
    epochs, bs = int(cfg.get("epochs", 10)), int(cfg.get("batch_size", 16))
    steps = epochs * -(-len(idx) // bs)
    sched = scheduler_factory("warmup_cosine")(opt, warmup_steps=max(1, steps // 10), total_steps=steps)
    model.train()
    for _ in range(epochs):
        for j, ids, attn in _batches(seqs, rng.permutation(idx), bs):
            out = model(tensor(ids), attention_mask=tensor(attn), labels=tensor(y[j]))
            update(out.loss, opt, model.parameters(), 1.0, sched)


def _test(model, seqs, y, idx) -> tuple[float, float]:
    """(accuracy, spam F1) on ``idx``; batches of similar length (less padding)."""
    order = idx[np.argsort([len(seqs[k]) for k in idx], kind="stable")]
    pred = np.empty(len(y), np.int64)
    model.eval()
    with no_grad():
        for j, ids, attn in _batches(seqs, order, 256):
            pred[j] = model(tensor(ids), attention_mask=tensor(attn)).logits.data.argmax(-1)
    model.train()
    cm = confusion_matrix(y[idx], pred[idx], num_classes=2)
    return float((pred[idx] == y[idx]).mean()), float(precision_recall_f1(cm)["f1"][1])


def run_bert_finetune(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``bert-finetune`` (see the module docstring)."""
    progress = progress and world_and_rank()[1] == 0
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data, fine = section(config, "data"), section(config, "finetune")
    ckpt_path = str(fine.get("checkpoint", "") or "")
    pre_results: dict = {}
    if ckpt_path:
        ckpt = read_checkpoint(ckpt_path)
        meta = ckpt.meta
        split = {"test_fraction": float(data.get("test_fraction", 0.3)),
                 "split_seed": int(data.get("split_seed", 0))}
        theirs = {k: meta.get("split", {}).get(k) for k in split}
        if theirs != split:
            raise RecipeError(f"finetune.checkpoint {ckpt_path} was pre-trained with the SMS split {theirs}, "
                              f"this recipe tests on {split}: its pre-training may have read these test "
                              "messages")
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(meta["tokenizer"])
        cfg = BertConfig(**meta["bert_config"])
        pretrained_bert = {k[len("bert."):]: v for k, v in ckpt.model_state().items()
                           if k.startswith("bert.")}
        say(progress, f"  pre-trained encoder from {ckpt_path}")
    else:
        say(progress, "  no finetune.checkpoint: pre-training first ([pretrain])")
        pre_model, tok, pre_results = pretrain(config, out_dir / "pretrain", progress)
        cfg = pre_model.config
        pretrained_bert = {k: v.detach().numpy().copy() for k, v in pre_model.bert.state_dict().items()}
    sms, pool, test = sms_split(data)
    L = int(fine.get("max_length", 64))
    if L > cfg.max_position_embeddings:
        raise RecipeError(f"finetune.max_length ({L}) exceeds the model's {cfg.max_position_embeddings} "
                          "positions")
    seqs = encode_single(tok, sms.texts, L)
    y = sms.labels
    seeds = [int(s) for s in fine.get("seeds", [0, 1, 2])]
    per_class = int(fine.get("labels_per_class", 50))
    dropout = float(fine.get("classifier_dropout", 0.1))
    say(progress, f"  data   SMS spam: {per_class} labelled messages per class from the {len(pool):,} "
        f"non-test ones; test on {len(test):,} ({y[test].mean():.1%} spam); seeds {seeds}")
    # the fine-tunings are independent jobs, each seeded on its own: shared out over the ranks
    world, rank = world_and_rank()
    jobs = [(s, start) for s in seeds for start in ("pretrained", "random")]

    def finetuned_scores(job):
        s, start = job
        idx = pool[few_labels(y[pool], per_class, s)]
        manual_seed(1000 + s)                     # the same classifier initialisation for both starts
        model = BertForSequenceClassification(copy.deepcopy(cfg), num_labels=2, classifier_dropout=dropout)
        if start == "pretrained":
            model.bert.load_state_dict(pretrained_bert)
        _finetune(model, seqs, y, idx, fine, s)
        return list(_test(model, seqs, y, test))   # (accuracy, spam F1)

    t0 = time.perf_counter()
    scores = np.array(share_out(jobs, finetuned_scores))
    accs = {start: [float(a) for a, (_, st) in zip(scores[:, 0], jobs) if st == start]
            for start in ("pretrained", "random")}
    f1s = {start: [float(f) for f, (_, st) in zip(scores[:, 1], jobs) if st == start]
           for start in ("pretrained", "random")}
    for k, s in enumerate(seeds):
        say(progress, f"  seed {s}: {2 * per_class} labels -> test accuracy pre-trained "
            f"{accs['pretrained'][k]:.4f} "
            f"(spam F1 {f1s['pretrained'][k]:.3f}), random start {accs['random'][k]:.4f} "
            f"(spam F1 {f1s['random'][k]:.3f})")
        if rank == 0:
            with open(out_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps({"stage": "finetune", "seed": s, "labels": 2 * per_class,
                                    "pretrained_accuracy": accs["pretrained"][k],
                                    "random_accuracy": accs["random"][k],
                                    "pretrained_spam_f1": f1s["pretrained"][k],
                                    "random_spam_f1": f1s["random"][k]}) + "\n")
    seconds = time.perf_counter() - t0

    def stats(v):
        a = np.asarray(v)
        return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0

    p, r = stats(accs["pretrained"]), stats(accs["random"])
    pf, rf = stats(f1s["pretrained"]), stats(f1s["random"])
    results = {"pretrained_accuracy_mean": p[0], "pretrained_accuracy_std": p[1],
               "random_accuracy_mean": r[0], "random_accuracy_std": r[1],
               "transfer_gain": p[0] - r[0],
               "pretrained_spam_f1_mean": pf[0], "pretrained_spam_f1_std": pf[1],
               "random_spam_f1_mean": rf[0], "random_spam_f1_std": rf[1],
               "pretrained_wins_every_seed": bool(np.all(np.greater(accs["pretrained"], accs["random"]))),
               "labels": 2 * per_class, "seeds": len(seeds), "test_messages": int(len(test)),
               "majority_baseline_accuracy": float(1 - y[test].mean()),
               "finetune_seconds": round(seconds, 1), "world_size": world_and_rank()[0]}
    results.update({f"pretrain_{k}": v for k, v in pre_results.items()
                    if k in ("heldout_mlm_accuracy", "unigram_mlm_accuracy", "heldout_nsp_accuracy",
                             "pretrain_seconds")})
    say(progress, f"fine-tuned on {2 * per_class} labels: test accuracy pre-trained {p[0]:.4f} ± {p[1]:.4f} "
        "vs "
        f"random start {r[0]:.4f} ± {r[1]:.4f} (gain {p[0] - r[0]:+.4f}; always-ham "
        f"{results['majority_baseline_accuracy']:.4f}); spam F1 {pf[0]:.3f} vs {rf[0]:.3f}; {seconds:.0f} s")
    return results


run_bert_pretrain.data_parallel = True    # `mpiexec -n N gradus train` may run them (the module docstring)
run_bert_finetune.data_parallel = True
