"""One-to-many: image captioning in miniature -- a CNN reads an MNIST digit, an LSTM spells its name.

    >>> import gradus
    >>> from gradus.models import DigitCaptioner, DigitCaptionerConfig, digit_name_targets
    >>> net = DigitCaptioner(DigitCaptionerConfig(channels=(4, 8), feature_dim=16, hidden_size=16))
    >>> tgt_in, tgt_out = digit_name_targets([3, 7])        # "<sos> t h r e e" -> "t h r e e <eos>"
    >>> net(gradus.zeros(2, 1, 28, 28), gradus.tensor(tgt_in)).shape     # (B, T, V) letter scores
    (2, 6, 18)
    >>> len(net.greedy(gradus.zeros(2, 1, 28, 28), max_len=6))           # one string per image
    2

The lectures' "one-to-many" arrangement (Show and Tell, Vinyals et al. 2015, on a toy scale): one
input, a sequence out.  The words are the English names of the digits, "zero" .. "nine", spelt over a
letter vocabulary with ``<pad>`` = 0, ``<sos>`` = 1, ``<eos>`` = 2 (``VOCAB``: 3 specials + the 15
letters that occur in the names, 18 tokens). The model::

    v   = ReLU(W_v CNN(x) + b_v)                      image feature (B, F); CNN: [conv 3x3 -> ReLU ->
                                                      max-pool 2] x 2, 28 -> 14 -> 7
    h_0 = tanh(W_h v + b_h),  c_0 = tanh(W_c v + b_c)   the decoder starts from the image
    h_t, c_t = LSTM([embed(y_{t-1}); v], (h_{t-1}, c_{t-1}))   and reads it again at every step
    p(y_t | y_<t, x) = softmax(W_o dropout(h_t) + b_o)

The image enters the decoder twice on purpose.  A decoder that only starts from it (or only reads it
at step 0) can settle on the letter statistics of the ten words: after "s" the next letters are
"ix" or "even" with equal odds, after "t" "wo" or "hree", after "f" "our" or "ive".  The best such a
blind decoder can do is the entropy of the names over their tokens, H(name) / E[len + 1] = 2.30 / 4.99
= 0.46 nats per letter on MNIST's label frequencies -- where a decoder that ignores the image
plateaus, and greedy decoding then spells one word for every image.  Initialising h_0 *and* c_0 from v and
concatenating v to every step's input makes the image the easiest signal to use at every letter.
Encoder and decoder are trained jointly with cross-entropy on the letters (``ignore_index`` = pad).

``forward(images (B, 1, 28, 28), tgt_in (B, T))`` runs teacher forcing and returns the scores
(B, T, V); ``greedy(images, max_len)`` decodes arg-max letters one step at a time and returns one
string per image (the letters up to ``<eos>``).  ``digit_name_targets(labels)`` builds
``(tgt_in, tgt_out)`` = (``<sos>`` + name, name + ``<eos>``), right-padded to T = 6.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..errors import ShapeError
from ..ops import elementwise as ew
from ..ops.movement import cat
from ..tensor import Tensor
from .options import configure

__all__ = ["DIGIT_NAMES", "VOCAB", "DigitCaptionerConfig", "DigitCaptioner", "digit_name_targets",
           "decode_letters"]

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
PAD_ID, SOS_ID, EOS_ID = 0, 1, 2
VOCAB = ("<pad>", "<sos>", "<eos>", *sorted(set("".join(DIGIT_NAMES))))      # 18 tokens
_STOI = {tok: i for i, tok in enumerate(VOCAB)}
MAX_LEN = max(len(n) for n in DIGIT_NAMES) + 1                                  # 5 letters + <eos>


def digit_name_targets(labels, length: int = MAX_LEN) -> tuple[np.ndarray, np.ndarray]:
    """Digit labels (B,) -> ``(tgt_in, tgt_out)``, each (B, length) int64: ``tgt_in`` = <sos> + the
    letters of the name, ``tgt_out`` = the letters + <eos> (the next letter at every step), right-padded
    with <pad>."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = sorted(set(labels.tolist()))
        raise ValueError(f"digit_name_targets: labels must be digits 0..9, got {bad}")
    if length < MAX_LEN:
        raise ValueError(f"digit_name_targets: length must be >= {MAX_LEN} (the longest name + <eos>)")
    tgt_in = np.full((labels.size, length), PAD_ID, dtype=np.int64)
    tgt_out = np.full((labels.size, length), PAD_ID, dtype=np.int64)
    for b, d in enumerate(labels.tolist()):
        ids = [_STOI[ch] for ch in DIGIT_NAMES[d]]
        tgt_in[b, :len(ids) + 1] = [SOS_ID, *ids]
        tgt_out[b, :len(ids) + 1] = [*ids, EOS_ID]
    return tgt_in, tgt_out


def decode_letters(ids) -> str:
    """Letter ids -> the word, stopping at the first <eos> (specials are dropped)."""
    out = []
    for i in ids:
        i = int(i)
        if i == EOS_ID:
            break
        if i > EOS_ID:
            out.append(VOCAB[i])
    return "".join(out)


@dataclass
class DigitCaptionerConfig:
    vocab_size: int = len(VOCAB)
    channels: tuple = (16, 32)      # the two conv layers of the encoder
    feature_dim: int = 128          # F: the image feature v
    embed_dim: int = 16             # E: the letter embedding
    hidden_size: int = 128          # H: the LSTM decoder
    dropout: float = 0.0            # on h_t before the output layer
    pad_id: int = PAD_ID
    sos_id: int = SOS_ID
    eos_id: int = EOS_ID


class DigitCaptioner(nn.Module):
    def __init__(self, config: DigitCaptionerConfig | None = None, **overrides):
        super().__init__()
        cfg = configure(DigitCaptionerConfig, config, overrides, "DigitCaptioner")
        if len(cfg.channels) != 2:
            raise ValueError(f"DigitCaptioner: channels must name the two conv layers, got {cfg.channels!r}")
        self.config = cfg
        c1, c2 = cfg.channels
        F_, H = cfg.feature_dim, cfg.hidden_size
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (B, 1, 28, 28) -> (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # -> (B, c2, 7, 7)
            nn.Flatten(), nn.Linear(c2 * 7 * 7, F_), nn.ReLU())            # -> v (B, F)
        self.init_h = nn.Linear(F_, H)                                         # h_0 = tanh(W_h v + b_h)
        self.init_c = nn.Linear(F_, H)                                         # c_0 = tanh(W_c v + b_c)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=cfg.pad_id)  # -> (B, T, E)
        self.decoder = nn.LSTM(cfg.embed_dim + F_, H, batch_first=True)        # (B, T, E+F) -> (B, T, H)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(H, cfg.vocab_size)                               # -> (B, T, V)

    # -- pieces ---------------------------------------------------------------------------------
    def encode(self, images: Tensor):
        """Images (B, 1, 28, 28) -> (v (B, F), (h_0, c_0) each (1, B, H))."""
        if images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
            raise ShapeError(f"DigitCaptioner: expected images of shape (B, 1, 28, 28), got "
                             f"{tuple(images.shape)}")
        v = self.encoder(images)
        h0 = ew.tanh(self.init_h(v)).unsqueeze(0)
        c0 = ew.tanh(self.init_c(v)).unsqueeze(0)
        return v, (h0, c0)

    def _decode(self, ids: Tensor, v: Tensor, state):
        """Letter ids (B, T) -> (scores (B, T, V), state): the image feature rides along every step."""
        x = self.embed(ids)                                                    # (B, T, E)
        x = cat([x, v.unsqueeze(1).expand(ids.shape[0], ids.shape[1], v.shape[1])], -1)   # (B, T, E+F)
        out, state = self.decoder(x, state)                                    # (B, T, H)
        return self.head(self.drop(out)), state

    # -- training -------------------------------------------------------------------------------
    def forward(self, images, tgt_in):
        """Teacher forcing: images (B, 1, 28, 28), tgt_in (B, T) = <sos> y_1 .. y_{T-1} -> (B, T, V)."""
        v, state = self.encode(images)
        return self._decode(tgt_in, v, state)[0]

    # -- decoding -------------------------------------------------------------------------------
    def greedy(self, images, max_len: int = MAX_LEN) -> list[str]:
        """Arg-max decoding, one letter at a time from <sos>: one word per image (the letters before
        <eos>, or ``max_len`` letters if it never comes)."""
        cfg = self.config
        was = self.training
        self.eval()
        try:
            with no_grad():
                v, state = self.encode(images)
                B = images.shape[0]
                y = np.full((B, 1), cfg.sos_id, dtype=np.int64)
                out, done = np.full((B, max_len), cfg.eos_id, dtype=np.int64), np.zeros(B, bool)
                for t in range(max_len):
                    scores, state = self._decode(Tensor(y), v, state)         # (B, 1, V)
                    nxt = scores.numpy()[:, 0].argmax(-1)
                    out[~done, t] = nxt[~done]
                    done |= nxt == cfg.eos_id
                    if done.all():
                        break
                    y = nxt[:, None].astype(np.int64)
        finally:
            self.train(was)
        return [decode_letters(row) for row in out]
