"""BERT: a bidirectional Transformer encoder (Devlin et al. 2019), loadable from Hugging Face weights.

    >>> import gradus
    >>> from gradus.models.bert import PRESETS, BertConfig, BertModel, num_parameters
    >>> cfg = BertConfig(vocab_size=128, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
    ...                  intermediate_size=32, max_position_embeddings=20)
    >>> bert = BertModel(cfg)
    >>> ids = gradus.tensor([[101, 7, 8, 102], [101, 9, 102, 0]])      # (B, T) token ids, 0 = [PAD]
    >>> out = bert(ids, attention_mask=gradus.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]))
    >>> out.last_hidden_state.shape, out.pooler_output.shape          # (B, T, H), (B, H)
    ((2, 4, 16), (2, 16))
    >>> num_parameters(PRESETS["bert-base"])                           # from the config, nothing allocated
    109482240

**The model.** Tokens x_1..x_T (WordPiece ids, the first one ``[CLS]``) with segment ids s_t (0 for
the first sentence, 1 for the second) become H-dimensional vectors that L identical post-LN blocks
turn into contextual vectors, every position attending to every (real) position in both directions::

    h_0 = LN(W_word[x_t] + W_pos[t] + W_type[s_t])                 the embeddings (then dropout)
    a   = LN(h_{l-1} + SelfAttn(h_{l-1}) W_o + b_o)                post-LN block l = 1..L
    h_l = LN(a + act(a W_1 + b_1) W_2 + b_2)                        H -> I -> H feed-forward
    pooled = tanh(h_L[CLS] W_p + b_p)                              the pooler, on position 0

    SelfAttn(u) = concat_h softmax(Q_h K_h^T / sqrt(H/A) + M) V_h,  Q = u W_q + b_q, K = ..., V = ...
    LN(u)       = (u - mean(u)) / sqrt(var(u) + eps) * gamma + beta    (eps = ``layer_norm_eps``, 1e-12)

with A heads of size H/A. ``act`` is GELU, ``x Phi(x)`` with the exact normal CDF (``hidden_act=
"gelu"``; ``"gelu_new"`` / ``"gelu_pytorch_tanh"`` is the tanh approximation, ``"relu"`` also works).
M is the padding mask: ``attention_mask`` (B, T) holds 1 for real tokens and 0 for padding, and no
query attends a padded key (``F.scaled_dot_product_attention`` with the bool mask (B, 1, 1, T)).
Padded positions still get (meaningless) outputs; pool over the real tokens only. Dropout
(``hidden_dropout_prob`` on the embeddings and each residual branch, ``attention_probs_dropout_prob``
on the attention weights) acts in training mode only.

**Post-LN.** BERT normalises *after* each residual sum, as the 2017 Transformer does (GPT-2 moved
LayerNorm to each branch's input). Its pre-training objectives (masked-LM, next sentence) are heads on
top of ``BertModel``: ``BertForPreTraining`` (the masked-LM and next-sentence heads, ``cls.*`` in
Hugging Face's files) and ``BertForSequenceClassification`` (``classifier``), at the end of this file.

**Names.** The modules follow Hugging Face's ``BertModel``, so ``state_dict()`` names are theirs
without the ``bert.`` prefix of the task models: ``embeddings.word_embeddings``,
``embeddings.position_embeddings``, ``embeddings.token_type_embeddings``, ``embeddings.LayerNorm``,
``encoder.layer.<i>.attention.self.query`` / ``.key`` / ``.value``, ``encoder.layer.<i>.attention.
output.dense`` / ``.LayerNorm``, ``encoder.layer.<i>.intermediate.dense``, ``encoder.layer.<i>.
output.dense`` / ``.LayerNorm``, ``pooler.dense``. ``BertModel.from_pretrained(directory)`` reads a
Hugging Face directory (``config.json`` + ``model.safetensors``).

**Output.** ``bert(input_ids, attention_mask, token_type_ids)`` returns a ``BertModelOutput`` named
tuple, as Hugging Face's output object is used: ``out.last_hidden_state`` (B, T, H) (also ``out[0]``)
and ``out.pooler_output`` (B, H) (``out[1]``; None without a pooling layer).

**Sizes.** ``num_parameters(config)`` counts exactly from the config: per layer 4 (H^2 + H) attention,
2 H I + I + H feed-forward and two LayerNorms (4 H); plus the embeddings (V + P + types) H + 2 H and
the pooler H^2 + H. BERT-base (L=12, H=768, A=12): 109,482,240; BERT-large (L=24, H=1024, A=16):
335,141,888.

**Initialisation** (BERT's): Linear and Embedding weights ~ N(0, ``initializer_range``^2 = 0.02^2),
biases 0, the ``[PAD]`` embedding row 0, LayerNorm gamma = 1, beta = 0.

Deviation: a sample whose ``attention_mask`` is all zeros (no real token at all) lets its queries
attend nothing; gradus' SDPA gives such rows zero attention output, Hugging Face spreads them over
the padded keys. Neither is meaningful.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import dtypes as _dt
from .. import nn
from ..creation import arange, zeros
from ..errors import ShapeError
from ..functional.activation import gelu, relu, tanh
from ..functional.attention import scaled_dot_product_attention
from ..functional.loss import cross_entropy
from ..tensor import Tensor
from .options import configure

__all__ = ["BertConfig", "BertModel", "BertModelOutput"]


@dataclass
class BertConfig:
    vocab_size: int = 30522                 # V: the WordPiece vocabulary (uncased English BERT)
    hidden_size: int = 768                  # H: the width of every position's vector
    num_hidden_layers: int = 12             # L blocks
    num_attention_heads: int = 12           # A heads of size H/A
    intermediate_size: int = 3072           # I: the feed-forward's inner width (4 H)
    hidden_act: str = "gelu"                # "gelu" (exact erf), "gelu_new"/"gelu_pytorch_tanh", "relu"
    hidden_dropout_prob: float = 0.1        # embeddings and residual branches (training only)
    attention_probs_dropout_prob: float = 0.1   # the attention weights (training only)
    max_position_embeddings: int = 512      # P learned positions: the longest input
    type_vocab_size: int = 2                # segment ids (sentence A / B)
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0                   # [PAD]: its word-embedding row starts at zero
    initializer_range: float = 0.02         # std of the initial weights

    @classmethod
    def from_dict(cls, d: dict) -> BertConfig:
        """The fields of a Hugging Face ``config.json`` (a dict) that this model uses; the rest
        (``architectures``, ``transformers_version``, ...) is ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json_file(cls, path) -> BertConfig:
        """Read a Hugging Face ``config.json`` and check it asks for nothing this model lacks."""
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"BertConfig: {path} is not valid JSON ({e})") from None
        _check_hf_options(d, path)
        return cls.from_dict(d)


# ----------------------------------------------------------------------------------- presets
# Devlin et al. 2019, section 3: BERT-base (L=12, H=768, A=12, 110M) and BERT-large (L=24, H=1024,
# A=16, 340M); I = 4 H; 512 positions; the 30,522-token uncased WordPiece vocabulary.
PRESETS: dict[str, BertConfig] = {
    "bert-base": BertConfig(),
    "bert-large": BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                             intermediate_size=4096),
}


def num_parameters(config: BertConfig, pooler: bool = True) -> int:
    """The number of parameters of ``BertModel(config, add_pooling_layer=pooler)``, from the sizes alone.

    Embeddings: (V + P + type_vocab_size) H + 2 H (their LayerNorm). Per layer: query, key, value and
    the attention output dense, 4 (H^2 + H); intermediate H I + I; output I H + H; two LayerNorms 4 H.
    Pooler: H^2 + H.
    """
    H, i = config.hidden_size, config.intermediate_size
    embeddings = (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * H + 2 * H
    layer = 4 * (H * H + H) + (H * i + i) + (i * H + H) + 2 * (2 * H)
    return embeddings + config.num_hidden_layers * layer + ((H * H + H) if pooler else 0)


class BertModelOutput(NamedTuple):
    """What ``BertModel`` returns: the final hidden states (B, T, H) and the pooled [CLS] vector (B, H)
    (None when the model has no pooling layer)."""
    last_hidden_state: Tensor
    pooler_output: Tensor | None


_ACTIVATIONS = {"gelu": lambda x: gelu(x), "gelu_new": lambda x: gelu(x, approximate="tanh"),
                "gelu_pytorch_tanh": lambda x: gelu(x, approximate="tanh"), "relu": relu}


# ----------------------------------------------------------------------------------- the layers
class BertEmbeddings(nn.Module):
    """LN(word + position + segment embeddings), then dropout. ids (B, T) -> (B, T, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        H = config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, H, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, H)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, H)
        self.LayerNorm = nn.LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids):
        T = input_ids.shape[1]
        pos = arange(T, device=input_ids.device)                          # (T,) positions 0..T-1
        x = (self.word_embeddings(input_ids)                              # (B, T, H)
             + self.position_embeddings(pos)                              # + (T, H)
             + self.token_type_embeddings(token_type_ids))                # + (B, T, H)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """The A-head scaled dot-product attention of every position over the real positions.

    ``query``, ``key``, ``value`` (H -> H each). Shapes: x (B, T, H), mask bool (B, 1, 1, T)
    (True = a real key) or None -> (B, T, H), the heads side by side (before the output dense).
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        H = config.hidden_size
        self.num_attention_heads = config.num_attention_heads
        self.query = nn.Linear(H, H)
        self.key = nn.Linear(H, H)
        self.value = nn.Linear(H, H)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x, mask):
        B, T, H = x.shape
        A = self.num_attention_heads

        def heads(t):                                                     # (B, T, H) -> (B, A, T, H/A)
            return t.reshape(B, T, A, H // A).transpose(1, 2)

        y = scaled_dot_product_attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)),
                                         attn_mask=mask,
                                         dropout_p=self.dropout_p if self.training else 0.0)  # (B, A, T, H/A)
        return y.transpose(1, 2).reshape(B, T, H)


class BertSelfOutput(nn.Module):
    """LN(x + dropout(h W_o + b_o)): the attention's output projection and its post-LN residual."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertAttention(nn.Module):
    """``self`` (the heads) then ``output`` (projection + residual + LN). (B, T, H) -> (B, T, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    """act(x W_1 + b_1): (B, T, H) -> (B, T, I)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = _ACTIVATIONS[config.hidden_act]

    def forward(self, x):
        return self.act(self.dense(x))


class BertOutput(nn.Module):
    """LN(a + dropout(h W_2 + b_2)): (B, T, I) and the residual (B, T, H) -> (B, T, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h, a):
        return self.LayerNorm(self.dropout(self.dense(h)) + a)


class BertLayer(nn.Module):
    """One post-LN block: attention sub-block, then the feed-forward sub-block. (B, T, H) -> same."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, x, mask):
        a = self.attention(x, mask)                    # tokens exchange information
        return self.output(self.intermediate(a), a)    # each token computes on its own


class BertEncoder(nn.Module):
    """``layer.<i>``: the L blocks in sequence. (B, T, H) -> (B, T, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, x, mask):
        for block in self.layer:
            x = block(x, mask)
        return x


class BertPooler(nn.Module):
    """tanh(h[:, 0] W_p + b_p): the first ([CLS]) position's vector, (B, T, H) -> (B, H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, h):
        return tanh(self.dense(h[:, 0]))


# ----------------------------------------------------------------------------------- the model
class BertModel(nn.Module):
    """The BERT encoder: ``out = bert(input_ids, attention_mask=None, token_type_ids=None)``.

    input_ids (B, T) integer ids with T <= ``max_position_embeddings``; ``attention_mask`` (B, T)
    1/True for real tokens, 0/False for padding (default: all real); ``token_type_ids`` (B, T)
    segment ids (default: all 0). Arrays and lists are accepted too. Returns a ``BertModelOutput``:
    ``last_hidden_state`` (B, T, H) and ``pooler_output`` (B, H), or None with
    ``add_pooling_layer=False``.
    """

    def __init__(self, config: BertConfig | None = None, add_pooling_layer: bool = True, **overrides):
        super().__init__()
        cfg = configure(BertConfig, config, overrides, "BertModel")
        if cfg.hidden_size % cfg.num_attention_heads:
            divisors = [h for h in range(1, cfg.hidden_size + 1) if cfg.hidden_size % h == 0]
            raise ValueError(f"BertModel: hidden_size ({cfg.hidden_size}) must be divisible by "
                             f"num_attention_heads ({cfg.num_attention_heads}); choose it among {divisors}")
        if cfg.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"BertModel: hidden_act must be one of {sorted(_ACTIVATIONS)}, got "
                             f"{cfg.hidden_act!r}")
        self.config = cfg
        self.embeddings = BertEmbeddings(cfg)             # (B, T) -> (B, T, H)
        self.encoder = BertEncoder(cfg)                   # (B, T, H) -> (B, T, H)
        self.pooler = BertPooler(cfg) if add_pooling_layer else None   # (B, T, H) -> (B, H)
        self._init_weights()

    def _init_weights(self) -> None:
        """BERT's initialisation (see the module docstring)."""
        std = self.config.initializer_range
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, std)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, std)
                if m.padding_idx is not None:
                    m.weight.data[m.padding_idx] = 0.0

    def num_parameters(self) -> int:
        """``num_parameters(self.config, pooler=...)``: equal to the sum over ``parameters()``."""
        return num_parameters(self.config, pooler=self.pooler is not None)

    def _ids(self, x, name: str, shape=None) -> Tensor:
        t = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        if t.dtype.kind not in "iu":
            raise TypeError(f"BertModel: {name} must hold integers, got gradus.{_dt.dtype_name(t.dtype)}")
        if shape is None and t.ndim != 2:
            raise ShapeError(f"BertModel: {name} must be 2-D (B, T), got shape {tuple(t.shape)}; "
                             "a single sequence is ids[None]")
        if shape is not None and tuple(t.shape) != shape:
            raise ShapeError(f"BertModel: {name} must have input_ids' shape (B, T) = {shape}, got "
                             f"{tuple(t.shape)}")
        return t

    def forward(self, input_ids, attention_mask=None, token_type_ids=None) -> BertModelOutput:
        ids = self._ids(input_ids, "input_ids")
        B, T = ids.shape
        if T > self.config.max_position_embeddings:
            raise ValueError(f"BertModel: a sequence of {T} tokens is longer than the "
                             f"{self.config.max_position_embeddings} learned positions "
                             "(config.max_position_embeddings); truncate the input")
        if token_type_ids is None:
            token_type_ids = zeros(B, T, dtype=_dt.int64, device=ids.device)
        else:
            token_type_ids = self._ids(token_type_ids, "token_type_ids", (B, T))
        mask = None
        if attention_mask is not None:
            m = attention_mask.data if isinstance(attention_mask, Tensor) else np.asarray(attention_mask)
            if tuple(m.shape) != (B, T):
                raise ShapeError(f"BertModel: attention_mask must have input_ids' shape (B, T) = {(B, T)} "
                                 f"(1 = real token, 0 = padding), got {tuple(m.shape)}")
            mask = (m != 0)[:, None, None, :]                              # (B, 1, 1, T): True = real key
        h = self.embeddings(ids, token_type_ids)                           # (B, T, H)
        h = self.encoder(h, mask)                                          # (B, T, H)
        return BertModelOutput(h, self.pooler(h) if self.pooler is not None else None)

    # -------------------------------------------------------------------------------- pretrained
    @classmethod
    def from_pretrained(cls, directory, dtype=None, add_pooling_layer: bool = True) -> BertModel:
        """A BertModel holding the weights of a Hugging Face BERT directory.

        Reads ``config.json`` (``BertConfig``'s fields; ``model_type`` must be ``bert`` with absolute
        positions) and ``model.safetensors`` (or the shards of ``model.safetensors.index.json``), with
        Hugging Face's names with or without the ``bert.`` prefix of the task models. Ignored: the
        heads (``cls.*``, ``classifier.*``, ... -- every name outside ``embeddings``/``encoder``/
        ``pooler``), the ``embeddings.position_ids`` / ``token_type_ids`` buffers, and the pooler's
        weights when ``add_pooling_layer=False``. Old TensorFlow-converted names (``LayerNorm.gamma``
        / ``.beta``) are read as ``weight`` / ``bias``. Dropout probabilities come from the file (they
        act in training mode only; ``from_pretrained`` returns the model in eval mode, as Hugging Face
        does).

        Raises ``FileNotFoundError`` for a missing directory or file, and ``ValueError`` naming the
        weights when the file lacks some the config needs, holds some the config has no place for
        (e.g. more layers than ``num_hidden_layers``), or has a shape the config contradicts.
        ``dtype``: the parameters' dtype (default: gradus' default dtype, float32). Only safetensors
        files are read (no pickle): convert a ``pytorch_model.bin`` first.
        """
        who = f"{cls.__name__}.from_pretrained"
        config, stored = _read_pretrained(directory, who)
        state = _bert_state(stored)
        model = nn.utils.skip_init(cls, config, add_pooling_layer=add_pooling_layer)   # the file sets all
        if dtype is not None:
            model.to(dtype)
        if not add_pooling_layer:
            state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
        _check_state(model, state, directory, who)
        model.load_state_dict(state)
        return model.eval()


def _read_pretrained(directory, who: str) -> tuple[BertConfig, dict]:
    """(config, stored arrays) of a Hugging Face directory: ``config.json`` + its safetensors files."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{who}: {directory} is not a directory")
    cfg_path = directory / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{who}: no config.json in {directory}")
    return BertConfig.from_json_file(cfg_path), _read_safetensors(directory, who)


def _check_hf_options(d: dict, path: Path) -> None:
    """Refuse the config options that change the computation this file implements."""
    problems = []
    if d.get("model_type", "bert") != "bert":
        problems.append(f"model_type={d['model_type']!r} (only 'bert'; RoBERTa, DistilBERT, MPNet, ... "
                        "differ in their embeddings or layers)")
    if d.get("position_embedding_type", "absolute") != "absolute":
        problems.append(f"position_embedding_type={d['position_embedding_type']!r} (only 'absolute')")
    if d.get("is_decoder", False) or d.get("add_cross_attention", False):
        problems.append("is_decoder/add_cross_attention (BertModel here is the encoder only)")
    act = d.get("hidden_act", "gelu")
    if act not in _ACTIVATIONS:
        problems.append(f"hidden_act={act!r} (supported: {sorted(_ACTIVATIONS)})")
    if problems:
        raise ValueError(f"BertModel.from_pretrained: {path} asks for what this BertModel does not "
                         "implement: " + "; ".join(problems))


def _read_safetensors(directory: Path, who: str) -> dict:
    """name -> array from ``model.safetensors`` or the shards listed in ``model.safetensors.index.json``."""
    from safetensors.numpy import load_file

    single, index = directory / "model.safetensors", directory / "model.safetensors.index.json"
    if single.is_file():
        files = [single]
    elif index.is_file():
        weight_map = json.loads(index.read_text()).get("weight_map") or {}
        files = [directory / f for f in sorted(set(weight_map.values()))]
    else:
        other = sorted(p.name for ext in ("*.bin", "*.h5") for p in directory.glob(ext))
        hint = f" (found {', '.join(other)}: convert it to safetensors first)" if other else ""
        raise FileNotFoundError(f"{who}: no model.safetensors (nor model.safetensors.index.json) in "
                                f"{directory}{hint}; only safetensors weights are read")
    stored = {}
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"{who}: {f.name}, listed in {index.name}, is missing from {directory}")
        try:
            stored.update(load_file(str(f)))
        except Exception as e:  # noqa: BLE001 -- a corrupt file, or a dtype NumPy lacks (bfloat16)
            raise ValueError(f"{who}: cannot read {f}: {e}") from None
    return stored


_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")
_TOP = ("embeddings", "encoder", "pooler")


def _bert_state(stored: dict) -> dict:
    """The BertModel part of a Hugging Face state dict, under BertModel's names."""
    prefixed = any(k.startswith("bert.") for k in stored)
    state = {}
    for name, a in stored.items():
        if prefixed:
            if not name.startswith("bert."):
                continue                                  # a task head: cls.*, classifier.*, qa_outputs.*
            name = name[len("bert."):]
        if name.split(".", 1)[0] not in _TOP or name in _BUFFERS:
            continue
        if name.endswith("LayerNorm.gamma"):
            name = name[:-len("gamma")] + "weight"
        elif name.endswith("LayerNorm.beta"):
            name = name[:-len("beta")] + "bias"
        state[name] = a
    return state


def _listing(items, limit: int = 6) -> str:
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _check_state(model: BertModel, state: dict, directory: Path, who: str) -> None:
    """One clear error for weights that are missing, unexpected or of the wrong shape."""
    own = model.state_dict()
    cfg = model.config
    sizes = (f"config.json: num_hidden_layers={cfg.num_hidden_layers}, hidden_size={cfg.hidden_size}, "
             f"intermediate_size={cfg.intermediate_size}, vocab_size={cfg.vocab_size}")
    missing = [k for k in own if k not in state]
    if missing:
        hint = ("; the file has no pooler: pass add_pooling_layer=False"
                if all(k.startswith("pooler.") for k in missing) else f" ({sizes})")
        raise ValueError(f"{who}: the weights in {directory} lack {len(missing)} that the config needs: "
                         f"{_listing(missing)}{hint}")
    unexpected = [k for k in state if k not in own]
    if unexpected:
        raise ValueError(f"{who}: the weights in {directory} hold {len(unexpected)} that this BertModel has "
                         f"no place for: {_listing(unexpected)} ({sizes})")
    wrong = [f"{k} {tuple(state[k].shape)} (the config gives {tuple(t.shape)})" for k, t in own.items()
             if tuple(state[k].shape) != tuple(t.shape)]
    if wrong:
        raise ValueError(f"{who}: {len(wrong)} weights in {directory} do not have the shape the config "
                         f"gives: {_listing(wrong)} ({sizes})")


# ----------------------------------------------------------------------------------- task models
# The pre-training heads and the sentence classifier of Hugging Face's ``modeling_bert``, with its
# module names, so their state dicts are HF's: ``bert.*`` (a BertModel), ``cls.*``, ``classifier.*``.
class BertPredictionHeadTransform(nn.Module):
    """LN(act(h W_t + b_t)): ``dense`` (H -> H), the activation, ``LayerNorm``. (..., H) -> (..., H)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = _ACTIVATIONS[config.hidden_act]
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, h):
        return self.LayerNorm(self.act(self.dense(h)))


class BertLMPredictionHead(nn.Module):
    """The masked-LM head: ``decoder(transform(h))`` = LN(act(h W_t + b_t)) W_word^T + b.
    Shapes: (..., H) -> (..., V).

    ``decoder.weight`` *is* the word-embedding matrix W_word (V, H) once ``BertForPreTraining`` ties
    it, and ``decoder.bias`` *is* ``bias`` (V,) (Hugging Face keeps both names for the one vector).
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(zeros(config.vocab_size))
        self.decoder.bias = self.bias                     # one Parameter under both of HF's names

    def forward(self, h):
        return self.decoder(self.transform(h))


class BertPreTrainingHeads(nn.Module):
    """``predictions`` (the MLM head, (B, T, H) -> (B, T, V)) and ``seq_relationship`` (the NSP head,
    pooled (B, H) -> (B, 2): logit 0 = IsNext, 1 = NotNext)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.predictions = BertLMPredictionHead(config)
        self.seq_relationship = nn.Linear(config.hidden_size, 2)

    def forward(self, sequence_output, pooled_output):
        return self.predictions(sequence_output), self.seq_relationship(pooled_output)


class BertForPreTrainingOutput(NamedTuple):
    """What ``BertForPreTraining`` returns. ``loss`` = ``mlm_loss`` + ``nsp_loss`` (the ones whose
    labels were given; None without labels); prediction_logits (B, T, V); seq_relationship_logits (B, 2)."""
    loss: Tensor | None
    prediction_logits: Tensor
    seq_relationship_logits: Tensor
    mlm_loss: Tensor | None = None
    nsp_loss: Tensor | None = None


class BertForPreTraining(nn.Module):
    """BERT with its two pre-training heads: ``out = model(input_ids, attention_mask=None,
    token_type_ids=None, labels=None, next_sentence_label=None)``.

        >>> import gradus
        >>> from gradus.models.bert import BertConfig, BertForPreTraining
        >>> cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        ...                  intermediate_size=32, max_position_embeddings=8)
        >>> model = BertForPreTraining(cfg)
        >>> model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight   # tied
        True
        >>> out = model(gradus.tensor([[2, 7, 4, 3]]), labels=gradus.tensor([[-100, -100, 9, -100]]),
        ...             next_sentence_label=gradus.tensor([0]))
        >>> out.prediction_logits.shape, out.seq_relationship_logits.shape, out.loss.shape
        ((1, 4, 50), (1, 2), ())

    The heads on the encoder's outputs h_L (B, T, H) and pooled (B, H)::

        prediction_logits       = LN(act(h_L W_t + b_t)) W_word^T + b        (B, T, V)
        seq_relationship_logits = pooled W_nsp^T + b_nsp                       (B, 2)
        mlm_loss = CE(prediction_logits, labels)   mean over the positions with labels != -100
        nsp_loss = CE(seq_relationship_logits, next_sentence_label)   (0 = IsNext, 1 = NotNext)
        loss     = mlm_loss + nsp_loss

    **Weight tying.** The MLM decoder's weight is the word-embedding matrix (one Parameter, as in
    gradus' GPT and in Hugging Face: ``cls.predictions.decoder.weight is
    bert.embeddings.word_embeddings.weight``), so its gradient is the sum of both uses; the decoder's
    bias is ``cls.predictions.bias``. ``state_dict()`` lists the tied names too, as PyTorch does.

    Deviation: Hugging Face computes ``loss`` only when both ``labels`` and ``next_sentence_label``
    are given; here each given one adds its term (``mlm_loss`` and ``nsp_loss`` are returned too).
    The MLM loss of a batch without any selected position is NaN (0/0), as in PyTorch.
    Names follow Hugging Face's ``BertForPreTraining`` (``bert.*``, ``cls.predictions.transform.dense``,
    ``cls.predictions.transform.LayerNorm``, ``cls.predictions.decoder``, ``cls.predictions.bias``,
    ``cls.seq_relationship``), so its weights load with ``from_pretrained``.
    """

    def __init__(self, config: BertConfig | None = None, **overrides):
        super().__init__()
        cfg = configure(BertConfig, config, overrides, "BertForPreTraining")
        self.bert = BertModel(cfg)                              # (B, T) -> (B, T, H), (B, H)
        self.config = self.bert.config
        self.cls = BertPreTrainingHeads(self.config)
        _init_head(self.cls, self.config.initializer_range)
        self.tie_weights()

    def tie_weights(self) -> None:
        """Make the MLM decoder's weight the word-embedding Parameter (again: after replacing either)."""
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight
        self.cls.predictions.decoder.bias = self.cls.predictions.bias

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
                next_sentence_label=None) -> BertForPreTrainingOutput:
        h, pooled = self.bert(input_ids, attention_mask, token_type_ids)
        logits, nsp_logits = self.cls(h, pooled)                           # (B, T, V), (B, 2)
        mlm_loss = nsp_loss = None
        if labels is not None:
            y = self.bert._ids(labels, "labels", tuple(h.shape[:2]))
            mlm_loss = cross_entropy(logits.reshape(-1, self.config.vocab_size), y.reshape(-1),
                                     ignore_index=-100)
        if next_sentence_label is not None:
            y = self.bert._ids(next_sentence_label, "next_sentence_label", (h.shape[0],))
            nsp_loss = cross_entropy(nsp_logits, y)
        terms = [t for t in (mlm_loss, nsp_loss) if t is not None]
        loss = (terms[0] + terms[1] if len(terms) == 2 else terms[0]) if terms else None
        return BertForPreTrainingOutput(loss, logits, nsp_logits, mlm_loss, nsp_loss)

    @classmethod
    def from_pretrained(cls, directory, dtype=None) -> BertForPreTraining:
        """A BertForPreTraining holding the weights of a Hugging Face ``BertForPreTraining`` directory
        (``config.json`` + ``model.safetensors``; see ``BertModel.from_pretrained``). The tied
        ``cls.predictions.decoder.weight`` / ``.bias`` may be absent (``save_pretrained`` drops them);
        when present they must equal the word embeddings / ``cls.predictions.bias``. In eval mode."""
        return _task_from_pretrained(cls, directory, dtype)


class BertForSequenceClassification(nn.Module):
    """BERT with a classifier on the pooled ``[CLS]`` vector: ``out = model(input_ids,
    attention_mask=None, token_type_ids=None, labels=None)``::

        logits = dropout(tanh(h_L[CLS] W_p + b_p)) W_c^T + b_c        (B, num_labels)
        loss   = CE(logits, labels)                                    labels (B,) int

    Returns a ``SequenceClassifierOutput`` ``(loss, logits)`` (loss None without labels). Names are
    Hugging Face's (``bert.*``, ``classifier``; ``dropout`` has p = ``classifier_dropout`` or, when
    None, ``hidden_dropout_prob``), so a Hugging Face ``BertForSequenceClassification`` directory loads
    with ``from_pretrained`` and a ``BertForPreTraining``'s ``bert`` weights start it
    (``model.bert.load_state_dict(pretrained.bert.state_dict())``). Only single-label classification
    (num_labels >= 2); HF's regression and multi-label problem types are not implemented.

        >>> import gradus
        >>> from gradus.models.bert import BertConfig, BertForSequenceClassification
        >>> cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        ...                  intermediate_size=32, max_position_embeddings=8)
        >>> out = BertForSequenceClassification(cfg, num_labels=3)(gradus.tensor([[2, 7, 3]]))
        >>> out.logits.shape
        (1, 3)
    """

    def __init__(self, config: BertConfig | None = None, num_labels: int = 2,
                 classifier_dropout: float | None = None, **overrides):
        super().__init__()
        if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 2:
            raise ValueError(f"BertForSequenceClassification: num_labels must be an int >= 2 (single-label "
                             f"classification), got {num_labels!r}")
        cfg = configure(BertConfig, config, overrides, "BertForSequenceClassification")
        self.num_labels = num_labels
        self.bert = BertModel(cfg)
        self.config = self.bert.config
        p = cfg.hidden_dropout_prob if classifier_dropout is None else classifier_dropout
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(cfg.hidden_size, num_labels)
        _init_head(self.classifier, cfg.initializer_range)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        _, pooled = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(self.dropout(pooled))                     # (B, num_labels)
        loss = None
        if labels is not None:
            y = self.bert._ids(labels, "labels", (logits.shape[0],))
            loss = cross_entropy(logits, y)
        return SequenceClassifierOutput(loss, logits)

    @classmethod
    def from_pretrained(cls, directory, dtype=None) -> BertForSequenceClassification:
        """A BertForSequenceClassification from a Hugging Face directory of that class; ``num_labels``
        is read from the classifier's weight. In eval mode."""
        return _task_from_pretrained(cls, directory, dtype)


class SequenceClassifierOutput(NamedTuple):
    """``loss`` (None without labels) and ``logits`` (B, num_labels)."""
    loss: Tensor | None
    logits: Tensor


def _init_head(module: nn.Module, std: float) -> None:
    """BERT's initialisation of a head's Linear layers: weights ~ N(0, std^2), biases 0 (its LayerNorms
    start at gamma = 1, beta = 0 already)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _task_from_pretrained(cls, directory, dtype):
    """The shared ``from_pretrained`` of the task models: HF's full state dict, heads included."""
    who = f"{cls.__name__}.from_pretrained"
    config, stored = _read_pretrained(directory, who)
    state = {"bert." + k: v for k, v in _bert_state(stored).items()}
    for name, a in stored.items():
        if not name.startswith("bert."):
            name = name.replace("LayerNorm.gamma", "LayerNorm.weight")
            name = name.replace("LayerNorm.beta", "LayerNorm.bias")
            state[name] = a
    kwargs = {}
    if cls is BertForSequenceClassification:
        if "classifier.weight" not in state:
            raise ValueError(f"{who}: the weights in {directory} have no classifier.weight (not a "
                             "BertForSequenceClassification)")
        kwargs["num_labels"] = int(state["classifier.weight"].shape[0])
    else:
        for tied, source in (("cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"),
                             ("cls.predictions.decoder.bias", "cls.predictions.bias")):
            if tied in state and source in state and not np.array_equal(state[tied], state[source]):
                raise ValueError(f"{who}: {tied} differs from {source}; this model ties them and cannot "
                                 "hold an untied MLM decoder")
            if source in state:
                state[tied] = state[source]
    model = nn.utils.skip_init(cls, config, **kwargs)   # every weight comes from the file (checked below)
    if dtype is not None:
        model.to(dtype)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(state[k].shape)} (the config gives {tuple(t.shape)})" for k, t in own.items()
             if k in state and tuple(state[k].shape) != tuple(t.shape)]
    for what, items in (("lack", missing), ("hold unexpected", unexpected),
                        ("have the wrong shape for", wrong)):
        if items:
            raise ValueError(f"{who}: the weights in {directory} {what} {len(items)}: {_listing(items)}")
    model.load_state_dict(state)
    if cls is BertForPreTraining:
        model.tie_weights()
    return model.eval()


__all__ += ["BertForPreTraining", "BertForPreTrainingOutput", "BertForSequenceClassification",
            "SequenceClassifierOutput"]
