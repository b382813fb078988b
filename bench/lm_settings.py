"""Choose the language model's corpus share, weight and threshold on held-out running text.

    bash scripts/fetch_lm_corpus.sh                     # once: the running text, into data/lm_corpus
    .venv/bin/python bench/lm_settings.py              # 600 lines, shares 0.3 0.5 0.7, weights 0-0.4
    .venv/bin/python bench/lm_settings.py --shares 0.5 --weights 0.3 --thresholds 0.8 0.9 0.97
    .venv/bin/python bench/lm_settings.py --shares 0.5 --weights 0.3 --extras "" "。、，" "。、，：；！？"

Every ``--holdout``-th text file of the corpus (sorted paths) is held out. Bigram models are built
(:func:`shizi.train.lm.build_bigram_lm`) from jieba's word list and the other files, one per share
and ``--extras`` string (characters besides Han counted in the running text);
lines of the held-out files (at least ``--min-han`` Han characters, cut to ``--max-chars``) are
rendered and degraded like training lines (:func:`shizi.synth.lines.render_line`, stream ``--seed``)
and read by the installed recognizer once per setting, beside a model of the word list alone
(``words-only``). Printed: CER per setting (shizi.metrics scoring). Needs the ``train``
extra. The evaluation sets are not used.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import tempfile
from pathlib import Path

from shizi import metrics as M
from shizi.reader import Reader
from shizi.synth.corpus import TextSampler
from shizi.synth.lines import render_line
from shizi.train.lm import build_bigram_lm, corpus_files, corpus_lines

ROOT = Path(__file__).resolve().parents[1]


class _FixedText(TextSampler):
    """A sampler whose lines are given texts, in order (neighbour-line bleed draws from them too)."""

    def __init__(self, rng: random.Random, texts: list[str]):
        super().__init__(rng)
        self.texts = iter(texts)

    def line(self, min_chars: int = 1, max_chars: int = 24) -> str:
        return next(self.texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "data" / "lm_corpus")
    ap.add_argument("--holdout", type=int, default=10, help="every n-th file is held out")
    ap.add_argument("--lines", type=int, default=600)
    ap.add_argument("--min-han", type=int, default=8)
    ap.add_argument("--max-chars", type=int, default=30)
    ap.add_argument("--seed", type=int, default=9002)
    ap.add_argument("--shares", nargs="+", type=float, default=[0.3, 0.5, 0.7])
    ap.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.2, 0.3, 0.4])
    ap.add_argument("--thresholds", nargs="+", type=float, default=[0.9])
    ap.add_argument("--extras", nargs="+", default=[""], help="build_bigram_lm(extra=...) values to compare")
    args = ap.parse_args()
    files = corpus_files([args.corpus])
    if not files:
        raise SystemExit(f"no text files under {args.corpus}: run scripts/fetch_lm_corpus.sh")
    held = files[:: args.holdout]
    kept = sorted(set(files) - set(held))
    rng = random.Random(args.seed)
    candidates = [ln[: args.max_chars] for ln in corpus_lines(held)
                  if sum("\u4e00" <= c <= "\u9fff" for c in ln[: args.max_chars]) >= args.min_han]
    texts = rng.sample(candidates, min(args.lines, len(candidates)))
    sampler = _FixedText(rng, texts * 2)  # bleed may draw a second text per line
    lines = [render_line(sampler, rng, max_chars=args.max_chars) for _ in texts]

    rec = Reader(detector=False, threads=1).recognizer
    report: dict = {"files": len(files), "held_out_files": len(held), "lines": len(lines),
                    "chars": sum(len(M.normalize(t)) for _, t in lines)}
    crops = [c for c, _ in lines]
    with tempfile.TemporaryDirectory() as tmp:
        lms = {}
        for i, (share, extra) in enumerate([(0.0, ""), *itertools.product(args.shares, args.extras)]):
            out = Path(tmp) / f"lm{i}"
            build_bigram_lm(out, corpus=kept if share else [], corpus_share=share, extra=extra)
            name = "words-only" if share == 0 else f"share={share}" + (f" extra={extra}" if extra else "")
            lms[name] = str(out)
        settings = [("none", 0.0, 0.0)] + list(itertools.product(lms, args.weights, args.thresholds))
        for name, weight, threshold in settings:
            if name != "none" and weight == 0:
                continue
            if name == "none":
                r = rec.with_config(correctors=tuple(c for c in rec.config.correctors if c != "lm"))
            else:
                r = rec.with_config(lm=lms[name], lm_weight=weight, lm_threshold=threshold)
            res = M.cer([(t, x.text) for (_, t), x in zip(lines, r.recognize(crops), strict=True)])
            report[f"lm={name} weight={weight} threshold={threshold}"] = {"cer": round(res.cer, 5),
                                                                           "errors": res.errors}
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
