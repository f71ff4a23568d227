"""BLEU by source length for the two translation recipes on one plot: where one context vector fails.

The lectures' argument for attention: an encoder that must squeeze the whole sentence into one fixed
vector loses more the longer the sentence, while attention reads every source position again at every
output step.  Each run of ``seq2seq-translate`` / ``seq2seq-attention-translate`` writes
``bleu_by_length.json`` (corpus BLEU of the 2016 test sentences grouped by source length in words);
this script draws them side by side::

    gradus train seq2seq-translate --out runs/s2s
    gradus train seq2seq-attention-translate --out runs/s2s-att
    python docs/examples/seq2seq_bleu_by_length.py runs/s2s runs/s2s-att --out bleu_by_length.png

Without run folders it draws the measured runs recorded in ``benchmarks/seq2seq_bleu_by_length.json``
(the numbers of ``benchmarks/RESULTS.md``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

RECORDED = Path(__file__).resolve().parents[2] / "benchmarks" / "seq2seq_bleu_by_length.json"


def load(run: Path) -> dict:
    path = Path(run) / "bleu_by_length.json"
    if not path.exists():
        raise SystemExit(f"{path} not found: is {run} the output folder of a translation recipe run?")
    return json.loads(path.read_text())


def plot(runs: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = [f"{b['lo']}-{b['hi']}" if b["hi"] < 200 else f"{b['lo']}+" for b in runs[0]["buckets"]]
    x = np.arange(len(labels))
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, run in enumerate(runs):
        name = "one context vector" if run["attention"] is None else f"attention ({run['attention']})"
        bleu = [b["bleu"] for b in run["buckets"]]
        ax.bar(x + (k - (len(runs) - 1) / 2) * width, bleu, width, label=name)
    counts = [b["n"] for b in runs[0]["buckets"]]
    ax.set_xticks(x, [f"{lab}\n(n={n})" for lab, n in zip(labels, counts)])
    ax.set_xlabel("source sentence length (German words)")
    ax.set_ylabel("corpus BLEU (sacrebleu, test 2016)")
    ax.set_title("Multi30k de→en: BLEU by source length")
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", type=Path,
                   help="output folders of translation recipe runs (default: the recorded runs)")
    p.add_argument("--out", type=Path, default=Path("bleu_by_length.png"))
    args = p.parse_args(argv)
    runs = [load(r) for r in args.runs] if args.runs else json.loads(RECORDED.read_text())["runs"]
    for run in runs:
        cells = [f"{b['lo']}-{b['hi']}: {b['bleu']:5.1f}" for b in run["buckets"]]
        print(f"{run['recipe']:<30}" + "  ".join(cells))
    plot(runs, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
