"""models/options.configure: every model's ``(config=None, **overrides)`` copies and checks."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from gradus.models.char_rnn import CharRNN, CharRNNConfig
from gradus.models.options import configure
from gradus.models.seq2seq import Seq2Seq, Seq2SeqConfig


@dataclass
class _Cfg:
    width: int = 4
    depth: int = 2


def test_configure_defaults_and_overrides():
    assert configure(_Cfg, None, {}, "M") == _Cfg()
    assert configure(_Cfg, None, {"depth": 5}, "M") == _Cfg(depth=5)


def test_configure_never_modifies_the_callers_config():
    cfg = _Cfg(width=8)
    out = configure(_Cfg, cfg, {"depth": 7}, "M")
    assert out == _Cfg(width=8, depth=7) and out is not cfg
    assert cfg == _Cfg(width=8)


def test_configure_unknown_option_names_model_and_lists_options():
    with pytest.raises(TypeError, match=r"M: unknown option 'widht' \(options: \['width', 'depth'\]\)"):
        configure(_Cfg, None, {"widht": 3}, "M")


@pytest.mark.parametrize("model, config_class, override", [
    (CharRNN, CharRNNConfig, {"hidden_size": 8, "vocab_size": 5}),
    (Seq2Seq, Seq2SeqConfig, {"hidden_size": 8, "attention": "none"}),
])
def test_models_copy_the_config_they_are_given(model, config_class, override):
    cfg = config_class()
    before = repr(cfg)
    m = model(cfg, **override)
    assert repr(cfg) == before                           # one config can build several models
    for k, v in override.items():
        assert getattr(m.config, k) == (None if v == "none" else v)
    with pytest.raises(TypeError, match="unknown option 'hiden_size'"):
        model(cfg, hiden_size=3)
