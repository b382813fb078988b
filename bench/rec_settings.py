"""Choose the recognizer's settings on synthetic pages, never on the evaluation sets.

    .venv/bin/python bench/rec_settings.py                 # 40 synthetic pages of stream 9001
    .venv/bin/python bench/rec_settings.py --pages 80 --margins none 0.1 0.15 0.2
    .venv/bin/python bench/rec_settings.py --margins 0.2 --width-scales 1.0 1.1 1.2
    .venv/bin/python bench/rec_settings.py --margins 0.2 --lm-weights 0 0.1 0.2 0.3 --lm-thresholds 0.9
    .venv/bin/python bench/rec_settings.py --margins 0.2 --side-pads 0 0.25 0.5 0.75 --det ctpn
    .venv/bin/python bench/rec_settings.py --margins 0.2 --width-scales 1.05 --rec runs/rec_x/model
    .venv/bin/python bench/rec_settings.py --margins 0.2 --width-scales 1.05 --lm-weights 0.3 --quotes on off
    .venv/bin/python bench/rec_settings.py --margins 0.2 --width-scales 1.05 --lm-weights 0.3 --lexicon on off
    .venv/bin/python bench/rec_settings.py --margins 0.2 --width-scales 1.05 --rereads none 1.2 0.9,1.2

Each page is read by the detector (default: the installed default); its lines are matched to the
page's true line quads (IoU >= 0.5) and the recognizer reads the detector's crops once per setting:
crop ``side_pad`` (:func:`shizi.recognition.crops.crop_line`) times ``ink_margin`` (``none`` keeps
whole crops) times ``width_scale`` times language-model weight (0: none) and threshold
(:mod:`shizi.recognition.lm`) times quote pairing on or off (:mod:`shizi.recognition.quotes`) times
Latin word correction on or off (:mod:`shizi.recognition.lexicon`) times re-reading of unsure lines
(``reread_scales``, ``none`` or comma-separated, ``:agree`` appended for ``reread_until_agree``, and
``reread_threshold``; :mod:`shizi.recognition.crnn`).
Printed: line CER of the matched lines per setting (shizi.metrics scoring) and the recognizer's
seconds for all of them. Needs the ``train`` extra (the page renderer).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

from shizi import metrics as M
from shizi.reader import Reader
from shizi.recognition.crops import SIDE_PAD
from shizi.synth.pages import render_page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=9001, help="page stream (training uses other seeds)")
    ap.add_argument("--det", help="detection model name or folder (default: the installed default)")
    ap.add_argument("--rec", help="recognition model name or folder (default: the installed default)")
    ap.add_argument("--side-pads", nargs="+", type=float, default=[SIDE_PAD])
    ap.add_argument("--margins", nargs="+", default=["none", "0.05", "0.1", "0.15", "0.2", "0.3"])
    ap.add_argument("--width-scales", nargs="+", type=float, default=[1.0])
    ap.add_argument("--lm-weights", nargs="+", type=float, default=[0.0])
    ap.add_argument("--lm-thresholds", nargs="+", type=float, default=[0.9])
    ap.add_argument("--quotes", nargs="+", choices=["on", "off"], default=["on"], help="quote pairing")
    ap.add_argument("--lexicon", nargs="+", choices=["on", "off"], default=["on"],
                    help="Latin word correction")
    ap.add_argument("--rereads", nargs="+", default=["none"],
                    help="reread_scales to try: none, or comma-separated widths such as 1.2 or 0.9,1.2; "
                         "with ':agree' (0.9,1.2:agree) a line's re-reading stops once two readings agree")
    ap.add_argument("--reread-thresholds", nargs="+", type=float, default=[0.7])
    ap.add_argument("--lm", default="lm_zh_bigram", help="language model name or folder")
    ap.add_argument("--lexicon-model", default="lex_en", help="word list name or folder")
    args = ap.parse_args()
    reader = Reader(detector=args.det, recognizer=args.rec, threads=1)
    rec = reader.recognizer
    settings = list(itertools.product(args.side_pads,
                                      [None if m == "none" else float(m) for m in args.margins],
                                      args.width_scales, args.lm_weights, args.lm_thresholds, args.quotes,
                                      args.lexicon, args.rereads, args.reread_thresholds))
    pairs: dict[tuple, list[tuple[str, str]]] = {s: [] for s in settings}
    seconds = dict.fromkeys(settings, 0.0)
    for i in range(args.pages):
        page = render_page(args.seed, i)
        polys, _ = reader.detect_lines(page.image)
        matches = M.match_polygons([p.tolist() for p in polys], [q.tolist() for q in page.quads])
        crops = {pad: [Reader.line_crop(page.image, polys[a], side_pad=pad).images[0] for a, _, _ in matches]
                 for pad in args.side_pads}
        for s in settings:
            pad, margin, width_scale, weight, threshold, quotes, lexicon, reread, unsure = s
            scales, _, until = reread.partition(":")
            on = {"lm": weight > 0, "lexicon": lexicon == "on", "quotes": quotes == "on"}
            r = rec.with_config(  # the language models load once: the variants share them
                ink_margin=margin, width_scale=width_scale, reread_threshold=unsure,
                reread_scales=[] if scales == "none" else [float(x) for x in scales.split(",")],
                reread_until_agree=until == "agree", lm=args.lm, lm_weight=weight, lm_threshold=threshold,
                lexicon=args.lexicon_model, correctors=tuple(n for n in rec.config.correctors if on[n]))
            t0 = time.perf_counter()
            out = r.recognize(crops[pad])
            seconds[s] += time.perf_counter() - t0
            pairs[s] += [(page.texts[b], r.text) for (_, b, _), r in zip(matches, out, strict=True)]
    names = {s: ("side_pad={} margin={} scale={} lm={} threshold={} quotes={} lexicon={} reread={} "
                 "reread_threshold={}").format(*s)
             for s in settings}
    report = {names[s]: {**M.cer(pairs[s]).to_dict(), "seconds": round(seconds[s], 2)} for s in settings}
    best = min(report, key=lambda k: report[k]["cer"])
    print(json.dumps({"pages": args.pages, "seed": args.seed, "best": best, **report}, indent=1))


if __name__ == "__main__":
    main()
