"""Choose the recognizer's ``ink_margin`` on synthetic pages, never on the evaluation sets.

    .venv/bin/python bench/ink_margin.py                 # 40 synthetic pages of stream 9001
    .venv/bin/python bench/ink_margin.py --pages 80 --margins none 0.1 0.15 0.2

Each page is read by the default detector; its lines are matched to the page's true line quads
(IoU >= 0.5) and the recognizer reads the detector's crops once per margin (``none`` keeps whole
crops). Printed: line CER of the matched lines per margin (shizi.metrics scoring). Needs the
``train`` extra (the page renderer).
"""

from __future__ import annotations

import argparse
import json

from shizi import metrics as M
from shizi.reader import Reader
from shizi.synth.pages import render_page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=9001, help="page stream (training uses other seeds)")
    ap.add_argument("--margins", nargs="+", default=["none", "0.05", "0.1", "0.15", "0.2", "0.3"])
    args = ap.parse_args()
    reader = Reader(threads=1)
    margins = [None if m == "none" else float(m) for m in args.margins]
    pairs: dict[str, list[tuple[str, str]]] = {str(m): [] for m in margins}
    for i in range(args.pages):
        page = render_page(args.seed, i)
        polys, _ = reader._detect(page.image)
        matches = M.match_polygons([p.tolist() for p in polys], [q.tolist() for q in page.quads])
        crops = [Reader._crop(page.image, polys[a])[0] for a, _, _ in matches]
        for m in margins:
            reader.recognizer.ink_margin = m
            out = reader.recognizer.recognize(crops)
            pairs[str(m)] += [(page.texts[b], r.text) for (_, b, _), r in zip(matches, out, strict=True)]
    report = {m: M.cer(p).to_dict() for m, p in pairs.items()}
    best = min(report, key=lambda m: report[m]["cer"])
    print(json.dumps({"pages": args.pages, "seed": args.seed, "best": best, **report}, indent=1))


if __name__ == "__main__":
    main()
