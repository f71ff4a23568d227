"""Subword tokenizers (Hugging Face ``tokenizers``, a test dependency): specials first, the metaspace
pre-tokenizer decodes back to the original text, punctuation gets pieces of its own."""
import pytest

from gradus.data.tokenize import train_bpe, train_wordpiece

TEXTS = ["A man in green holds a guitar.", "Two dogs play in the snow!", "A woman, smiling, reads a book.",
         "The man holds a green book while dogs play."] * 20


def test_specials_get_the_first_ids():
    tok = train_bpe(TEXTS, 200)
    assert [tok.token_to_id(s) for s in ("<pad>", "<sos>", "<eos>", "<unk>")] == [0, 1, 2, 3]
    assert tok.get_vocab_size() <= 200


@pytest.mark.parametrize("text", ["A man in green holds a guitar.", "Two dogs, smiling, play!", "snow."])
def test_metaspace_bpe_decodes_to_the_original_text(text):
    tok = train_bpe(TEXTS, 300, pre_tokenizer="metaspace")
    assert tok.decode(tok.encode(text).ids) == text


def test_unknown_characters_become_unk():
    tok = train_bpe(TEXTS, 300, pre_tokenizer="metaspace")
    assert tok.token_to_id("<unk>") in tok.encode("a (green) dog").ids


def test_metaspace_splits_off_punctuation():
    tok = train_bpe(TEXTS, 300, pre_tokenizer="metaspace")
    pieces = tok.encode("holds a guitar.").tokens
    assert pieces[-1] == "." and "▁guitar" in pieces


def test_whitespace_bpe_joins_words_with_spaces_and_wordpiece_decodes_continuations():
    tok = train_bpe(TEXTS, 300)
    assert tok.decode(tok.encode("a green book").ids) == "a green book"
    wp = train_wordpiece(TEXTS, 300)
    assert wp.decode(wp.encode("the dogs play").ids) == "the dogs play"


def test_errors():
    with pytest.raises(ValueError, match="pre_tokenizer must be"):
        train_bpe(TEXTS, 100, pre_tokenizer="bytes")
    with pytest.raises(ValueError, match="metaspace.*BPE"):
        train_wordpiece(TEXTS, 100, pre_tokenizer="metaspace")
