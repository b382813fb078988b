"""``python -m shizi.train rec|export-rec|det|export-det|orient|export-orient|lm|lexicon ...``: training
and export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m shizi.train")
    sub = p.add_subparsers(dest="cmd", required=True)
    from shizi.train import rec

    rec.add_args(sub.add_parser("rec", help="train a CRNN recognizer"))
    e = sub.add_parser("export-rec", help="export recognizer weights to an ONNX model folder")
    e.add_argument("weights", type=Path)
    e.add_argument("out", type=Path)
    e.add_argument("--name")
    e.add_argument("--fp32", action="store_true",
                   help="keep float32 weights (default: int8 MatMul/LSTM weights)")
    from shizi.train import det

    det.add_args(sub.add_parser("det", help="train a text detector (db | ctpn)"))
    d = sub.add_parser("export-det", help="export detector weights to an ONNX model folder")
    d.add_argument("weights", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--name")
    from shizi.train import orient

    orient.add_args(sub.add_parser("orient", help="train the page-orientation classifier"))
    o = sub.add_parser("export-orient", help="export orientation weights to an ONNX model folder")
    o.add_argument("weights", type=Path)
    o.add_argument("out", type=Path)
    o.add_argument("--name")
    lm = sub.add_parser("lm", help="build the Han-character bigram model (jieba's word list, running text)")
    lm.add_argument("out", type=Path)
    lm.add_argument("--corpus", type=Path, nargs="*", default=[],
                    help="folders or files of running Chinese text (scripts/fetch_lm_corpus.sh)")
    lm.add_argument("--corpus-share", type=float, default=0.5, help="share of pair counts from --corpus")
    lm.add_argument("--extra-chars", default="",
                    help="characters besides Han counted in --corpus with their pairs, e.g. '。、，'")
    lx = sub.add_parser("lexicon", help="build the Latin word list (word lists, running text)")
    lx.add_argument("out", type=Path)
    lx.add_argument("--corpus", type=Path, nargs="*", default=[],
                    help="folders or files of running text whose Latin words are added")
    lx.add_argument("--words", type=Path, nargs="*", default=[],
                    help="word lists, one word per line (e.g. /usr/share/dict/words)")
    lx.add_argument("--min-count", type=int, default=2, help="times a --corpus word must occur")
    args = p.parse_args(argv)
    if args.cmd == "det":
        det.train(args)
    elif args.cmd == "export-det":
        from shizi.train.export import export_detector

        print(export_detector(args.weights, args.out, args.name))
    elif args.cmd == "orient":
        orient.train(args)
    elif args.cmd == "export-orient":
        print(orient.export_orienter(args.weights, args.out, args.name))
    elif args.cmd == "rec":
        rec.train(args)
    elif args.cmd == "lm":
        from shizi.train.lm import build_bigram_lm

        print(build_bigram_lm(args.out, corpus=args.corpus, corpus_share=args.corpus_share,
                              extra=args.extra_chars))
    elif args.cmd == "lexicon":
        from shizi.train.lm import build_lexicon

        print(build_lexicon(args.out, corpus=args.corpus, word_lists=args.words, min_count=args.min_count))
    elif args.cmd == "export-rec":
        from shizi.train.export import export_recognizer

        print(export_recognizer(args.weights, args.out, args.name, int8=not args.fp32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
