"""The glossary (``docs/glossary.toml`` -> ``docs/glossary.md``, by ``docs/gen_glossary.py``) and the
Korean quick start (``README.ko.md``).

- The TOML is valid, has at least 150 entries, every chapter of the course (in the course's order)
  has entries, and no chapter lists a Korean or English term twice.
- Every ``gradus`` name resolves by importing its module and getting the attribute: renaming a class
  breaks this test instead of leaving the glossary silently wrong.
- ``docs/glossary.md`` is up to date with the TOML (rerun ``python docs/gen_glossary.py``).
- The pairs issue #16 names are there (경사 소멸, 잔차 블록, 망각 게이트, 합성곱).
- ``README.ko.md`` shows exactly the commands of ``README.md`` (the two commands, the tour and the
  Python example; only the comments are translated).
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GEN = REPO / "docs" / "gen_glossary.py"
README, README_KO = REPO / "README.md", REPO / "README.ko.md"

COURSE_ORDER = ["ml-dl", "perceptron", "backprop", "activation", "optimization", "regularization", "cnn",
                "rnn", "transformer", "generative", "rl", "scaling"]


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_glossary", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()


@pytest.fixture(scope="module")
def glossary() -> dict:
    return gen.load()


def _primary(ko: str) -> str:
    """The first Korean term of an entry: "경사 소멸 (기울기 소실)" -> "경사 소멸"."""
    return ko.split(" (")[0]


def _entry(glossary: dict, ko: str) -> dict:
    hits = [t for t in glossary["term"] if _primary(t["ko"]) == ko]
    assert len(hits) == 1, f"expected one glossary entry for {ko!r}, found {len(hits)}"
    return hits[0]


# --------------------------------------------------------------------------------------------- glossary
def test_glossary_is_valid_and_large(glossary):
    assert gen.validate(glossary) == []
    assert len(glossary["term"]) >= 150


def test_every_chapter_of_the_course_has_entries_in_order(glossary):
    assert [ch["key"] for ch in glossary["chapter"]] == COURSE_ORDER
    for ch in glossary["chapter"]:
        assert ch["ko"] and ch["en"]
        n = sum(t["chapter"] == ch["key"] for t in glossary["term"])
        assert n >= 8, f"chapter {ch['key']!r} has only {n} entries"


def test_no_duplicate_terms_within_a_chapter(glossary):
    for field in ("ko", "en"):
        seen = set()
        for t in glossary["term"]:
            key = (t["chapter"], t[field].casefold())
            assert key not in seen, f"duplicate {field} term {t[field]!r} in chapter {t['chapter']!r}"
            seen.add(key)


def test_every_gradus_name_resolves(glossary):
    names = {n for t in glossary["term"] for n in t.get("gradus", [])}
    assert len(names) > 100
    bad = gen.unresolved(glossary)
    assert not bad, "glossary names that no longer exist (renamed or removed?):\n" + "\n".join(bad)


def test_resolve_follows_modules_then_attributes():
    import gradus
    from gradus.models.resnet import BasicBlock

    assert gen.resolve("gradus.models.resnet.BasicBlock") is BasicBlock
    assert gen.resolve("gradus.Tensor.backward") is gradus.Tensor.backward
    with pytest.raises(AttributeError):
        gen.resolve("gradus.nn.NoSuchLayer")
    with pytest.raises(ImportError):
        gen.resolve("gradusx.nn")


def test_the_pairs_the_issue_names(glossary):
    e = _entry(glossary, "경사 소멸")
    assert e["en"] == "vanishing gradient" and e["chapter"] == "activation"
    e = _entry(glossary, "잔차 블록")
    assert e["en"] == "residual block" and "gradus.models.resnet.BasicBlock" in e["gradus"]
    e = _entry(glossary, "망각 게이트")
    assert e["en"] == "forget gate" and "gradus.nn.LSTM" in e["gradus"]
    e = _entry(glossary, "합성곱")
    assert e["en"] == "convolution"
    assert {"gradus.nn.Conv2d", "gradus.functional.conv2d"} <= set(e["gradus"])
    for ko, en in [("퍼셉트론", "perceptron"), ("역전파", "backpropagation"), ("소프트맥스", "softmax"),
                   ("과적합", "overfitting"), ("보폭", "stride"), ("셀프 어텐션", "self-attention"),
                   ("Q 학습", "Q-learning"), ("경험 재생", "experience replay"),
                   ("할인율", "discount factor")]:
        assert _entry(glossary, ko)["en"].startswith(en), ko


def test_glossary_page_is_up_to_date(glossary):
    assert gen.OUT.read_text(encoding="utf-8") == gen.render(glossary), (
        "docs/glossary.md is out of date: run python docs/gen_glossary.py")


def test_check_flag(tmp_path, monkeypatch):
    assert gen.main(["--check", "--no-resolve"]) == 0
    stale = tmp_path / "glossary.md"
    stale.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(gen, "OUT", stale)
    assert gen.main(["--check", "--no-resolve"]) == 1
    assert gen.main(["--no-resolve"]) == 0 and gen.main(["--check", "--no-resolve"]) == 0


def test_render_is_deterministic_and_escapes_table_cells(glossary):
    text = gen.render(glossary)
    assert text == gen.render(glossary)
    assert text.count("\n## ") == len(glossary["chapter"])
    assert "| 잔차 블록 | residual block | `gradus.models.resnet.BasicBlock` |" in text
    assert "π(a \\| s)" in text  # a '|' inside a note does not split the table row
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line


def test_validation_reports_each_problem():
    chapters = [{"key": "a", "ko": "가", "en": "A"}, {"key": "b", "ko": "나", "en": "B"}]
    ok = {"ko": "합성곱", "en": "convolution", "chapter": "a"}
    assert gen.validate({"chapter": chapters[:1], "term": [ok]}) == []

    def problems(*terms, chapter=chapters):
        return "\n".join(gen.validate({"chapter": chapter, "term": list(terms)}))

    assert "duplicate ko" in problems(ok, {**ok, "en": "conv"}, {**ok, "chapter": "b"})
    assert "duplicate en" in problems(ok, {**ok, "ko": "컨볼루션"}, {**ok, "chapter": "b"})
    assert "unknown chapter 'c'" in problems(ok, {**ok, "chapter": "c"})
    assert "missing en" in problems({"ko": "x", "chapter": "a"})
    assert "unknown fields ['note']" in problems({**ok, "note": "x"})
    assert "chapter 'b' has no terms" in problems(ok)
    assert "one line" in problems({**ok, "note_ko": "a\nb"})
    assert "not a dotted gradus name" in problems({**ok, "gradus": ["nn.Conv2d"]})
    assert "duplicate chapter key" in problems(ok, chapter=chapters + chapters[:1])


# ------------------------------------------------------------------------------------------- README.ko
def _section(text: str, heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert m, f"no '## {heading}' section"
    return m.group(1)


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.S | re.M)


def _code(block: str) -> list[str]:
    """The block's code lines without comments (what must be identical across translations)."""
    lines = [re.sub(r"\s*#.*$", "", line) for line in block.splitlines()]
    return [line for line in lines if line.strip()]


def test_readme_ko_has_exactly_the_two_commands():
    en = _blocks(_section(README.read_text(encoding="utf-8"), "Two commands"), "bash")
    ko = _blocks(_section(README_KO.read_text(encoding="utf-8"), "명령 두 개로 시작하기"), "bash")
    assert len(en) == 2
    assert ko == en  # character for character: the same install and test command lines


def test_readme_ko_tour_runs_the_same_commands():
    en_text, ko_text = README.read_text(encoding="utf-8"), README_KO.read_text(encoding="utf-8")
    (en_tour,) = _blocks(_section(en_text, "A short tour"), "bash")
    (ko_tour,) = _blocks(_section(ko_text, "짧게 둘러보기"), "bash")
    assert _code(ko_tour) == _code(en_tour)
    assert ko_tour != en_tour  # the comments are translated
    assert [_code(b) for b in _blocks(ko_text, "python")] == [_code(b) for b in _blocks(en_text, "python")]


def test_readmes_link_to_each_other_and_to_the_glossary():
    en, ko = README.read_text(encoding="utf-8"), README_KO.read_text(encoding="utf-8")
    assert "[README.ko.md](README.ko.md)" in en.split("\n## ")[0]
    assert "(README.md)" in ko and "(docs/glossary.md)" in ko
    for target in re.findall(r"\]\(([^)#]+)\)", ko):
        if "://" not in target:
            assert (REPO / target).exists(), f"README.ko.md links to a missing file: {target}"
