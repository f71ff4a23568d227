import numpy as np
import pytest

from gradus.data.datasets import SentimentSentences, SMSSpam, Vectorizer, tokenize
from gradus.data.errors import DatasetFormatError, DatasetNotFoundError

DOCS = ["the cat sat", "the dog sat down", "a cat and a dog", "zebra"]


def test_tokenize():
    assert tokenize("Don't WIN a FREE prize, call 0800-123!") == [
        "don't", "win", "a", "free", "prize", "call", "0800", "123"
    ]
    assert tokenize("") == []


def test_vectorizer_vocabulary_order_count_and_binary():
    v = Vectorizer("count").fit(DOCS)
    # Frequency descending, then alphabetical: a(2) cat(2) dog(2) sat(2) the(2) and(1) down(1) zebra(1)
    assert list(v.vocabulary_) == ["a", "cat", "dog", "sat", "the", "and", "down", "zebra"]
    X = v.transform(DOCS)
    assert X.dtype == np.float32 and X.shape == (4, 8)
    assert X[2, v.vocabulary_["a"]] == 2
    assert Vectorizer("binary").fit_transform(DOCS)[2, 0] == 1
    assert v.transform(["unknown words only"]).sum() == 0


def test_vectorizer_tf_tfidf_max_features_min_df():
    tf = Vectorizer("tf").fit_transform(DOCS)
    np.testing.assert_allclose(tf.sum(axis=1), 1.0, rtol=1e-6)
    tfidf = Vectorizer("tfidf").fit_transform(DOCS)
    np.testing.assert_allclose(np.linalg.norm(tfidf, axis=1), 1.0, rtol=1e-6)
    v = Vectorizer("tfidf").fit(DOCS)
    assert v.idf_[v.vocabulary_["zebra"]] > v.idf_[v.vocabulary_["the"]]  # rarer terms weigh more
    assert len(Vectorizer(max_features=3).fit(DOCS).vocabulary_) == 3
    assert "zebra" not in Vectorizer(min_df=2).fit(DOCS).vocabulary_
    with pytest.raises(ValueError):
        Vectorizer("bm25")
    with pytest.raises(RuntimeError):
        Vectorizer().transform(DOCS)


def test_sms_spam_from_shared_data(shared_data):
    ds = SMSSpam(root=shared_data, download=False)
    assert len(ds) == 5574 and len(ds.texts) == 5574
    assert int(ds.labels.sum()) == 747 and ds.labels.dtype == np.int64
    text, label = ds[0]
    assert isinstance(text, str) and label in (0, 1)
    X = Vectorizer("binary", max_features=500).fit_transform(ds.texts[:1000])
    assert X.shape == (1000, 500)


def test_sentiment_from_shared_data(shared_data):
    ds = SentimentSentences(root=shared_data, download=False)
    assert len(ds) == 3000 and int(ds.labels.sum()) == 1500
    imdb = SentimentSentences(root=shared_data, source="imdb", download=False)
    assert len(imdb) == 1000 and set(imdb.sources) == {"imdb"}
    assert any("\x85" in t for t in imdb.texts)  # NEL kept inside sentences, not treated as line breaks
    assert all("\t" not in t[-2:] for t in imdb.texts)
    with pytest.raises(ValueError):
        SentimentSentences(root=shared_data, source="twitter")


def test_sms_format_error_and_missing(tmp_path):
    folder = tmp_path / "sms-spam-collection"
    folder.mkdir()
    with pytest.raises(DatasetNotFoundError) as e:
        SMSSpam(root=tmp_path, download=False)
    assert str(folder / "SMSSpamCollection") in str(e.value)

    class Unchecked(SMSSpam):
        sha256 = None

    (folder / "SMSSpamCollection").write_text("ham\tok\nmaybe\tbad\n")
    with pytest.raises(DatasetFormatError, match=":2:"):
        Unchecked(root=tmp_path, download=False)
