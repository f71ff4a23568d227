"""``docs/pytorch-coverage.md`` is generated from the code: it must be up to date (rerun
``python docs/gen_pytorch_coverage.py`` after adding or removing an op)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import gradus

GEN = Path(__file__).resolve().parents[1] / "docs" / "gen_pytorch_coverage.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_pytorch_coverage", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_coverage_table_is_up_to_date(torch):
    gen = _generator()
    text = gen.render(torch, gradus)
    assert gen.OUT.read_text(encoding="utf-8") == text, (
        "docs/pytorch-coverage.md is out of date: run python docs/gen_pytorch_coverage.py")


def test_every_implemented_name_is_really_there(torch):
    """The table's 'implemented' side is read from the objects, and the left-out side only holds
    names gradus does not have."""
    gen = _generator()
    rows, left, missing = gen.classify(torch, gradus)
    assert len(rows) > 200
    for names in left.values():
        for n in names:
            assert not hasattr(gradus.Tensor, n), n
    assert "sum" in {r[0] for r in rows} and "matmul" in {r[0] for r in rows}
