"""Generate ``docs/pytorch-coverage.md``: which PyTorch tensor functions and methods gradus implements,
read from the code itself (so the table cannot drift), and which are left out on purpose, and why.

    python docs/gen_pytorch_coverage.py          # rewrite docs/pytorch-coverage.md
    python docs/gen_pytorch_coverage.py --check  # exit 1 if the file is out of date

The universe is PyTorch's public tensor API: the lower-case callables of ``torch.__all__`` and the
public attributes of ``torch.Tensor``. A name counts as implemented when gradus has it under the same
name at top level (``gradus.X``), as a ``Tensor`` method/attribute, or in ``gradus.functional``.
Names gradus does not have fall in a documented group (``LEFT_OUT``, each with its reason) or are
listed as not implemented yet. ``tests/test_pytorch_coverage.py`` runs ``--check`` in the suite.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "pytorch-coverage.md"

# Groups of PyTorch names gradus leaves out on purpose: (title, reason, regex on the name).
# The first group whose pattern matches a missing name claims it.
LEFT_OUT = [
    ("in-place variants (`x.add_()`, `torch.relu_`)",
     "gradus ops return new tensors; in-place ops need version counters to be autograd-safe (the "
     "reliability issue adds them, PyTorch's semantics). Optimizers and `nn.init` update `.data`.",
     r"^(?!__).*[a-z0-9]_$"),
    ("backend, compiler and runtime internals",
     "CUDA/cuDNN/MKL-DNN/MPS/XLA/IPU/quantization kernels, TorchScript, `torch.compile`, symbolic "
     "shapes, autocast, storage and memory-format management: no NumPy meaning (CuPy is gradus' GPU "
     "backend).",
     r"(cudnn|miopen|mkldnn|mps|xla|ipu|xpu|mtia|maia|hpu|vulkan|fbgemm|quantiz|^q_|qscheme|int_repr|"
     r"dequantize|^sym_|autocast|^is_autocast|compile|export|jit|^fork$|^wait$|_ir_|parse_|type_comment|"
     r"unify_type|^cpp$|storage|data_ptr|pin_memory|is_pinned|record_stream|memory_format|share_memory|"
     r"is_shared|nested|^is_meta$|^module_load$|^set_$|stride|as_strided|^untyped|^new_empty_strided|"
     r"dim_order|^is_set_to|^vmap$|^cond$|thread|interop|flush_denormal|deterministic|warn_always|"
     r"float32_matmul|printoptions|default_tensor_type|default_device|get_device|^device$|_backward|"
     r"^lobpcg$|^save$|^load$|^typename$|is_storage|^layout$|^dtype$|^cuda$|is_cuda|^cpu$|^is_cpu$|"
     r"is_inference|^smm$|^dsmm$|^hsmm$|(?<!index)_copy$|^native_|^batch_norm_(elemt|gather|stats|update)|"
     r"fake_quant|^from_file$|^frombuffer$|^volatile$|^output_nr$|^unsafe_|^saddmm$|^hspmm$|"
     r"^to_padded_tensor$|^empty_permuted$|^choose_qparams|^conv_tbc$|^norm_except_dim$|^is_distributed$|"
     r"^new$|^hash_tensor$|grad_dtype|^reinforce$|^apply_$|^map_$|"
     r"^map2_$|^resize|^put_?$|^index_put|^sum_to_size$|nonzero_static|^as_subclass$|^itemsize$|"
     r"^nbytes$|^element_size$|^mH$|^H$|^adjoint$|^set_)"),
    ("sparse tensors",
     "gradus tensors are dense NumPy/CuPy arrays.",
     r"(sparse|coalesce|indices$|^values$|csr|csc|bsr|bsc|coo|crow|ccol|^to_dense|^sspaddmm|^spmm)"),
    ("complex numbers",
     "no complex dtypes: the course works in real arithmetic.",
     r"(complex|conj|^real$|^imag$|^angle$|^polar$|view_as_real|is_neg$|resolve_neg|^sgn$|^chalf|"
     r"^cfloat|^cdouble)"),
    ("signal processing",
     "FFTs, STFT and window functions are outside the course.",
     r"(fft|stft|_window$)"),
    ("linear algebra beyond products",
     "factorizations, solvers and determinants are outside the course (matmul, einsum, outer, dot "
     "and norms are in).",
     r"(cholesky|^qr$|^svd|^lu|^det$|logdet|slogdet|inverse|pinverse|solve|^eig|symeig|lstsq|geqrf|"
     r"orgqr|ormqr|matrix_exp|matrix_power|^trapz|trapezoid|^cdist$|^chain_matmul$|^kron$|^ger$|"
     r"^linalg|^addr$|^addbmm$|^baddbmm$|^addmm$|^addmv$|^addcdiv$|^addcmul$|^triangular_solve$)"),
    ("special functions",
     "gamma-family and Bessel functions are not used by the course (erf/erfc/erfinv are in).",
     r"(gamma|^i0|^digamma|^polygamma|^sinc$|^special|^xlogy$|^logit$|^nextafter$|^frexp$|^ldexp$|"
     r"^gcd$|^lcm$|^heaviside$|^float_power$|^histc$|^histogram|^bincount$|^renorm$|^nansum$|"
     r"^nanmean$|^nanmedian$|^nanquantile$|^quantile$|^cov$|^corrcoef$|^aminmax$|^msort$)"),
]


def _has(obj, name: str) -> bool:
    try:
        return hasattr(obj, name)
    except Exception:  # noqa: BLE001 (a lazy attribute that fails to load counts as absent)
        return False


def universe(torch) -> dict[str, set[str]]:
    """PyTorch's public tensor API: name -> {"torch", "Tensor"} (where PyTorch offers it)."""
    names: dict[str, set[str]] = {}
    for n in torch.__all__:
        if n[:1].islower() and not n.startswith("_") and callable(getattr(torch, n, None)) \
                and not isinstance(getattr(torch, n), type):
            names.setdefault(n, set()).add("torch")
    for n in dir(torch.Tensor):
        if not n.startswith("_"):
            names.setdefault(n, set()).add("Tensor")
    return names


def classify(torch, gradus) -> tuple[list, dict, list]:
    """(implemented rows, {group title: [names]}, not-yet names)."""
    import gradus.functional as F

    rows, left, missing = [], {t: [] for t, _, _ in LEFT_OUT}, []
    for name, where in sorted(universe(torch).items()):
        top, meth, fn = _has(gradus, name), _has(gradus.Tensor, name), _has(F, name)
        if top or meth or fn:
            rows.append((name, where, top, meth, fn))
            continue
        for title, _, pattern in LEFT_OUT:
            if re.search(pattern, name):
                left[title].append(name)
                break
        else:
            missing.append(name)
    return rows, left, missing


def render(torch, gradus) -> str:
    rows, left, missing = classify(torch, gradus)
    n_left = sum(len(v) for v in left.values())
    total = len(rows) + n_left + len(missing)
    out = [
        "# PyTorch coverage: what gradus implements",
        "",
        "Generated by `python docs/gen_pytorch_coverage.py` from the code (gradus "
        f"{gradus.__version__}, PyTorch {torch.__version__.split('+')[0]}); `tests/test_pytorch_coverage.py` "
        "fails when it is out of date. Do not edit by hand.",
        "",
        "The universe is PyTorch's public tensor API (lower-case callables of `torch.__all__` and public "
        "attributes of `torch.Tensor`). A name is implemented when gradus has it under the same name at top "
        "level, as a `Tensor` method or attribute, or in `gradus.functional` (`F`). Implemented ops are "
        "checked against PyTorch in `tests/oracle/` (values, dtypes, gradients).",
        "",
        f"**{total} names: {len(rows)} implemented, {n_left} left out on purpose (grouped below, with the "
        f"reason), {len(missing)} not implemented yet.**",
        "",
        "## Implemented",
        "",
        "| name | in PyTorch | `gradus.` | `Tensor.` | `F.` |",
        "|---|---|---|---|---|",
    ]
    for name, where, top, meth, fn in rows:
        mark = lambda b: "✓" if b else ""  # noqa: E731
        out.append(f"| `{name}` | {', '.join(sorted(where))} | {mark(top)} | {mark(meth)} | {mark(fn)} |")
    out += ["", "## Left out on purpose", ""]
    for title, reason, _ in LEFT_OUT:
        names = left[title]
        out += [f"### {title} ({len(names)})", "", reason, "", ", ".join(f"`{n}`" for n in names) or "—", ""]
    out += ["## Not implemented yet", "",
            "Everything else in the universe: candidates for later work (open an issue if you need one).", "",
            ", ".join(f"`{n}`" for n in missing) or "—", ""]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/pytorch-coverage.md is out of date")
    args = ap.parse_args()
    import torch

    import gradus

    text = render(torch, gradus)
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python docs/gen_pytorch_coverage.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
