"""GPT: a decoder-only Transformer language model (Radford et al. 2018, 2019; Brown et al. 2020).

    >>> import gradus
    >>> from gradus.models.gpt import GPT, GPTConfig, PRESETS, num_parameters
    >>> gpt = GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=8))
    >>> idx = gradus.zeros(4, 10, dtype=gradus.int64)              # (B, T) token ids
    >>> logits, loss = gpt(idx)                                      # next-token scores
    >>> logits.shape, loss
    ((4, 10, 50), None)
    >>> logits, loss = gpt(idx, targets=idx)                         # with targets: the mean loss too
    >>> loss.shape
    ()
    >>> num_parameters(PRESETS["gpt2"])                              # from the config, nothing allocated
    124439808

**The model.** Tokens x_1..x_T (ids in [0, V)) become vectors, pass through L identical blocks
and come out as V scores per position; position t may only look at positions 1..t, so the scores
at t predict x_{t+1}. With C = ``n_embd`` features, H = ``n_head`` heads of size C/H::

    h_0   = W_te[x_t] + W_pe[t]                                  token + learned position embedding
    a     = h_{l-1} + Attn(LN_1(h_{l-1}))                        pre-LN block l = 1..L
    h_l   = a + MLP(LN_2(a))
    logits = LN_f(h_L) W_te^T                                    final LayerNorm; weights tied

    Attn(u) = concat_h(softmax(Q_h K_h^T / sqrt(C/H) + causal mask) V_h) W_proj + b_proj,
              [Q, K, V] = u W_attn + b_attn                       one (C -> 3C) projection, split
    MLP(u)  = GELU(u W_fc + b_fc) W_proj + b_proj                C -> 4C -> C
    LN(u)   = (u - mean(u)) / sqrt(var(u) + 1e-5) * gamma + beta  over the C features

The causal mask is ``F.scaled_dot_product_attention(..., is_causal=True)``: query t attends keys
1..t. The activation is GELU's tanh approximation, ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``,
the one GPT-2 was trained with (Hugging Face calls it ``gelu_new``), so pretrained weights give the
published outputs. Dropout (``config.dropout``, training only) acts on the embeddings, the attention
weights and each residual branch.

Trained by maximum likelihood: the loss is the mean cross-entropy of the next token,
``-1/(B T) sum_{b,t} log p(x_{t+1} | x_<=t)``, in nats per token (targets equal to -1 are ignored,
as in nanoGPT).

**Pre-LN vs the original.** GPT-1 (and the 2017 Transformer) normalised *after* each residual sum
(post-LN). GPT-2 moved LayerNorm to the input of each sub-block and added ``LN_f`` (Radford et al.
2019, section 2.3): the residual stream h_l is then a plain sum of the branch outputs, which keeps
gradients well-scaled in deep stacks. The ``"gpt1"`` preset reuses GPT-1's sizes with this
(GPT-2) block, so its parameter count (116.5M) is GPT-1's plus ``LN_f``'s 1,536.

**Weight tying** (Press & Wolf 2017): the output layer is the token embedding, ``lm_head.weight is
wte.weight`` -- one Parameter used twice, whose gradient is the sum of both uses. It saves V*C
parameters (38.6M of GPT-2 small's 124M).

**Initialisation** (GPT-2's): every Linear and Embedding weight ~ N(0, 0.02^2), biases 0, LayerNorm
gamma = 1, beta = 0; the two projections that write into the residual stream in each block
(``attn.c_proj`` and ``mlp.c_proj``) get std 0.02 / sqrt(2 L), since 2 L of them are summed.

**Sizes.** Each block holds 12 C^2 weights (4 C^2 attention, 8 C^2 MLP) plus 13 C biases and
LayerNorm gains and shifts, so ``N ~= 12 L C^2`` (Kaplan et al. 2020), plus V C + T_max C for the
embeddings. ``num_parameters(config)`` counts exactly, from the config alone; ``PRESETS`` holds the
published sizes of GPT-1, GPT-2 and GPT-3.

Module and parameter names follow Hugging Face's ``GPT2Model`` (``wte``, ``wpe``, ``h.<i>.ln_1``,
``h.<i>.attn.c_attn``, ``h.<i>.attn.c_proj``, ``h.<i>.ln_2``, ``h.<i>.mlp.c_fc``, ``h.<i>.mlp.c_proj``,
``ln_f``) plus ``lm_head``; ``GPT.from_pretrained(directory)`` reads a Hugging Face GPT-2 directory
(``config.json`` + ``model.safetensors``). Hugging Face stores its projections as ``Conv1D`` weights
(in, out), the transpose of ``nn.Linear``'s (out, in); loading transposes them.

Deviations from the published models, all on purpose: GPT-3 alternates dense and locally banded
sparse attention layers (Brown et al. 2020, section 2.1); here every layer is dense (the parameter
count is the same). ``generate`` recomputes the whole context at every step (no key/value cache).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import dtypes as _dt
from .. import nn
from ..autograd import no_grad
from ..creation import arange
from ..errors import ShapeError
from ..functional.attention import scaled_dot_product_attention
from ..functional.loss import cross_entropy
from ..random import default_generator
from ..tensor import Tensor
from .char_rnn import sample_next
from .options import configure

__all__ = ["GPTConfig", "GPT"]


@dataclass
class GPTConfig:
    vocab_size: int = 50257     # V: GPT-2's byte-level BPE vocabulary
    block_size: int = 1024      # the context length T_max (number of learned positions)
    n_layer: int = 12           # L blocks
    n_head: int = 12            # H heads per attention layer
    n_embd: int = 768           # C features (the width of the residual stream)
    dropout: float = 0.0        # embeddings, attention weights and residual branches (training only)
    bias: bool = True           # biases in the Linear layers and LayerNorms (GPT-2: True)


# ----------------------------------------------------------------------------------- presets
# GPT-1 (Radford et al. 2018): 12 layers, 768 wide, 12 heads, 40,478 BPE tokens, 512 positions.
# GPT-2 (Radford et al. 2019, table 2; the released checkpoints): 1024 positions, 50,257 tokens.
# GPT-3 (Brown et al. 2020, table 2.1): 2048 positions, the GPT-2 vocabulary. Two rows of the table
# do not add up, and d_head (128 in both) decides: GPT-3 XL prints 24 heads for d_model = 2048
# (24 * 128 = 3072; 2048 / 24 is no integer), so 16 heads of 128; GPT-3 13B prints d_model = 5140,
# which 40 heads do not divide, so 40 * 128 = 5120. (The head count does not change the size.)
def _preset(n_layer, n_embd, n_head, block_size=2048, vocab_size=50257) -> GPTConfig:
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head,
                     n_embd=n_embd)


PRESETS: dict[str, GPTConfig] = {
    "gpt1": _preset(12, 768, 12, block_size=512, vocab_size=40478),        # 117M
    "gpt2": _preset(12, 768, 12, block_size=1024),                         # 124M
    "gpt2-medium": _preset(24, 1024, 16, block_size=1024),                 # 350M
    "gpt2-large": _preset(36, 1280, 20, block_size=1024),                  # 774M
    "gpt2-xl": _preset(48, 1600, 25, block_size=1024),                     # 1558M
    "gpt3-125m": _preset(12, 768, 12),
    "gpt3-350m": _preset(24, 1024, 16),
    "gpt3-760m": _preset(24, 1536, 16),
    "gpt3-1.3b": _preset(24, 2048, 16),
    "gpt3-2.7b": _preset(32, 2560, 32),
    "gpt3-6.7b": _preset(32, 4096, 32),
    "gpt3-13b": _preset(40, 5120, 40),
    "gpt3-175b": _preset(96, 12288, 96),
}


def num_parameters(config: GPTConfig, non_embedding: bool = False) -> int:
    """The number of distinct parameters of ``GPT(config)``, from the sizes alone (nothing allocated).

    Per block: ``ln_1``, ``ln_2`` (2C each, C without bias), ``attn.c_attn`` (3C^2 + 3C),
    ``attn.c_proj`` (C^2 + C), ``mlp.c_fc`` (4C^2 + 4C), ``mlp.c_proj`` (4C^2 + C): 12 C^2 + 13 C.
    Plus ``wte`` (V C), ``wpe`` (T_max C) and ``ln_f``; ``lm_head`` is ``wte`` (tied), counted once.

    ``non_embedding=True`` leaves out both embedding tables (``wte`` and ``wpe``), Kaplan et al.'s
    (2020) N, the count that scaling laws are stated in. (nanoGPT's ``get_num_params`` leaves out
    only ``wpe``, keeping ``wte`` because it doubles as the output layer.)
    """
    C, L = config.n_embd, config.n_layer
    ln = 2 * C if config.bias else C                        # gamma (+ beta)
    b = 1 if config.bias else 0
    attn = (C * 3 * C + b * 3 * C) + (C * C + b * C)        # c_attn, c_proj
    mlp = (C * 4 * C + b * 4 * C) + (4 * C * C + b * C)     # c_fc, c_proj
    blocks = L * (ln + attn + ln + mlp)
    embeddings = config.vocab_size * C + config.block_size * C
    return blocks + ln + (0 if non_embedding else embeddings)


# ----------------------------------------------------------------------------------- the layers
class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions 0..t (see the module docstring).

    ``c_attn`` (C -> 3C) computes queries, keys and values in one GEMM; ``c_proj`` (C -> C) mixes the
    heads. Shapes: x (B, T, C) -> (B, T, C).
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        B, T, C = x.shape
        H = self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)                        # 3 x (B, T, C)
        q = q.reshape(B, T, H, C // H).transpose(1, 2)                  # (B, H, T, C/H)
        k = k.reshape(B, T, H, C // H).transpose(1, 2)
        v = v.reshape(B, T, H, C // H).transpose(1, 2)
        y = scaled_dot_product_attention(q, k, v, is_causal=True,     # (B, H, T, C/H)
                                         dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(B, T, C)                          # heads side by side
        return self.resid_dropout(self.c_proj(y))                       # (B, T, C)


class MLP(nn.Module):
    """Position-wise feed-forward: C -> 4C -> GELU (tanh) -> C. Shapes: (B, T, C) -> (B, T, C)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """One pre-LN Transformer block: ``x + Attn(LN_1(x))``, then ``+ MLP(LN_2(.))``. (B, T, C) -> same."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))       # tokens exchange information
        x = x + self.mlp(self.ln_2(x))        # each token computes on its own
        return x


# ----------------------------------------------------------------------------------- the model
class GPT(nn.Module):
    """The GPT language model: ``logits, loss = gpt(idx, targets)``.

    ``forward(idx, targets=None)``: idx (B, T) int64 with T <= ``block_size`` -> ``(logits, loss)``,
    logits (B, T, V) the scores of the next token at every position; loss the mean cross-entropy
    against targets (B, T) (ids, -1 = ignore), a 0-d Tensor, or None without targets (nanoGPT's
    convention: always a pair).
    """

    def __init__(self, config: GPTConfig | None = None, **overrides):
        super().__init__()
        cfg = configure(GPTConfig, config, overrides, "GPT")
        if cfg.n_embd % cfg.n_head:
            divisors = [h for h in range(1, cfg.n_embd + 1) if cfg.n_embd % h == 0]
            raise ValueError(f"GPT: n_embd ({cfg.n_embd}) must be divisible by n_head ({cfg.n_head}); "
                             f"choose n_head among {divisors}")
        self.config = cfg
        C = cfg.n_embd
        self.wte = nn.Embedding(cfg.vocab_size, C)                        # (B, T) -> (B, T, C)
        self.wpe = nn.Embedding(cfg.block_size, C)                        # (T,) -> (T, C)
        self.drop = nn.Dropout(cfg.dropout)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])  # (B, T, C) -> (B, T, C)
        self.ln_f = nn.LayerNorm(C, bias=cfg.bias)
        self.lm_head = nn.Linear(C, cfg.vocab_size, bias=False)           # (B, T, C) -> (B, T, V)
        self.lm_head.weight = self.wte.weight                             # weight tying: one Parameter
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2's initialisation (see the module docstring)."""
        std = 0.02
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear) and m is not self.lm_head:          # lm_head is wte
                proj = name.endswith("attn.c_proj") or name.endswith("mlp.c_proj")
                nn.init.normal_(m.weight, 0.0, std / math.sqrt(2 * self.config.n_layer) if proj else std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, std)

    def num_parameters(self, non_embedding: bool = False) -> int:
        """``num_parameters(self.config, non_embedding)``: equal to the sum over ``parameters()``."""
        return num_parameters(self.config, non_embedding)

    def _check_idx(self, idx) -> Tensor:
        """idx as an integer (B, T) Tensor with T <= block_size. (Errors raised in ``forward`` get the
        module's name, ``GPT: ``, prefixed by ``Module.__call__``.)"""
        if not isinstance(idx, Tensor):
            idx = Tensor(np.asarray(idx))
        if idx.ndim != 2:
            raise ShapeError(f"idx must be 2-D (B, T) token ids, got shape {tuple(idx.shape)}")
        if idx.dtype.kind not in "iu":
            raise TypeError(f"idx must hold integer token ids (int64), got gradus."
                            f"{_dt.dtype_name(idx.dtype)}")
        T, block = idx.shape[1], self.config.block_size
        if T > block:
            raise ValueError(f"cannot forward a sequence of length {T}: the block size (context "
                             f"length, config.block_size) is {block}; crop the input to its last {block} "
                             f"tokens (idx[:, -{block}:])")
        return idx

    def hidden(self, idx) -> Tensor:
        """The final hidden states LN_f(h_L), (B, T, C): everything but the output layer."""
        idx = self._check_idx(idx)
        T = idx.shape[1]
        pos = arange(T, device=idx.device)                                 # (T,) positions 0..T-1
        x = self.drop(self.wte(idx) + self.wpe(pos))                       # (B, T, C) + (T, C)
        for block in self.h:
            x = block(x)                                                   # (B, T, C)
        return self.ln_f(x)

    def forward(self, idx, targets=None):
        logits = self.lm_head(self.hidden(idx))                            # (B, T, V)
        if targets is None:
            return logits, None
        if not isinstance(targets, Tensor):
            targets = Tensor(np.asarray(targets))
        if tuple(targets.shape) != tuple(logits.shape[:2]):
            raise ShapeError(f"targets must have idx's shape (B, T) = {tuple(logits.shape[:2])}, "
                             f"got {tuple(targets.shape)}")
        B, T, V = logits.shape
        loss = cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T), ignore_index=-1)
        return logits, loss

    # -------------------------------------------------------------------------------- sampling
    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator=None) -> Tensor:
        """Extend each row of ``idx`` (B, T) by ``max_new_tokens`` sampled tokens; returns (B, T + new).

        One token at a time: the context is cropped to its last ``block_size`` tokens, the scores of
        the last position are divided by ``temperature`` (0: greedy arg-max), restricted to the
        ``top_k`` most likely tokens and/or the nucleus (the smallest set of most likely tokens whose
        probability reaches ``top_p``; Holtzman et al. 2020), renormalised and sampled
        (``sample_next``, shared with ``CharRNN``). ``generator`` is a ``numpy.random.Generator``
        (default: gradus' global one), so a seeded generator makes the output reproducible. Eval mode
        (no dropout) and no graph; the training mode is restored afterwards.
        """
        out = np.asarray(idx.numpy() if isinstance(idx, Tensor) else idx)      # (B, T)
        if out.ndim != 2 or out.shape[1] == 0 or out.dtype.kind not in "iu":
            raise ShapeError(f"GPT.generate: idx must be (B, T) integer token ids with T >= 1, got shape "
                             f"{out.shape} and dtype {out.dtype}")
        out = out.astype(np.int64)                                         # grows to (B, T + new)
        gen = generator if generator is not None else default_generator()
        was = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    context = Tensor(out[:, -self.config.block_size:])     # (B, <= block_size)
                    last = self.hidden(context)[:, -1:]                    # (B, 1, C)
                    scores = self.lm_head(last).numpy()[:, 0]              # (B, V)
                    nxt = [sample_next(row, temperature, top_k, top_p, gen) for row in scores]
                    out = np.concatenate([out, np.asarray(nxt, dtype=np.int64)[:, None]], axis=1)
        finally:
            self.train(was)
        return Tensor(out)

    # -------------------------------------------------------------------------------- pretrained
    @classmethod
    def from_pretrained(cls, directory, dtype=None, dropout: float = 0.0) -> GPT:
        """A GPT holding the weights of a Hugging Face GPT-2 directory (e.g. a download of ``gpt2``).

        Reads ``config.json`` (``n_layer``, ``n_head``, ``n_embd``, ``vocab_size``, ``n_positions``)
        and ``model.safetensors`` (or the shards listed in ``model.safetensors.index.json``) with HF's
        names, with or without the ``transformer.`` prefix of ``GPT2LMHeadModel``. HF's ``Conv1D``
        weights (``c_attn``, ``c_proj``, ``c_fc``) are stored (in, out) and are transposed into
        ``nn.Linear``'s (out, in); the causal-mask buffers ``attn.bias`` / ``attn.masked_bias`` are
        skipped; a stored ``lm_head.weight`` must equal ``wte.weight`` (GPT-2 ties them).

        ``dtype``: the parameters' dtype (default: gradus' default dtype, float32). ``dropout``: the
        model's dropout for fine-tuning (0 by default, as nanoGPT; the file's ``*_pdrop`` are ignored).
        Only safetensors files are read (no pickle): convert a ``pytorch_model.bin`` first.
        """
        from safetensors.numpy import load_file

        directory = Path(directory)
        cfg_path = directory / "config.json"
        if not cfg_path.is_file():
            raise FileNotFoundError(f"GPT.from_pretrained: no config.json in {directory}")
        hf = json.loads(cfg_path.read_text())
        missing = [k for k in ("n_layer", "n_head", "n_embd", "vocab_size") if k not in hf]
        if missing or ("n_positions" not in hf and "n_ctx" not in hf):
            raise ValueError(f"GPT.from_pretrained: {cfg_path} is not a GPT-2 config: it lacks "
                             f"{missing + ([] if 'n_positions' in hf or 'n_ctx' in hf else ['n_positions'])}")
        _check_hf_options(hf, cfg_path)
        config = GPTConfig(vocab_size=hf["vocab_size"], block_size=hf.get("n_positions", hf.get("n_ctx")),
                           n_layer=hf["n_layer"], n_head=hf["n_head"], n_embd=hf["n_embd"], dropout=dropout,
                           bias=True)

        single, index = directory / "model.safetensors", directory / "model.safetensors.index.json"
        if single.is_file():
            files = [single]
        elif index.is_file():
            files = [directory / f for f in sorted(set(json.loads(index.read_text())["weight_map"].values()))]
        else:
            raise FileNotFoundError(f"GPT.from_pretrained: no model.safetensors (nor model.safetensors."
                                    f"index.json) in {directory}; only safetensors weights are read")
        stored = {}
        for f in files:
            stored.update(load_file(str(f)))

        transposed = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
        state = {}
        for name, a in stored.items():
            key = name[len("transformer."):] if name.startswith("transformer.") else name
            if key.endswith(".attn.bias") or key.endswith(".attn.masked_bias"):
                continue                                                 # the causal mask, not a weight
            state[key] = a.T if key.endswith(transposed) else a          # Conv1D (in, out) -> (out, in)
        head = state.pop("lm_head.weight", None)
        if head is not None and "wte.weight" in state and not np.array_equal(head, state["wte.weight"]):
            raise ValueError("GPT.from_pretrained: lm_head.weight differs from wte.weight; GPT ties them "
                             "and cannot hold an untied output layer")
        if "wte.weight" in state:
            state["lm_head.weight"] = state["wte.weight"]                # the tied head (one Parameter)

        model = nn.utils.skip_init(cls, config)   # every weight comes from the file (strict load below)
        if dtype is not None:
            model.to(dtype)
        model.load_state_dict(state)          # strict: lists missing/unexpected keys and wrong shapes
        return model


def _check_hf_options(hf: dict, path: Path) -> None:
    """Refuse the GPT-2 config options that change the computation this file implements."""
    act = hf.get("activation_function", "gelu_new")
    problems = []
    if act not in ("gelu_new", "gelu_pytorch_tanh"):
        problems.append(f"activation_function={act!r} (GPT uses GELU's tanh approximation, 'gelu_new')")
    eps = hf.get("layer_norm_epsilon", 1e-5)
    if eps != 1e-5:
        problems.append(f"layer_norm_epsilon={eps} (GPT uses 1e-5)")
    if not hf.get("scale_attn_weights", True):
        problems.append("scale_attn_weights=false (GPT scales the scores by 1/sqrt(head size))")
    if hf.get("scale_attn_by_inverse_layer_idx", False):
        problems.append("scale_attn_by_inverse_layer_idx=true")
    if hf.get("add_cross_attention", False):
        problems.append("add_cross_attention=true")
    if problems:
        raise ValueError(f"GPT.from_pretrained: {path} asks for options this GPT does not implement: "
                         + "; ".join(problems))
