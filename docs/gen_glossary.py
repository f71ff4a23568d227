"""Generate ``docs/glossary.md`` (용어집 · glossary) from ``docs/glossary.toml``: the course's Korean
terms, their English terms and the gradus names that implement them, one table per chapter.

    python docs/gen_glossary.py          # validate docs/glossary.toml, rewrite docs/glossary.md
    python docs/gen_glossary.py --check  # exit 1 if docs/glossary.md is out of date (or the TOML is invalid)

The TOML is the source (edit it, never the Markdown). ``[[chapter]]`` tables fix the chapter keys and
their order (the course's order), with Korean and English titles; each ``[[term]]`` has ``ko``, ``en``,
``chapter`` and optionally ``gradus`` (dotted names), ``note_ko`` and ``note_en`` (one line each).
Validation rejects unknown or missing fields, unknown chapter keys, empty chapters, multi-line
values and duplicate Korean or English terms within a chapter. The page is plain CommonMark/GFM
(MyST-compatible: it is also included in the Sphinx site) and is a pure function of the TOML, so the
output is deterministic. ``tests/test_glossary.py`` checks that it is up to date and that every
``gradus`` name still resolves (``resolve``), so a rename breaks the test, not the glossary silently.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the backport (in the [train] and [test] extras)
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
SRC = HERE / "glossary.toml"
OUT = HERE / "glossary.md"

CHAPTER_FIELDS = {"key", "ko", "en"}
TERM_REQUIRED = ("ko", "en", "chapter")
TERM_OPTIONAL = ("gradus", "note_ko", "note_en")


class GlossaryError(ValueError):
    """``docs/glossary.toml`` is malformed; the message lists every problem found."""


def load(path: Path = SRC) -> dict:
    """The parsed and validated glossary: ``{"chapter": [...], "term": [...]}``."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    problems = validate(data)
    if problems:
        raise GlossaryError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return data


def _text_problem(value, where: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{where} must be a non-empty string, got {value!r}"
    if "\n" in value or "\r" in value:
        return f"{where} must be one line, got {value!r}"
    if value != value.strip():
        return f"{where} has leading or trailing spaces: {value!r}"
    return None


def validate(data: dict) -> list[str]:
    """Every problem in the parsed TOML, as messages (an empty list when it is valid)."""
    problems = []
    extra = set(data) - {"chapter", "term"}
    if extra:
        problems.append(f"unknown top-level keys {sorted(extra)} (expected [[chapter]] and [[term]])")
    chapters, terms = data.get("chapter", []), data.get("term", [])
    if not chapters:
        problems.append("no [[chapter]] tables")
    if not terms:
        problems.append("no [[term]] tables")

    keys = []
    for i, ch in enumerate(chapters):
        where = f"chapter #{i + 1} ({ch.get('key', '?')})"
        if set(ch) != CHAPTER_FIELDS:
            problems.append(f"{where}: fields must be exactly {sorted(CHAPTER_FIELDS)}, got {sorted(ch)}")
        for field in sorted(CHAPTER_FIELDS & set(ch)):
            if (p := _text_problem(ch[field], f"{where}.{field}")):
                problems.append(p)
        if ch.get("key") in keys:
            problems.append(f"{where}: duplicate chapter key {ch['key']!r}")
        keys.append(ch.get("key"))

    seen: dict[tuple[str, str, str], int] = {}
    used = set()
    for i, t in enumerate(terms):
        where = f"term #{i + 1} ({t.get('ko', '?')} / {t.get('en', '?')})"
        missing = [f for f in TERM_REQUIRED if f not in t]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
        unknown = sorted(set(t) - set(TERM_REQUIRED) - set(TERM_OPTIONAL))
        if unknown:
            problems.append(f"{where}: unknown fields {unknown} (allowed: "
                            f"{', '.join(TERM_REQUIRED + TERM_OPTIONAL)})")
        for field in ("ko", "en", "chapter", "note_ko", "note_en"):
            if field in t and (p := _text_problem(t[field], f"{where}.{field}")):
                problems.append(p)
        chapter = t.get("chapter")
        if "chapter" in t and chapter not in keys:
            problems.append(f"{where}: unknown chapter {chapter!r} (one of {', '.join(map(str, keys))})")
        used.add(chapter)
        if "gradus" in t:
            names = t["gradus"]
            if not isinstance(names, list) or not names:
                problems.append(f"{where}.gradus must be a non-empty list of dotted names, got {names!r}")
            else:
                for n in names:
                    if not isinstance(n, str) or not n.startswith("gradus") or " " in n or n.endswith("."):
                        problems.append(f"{where}.gradus: {n!r} is not a dotted gradus name")
                if len(set(map(str, names))) != len(names):
                    problems.append(f"{where}.gradus lists a name twice: {names}")
        for field in ("ko", "en"):
            if isinstance(t.get(field), str):
                k = (str(chapter), field, t[field].casefold())
                if k in seen:
                    problems.append(f"{where}: duplicate {field} term {t[field]!r} in chapter {chapter!r} "
                                    f"(also term #{seen[k]})")
                seen.setdefault(k, i + 1)
    for key in keys:
        if key not in used:
            problems.append(f"chapter {key!r} has no terms")
    return problems


def resolve(name: str):
    """The object a dotted ``gradus`` name refers to: the longest importable module prefix, then
    attributes (``gradus.nn.LSTM``, ``gradus.models.VAE.elbo``, ``gradus.Tensor.backward``). Raises
    ``ImportError``/``AttributeError`` when it does not exist."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name is not None and not module.startswith(e.name):  # a real import error inside
                raise
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"no importable module in {name!r}")


def unresolved(data: dict) -> list[str]:
    """``"name (error)"`` for every ``gradus`` name of the glossary that does not resolve."""
    bad = []
    for name in sorted({n for t in data["term"] for n in t.get("gradus", [])}):
        try:
            resolve(name)
        except (ImportError, AttributeError) as e:
            bad.append(f"{name} ({type(e).__name__}: {e})")
    return bad


_ESCAPE = {c: "\\" + c for c in "\\`*_|<>[]$~"}


def _cell(text: str) -> str:
    """Table-cell text: Markdown specials escaped, so formulas render literally."""
    return "".join(_ESCAPE.get(c, c) for c in text)


def _note(term: dict) -> str:
    ko, en = term.get("note_ko"), term.get("note_en")
    if ko and en and ko != en:
        return f"{_cell(ko)}<br>{_cell(en)}"
    return _cell(ko or en or "")


def render(data: dict) -> str:
    """docs/glossary.md as a string (a pure function of the glossary data)."""
    chapters, terms = data["chapter"], data["term"]
    by_chapter = {ch["key"]: [t for t in terms if t["chapter"] == ch["key"]] for ch in chapters}
    n_names = len({n for t in terms for n in t.get("gradus", [])})
    out = [
        "<!-- Generated by `python docs/gen_glossary.py` from docs/glossary.toml. Do not edit by hand: "
        "edit the TOML and rerun. -->",
        "",
        "# 용어집 · Glossary",
        "",
        "강의에서 쓰는 딥러닝 용어를 영어 용어, 그리고 그 개념을 구현한 gradus 이름과 짝지은 표입니다. "
        "강의 순서대로 장마다 표 하나씩 정리했습니다. 교재마다 다른 번역어를 쓰는 경우(기울기/경사, "
        "편향/바이어스 등)에는 두 용어를 함께 적었습니다. gradus 열의 이름은 모두 실제로 import할 수 있으며, "
        "테스트가 이를 확인합니다.",
        "",
        "The course's Korean deep-learning terms with their English terms and the gradus names that "
        "implement them, one table per chapter in the order the course teaches. Where Korean textbooks "
        "use two terms for one idea, both are given. Every name in the gradus column is importable, and "
        "the test suite checks it.",
        "",
        f"**{len(terms)}개 용어 · {len(terms)} terms, {len(chapters)}개 장 · {len(chapters)} chapters, "
        f"{n_names}개 gradus 이름 · {n_names} gradus names.** "
        "원본 · Source: `docs/glossary.toml` (`python docs/gen_glossary.py`).",
        "",
    ]
    for i, ch in enumerate(chapters, 1):
        rows = by_chapter[ch["key"]]
        out += [
            f"## {i}. {_cell(ch['ko'])} · {_cell(ch['en'])}",
            "",
            "| 한국어 | English | gradus | 설명 · note |",
            "|---|---|---|---|",
        ]
        for t in rows:
            names = ", ".join(f"`{n}`" for n in t.get("gradus", []))
            out.append(f"| {_cell(t['ko'])} | {_cell(t['en'])} | {names} | {_note(t)} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/glossary.md is out of date")
    ap.add_argument("--no-resolve", action="store_true",
                    help="do not import gradus to check that every gradus name exists")
    args = ap.parse_args(argv)
    try:
        data = load()
    except GlossaryError as e:
        print(e, file=sys.stderr)
        return 1
    if not args.no_resolve and (bad := unresolved(data)):
        print("gradus names in docs/glossary.toml that do not exist:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    text = render(data)
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python docs/gen_glossary.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(data['term'])} terms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
