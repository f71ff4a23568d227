"""Vocab (build / min_freq / max_size / order / unknowns / encode / decode / JSON) and the tokenizers."""

import json
import re
import sys
import unicodedata

import numpy as np
import pytest

import gradus
from gradus.data import (
    DEFAULT_SPECIALS,
    Vocab,
    build_vocab_from_iterator,
    char_tokenize,
    normalize_string,
    normalize_strings,
    train_bpe,
    train_wordpiece,
    unicode_to_ascii,
    word_tokenize,
)
from gradus.data.errors import DatasetFormatError

CORPUS = [
    ["the", "cat", "sat"],
    ["the", "dog", "sat", "down"],
    ["a", "cat", "and", "a", "dog"],
    ["zebra"],
]
# counts: the 2, cat 2, sat 2, dog 2, a 2, down 1, and 1, zebra 1 (first appearance in that order)


# ----------------------------------------------------------------- building


def test_specials_first_pad_zero_and_frequency_then_alphabetical():
    v = Vocab.build(CORPUS)
    assert v.itos[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"] == list(DEFAULT_SPECIALS)
    assert (v.pad_id, v.sos_id, v.eos_id, v.unk_id) == (0, 1, 2, 3)
    assert v.itos[4:] == ["a", "cat", "dog", "sat", "the", "and", "down", "zebra"]
    assert len(v) == 12 and v.specials == list(DEFAULT_SPECIALS)
    assert v.freqs["cat"] == 2 and v.freqs["zebra"] == 1
    assert all(v.stoi[t] == i for i, t in enumerate(v.itos))
    assert v.get_itos() == v.itos and v.get_stoi() == v.stoi and v.get_itos() is not v.itos


def test_tie_break_first_appearance_and_other_orders():
    v = Vocab.build(CORPUS, tie_break="first")
    assert v.itos[4:] == ["the", "cat", "sat", "dog", "a", "down", "and", "zebra"]
    assert Vocab.build(CORPUS, order="alphabetical").itos[4:] == sorted(v.itos[4:])
    assert Vocab.build(CORPUS, order="first").itos[4:] == [
        "the",
        "cat",
        "sat",
        "dog",
        "down",
        "a",
        "and",
        "zebra",
    ]


def test_min_freq_and_max_size():
    v = Vocab.build(CORPUS, min_freq=2)
    assert v.itos[4:] == ["a", "cat", "dog", "sat", "the"]
    v = Vocab.build(CORPUS, max_size=3)  # max_size counts corpus tokens only
    assert len(v) == 4 + 3 and v.itos[4:] == ["a", "cat", "dog"]
    v = Vocab.build(CORPUS, max_size=6, tie_break="first")  # the 6th slot: first of the count-1 tokens
    assert v.itos[4:] == ["the", "cat", "sat", "dog", "a", "down"]
    # max_size picks the most frequent, then order="alphabetical" sorts what was kept
    v = Vocab.build([["b"] * 3 + ["z"] * 2 + ["a"]], max_size=2, order="alphabetical", specials=())
    assert v.itos == ["b", "z"]
    assert Vocab.build(CORPUS, max_size=0).itos == list(DEFAULT_SPECIALS)


def test_custom_specials_and_roles():
    v = Vocab.build(
        CORPUS, specials=["<blank>", "<s>", "</s>"], pad_token="<blank>", sos_token="<s>", eos_token="</s>"
    )
    assert (v.pad_id, v.sos_id, v.eos_id, v.unk_id) == (0, 1, 2, None)
    assert v.unk_token is None
    v = Vocab.build(CORPUS, specials=["<unk>", "<pad>"])
    assert v.unk_id == 0 and v.pad_id == 1 and v.sos_id is None
    with pytest.raises(ValueError, match="no <sos>"):
        v.encode(["cat"], add_sos=True)
    v = Vocab.build(CORPUS, specials=())
    assert v.pad_id is None and len(v) == 8
    with pytest.raises(ValueError, match="is not in the vocabulary"):
        Vocab.build(CORPUS, specials=["<pad>"], pad_token="<blank>")


def test_corpus_token_equal_to_a_special_is_not_duplicated():
    v = Vocab.build([["<unk>", "x", "<pad>", "x"]])
    assert v.itos == list(DEFAULT_SPECIALS) + ["x"]


def test_char_vocabulary():
    text = "hello world\n"
    v = Vocab.build([text], specials=(), order="alphabetical", sep="")
    assert v.itos == sorted(set(text))
    ids = v.encode(text)
    assert v.decode(ids) == text
    assert char_tokenize("Hi!") == ["H", "i", "!"]


def test_build_errors():
    with pytest.raises(TypeError, match="iterable of token lists"):
        Vocab.build("a sentence")
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build(CORPUS, min_freq=0)
    with pytest.raises(ValueError, match="max_size"):
        Vocab.build(CORPUS, max_size=-1)
    with pytest.raises(ValueError, match="order"):
        Vocab.build(CORPUS, order="random")
    with pytest.raises(ValueError, match="tie_break"):
        Vocab.build(CORPUS, tie_break="random")
    with pytest.raises(TypeError, match="must be str"):
        Vocab.build([[1, 2]])
    with pytest.raises(ValueError, match="duplicate token"):
        Vocab(["a", "b", "a"])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        Vocab(["a"], specials=["<pad>"])


def test_build_vocab_from_iterator_torchtext_semantics():
    v = build_vocab_from_iterator(CORPUS)
    assert v.specials == [] and v.itos == ["a", "cat", "dog", "sat", "the", "and", "down", "zebra"]
    v = build_vocab_from_iterator(CORPUS, specials=["<unk>"], max_tokens=4)  # max_tokens counts specials
    assert v.itos == ["<unk>", "a", "cat", "dog"] and v["zebra"] == 0
    v = build_vocab_from_iterator(CORPUS, min_freq=2, specials=["<pad>", "<unk>"], special_first=False)
    assert v.itos == ["a", "cat", "dog", "sat", "the", "<pad>", "<unk>"] and v.pad_id == 5 and v.unk_id == 6
    with pytest.raises(ValueError, match="max_tokens"):
        build_vocab_from_iterator(CORPUS, specials=["<unk>"], max_tokens=1)


# ----------------------------------------------------------------- lookups, encode, decode


def test_unknown_tokens():
    v = Vocab.build(CORPUS)
    assert v["cat"] == 5 and v["platypus"] == v.unk_id == 3
    assert "cat" in v and "platypus" not in v
    assert v(["cat", "platypus"]) == v.lookup_indices(["cat", "platypus"]) == [5, 3]
    no_unk = Vocab.build(CORPUS, specials=["<pad>"])
    with pytest.raises(KeyError, match="platypus.*no unk_token"):
        no_unk["platypus"]
    with pytest.raises(KeyError):
        no_unk.encode(["cat", "platypus"])
    assert v.lookup_tokens([5, 0]) == ["cat", "<pad>"]
    with pytest.raises(TypeError, match="lookup_token"):
        v[5]
    with pytest.raises(TypeError, match="word_tokenize"):
        v.encode("the cat")  # a sentence given to a word vocabulary: the tokenizer was forgotten
    with pytest.raises(IndexError, match="out of range"):
        v.lookup_token(99)


def test_encode_decode():
    v = Vocab.build(CORPUS)
    ids = v.encode(["the", "cat", "platypus"], add_sos=True, add_eos=True)
    assert ids == [1, 8, 5, 3, 2] and isinstance(ids, list)
    arr = v.encode(["the", "cat"], add_eos=True, as_array=True)
    assert arr.dtype == np.int64 and arr.tolist() == [8, 5, 2]
    padded = ids + [0, 0]
    assert v.decode(padded) == "the cat <unk>"  # <sos> <eos> <pad> stripped, <unk> kept
    assert v.decode(padded, strip_specials=False) == "<sos> the cat <unk> <eos> <pad> <pad>"
    assert v.decode([8, 5, 2, 9, 10], stop_at_eos=True) == "the cat"
    assert v.decode(np.array(ids)) == v.decode(gradus.tensor(np.array(ids))) == "the cat <unk>"
    assert v.decode([8, 5], sep="_") == "the_cat"
    assert v.decode([]) == ""
    with pytest.raises(ValueError, match="1-D"):
        v.decode(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(IndexError, match="out of range"):
        v.decode([len(v)])
    with pytest.raises(TypeError, match="integer"):
        v.decode(np.array([1.5]))


def test_equality_and_repr():
    assert Vocab.build(CORPUS) == Vocab.build(CORPUS)
    assert Vocab.build(CORPUS) != Vocab.build(CORPUS, min_freq=2)
    assert "size=12" in repr(Vocab.build(CORPUS))


# ----------------------------------------------------------------- persistence


def test_save_load_round_trip_json(tmp_path):
    v = Vocab.build([word_tokenize("Zwei Männer laufen über die Straße, „schnell“!")] + CORPUS, min_freq=1)
    path = v.save(tmp_path / "vocab.json")
    state = json.loads(path.read_text(encoding="utf-8"))  # plain JSON, readable without gradus
    assert state["itos"] == v.itos and state["format"] == "gradus.data.Vocab"
    w = Vocab.load(path)
    assert w == v and w.itos == v.itos and w.unk_id == v.unk_id and w.sep == " "
    assert w.encode(["Männer", "?"]) == v.encode(["Männer", "?"])
    c = Vocab.build(["abc\n"], specials=(), order="alphabetical", sep="")
    c2 = Vocab.load(c.save(tmp_path / "chars.json"))
    assert c2 == c and c2.decode(c2.encode("cab\n")) == "cab\n" and c2.pad_id is None
    assert not list(tmp_path.glob(".*.part"))


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        Vocab.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("not json {", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="invalid JSON"):
        Vocab.load(bad)
    bad.write_text(json.dumps({"itos": ["a"]}), encoding="utf-8")
    with pytest.raises(DatasetFormatError, match="not a gradus vocabulary"):
        Vocab.load(bad)
    good = json.loads(Vocab.build(CORPUS).to_json())
    for change, match in [
        ({"version": 99}, "version"),
        ({"itos": ["a", "a"]}, "duplicate"),
        ({"itos": [1, 2]}, "list of strings"),
        ({"specials": ["<nope>"]}, "not in the vocabulary"),
    ]:
        bad.write_text(json.dumps({**good, **change}), encoding="utf-8")
        with pytest.raises(DatasetFormatError, match=match):
            Vocab.load(bad)
    assert isinstance(DatasetFormatError("x"), ValueError)


# ----------------------------------------------------------------- tokenizers


def test_word_tokenize():
    assert word_tokenize("Two young, White males are outside near many bushes.") == [
        "Two",
        "young",
        ",",
        "White",
        "males",
        "are",
        "outside",
        "near",
        "many",
        "bushes",
        ".",
    ]
    assert word_tokenize("Zwei Männer, im Freien!", lower=True) == [
        "zwei",
        "männer",
        ",",
        "im",
        "freien",
        "!",
    ]
    assert word_tokenize("don't l'homme") == ["don", "'", "t", "l", "'", "homme"]
    assert word_tokenize("Cours\u202f!") == ["Cours", "!"]  # narrow no-break space separates
    assert word_tokenize("a\x85b  \t c") == ["a", "b", "c"]  # NEL is whitespace
    assert word_tokenize("") == []


def _tutorial_unicode_to_ascii(s):  # the PyTorch tutorial's code, verbatim
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def _tutorial_normalize(s):
    s = _tutorial_unicode_to_ascii(s.lower().strip())
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z.!?]+", r" ", s)
    return s.strip()


SAMPLES = [
    "Va, je t'aime\u202f!",
    "Qu'est-ce que c'est ?",
    "Il était une fois... à Noël.",
    "  Ça va?  ",
    "I'm 19.",
    "Élève, cœur, Straße!",
    "Ü\u0301ber",
    "",
    "...",
    " \u0301a",
]


def test_normalize_string_matches_the_tutorial():
    for s in SAMPLES:
        assert unicode_to_ascii(s) == _tutorial_unicode_to_ascii(s)
        assert normalize_string(s) == _tutorial_normalize(s)
    assert normalize_string("Va, je t'aime\u202f!") == "va je t aime !"
    assert normalize_string("I'm 19.") == "i m ."
    assert normalize_strings(SAMPLES) == [_tutorial_normalize(s) for s in SAMPLES]
    assert normalize_strings(["a\nb", "C!"]) == ["a b", "c !"]  # strings with newlines: per string
    assert normalize_strings([]) == []


def test_subword_helpers_need_tokenizers(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # makes `import tokenizers` fail
    for fn in (train_bpe, train_wordpiece):
        with pytest.raises(ImportError, match=r"pip install 'gradus\[text\]'"):
            fn(["some text"])


def test_train_bpe_and_wordpiece_with_tokenizers():
    pytest.importorskip("tokenizers")
    texts = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 20
    bpe = train_bpe(texts, vocab_size=60, min_frequency=1)
    assert [bpe.token_to_id(t) for t in DEFAULT_SPECIALS] == [0, 1, 2, 3]
    ids = bpe.encode("the cat sat").ids
    assert ids and bpe.decode(ids).replace(" ", "") == "thecatsat"
    wp = train_wordpiece(texts, vocab_size=60, min_frequency=1, lowercase=True)
    assert wp.token_to_id("<pad>") == 0 and wp.encode("The Dog").ids
